// The sequential specification of one replica: an LRU store plus the retry
// table; the model every replica must agree with. Recency is kept as a logical
// clock: every use stamps the entry with the next tick, so "least recently
// used" is literally the smallest stamp. Plain to verify, and O(log n) per
// operation so long logs replay quickly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
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
    std::optional<std::string> peek(const std::string& key) const;  // no recency change; expired: absent

    // Transaction semantics.
    OpResult apply_op(const Op& op);

    struct Applied {
        std::vector<OpResult> results;
        bool duplicate = false;  // (client, request) was in the retry window: store untouched
    };
    Applied apply_command(const Command& command);
    std::vector<Applied> apply_log_entry(const LogEntry& entry);

    Contents contents_mru_first() const;
    // Expiry (R-TTL): the largest command stamp applied, and each key's expiry time.
    std::uint64_t apply_clock() const { return apply_clock_; }
    const std::map<std::string, std::uint64_t>& expiries() const { return expires_at_; }
    std::size_t entry_count() const { return entries_.size(); }
    std::uint64_t bytes() const { return bytes_; }
    const Limits& limits() const { return limits_; }

private:
    struct Entry {
        std::string value;
        std::uint64_t last_use = 0;
    };
    // The last retry_window requests a client applied, as a ring: a request
    // id is found by a scan of at most retry_window ids side by side, and an
    // evicted row's storage is reused. No node per request to allocate.
    struct RetryWindow {
        std::vector<std::uint64_t> requests;         // ring, oldest at `oldest` once full
        std::vector<std::vector<OpResult>> results;  // results[i] belong to requests[i]
        std::size_t oldest = 0;
    };

    void make_mru(const std::string& key, Entry& entry);
    std::string scan(std::uint64_t cursor, std::uint32_t count) const;  // a Scan op's result value
    void evict_to_limits();
    bool expired(const std::string& key) const;
    void drop(const std::string& key);                        // entry and expiry
    std::uint64_t absolute(TimeKind time, std::int64_t ms) const;  // an At or After time, now
    void set_expiry(const std::string& key, TimeKind time, std::int64_t ms);

    Limits limits_;
    std::unordered_map<std::string, Entry> entries_;
    std::map<std::uint64_t, std::string> by_use_;  // last_use -> key, least recent first
    std::uint64_t clock_ = 0;
    std::uint64_t bytes_ = 0;
    std::unordered_map<std::uint64_t, RetryWindow> retry_;  // by client; never iterated
    std::uint64_t apply_clock_ = 0;
    std::map<std::string, std::uint64_t> expires_at_;  // only keys that are entries
};

}  // namespace tricache::checker
