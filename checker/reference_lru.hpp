// The sequential specification of one replica: an LRU store plus the retry
// table. Deliberately naive (one vector in recency order, linear scans) so that
// it is obviously right; it is the model every replica must agree with.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checker/types.hpp"

namespace tricache::checker {

class ReferenceLru {
public:
    static constexpr std::uint64_t kEntryOverhead = 48;
    static std::uint64_t charge(const std::string& key, const std::string& value) {
        return key.size() + value.size() + kEntryOverhead;
    }

    explicit ReferenceLru(Limits limits);

    // Raw store operations.
    bool put(const std::string& key, const std::string& value);  // false: too large, nothing changed
    std::optional<std::string> get(const std::string& key);       // makes the key MRU when present
    bool erase(const std::string& key);                           // true if it existed
    void touch(const std::string& key);                           // MRU if present
    std::optional<std::string> peek(const std::string& key) const;  // no recency change

    // Transaction semantics.
    OpResult apply_op(const Op& op);

    struct Applied {
        std::vector<OpResult> results;
        bool duplicate = false;  // (client, request) was in the retry window: store untouched
    };
    Applied apply_command(const Command& command);
    std::vector<Applied> apply_log_entry(const LogEntry& entry);

    Contents contents_mru_first() const;
    std::size_t entry_count() const { return lru_first_.size(); }
    std::uint64_t bytes() const { return bytes_; }
    const Limits& limits() const { return limits_; }

private:
    struct Entry {
        std::string key;
        std::string value;
    };
    struct RetryWindow {
        std::deque<std::uint64_t> order;  // oldest applied request first
        std::map<std::uint64_t, std::vector<OpResult>> results;
    };

    std::optional<std::size_t> find(const std::string& key) const;
    void make_mru(std::size_t index);
    void evict_to_limits();

    Limits limits_;
    std::vector<Entry> lru_first_;  // back() is the most recently used
    std::uint64_t bytes_ = 0;
    std::map<std::uint64_t, RetryWindow> retry_;
};

}  // namespace tricache::checker
