// The replicated state: the LRU store, the client retry table and the log
// position. Every replica applies the same transactions in the same order, so
// every replica's ReplicatedState is identical after the same log prefix.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "protocol/messages.hpp"
#include "store/lru_store.hpp"

namespace tricache::coordinator {

// R-RETRY-TABLE: per client, the results of its last kWindow applied requests.
class RetryTable {
public:
    static constexpr std::size_t kWindow = 64;
    static constexpr std::size_t kMaxClients = 1u << 16;

    const std::vector<protocol::OpResult>* find(protocol::ClientId client, protocol::RequestId request) const;
    void record(protocol::ClientId client, protocol::RequestId request, std::vector<protocol::OpResult> results,
                std::uint64_t log_index);
    std::vector<protocol::RetryEntry> export_entries() const;
    void import_entries(const std::vector<protocol::RetryEntry>& entries);
    std::size_t clients() const { return clients_.size(); }

private:
    struct Window {
        std::deque<std::pair<protocol::RequestId, std::vector<protocol::OpResult>>> recent;  // oldest first
        std::uint64_t last_index = 0;
    };
    std::map<protocol::ClientId, Window> clients_;
    std::set<std::pair<std::uint64_t, protocol::ClientId>> by_recency_;  // (last_index, client): evicts the idlest
};

class ReplicatedState {
public:
    explicit ReplicatedState(store::Limits limits);

    // R-APPLY: applies one committed transaction and returns, per command, its results.
    std::vector<std::vector<protocol::OpResult>> apply(const protocol::TxId& tx, const protocol::Timestamp& final_ts,
                                                       const protocol::Batch& batch);

    // A local read (R-LOCAL-READ): never changes recency.
    std::optional<std::string_view> peek(std::string_view key) const { return store_.peek(key); }

    const store::LruStore& store() const { return store_; }
    const RetryTable& retries() const { return retries_; }
    std::uint64_t log_length() const { return log_length_; }
    std::uint64_t log_hash() const { return log_hash_; }

    protocol::Snapshot snapshot(protocol::Epoch epoch, protocol::Timestamp base_ts) const;
    static std::optional<ReplicatedState> restore(const protocol::Snapshot& snap);

private:
    std::vector<protocol::OpResult> apply_ops(const std::vector<protocol::Op>& ops);

    store::LruStore store_;
    RetryTable retries_;
    std::uint64_t log_length_ = 0;
    std::uint64_t log_hash_ = 0;
};

std::uint64_t hash_transaction(const protocol::TxId& tx, const protocol::Timestamp& final_ts,
                               const protocol::Batch& batch);

}  // namespace tricache::coordinator
