#include "coordinator/state_machine.hpp"

#include <algorithm>
#include <cassert>
#include <functional>
#include <string_view>
#include <type_traits>

#include "coordinator/hash.hpp"

namespace tricache::coordinator {

using protocol::OpResult;

const std::vector<OpResult>* RetryTable::find(protocol::ClientId client, protocol::RequestId request) const {
    auto it = clients_.find(client);
    if (it == clients_.end()) return nullptr;
    const Window& w = it->second;
    if (request > w.max_request) return nullptr;
    for (std::size_t i = 0; i < w.ids.size(); ++i) {
        if (w.ids[i] == request) return &w.results[i];
    }
    return nullptr;
}

namespace {

// Assignment that keeps the destination's buffers (vector and strings) where it can.
void assign_results(std::vector<OpResult>& to, const std::vector<OpResult>& from) {
    to.resize(from.size());
    for (std::size_t i = 0; i < from.size(); ++i) {
        to[i].ok = from[i].ok;
        if (!from[i].value) {
            to[i].value.reset();
        } else if (to[i].value) {
            to[i].value->assign(*from[i].value);
        } else {
            to[i].value.emplace(*from[i].value);
        }
    }
}

}  // namespace

std::vector<OpResult>& RetryTable::claim_row(protocol::ClientId client, protocol::RequestId request,
                                             std::uint64_t log_index) {
    Window& w = clients_[client];
    if (w.last_index != log_index || w.ids.empty()) {
        w.last_index = log_index;
        recency_.emplace_back(log_index, client);
        std::push_heap(recency_.begin(), recency_.end(), std::greater<>{});
    }
    w.max_request = std::max(w.max_request, request);
    if (w.ids.size() < kWindow) {
        w.ids.push_back(request);
        return w.results.emplace_back();
    }
    std::vector<OpResult>& row = w.results[w.oldest];
    w.ids[w.oldest] = request;
    w.oldest = (w.oldest + 1) % kWindow;
    return row;
}

void RetryTable::record(protocol::ClientId client, protocol::RequestId request, const std::vector<OpResult>& results,
                        std::uint64_t log_index) {
    assign_results(claim_row(client, request, log_index), results);
    trim();
}

void RetryTable::take(protocol::ClientId client, protocol::RequestId request, std::vector<OpResult>& results,
                      std::uint64_t log_index) {
    claim_row(client, request, log_index).swap(results);
    trim();
}

void RetryTable::trim() {
    if (clients_.size() > kMaxClients) evict_idlest();
    if (recency_.size() > 2 * clients_.size() + 64) {  // drop the stale heap entries
        std::erase_if(recency_, [&](const Recency& r) {
            const auto it = clients_.find(r.second);
            return it == clients_.end() || it->second.last_index != r.first;
        });
        std::make_heap(recency_.begin(), recency_.end(), std::greater<>{});
    }
}

// Deterministic: the client idle longest (smallest last index, then id) goes.
void RetryTable::evict_idlest() {
    while (!recency_.empty()) {
        std::pop_heap(recency_.begin(), recency_.end(), std::greater<>{});
        const Recency top = recency_.back();
        recency_.pop_back();
        auto it = clients_.find(top.second);
        if (it != clients_.end() && it->second.last_index == top.first) {
            clients_.erase(it);
            return;
        }
    }
    assert(false && "every client has a live recency entry");
}

std::vector<protocol::RetryEntry> RetryTable::export_entries() const {
    // Ordered by each client's last apply index (then id) so that import
    // reproduces the same eviction order; within a client, oldest request first.
    std::vector<Recency> order;
    order.reserve(clients_.size());
    for (const auto& [client, w] : clients_) order.emplace_back(w.last_index, client);
    std::sort(order.begin(), order.end());
    std::vector<protocol::RetryEntry> out;
    for (const auto& [index, client] : order) {
        const Window& w = clients_.find(client)->second;
        for (std::size_t k = 0; k < w.ids.size(); ++k) {
            const std::size_t i = (w.oldest + k) % w.ids.size();
            out.push_back({client, w.ids[i], w.results[i]});
        }
    }
    return out;
}

void RetryTable::import_entries(const std::vector<protocol::RetryEntry>& entries) {
    clients_.clear();
    recency_.clear();
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

void ReplicatedState::apply_ops(const std::vector<protocol::Op>& ops, std::vector<OpResult>& results) {
    results.resize(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const protocol::Op& op = ops[i];
        OpResult& r = results[i];
        r.ok = false;
        const auto set_value = [&r](std::string_view v) {
            if (r.value) {
                r.value->assign(v);
            } else {
                r.value.emplace(v);
            }
        };
        bool has_value = false;
        std::visit(
            [&](const auto& o) {
                using T = std::decay_t<decltype(o)>;
                if constexpr (std::is_same_v<T, protocol::Get>) {
                    if (auto v = store_.get(o.key)) {
                        r.ok = true;
                        set_value(*v);
                        has_value = true;
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
                        set_value(*cur);
                        has_value = true;
                        store_.touch(o.key);  // the comparison read it
                    }
                }
            },
            op);
        if (!has_value) r.value.reset();
    }
}

void ReplicatedState::append_to_log(const protocol::TxId& tx, const protocol::Timestamp& final_ts,
                                    const protocol::Batch& batch) {
    ++log_length_;
    log_hash_ = Hasher{}.add(log_hash_).add(hash_transaction(tx, final_ts, batch)).value();
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
