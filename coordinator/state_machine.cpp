#include "coordinator/state_machine.hpp"

#include <algorithm>
#include <cassert>
#include <functional>
#include <string_view>
#include <type_traits>

#include "coordinator/hash.hpp"

namespace tricache::coordinator {

using protocol::OpResult;

const StoredResults* RetryTable::earlier_in(const Window& w, protocol::RequestId request) {
    if (request > w.max_request) return nullptr;
    for (const Row& row : w.rows) {
        if (row.request == request) return &row.results;
    }
    return nullptr;
}

const StoredResults* RetryTable::find(protocol::ClientId client, protocol::RequestId request) const {
    auto it = clients_.find(client);
    return it == clients_.end() ? nullptr : earlier_in(it->second, request);
}

RetryTable::Place RetryTable::locate(protocol::ClientId client, protocol::RequestId request) {
    Place place;
    place.client_ = client;
    place.window_ = &clients_.try_emplace(client).first->second;
    place.earlier = earlier_in(*place.window_, request);
    return place;
}

void StoredResults::store(Result& to, const OpResult& from) {
    to.ok = from.ok;
    to.has_value = from.value.has_value();
    if (from.value) to.value.assign(*from.value);
}

void StoredResults::assign(const std::vector<OpResult>& from) {
    size_ = from.size();
    if (size_ == 0) return;
    store(first_, from[0]);
    if (rest_.size() < size_ - 1) rest_.resize(size_ - 1);  // never shrinks: the spare buffers stay
    for (std::size_t i = 1; i < size_; ++i) store(rest_[i - 1], from[i]);
}

void StoredResults::copy_to(std::vector<OpResult>& to) const {
    to.resize(size_);
    for (std::size_t i = 0; i < size_; ++i) {
        const Result& r = at(i);
        to[i].ok = r.ok;
        if (!r.has_value) {
            to[i].value.reset();
        } else if (to[i].value) {
            to[i].value->assign(r.value);
        } else {
            to[i].value.emplace(r.value);
        }
    }
}

std::vector<OpResult> StoredResults::to_vector() const {
    std::vector<OpResult> out;
    copy_to(out);
    return out;
}

StoredResults& RetryTable::claim_row(protocol::ClientId client, Window& w, protocol::RequestId request,
                                     std::uint64_t log_index) {
    if (w.last_index != log_index || w.rows.empty()) {
        w.last_index = log_index;
        if (ranked_) {
            recency_.emplace_back(log_index, client);
            std::push_heap(recency_.begin(), recency_.end(), std::greater<>{});
        }
    }
    w.max_request = std::max(w.max_request, request);
    if (w.rows.size() < kWindow) {
        // Most clients send more than a few requests: skip the smallest steps of the growth.
        constexpr std::size_t kFirstRows = 8;
        if (w.rows.size() == w.rows.capacity()) w.rows.reserve(std::min(kWindow, std::max(kFirstRows, 2 * w.rows.size())));
        Row& row = w.rows.emplace_back();  // in place: a Row is too big to build and then move
        row.request = request;
        return row.results;
    }
    Row& row = w.rows[w.oldest];
    row.request = request;
    w.oldest = (w.oldest + 1) % kWindow;
    return row.results;
}

void RetryTable::record(protocol::ClientId client, protocol::RequestId request, const std::vector<OpResult>& results,
                        std::uint64_t log_index) {
    claim_row(client, clients_[client], request, log_index).assign(results);
    trim();
}

void RetryTable::record(const Place& place, protocol::RequestId request, const std::vector<OpResult>& results,
                        std::uint64_t log_index) {
    assert(place.window_ != nullptr && place.earlier == nullptr);
    claim_row(place.client_, *place.window_, request, log_index).assign(results);
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
    if (!ranked_) {  // the first eviction: rank every client from here on
        recency_.clear();
        for (const auto& [client, w] : clients_) recency_.emplace_back(w.last_index, client);
        std::make_heap(recency_.begin(), recency_.end(), std::greater<>{});
        ranked_ = true;
    }
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
        for (std::size_t k = 0; k < w.rows.size(); ++k) {
            const Row& row = w.rows[(w.oldest + k) % w.rows.size()];
            out.push_back({client, row.request, row.results.to_vector()});
        }
    }
    return out;
}

void RetryTable::import_entries(const std::vector<protocol::RetryEntry>& entries) {
    clients_.clear();
    recency_.clear();
    ranked_ = false;
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

namespace {

// The keys of one Scan page (protocol::Scan): by (scan_hash, key bytes) from
// `cursor` on, `count` of them (or fewer once kMaxScanPageBytes is reached),
// completed by the keys sharing the last one's hash.
template <class Expired>
std::string scan_page(const store::LruStore& store, const protocol::Scan& scan, Expired&& expired) {
    std::vector<std::pair<std::uint64_t, std::string_view>> candidates;
    store.for_each_mru_first([&](std::string_view key, std::string_view) {
        if (expired(key)) return;  // R-TTL-CLOCK: absent
        const std::uint64_t h = protocol::scan_hash(key);
        if (h >= scan.cursor) candidates.emplace_back(h, key);
    });
    std::sort(candidates.begin(), candidates.end());
    const std::size_t want = std::clamp<std::size_t>(scan.count, 1, protocol::kMaxScanCount);
    std::vector<std::string_view> keys;
    std::uint64_t bytes = 0;
    std::size_t i = 0;
    for (; i < candidates.size(); ++i) {
        const bool full = keys.size() >= want || bytes >= protocol::kMaxScanPageBytes;
        if (full && candidates[i].first != candidates[i - 1].first) break;
        keys.push_back(candidates[i].second);
        bytes += candidates[i].second.size();
    }
    const std::uint64_t next = i < candidates.size() ? candidates[i - 1].first + 1 : 0;
    return protocol::encode_scan_page(next, keys);
}

}  // namespace

void ReplicatedState::remove_expired(std::string_view key) {
    const std::string owned(key);  // `key` may point into the entry being removed
    store_.erase(owned);
    expiries_.erase(owned);
    ++expired_removed_;
}

void ReplicatedState::reap(std::string_view key) {
    if (expired(key)) remove_expired(key);
}

bool ReplicatedState::put(std::string_view key, std::string_view value) {
    if (expiries_.empty()) return store_.put(key, value).outcome == store::PutOutcome::Stored;
    evicted_.clear();
    const bool ok = store_.put(key, value, &evicted_).outcome == store::PutOutcome::Stored;
    for (const auto& k : evicted_) expiries_.erase(k);
    return ok;
}

std::uint64_t ReplicatedState::resolve(const protocol::Expiry& e) const {
    if (e.ms <= 0) return e.kind == protocol::ExpiryKind::After ? apply_clock_ms_ : 0;  // already past
    const auto ms = static_cast<std::uint64_t>(e.ms);
    if (e.kind == protocol::ExpiryKind::At) return ms;
    std::uint64_t at = 0;
    return __builtin_add_overflow(apply_clock_ms_, ms, &at) ? ~std::uint64_t{0} : at;
}

std::uint64_t ReplicatedState::digest() const {
    return Hasher{}.add(store_.digest()).add(expiries_.digest()).add(apply_clock_ms_).value();
}

void ReplicatedState::apply_ops(const std::vector<protocol::Op>& ops, std::vector<OpResult>& results) {
    results.resize(ops.size());
    bool skipping = false;  // a Require failed: the rest of the command does nothing
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const protocol::Op& op = ops[i];
        OpResult& r = results[i];
        r.ok = false;
        const auto set_value = [&](std::string_view v) {
            if (!r.value && spare_values_.empty()) {
                r.value.emplace();
            } else if (!r.value) {
                r.value.emplace(std::move(spare_values_.back()));
                spare_values_.pop_back();
            }
            r.value->assign(v);
        };
        bool has_value = false;
        const auto answer = [&](std::string_view v) {
            set_value(v);
            has_value = true;
        };
        const auto stored = [&](std::string_view key, std::string_view value) { return put(key, value); };
        // An entry gets (At, After) or keeps (Keep) an expiry, or loses it (None); one
        // already past removes it (R-TTL-CLOCK).
        const auto give_expiry = [&](std::string_view key, const protocol::Expiry& e) {
            if (e.kind == protocol::ExpiryKind::Keep) return;
            if (e.kind == protocol::ExpiryKind::None) {
                expiries_.erase(key);
                return;
            }
            const std::uint64_t at = resolve(e);
            if (at <= apply_clock_ms_) {
                remove_expired(key);
            } else {
                expiries_.set(key, at);
            }
        };
        if (!skipping && protocol::op_has_key(op)) reap(protocol::op_key(op));
        if (!skipping) {
            std::visit(
                [&](const auto& o) {
                    using T = std::decay_t<decltype(o)>;
                    if constexpr (std::is_same_v<T, protocol::Get>) {
                        if (auto v = store_.get(o.key)) {
                            r.ok = true;
                            answer(*v);
                        }
                    } else if constexpr (std::is_same_v<T, protocol::Set>) {
                        r.ok = stored(o.key, o.value);
                        if (r.ok) give_expiry(o.key, o.expiry);
                    } else if constexpr (std::is_same_v<T, protocol::Del>) {
                        r.ok = store_.erase(o.key);
                        if (r.ok && !expiries_.empty()) expiries_.erase(o.key);
                    } else if constexpr (std::is_same_v<T, protocol::Cas>) {
                        auto cur = store_.peek(o.key);
                        const bool match = o.expected ? (cur && *cur == *o.expected) : !cur;
                        if (match) {
                            r.ok = stored(o.key, o.value);
                            if (r.ok && !expiries_.empty()) expiries_.erase(o.key);  // a new value, as SET
                        } else if (cur) {
                            answer(*cur);
                            store_.touch(o.key);  // the comparison read it
                        }
                    } else if constexpr (std::is_same_v<T, protocol::Incr>) {
                        const auto cur = store_.peek(o.key);
                        std::int64_t n = 0;
                        std::int64_t sum = 0;
                        const bool number = !cur || protocol::parse_int64(*cur, n);
                        if (number && !__builtin_add_overflow(n, o.delta, &sum)) {
                            const std::string text = std::to_string(sum);
                            r.ok = stored(o.key, text);
                            if (r.ok) answer(text);
                        }
                        if (!r.ok && cur) {
                            answer(*store_.peek(o.key));  // unchanged
                            store_.touch(o.key);
                        }
                    } else if constexpr (std::is_same_v<T, protocol::Append>) {
                        const auto cur = store_.peek(o.key);
                        const std::uint64_t length = (cur ? cur->size() : 0) + o.value.size();
                        if (length <= protocol::kMaxAppendedValueBytes) {
                            std::string joined = cur ? std::string(*cur) : std::string();
                            joined += o.value;
                            r.ok = stored(o.key, joined);
                        }
                        if (r.ok) {
                            answer(std::to_string(length));
                        } else if (cur) {
                            store_.touch(o.key);
                        }
                    } else if constexpr (std::is_same_v<T, protocol::Exists>) {
                        r.ok = store_.peek(o.key).has_value();
                    } else if constexpr (std::is_same_v<T, protocol::Require>) {
                        r.ok = store_.peek(o.key).has_value() == o.present;
                        skipping = !r.ok;
                    } else if constexpr (std::is_same_v<T, protocol::Count>) {
                        r.ok = true;
                        answer(std::to_string(store_.size() - expiries_.count_due(apply_clock_ms_)));
                    } else if constexpr (std::is_same_v<T, protocol::Scan>) {
                        r.ok = true;
                        answer(scan_page(store_, o, [this](std::string_view k) { return expired(k); }));
                    } else if constexpr (std::is_same_v<T, protocol::Clear>) {
                        r.ok = true;
                        expiries_.clear();
                        answer(std::to_string(store_.clear()));
                    } else if constexpr (std::is_same_v<T, protocol::Expire>) {
                        const bool timed =
                            o.when.kind == protocol::ExpiryKind::At || o.when.kind == protocol::ExpiryKind::After;
                        if (timed && store_.peek(o.key)) {
                            const auto current = expiries_.of(o.key);
                            const std::uint64_t at = resolve(o.when);
                            switch (o.cond) {
                                case protocol::ExpireCond::Always: r.ok = true; break;
                                case protocol::ExpireCond::Nx: r.ok = !current; break;
                                case protocol::ExpireCond::Xx: r.ok = current.has_value(); break;
                                case protocol::ExpireCond::Gt: r.ok = current && at > *current; break;
                                case protocol::ExpireCond::Lt: r.ok = !current || at < *current; break;
                                case protocol::ExpireCond::XxLt: r.ok = current && at < *current; break;
                            }
                            if (r.ok) give_expiry(o.key, o.when);
                        }
                    } else if constexpr (std::is_same_v<T, protocol::Persist>) {
                        r.ok = store_.peek(o.key) && expiries_.erase(o.key);
                    } else if constexpr (std::is_same_v<T, protocol::Ttl>) {
                        if (store_.peek(o.key)) {
                            r.ok = true;
                            const auto at = expiries_.of(o.key);
                            answer(at ? std::to_string(*at - apply_clock_ms_) : std::string("-1"));
                        }
                    } else {
                        static_assert(std::is_same_v<T, protocol::Purge>);
                        r.ok = true;
                        const auto due =
                            expiries_.due(apply_clock_ms_, std::clamp<std::uint32_t>(o.max, 1, protocol::kMaxPurge));
                        for (const auto& k : due) remove_expired(k);
                        answer(std::to_string(due.size()));
                    }
                },
                op);
        }
        if (!has_value && r.value) {
            spare_values_.push_back(std::move(*r.value));
            r.value.reset();
        }
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
    s.apply_clock_ms = apply_clock_ms_;
    s.expiries = expiries_.rows_by_key();
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
    state.apply_clock_ms_ = snap.apply_clock_ms;
    for (std::size_t i = 0; i < snap.expiries.size(); ++i) {  // by key, each naming an entry
        const auto& [key, at] = snap.expiries[i];
        if ((i > 0 && !(snap.expiries[i - 1].first < key)) || !state.store_.peek(key)) return std::nullopt;
        state.expiries_.set(key, at);
    }
    return state;
}

std::uint64_t hash_transaction(const protocol::TxId& tx, const protocol::Timestamp& final_ts,
                               const protocol::Batch& batch) {
    Hasher h;
    h.add(tx.coordinator).add(tx.incarnation).add(tx.seq).add(final_ts.counter).add(final_ts.node);
    h.add(batch.size());
    for (const auto& cmd : batch) {
        h.add(cmd.client).add(cmd.request).add(cmd.stamp_ms).add(cmd.ops.size());
        for (const auto& op : cmd.ops) {
            h.add(op.index());
            std::visit(
                [&](const auto& o) {
                    using T = std::decay_t<decltype(o)>;
                    if constexpr (requires { o.key; }) h.add(o.key);
                    if constexpr (std::is_same_v<T, protocol::Set> || std::is_same_v<T, protocol::Append>) {
                        h.add(o.value);
                    }
                    if constexpr (std::is_same_v<T, protocol::Cas>) {
                        h.add(o.expected.has_value() ? 1u : 0u);
                        if (o.expected) h.add(*o.expected);
                        h.add(o.value);
                    }
                    if constexpr (std::is_same_v<T, protocol::Incr>) h.add(static_cast<std::uint64_t>(o.delta));
                    if constexpr (std::is_same_v<T, protocol::Require>) h.add(o.present ? 1u : 0u);
                    if constexpr (std::is_same_v<T, protocol::Scan>) h.add(o.cursor).add(o.count);
                    if constexpr (std::is_same_v<T, protocol::Set>) {
                        h.add(static_cast<std::uint64_t>(o.expiry.kind)).add(static_cast<std::uint64_t>(o.expiry.ms));
                    }
                    if constexpr (std::is_same_v<T, protocol::Expire>) {
                        h.add(static_cast<std::uint64_t>(o.when.kind)).add(static_cast<std::uint64_t>(o.when.ms));
                        h.add(static_cast<std::uint64_t>(o.cond));
                    }
                    if constexpr (std::is_same_v<T, protocol::Purge>) h.add(o.max);
                },
                op);
        }
    }
    return h.value();
}

}  // namespace tricache::coordinator
