// R-TTL: the expiry time of every key that has one, as part of the replicated
// state. Every row names an entry of the store (the state keeps it so: a key
// that leaves the store leaves this table), so the rows due at the apply clock
// are exactly the expired entries still held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tricache::coordinator {

class ExpiryTable {
public:
    bool empty() const { return by_key_.empty(); }
    std::size_t size() const { return by_key_.size(); }
    std::optional<std::uint64_t> of(std::string_view key) const;
    // Gives `key` the expiry `at_ms`, replacing any it had.
    void set(std::string_view key, std::uint64_t at_ms);
    // Removes `key`'s expiry; whether it had one.
    bool erase(std::string_view key);
    void clear();
    // The earliest expiry of all, if any: the engine's cue to purge (R-TTL-PURGE).
    std::optional<std::uint64_t> earliest() const;
    // Up to `max` keys whose expiry is at or before `clock`, earliest first, then by key bytes.
    std::vector<std::string> due(std::uint64_t clock, std::size_t max) const;
    // How many keys' expiry is at or before `clock`: O(that many).
    std::uint64_t count_due(std::uint64_t clock) const;
    // A sum of one hash per row: independent of the order rows came in.
    std::uint64_t digest() const { return digest_; }
    std::vector<std::pair<std::string, std::uint64_t>> rows_by_key() const;

private:
    static std::uint64_t row_hash(std::string_view key, std::uint64_t at_ms);

    std::map<std::string, std::uint64_t, std::less<>> by_key_;
    std::set<std::pair<std::uint64_t, std::string>> by_time_;
    std::uint64_t digest_ = 0;
};

}  // namespace tricache::coordinator
