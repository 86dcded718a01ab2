// Section 8 of spec/PROTOCOL.md: the snapshot transfer that brings a member without
// the boundary state up to it (R-SNAPSHOT), and the answers that let a fetching node
// find out that nobody can ever send it (R-DATA-LOSS). Same class as engine.cpp.
#include <algorithm>
#include <cassert>

#include "coordinator/engine.hpp"
#include "coordinator/history.hpp"
#include "protocol/codec.hpp"

namespace tricache::coordinator {

using namespace tricache::protocol;

std::vector<NodeId> Engine::snapshot_donors() const {  // R-SNAPSHOT
    std::vector<NodeId> donors;
    for (const auto& m : view_.members) {
        if (m.node != config_.self) donors.push_back(m.node);
    }
    // Then every other node: one left out of the view may hold the snapshot.
    for (NodeId n : config_.cluster) {
        if (n != config_.self && std::find(donors.begin(), donors.end(), n) == donors.end()) donors.push_back(n);
    }
    return donors;
}

NodeId Engine::snapshot_donor() const {
    assert(fetch_);
    const std::vector<NodeId> donors = snapshot_donors();
    return donors.empty() ? 0 : donors[fetch_->donor_index % donors.size()];
}

// Every request is numbered; the first to a donor starts the wait on it (R-DATA-LOSS).
void Engine::ask_snapshot_donor(std::uint32_t from_chunk) {
    assert(fetch_);
    ++snapshot_asks_;
    if (fetch_->donor_first_ask == 0) fetch_->donor_first_ask = snapshot_asks_;
    send(snapshot_donor(), SnapshotRequest{fetch_->epoch, from_chunk, snapshot_asks_});
}

// R-DATA-LOSS: this node gives up its donor. From now on it takes nothing that
// donor sent, so at this instant it holds no snapshot and receives none: the
// askers it held back get their *none* now, each echoing its own request.
void Engine::leave_snapshot_donor() {
    assert(fetch_);
    ++fetch_->donor_index;
    fetch_->donor_first_ask = 0;
    for (const auto& [asker, ask] : fetch_->deferred) send(asker, SnapshotChunk{fetch_->epoch, 0, 0, {}, ask});
    fetch_->deferred.clear();
}

void Engine::request_snapshot(std::uint64_t now) {  // R-SNAPSHOT
    if (snapshot_donors().empty()) return;
    if (!fetch_ || fetch_->epoch != view_.epoch) {
        fetch_ = Fetch{};
        fetch_->epoch = view_.epoch;
        fetch_->donor_index = static_cast<std::size_t>(random_below(snapshot_donors().size()));
    } else if (fetch_->last_request_ms != 0 && now - fetch_->last_request_ms < config_.join_retry_ms) {
        return;
    } else if (fetch_->last_request_ms != 0 && !fetch_->progressed) {
        leave_snapshot_donor();  // that donor did not answer in time
    }
    fetch_->progressed = false;
    fetch_->last_request_ms = now;
    ask_snapshot_donor(fetch_->next_chunk);
}

// R-DATA-LOSS: whether this node, not holding the snapshot of `epoch` and not
// fetching it, may still come to hold it, so that a *none* from it would be premature.
bool Engine::may_come_to_hold_snapshot(Epoch epoch) const {
    if (view_.epoch > epoch) return true;  // past it: R-CATCH-UP moves the asker on, not a "none"
    return view_.epoch + 1 == epoch && full_state_ && !amnesiac_ && status_ != NodeStatus::Joining;
}

// R-DATA-LOSS: this node fetches `epoch` itself and waits on a donor other than
// `asker`: chunks may be on their way, so its *none* must wait until it stops waiting.
// Toward the donor itself it need not wait: that donor holds nothing, or it would not ask.
bool Engine::waits_on_other_donor(Epoch epoch, NodeId asker) const {
    const bool fetching = status_ == NodeStatus::Syncing ||
                          (status_ == NodeStatus::NeedsRebootstrap && loss_ == Loss::Data);
    return fetching && fetch_ && fetch_->epoch == epoch && fetch_->donor_first_ask != 0 && snapshot_donor() != asker;
}

void Engine::handle(const PeerHeader& h, const SnapshotRequest& m, std::uint64_t /*now*/) {
    const SnapshotChunk none{m.epoch, 0, 0, {}, m.ask};
    if (!same_history(h, view_, history_tag_)) {  // our epochs are not its epochs, and we never apply its records
        send(h.from, none);
        return;
    }
    if (frozen_epoch_ != m.epoch || frozen_snapshot_.empty()) {
        if (waits_on_other_donor(m.epoch, h.from)) {
            std::uint64_t& held = fetch_->deferred[h.from];
            held = std::max(held, m.ask);
        } else if (!may_come_to_hold_snapshot(m.epoch)) {
            send(h.from, none);
        }
        return;
    }
    const std::uint64_t chunk = std::max<std::uint64_t>(1, config_.snapshot_chunk_bytes);
    const auto total = static_cast<std::uint32_t>((frozen_snapshot_.size() + chunk - 1) / chunk);
    for (std::uint32_t i = m.from_chunk; i < total && i < m.from_chunk + config_.snapshot_window; ++i) {
        send(h.from, SnapshotChunk{m.epoch, i, total, frozen_snapshot_.substr(i * chunk, chunk), m.ask});
    }
}

// R-DATA-LOSS: a *none* extends its sender's streak, or starts a new one when
// the sender is a new incarnation (which may never have held anything).
void Engine::note_snapshot_none(const PeerHeader& h, const SnapshotChunk& m, std::uint64_t now) {
    auto [it, fresh] = fetch_->nones.try_emplace(h.from);
    NoneStreak& streak = it->second;
    if (fresh || streak.incarnation != h.incarnation) {
        streak = NoneStreak{h.incarnation, snapshot_asks_, m.ask, now};
    } else {
        streak.latest_ask = std::max(streak.latest_ask, m.ask);
        streak.heard_ms = now;
    }
}

void Engine::handle(const PeerHeader& h, const SnapshotChunk& m, std::uint64_t now) {
    const bool fetching = status_ == NodeStatus::Syncing ||
                          (status_ == NodeStatus::NeedsRebootstrap && loss_ == Loss::Data);
    if (!fetching || !fetch_ || m.epoch != fetch_->epoch) return;
    if (m.total != 0 && !same_history(h, view_, history_tag_)) return;  // a "none" from another history is true of ours too
    // An answer of the current donor to a request made since it became current;
    // anything else is stale, and a stale chunk may be the last words of a donor
    // that crashed since (R-DATA-LOSS): only the wait it started may take it.
    const bool current = fetch_->donor_first_ask != 0 && h.from == snapshot_donor() && m.ask >= fetch_->donor_first_ask;
    if (m.total == 0) {  // "none": R-DATA-LOSS evidence
        note_snapshot_none(h, m, now);
        update_total_loss(now);
        if (!current) return;
        // Ask the next donor at once, unless it said "none" within the retry
        // interval too: then this pass is over and the usual timer paces the next.
        leave_snapshot_donor();
        const auto next = fetch_->nones.find(snapshot_donor());
        if (next == fetch_->nones.end() || now - next->second.heard_ms >= config_.join_retry_ms) {
            fetch_->last_request_ms = 0;
            request_snapshot(now);
        } else {
            fetch_->progressed = true;  // the timer must not skip a donor: it was just advanced
        }
        return;
    }
    if (!current) return;
    if ((fetch_->total != 0 && m.total != fetch_->total) || m.index >= m.total) return;
    if (m.index < fetch_->next_chunk || m.index >= fetch_->next_chunk + std::max(1u, config_.snapshot_window)) return;
    if (status_ == NodeStatus::NeedsRebootstrap) {  // someone holds the data after all
        if (!release_rb_promise(view_.epoch + 1, now, "a node sends the data after all")) return;
        status_ = NodeStatus::Syncing;
        loss_ = Loss::None;
    }
    fetch_->nones.erase(h.from);  // it holds the data: its earlier "none"s said nothing about now
    fetch_->total = m.total;
    fetch_->progressed = true;
    if (m.index != fetch_->next_chunk) {
        fetch_->ahead.try_emplace(m.index, m.data);
        return;
    }
    const std::uint32_t window = std::max(1u, config_.snapshot_window);
    fetch_->data += m.data;  // in order, the usual case: no detour through `ahead`
    ++fetch_->next_chunk;
    bool window_done = fetch_->next_chunk % window == 0;
    for (auto it = fetch_->ahead.begin(); it != fetch_->ahead.end() && it->first == fetch_->next_chunk;
         it = fetch_->ahead.erase(it)) {
        fetch_->data += it->second;
        ++fetch_->next_chunk;
        window_done = window_done || fetch_->next_chunk % window == 0;
    }
    if (fetch_->next_chunk == fetch_->total) {
        install_snapshot(now);
    } else if (window_done) {
        fetch_->last_request_ms = now;
        ask_snapshot_donor(fetch_->next_chunk);
    }
}

void Engine::install_snapshot(std::uint64_t now) {
    assert(fetch_ && status_ == NodeStatus::Syncing);
    // A snapshot is as large as the store, not bounded like one peer message: the
    // default codec limits (64 MiB, 2^20 list items) would refuse a big store's
    // snapshot on every attempt and leave this node syncing forever. The bytes are
    // already here, so no count can exceed them; values and keys follow our config.
    CodecLimits limits;
    limits.max_message_bytes = std::max(limits.max_message_bytes, fetch_->data.size());
    limits.max_list_length = std::max(limits.max_list_length, fetch_->data.size());
    limits.max_value_bytes = std::max<std::size_t>(limits.max_value_bytes, config_.max_value_bytes);
    limits.max_key_bytes = std::max<std::size_t>(limits.max_key_bytes, config_.max_key_bytes);
    auto decoded = decode_snapshot(fetch_->data, limits);
    std::optional<ReplicatedState> restored;
    if (decoded && decoded.value().epoch == view_.epoch) restored = ReplicatedState::restore(decoded.value());
    if (!restored) {
        leave_snapshot_donor();  // the askers it held back: it holds nothing and now waits on nobody
        fetch_.reset();  // a bad transfer: start over, from another donor
        return;
    }
    state_ = std::move(*restored);
    ++stats_.snapshots_installed;
    full_state_ = true;
    status_ = NodeStatus::Normal;
    last_normal_epoch_ = view_.epoch;
    frozen_epoch_ = view_.epoch;
    frozen_snapshot_ = std::move(fetch_->data);
    fetch_.reset();  // the askers it held back ask again, and now get chunks
    if (config_.record_deliveries) {
        out_.journal.push_back(SnapshotInstalledEvent{view_.epoch, state_.log_length(), state_.log_hash()});
    }
    try_deliver();  // R-SYNC-VOTE: what was committed meanwhile, in f order
    settle_in_doubt();  // R-IN-DOUBT: every earlier attempt's outcome is in this state
    start_batches(now);
}

}  // namespace tricache::coordinator
