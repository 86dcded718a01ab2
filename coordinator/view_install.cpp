// Section 8 of spec/PROTOCOL.md: installing a view (R-VC-INSTALL) and the snapshot
// transfer that brings a member without the boundary state up to it (R-SNAPSHOT). Same class as engine.cpp.
#include <algorithm>
#include <cassert>

#include "coordinator/engine.hpp"
#include "coordinator/hash.hpp"
#include "coordinator/history.hpp"
#include "protocol/codec.hpp"

namespace tricache::coordinator {

using namespace tricache::protocol;

// ------------------------------------------------------------------ installation

void Engine::apply_ecr(const EpochClosingRecord& ecr) {
    assert(ecr.closes == view_.epoch && full_state_);
    for (const CommittedTx& c : ecr.committed) {
        observe(c.final_ts);
        auto it = txs_.find(c.tx);
        if (it != txs_.end()) {
            TxRecord& rec = it->second;
            if (rec.state == TxState::Committed) {
                assert(rec.final_ts == c.final_ts);  // P1
                continue;
            }
            assert(rec.state != TxState::Aborted);  // P1
            undecided_.erase({key_of(rec), c.tx});
            rec.state = TxState::Committed;
            rec.final_ts = c.final_ts;
            committed_.insert({c.final_ts, c.tx});
            if (config_.record_deliveries) out_.journal.push_back(DecidedEvent{c.tx, true, c.final_ts});
        } else if (!is_stale(c.tx)) {
            TxRecord rec;
            rec.id = c.tx;
            rec.epoch = ecr.closes;
            rec.state = TxState::Committed;
            rec.final_ts = c.final_ts;
            rec.batch = std::make_shared<const Batch>(c.batch);
            txs_.emplace(c.tx, std::move(rec));
            committed_.insert({c.final_ts, c.tx});
            if (config_.record_deliveries) out_.journal.push_back(DecidedEvent{c.tx, true, c.final_ts});
        }
    }
    // Everything else of the closed epoch is aborted (named in the ECR or not).
    for (auto& [tx, rec] : txs_) {
        if (rec.state == TxState::Waiting || rec.state == TxState::PreCommitted || rec.state == TxState::PreAborted) {
            undecided_.erase({key_of(rec), tx});
            rec.state = TxState::Aborted;
            if (config_.record_deliveries) out_.journal.push_back(DecidedEvent{tx, false, {}});
        }
    }
    assert(undecided_.empty());
    try_deliver();
    assert(committed_.empty());  // the log now ends exactly at the epoch boundary
}

void Engine::install(const EpochClosingRecord& ecr, std::uint64_t now) {  // R-VC-INSTALL
    if (ecr.closes == 0) {
        install_rebootstrap(ecr, now);
        return;
    }
    if (!newer_record(ecr.next, view_)) return;  // R-HISTORY-ORDER
    if (!release_rb_promise(ecr.next.epoch, now, "a view of the running history named this node")) return;
    const bool member = std::any_of(ecr.next.members.begin(), ecr.next.members.end(), [&](const Member& m) {
        return m.node == config_.self && m.incarnation == incarnation_;
    });
    const bool crosses = ecr.next.history != view_.history;  // R-HISTORY
    const bool applied =
        !crosses && ecr.closes == view_.epoch && full_state_ && !amnesiac_ && status_ != NodeStatus::Joining;
    if (applied) {
        apply_ecr(ecr);
    } else {
        full_state_ = false;
    }
    txs_.clear();
    undecided_.clear();
    committed_.clear();
    if (crosses) {
        abandon_clients("this node moved to another history of the cluster (started at epoch " +
                        std::to_string(ecr.next.history) + "); its old history is gone");
        forget_history();
    } else {
        // The coordinator's transactions of the closed epoch are over. Having applied
        // the ECR, this node knows every outcome: the committed ones were delivered
        // (their clients answered), what is left was aborted and goes again
        // (R-REQUEUE). Without it (a gap, or still syncing) the outcomes are lost
        // here: those requests are in doubt until a snapshot settles them (R-IN-DOUBT).
        std::vector<std::pair<std::uint64_t, const CoordTx*>> mine;
        for (const auto& [tx, ct] : coord_) {
            // An aborted attempt was answered or re-queued when it aborted.
            if (ct.phase != Phase::Decided || ct.commit) mine.emplace_back(tx.seq, &ct);
        }
        std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        for (const auto& [seq, ct] : mine) {  // newest first: the oldest ends in front
            // Never PreCommitted by its coordinator, nobody can hold it PC: no record commits it.
            if (applied || ct->phase == Phase::Voting) {
                clear_in_doubt(*ct->batch);
                requeue(*ct->batch);
            } else {
                mark_in_doubt(*ct->batch);
            }
        }
        // Applied, the record leaves this node with the state at the boundary, like a snapshot:
        // any request still in doubt here (its attempt's record was collected) is settled by it.
        if (applied) settle_in_doubt();
    }
    coord_.clear();
    own_undecided_ = 0;

    enter_view(ecr.next, now);
    contact_baseline_ms_ = std::max(contact_baseline_ms_, now);  // R-NO-QUORUM: a majority decided this record
    last_ecr_ = ecr;
    for (auto it = joiners_.begin(); it != joiners_.end();) {
        it = is_member(it->first) ? joiners_.erase(it) : std::next(it);
    }
    if (member) {
        amnesiac_ = false;
        if (full_state_) {
            status_ = NodeStatus::Normal;
            last_normal_epoch_ = view_.epoch;
            frozen_epoch_ = view_.epoch;  // R-SNAPSHOT: exactly the epoch boundary
            frozen_snapshot_ = encode(state_.snapshot(view_.epoch, view_.base_ts));
        } else {
            status_ = NodeStatus::Syncing;
            fetch_.reset();
            request_snapshot(now);
        }
    } else {
        // A non-member that applied the record holds the exact boundary state:
        // it serves it, so a view whose only full member is gone can still sync.
        if (applied) {
            frozen_epoch_ = view_.epoch;
            frozen_snapshot_ = encode(state_.snapshot(view_.epoch, view_.base_ts));
        }
        status_ = NodeStatus::Joining;
        full_state_ = false;
        if (crosses) amnesiac_ = true;  // R-HISTORY: it never took part in this history at this incarnation
        last_join_ms_ = 0;
    }
    if (config_.record_deliveries) out_.journal.push_back(ViewInstalledEvent{ecr, member, applied});
    start_batches(now);
}

// ------------------------------------------------------------------ snapshot transfer

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

void Engine::request_snapshot(std::uint64_t now) {  // R-SNAPSHOT
    const std::vector<NodeId> donors = snapshot_donors();
    if (donors.empty()) return;
    if (!fetch_ || fetch_->epoch != view_.epoch) {
        fetch_ = Fetch{};
        fetch_->epoch = view_.epoch;
        fetch_->donor_index = static_cast<std::size_t>(random_below(donors.size()));
    } else if (fetch_->last_request_ms != 0 && now - fetch_->last_request_ms < config_.join_retry_ms) {
        return;
    } else if (fetch_->last_request_ms != 0 && !fetch_->progressed) {
        ++fetch_->donor_index;  // that donor did not answer in time
    }
    fetch_->progressed = false;
    fetch_->last_request_ms = now;
    send(donors[fetch_->donor_index % donors.size()], SnapshotRequest{fetch_->epoch, fetch_->next_chunk});
}

// R-DATA-LOSS: whether this node, not holding the snapshot of `epoch`, may
// still come to hold it, so that a "none" from it would be premature.
bool Engine::may_hold_snapshot(Epoch epoch) const {
    if (view_.epoch > epoch) return true;  // past it: R-CATCH-UP moves the asker on, not a "none"
    const bool missed_only_the_new_view =
        view_.epoch + 1 == epoch && full_state_ && !amnesiac_ && status_ != NodeStatus::Joining;
    const bool receiving = status_ == NodeStatus::Syncing && fetch_ && fetch_->epoch == epoch && fetch_->total != 0;
    return missed_only_the_new_view || receiving;
}

void Engine::handle(const PeerHeader& h, const SnapshotRequest& m, std::uint64_t /*now*/) {
    if (h.history != view_.history) {  // our epochs are not its epochs, and we never apply its records
        send(h.from, SnapshotChunk{m.epoch, 0, 0, {}});
        return;
    }
    if (frozen_epoch_ != m.epoch || frozen_snapshot_.empty()) {
        if (!may_hold_snapshot(m.epoch)) send(h.from, SnapshotChunk{m.epoch, 0, 0, {}});  // "none"
        return;
    }
    const std::uint64_t chunk = std::max<std::uint64_t>(1, config_.snapshot_chunk_bytes);
    const auto total = static_cast<std::uint32_t>((frozen_snapshot_.size() + chunk - 1) / chunk);
    for (std::uint32_t i = m.from_chunk; i < total && i < m.from_chunk + config_.snapshot_window; ++i) {
        send(h.from, SnapshotChunk{m.epoch, i, total, frozen_snapshot_.substr(i * chunk, chunk)});
    }
}

void Engine::handle(const PeerHeader& h, const SnapshotChunk& m, std::uint64_t now) {
    const bool fetching = status_ == NodeStatus::Syncing ||
                          (status_ == NodeStatus::NeedsRebootstrap && loss_ == Loss::Data);
    if (!fetching || !fetch_ || m.epoch != fetch_->epoch) return;
    if (m.total != 0 && h.history != view_.history) return;  // a "none" from another history is true of ours too
    if (m.total == 0) {  // "none": R-DATA-LOSS evidence
        fetch_->none_ms[h.from] = now;
        update_total_loss(now);
        const std::vector<NodeId> donors = snapshot_donors();
        if (donors.empty() || donors[fetch_->donor_index % donors.size()] != h.from) return;  // a stale answer
        // Ask the next donor at once, unless it said "none" within the retry
        // interval too: then this pass is over and the usual timer paces the next.
        ++fetch_->donor_index;
        const auto next = fetch_->none_ms.find(donors[fetch_->donor_index % donors.size()]);
        if (next == fetch_->none_ms.end() || now - next->second >= config_.join_retry_ms) {
            fetch_->last_request_ms = 0;
            request_snapshot(now);
        } else {
            fetch_->progressed = true;  // the timer must not skip a donor: it was just advanced
        }
        return;
    }
    if ((fetch_->total != 0 && m.total != fetch_->total) || m.index >= m.total) return;
    if (m.index < fetch_->next_chunk || m.index >= fetch_->next_chunk + std::max(1u, config_.snapshot_window)) return;
    if (status_ == NodeStatus::NeedsRebootstrap) {  // someone holds the data after all
        if (!release_rb_promise(view_.epoch + 1, now, "a node sends the data after all")) return;
        status_ = NodeStatus::Syncing;
        loss_ = Loss::None;
    }
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
        send(h.from, SnapshotRequest{fetch_->epoch, fetch_->next_chunk});
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
        fetch_.reset();  // a bad transfer: start over, from another donor
        return;
    }
    state_ = std::move(*restored);
    full_state_ = true;
    status_ = NodeStatus::Normal;
    last_normal_epoch_ = view_.epoch;
    frozen_epoch_ = view_.epoch;
    frozen_snapshot_ = std::move(fetch_->data);
    fetch_.reset();
    if (config_.record_deliveries) {
        out_.journal.push_back(SnapshotInstalledEvent{view_.epoch, state_.log_length(), state_.log_hash()});
    }
    try_deliver();  // R-SYNC-VOTE: what was committed meanwhile, in f order
    settle_in_doubt();  // R-IN-DOUBT: every earlier attempt's outcome is in this state
    start_batches(now);
}

}  // namespace tricache::coordinator
