#include "coordinator/state_machine.hpp"

#include <cassert>
#include <type_traits>

#include "coordinator/hash.hpp"

namespace tricache::coordinator {

using protocol::OpResult;

const std::vector<OpResult>* RetryTable::find(protocol::ClientId client, protocol::RequestId request) const {
    auto it = clients_.find(client);
    if (it == clients_.end()) return nullptr;
    for (const auto& [req, results] : it->second.recent) {
        if (req == request) return &results;
    }
    return nullptr;
}

void RetryTable::record(protocol::ClientId client, protocol::RequestId request, std::vector<OpResult> results,
                        std::uint64_t log_index) {
    auto [it, inserted] = clients_.try_emplace(client);
    Window& w = it->second;
    if (!inserted) by_recency_.erase({w.last_index, client});
    w.last_index = log_index;
    by_recency_.insert({w.last_index, client});
    w.recent.emplace_back(request, std::move(results));
    if (w.recent.size() > kWindow) w.recent.pop_front();
    if (clients_.size() > kMaxClients) {
        // Deterministic: the client idle longest (smallest last index, then id) goes.
        auto victim = by_recency_.begin();
        clients_.erase(victim->second);
        by_recency_.erase(victim);
    }
}

std::vector<protocol::RetryEntry> RetryTable::export_entries() const {
    // Ordered by each client's last apply index so that import reproduces the
    // same eviction order; within a client, oldest request first.
    std::vector<protocol::RetryEntry> out;
    for (const auto& [index, client] : by_recency_) {
        for (const auto& [req, results] : clients_.at(client).recent) {
            out.push_back({client, req, results});
        }
    }
    return out;
}

void RetryTable::import_entries(const std::vector<protocol::RetryEntry>& entries) {
    clients_.clear();
    by_recency_.clear();
    std::uint64_t index = 0;
    protocol::ClientId previous = 0;
    bool first = true;
    for (const auto& e : entries) {
        if (first || e.client != previous) ++index;
        first = false;
        previous = e.client;
        record(e.client, e.request, e.results, index);
    }
}

ReplicatedState::ReplicatedState(store::Limits limits) : store_(limits) {}

std::vector<OpResult> ReplicatedState::apply_ops(const std::vector<protocol::Op>& ops) {
    std::vector<OpResult> results;
    results.reserve(ops.size());
    for (const auto& op : ops) {
        OpResult r;
        std::visit(
            [&](const auto& o) {
                using T = std::decay_t<decltype(o)>;
                if constexpr (std::is_same_v<T, protocol::Get>) {
                    if (auto v = store_.get(o.key)) {
                        r.ok = true;
                        r.value = std::string(*v);
                    }
                } else if constexpr (std::is_same_v<T, protocol::Set>) {
                    r.ok = store_.put(o.key, o.value).outcome == store::PutOutcome::Stored;
                } else if constexpr (std::is_same_v<T, protocol::Del>) {
                    r.ok = store_.erase(o.key);
                } else {
                    static_assert(std::is_same_v<T, protocol::Cas>);
                    auto cur = store_.peek(o.key);
                    const bool match = o.expected ? (cur && *cur == *o.expected) : !cur;
                    if (match) {
                        r.ok = store_.put(o.key, o.value).outcome == store::PutOutcome::Stored;
                    } else if (cur) {
                        r.value = std::string(*cur);
                        store_.touch(o.key);  // the comparison read it
                    }
                }
            },
            op);
        results.push_back(std::move(r));
    }
    return results;
}

std::vector<std::vector<OpResult>> ReplicatedState::apply(const protocol::TxId& tx,
                                                         const protocol::Timestamp& final_ts,
                                                         const protocol::Batch& batch) {
    ++log_length_;
    log_hash_ = Hasher{}.add(log_hash_).add(hash_transaction(tx, final_ts, batch)).value();
    std::vector<std::vector<OpResult>> out;
    out.reserve(batch.size());
    for (const auto& cmd : batch) {
        if (const auto* earlier = retries_.find(cmd.client, cmd.request)) {
            out.push_back(*earlier);
            continue;
        }
        auto results = apply_ops(cmd.ops);
        retries_.record(cmd.client, cmd.request, results, log_length_);
        out.push_back(std::move(results));
    }
    return out;
}

protocol::Snapshot ReplicatedState::snapshot(protocol::Epoch epoch, protocol::Timestamp base_ts) const {
    protocol::Snapshot s;
    s.epoch = epoch;
    s.base_ts = base_ts;
    s.max_entries = store_.limits().max_entries;
    s.max_bytes = store_.limits().max_bytes;
    s.entries_mru_first = store_.snapshot_mru_first();
    s.retries = retries_.export_entries();
    s.log_length = log_length_;
    s.log_hash = log_hash_;
    return s;
}

std::optional<ReplicatedState> ReplicatedState::restore(const protocol::Snapshot& snap) {
    const store::Limits limits{snap.max_entries, snap.max_bytes};
    if (limits.max_entries == 0 || limits.max_bytes == 0) return std::nullopt;
    auto restored = store::LruStore::restore(limits, snap.entries_mru_first);
    if (!restored) return std::nullopt;
    ReplicatedState state(limits);
    state.store_ = std::move(*restored);
    state.retries_.import_entries(snap.retries);
    state.log_length_ = snap.log_length;
    state.log_hash_ = snap.log_hash;
    return state;
}

std::uint64_t hash_transaction(const protocol::TxId& tx, const protocol::Timestamp& final_ts,
                               const protocol::Batch& batch) {
    Hasher h;
    h.add(tx.coordinator).add(tx.incarnation).add(tx.seq).add(final_ts.counter).add(final_ts.node);
    h.add(batch.size());
    for (const auto& cmd : batch) {
        h.add(cmd.client).add(cmd.request).add(cmd.ops.size());
        for (const auto& op : cmd.ops) {
            h.add(op.index());
            std::visit(
                [&](const auto& o) {
                    using T = std::decay_t<decltype(o)>;
                    h.add(o.key);
                    if constexpr (std::is_same_v<T, protocol::Set>) h.add(o.value);
                    if constexpr (std::is_same_v<T, protocol::Cas>) {
                        h.add(o.expected.has_value() ? 1u : 0u);
                        if (o.expected) h.add(*o.expected);
                        h.add(o.value);
                    }
                },
                op);
        }
    }
    return h.value();
}

}  // namespace tricache::coordinator
