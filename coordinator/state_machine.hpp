// The replicated state: the LRU store, the client retry table and the log
// position. Every replica applies the same transactions in the same order, so
// every replica's ReplicatedState is identical after the same log prefix.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "coordinator/expiry_table.hpp"
#include "coordinator/flat_map.hpp"
#include "coordinator/hash.hpp"
#include "protocol/messages.hpp"
#include "store/lru_store.hpp"

namespace tricache::coordinator {

// One request's results as the retry table keeps them. Almost every command
// has one operation, so the first result sits inline: a row needs no heap
// block of its own. A row that is overwritten keeps its string buffers, even
// through results without a value (Gets and Sets alternate in a window).
class StoredResults {
public:
    std::size_t size() const { return size_; }
    // Copies `from` in, reusing this row's buffers where it can.
    void assign(const std::vector<protocol::OpResult>& from);
    // Copies out into `to`, reusing its buffers where it can.
    void copy_to(std::vector<protocol::OpResult>& to) const;
    std::vector<protocol::OpResult> to_vector() const;

private:
    struct Result {
        bool ok = false;
        bool has_value = false;
        std::string value;  // meaningful only with has_value; otherwise a spare buffer
    };
    const Result& at(std::size_t i) const { return i == 0 ? first_ : rest_[i - 1]; }
    static void store(Result& to, const protocol::OpResult& from);

    Result first_;
    std::vector<Result> rest_;  // results 1..size-1
    std::size_t size_ = 0;
};

// R-RETRY-TABLE: per client, the results of its last kWindow applied requests.
class RetryTable {
    struct Window;

public:
    static constexpr std::size_t kWindow = 64;
    static constexpr std::size_t kMaxClients = 1u << 16;

    // Where a request stands: its earlier results if it was applied, and the
    // client's window (opened if new) to record it in. One probe serves both;
    // valid until the next call that changes the table.
    class Place {
    public:
        const StoredResults* earlier = nullptr;

    private:
        friend class RetryTable;
        protocol::ClientId client_ = 0;
        Window* window_ = nullptr;
    };

    const StoredResults* find(protocol::ClientId client, protocol::RequestId request) const;
    // Finds `request`; for a client not in the table, opens its (empty) window,
    // which the caller must then record into (record with the Place).
    Place locate(protocol::ClientId client, protocol::RequestId request);
    // Copies `results` in: a full window overwrites its oldest row in place,
    // reusing that row's buffers rather than allocating new ones.
    void record(protocol::ClientId client, protocol::RequestId request, const std::vector<protocol::OpResult>& results,
                std::uint64_t log_index);
    // The same for a request that `place` (from locate) did not find: no second probe.
    void record(const Place& place, protocol::RequestId request, const std::vector<protocol::OpResult>& results,
                std::uint64_t log_index);
    std::vector<protocol::RetryEntry> export_entries() const;
    void import_entries(const std::vector<protocol::RetryEntry>& entries);
    std::size_t clients() const { return clients_.size(); }

private:
    struct Row {
        protocol::RequestId request = 0;
        StoredResults results;
    };
    // A ring of at most kWindow rows. Small enough that a table slot fits one
    // cache line: a lookup of a new request reads that line and no more.
    struct Window {
        std::vector<Row> rows;
        std::size_t oldest = 0;  // ring position of the oldest request once full
        std::uint64_t last_index = 0;
        // The largest request id ever recorded: requests are mostly new and
        // numbered upwards, so most lookups end here without a scan.
        protocol::RequestId max_request = 0;
    };
    using Recency = std::pair<std::uint64_t, protocol::ClientId>;  // (last_index, client): evicts the idlest

    static const StoredResults* earlier_in(const Window& w, protocol::RequestId request);
    // The row `request` is to occupy: a new one, or the oldest one (to overwrite).
    StoredResults& claim_row(protocol::ClientId client, Window& w, protocol::RequestId request,
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
    // (indices grow), with no tree node to allocate per command. Only eviction
    // reads it, so it is built the first time the table is full (`ranked_`)
    // and kept from then on; until then recording pays nothing for it.
    std::vector<Recency> recency_;
    bool ranked_ = false;
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
            advance_apply_clock(cmd.stamp_ms);  // R-TTL-CLOCK
            if (cmd.client == protocol::kPurgeClient) {  // R-TTL-PURGE: never recorded, never answered
                apply_ops(cmd.ops, scratch_);
                on_results(i, std::as_const(scratch_));
                continue;
            }
            const RetryTable::Place place = retries_.locate(cmd.client, cmd.request);
            if (place.earlier != nullptr) {  // applied before: answer the same
                place.earlier->copy_to(scratch_);
                on_results(i, std::as_const(scratch_));
                continue;
            }
            apply_ops(cmd.ops, scratch_);
            on_results(i, std::as_const(scratch_));
            retries_.record(place, cmd.request, scratch_, log_length_);
        }
    }

    // A local read (R-LOCAL-READ): never changes recency. An entry expired at
    // this state's apply clock is absent (R-TTL-LOCAL).
    std::optional<std::string_view> peek(std::string_view key) const {
        if (expired(key)) return std::nullopt;
        return store_.peek(key);
    }

    // R-TTL-CLOCK: the largest command stamp applied so far (ms since the Unix epoch).
    std::uint64_t apply_clock_ms() const { return apply_clock_ms_; }
    const ExpiryTable& expiries() const { return expiries_; }
    bool expired(std::string_view key) const {
        if (expiries_.empty()) return false;
        const auto at = expiries_.of(key);
        return at && *at <= apply_clock_ms_;
    }
    // Entries removed because they expired, since construction or restore (not replicated).
    std::uint64_t expired_removed() const { return expired_removed_; }
    // The digest of everything replicated in the store: contents and recency
    // order (the store's digest), every expiry, and the apply clock.
    std::uint64_t digest() const;

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
    void advance_apply_clock(std::uint64_t stamp_ms) { apply_clock_ms_ = std::max(apply_clock_ms_, stamp_ms); }
    // Removes `key` if it has expired (R-TTL-CLOCK: on access).
    void reap(std::string_view key);
    // Removes `key` and its expiry.
    void remove_expired(std::string_view key);
    // store_.put, dropping the expiries of the entries it evicts.
    bool put(std::string_view key, std::string_view value);
    // The absolute expiry `e` (At or After) names for a command applied now.
    std::uint64_t resolve(const protocol::Expiry& e) const;

    store::LruStore store_;
    // One command's results between apply_ops and the retry table: kept so
    // that its buffers are reused from command to command.
    std::vector<protocol::OpResult> scratch_;
    // Value buffers parked while their slot in scratch_ holds a result without
    // a value: Gets and Sets alternate, and each would otherwise free or
    // allocate a string.
    std::vector<std::string> spare_values_;
    RetryTable retries_;
    std::uint64_t log_length_ = 0;
    std::uint64_t log_hash_ = 0;
    std::uint64_t apply_clock_ms_ = 0;
    ExpiryTable expiries_;
    std::vector<std::string> evicted_;  // put's evicted keys, reused
    std::uint64_t expired_removed_ = 0;
};

std::uint64_t hash_transaction(const protocol::TxId& tx, const protocol::Timestamp& final_ts,
                               const protocol::Batch& batch);

}  // namespace tricache::coordinator
