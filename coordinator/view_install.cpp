// Section 8 of spec/PROTOCOL.md: installing a view (R-VC-INSTALL). The snapshot transfer that
// brings a member without the boundary state up to it is in snapshot_transfer.cpp. Same class as engine.cpp.
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
    const bool crosses = !same_history(ecr.next, view_);  // R-HISTORY
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
    ++stats_.views_installed;
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

}  // namespace tricache::coordinator
