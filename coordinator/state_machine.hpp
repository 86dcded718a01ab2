// The replicated state: the LRU store, the client retry table and the log
// position. Every replica applies the same transactions in the same order, so
// every replica's ReplicatedState is identical after the same log prefix.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "coordinator/flat_map.hpp"
#include "coordinator/hash.hpp"
#include "protocol/messages.hpp"
#include "store/lru_store.hpp"

namespace tricache::coordinator {

// R-RETRY-TABLE: per client, the results of its last kWindow applied requests.
class RetryTable {
public:
    static constexpr std::size_t kWindow = 64;
    static constexpr std::size_t kMaxClients = 1u << 16;

    const std::vector<protocol::OpResult>* find(protocol::ClientId client, protocol::RequestId request) const;
    // Copies `results` in: a full window overwrites its oldest row in place,
    // reusing that row's buffers rather than allocating new ones.
    void record(protocol::ClientId client, protocol::RequestId request, const std::vector<protocol::OpResult>& results,
                std::uint64_t log_index);
    // The same without a copy: the row takes `results` over and hands back, in
    // `results`, the buffers of the row it overwrote (empty while the window
    // still grows), for the caller to fill next time.
    void take(protocol::ClientId client, protocol::RequestId request, std::vector<protocol::OpResult>& results,
              std::uint64_t log_index);
    std::vector<protocol::RetryEntry> export_entries() const;
    void import_entries(const std::vector<protocol::RetryEntry>& entries);
    std::size_t clients() const { return clients_.size(); }

private:
    // A ring of at most kWindow requests; the ids sit apart from the results so
    // that a lookup scans one small contiguous array.
    struct Window {
        std::vector<protocol::RequestId> ids;
        std::vector<std::vector<protocol::OpResult>> results;
        std::size_t oldest = 0;  // ring position of the oldest request once full
        std::uint64_t last_index = 0;
        // The largest request id ever recorded: requests are mostly new and
        // numbered upwards, so most lookups end here without a scan.
        protocol::RequestId max_request = 0;
    };
    using Recency = std::pair<std::uint64_t, protocol::ClientId>;  // (last_index, client): evicts the idlest

    // The row `request` is to occupy: a new one, or the oldest one (to overwrite).
    std::vector<protocol::OpResult>& claim_row(protocol::ClientId client, protocol::RequestId request,
                                               std::uint64_t log_index);
    // Keeps the table within kMaxClients and the recency heap within bounds.
    void trim();
    void evict_idlest();

    struct ClientHash {
        std::size_t operator()(protocol::ClientId c) const noexcept { return static_cast<std::size_t>(mix64(c)); }
    };
    FlatMap<protocol::ClientId, Window, ClientHash> clients_;
    // A min-heap of (last_index, client) with lazy deletion: an entry is live
    // while it matches its client's last_index. Recording is then O(1) amortized
    // (indices grow), with no tree node to allocate per command.
    std::vector<Recency> recency_;
};

class ReplicatedState {
public:
    explicit ReplicatedState(store::Limits limits);

    // R-APPLY: applies one committed transaction and calls on_results(i, results)
    // with the results of command i, in command order. `results` is valid only
    // during the call: results go to the retry table without a copy, and the
    // caller copies out only those somebody waits for.
    template <class OnResults>
    void apply(const protocol::TxId& tx, const protocol::Timestamp& final_ts, const protocol::Batch& batch,
               OnResults&& on_results) {
        append_to_log(tx, final_ts, batch);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const protocol::Command& cmd = batch[i];
            if (const auto* earlier = retries_.find(cmd.client, cmd.request)) {  // applied before: answer the same
                on_results(i, *earlier);
                continue;
            }
            apply_ops(cmd.ops, scratch_);
            on_results(i, std::as_const(scratch_));
            retries_.take(cmd.client, cmd.request, scratch_, log_length_);
        }
    }

    // A local read (R-LOCAL-READ): never changes recency.
    std::optional<std::string_view> peek(std::string_view key) const { return store_.peek(key); }

    const store::LruStore& store() const { return store_; }
    const RetryTable& retries() const { return retries_; }
    std::uint64_t log_length() const { return log_length_; }
    std::uint64_t log_hash() const { return log_hash_; }

    protocol::Snapshot snapshot(protocol::Epoch epoch, protocol::Timestamp base_ts) const;
    static std::optional<ReplicatedState> restore(const protocol::Snapshot& snap);

private:
    // Advances the log position and its hash chain past one transaction.
    void append_to_log(const protocol::TxId& tx, const protocol::Timestamp& final_ts, const protocol::Batch& batch);
    // Fills `results` (one per op), reusing its buffers.
    void apply_ops(const std::vector<protocol::Op>& ops, std::vector<protocol::OpResult>& results);

    store::LruStore store_;
    // One command's results between apply_ops and the retry table, which swaps
    // them for the buffers of the row they replace: reused, never copied.
    std::vector<protocol::OpResult> scratch_;
    RetryTable retries_;
    std::uint64_t log_length_ = 0;
    std::uint64_t log_hash_ = 0;
};

std::uint64_t hash_transaction(const protocol::TxId& tx, const protocol::Timestamp& final_ts,
                               const protocol::Batch& batch);

}  // namespace tricache::coordinator
