// The coordinator role (spec section 3): batches, CanCommit, the vote,
// PreCommit, DoCommit and resends.
#include "coordinator/engine.hpp"

#include "coordinator/engine_detail.hpp"

#include <algorithm>
#include <cassert>

namespace tricache::coordinator {

using namespace tricache::protocol;
using detail::saturating_add;
using detail::is_undecided;

namespace {

ErrorCode error_for_no_vote(VoteNoReason reason) {
    switch (reason) {
        case VoteNoReason::Overloaded: return ErrorCode::Overloaded;
        case VoteNoReason::TooLarge: return ErrorCode::TooLarge;
        default: return ErrorCode::Aborted;
    }
}

const char* no_vote_name(VoteNoReason reason) {
    switch (reason) {
        case VoteNoReason::None: return "none";
        case VoteNoReason::WrongEpoch: return "WRONG_EPOCH";
        case VoteNoReason::NotMember: return "NOT_MEMBER";
        case VoteNoReason::Overloaded: return "OVERLOADED";
        case VoteNoReason::ViewChanging: return "VIEW_CHANGING";
        case VoteNoReason::TooLarge: return "TOO_LARGE";
    }
    return "?";
}

}  // namespace

// ------------------------------------------------------------------ coordinator role

void Engine::end_burst(std::uint64_t now_ms) {  // R-BATCH-BURST
    in_burst_ = false;
    start_batches(now_ms);
}

void Engine::start_batches(std::uint64_t now) {  // R-BATCH
    if (in_burst_) return;  // R-BATCH-BURST: end_burst starts them
    if (status_ != NodeStatus::Normal || !full_state_ || !is_member(config_.self, incarnation_)) return;
    if (now < hold_batches_until_ms_) return;
    const std::uint64_t stamp = wall_clock_ms();  // R-TTL-STAMP
    while (own_undecided_ < config_.max_in_flight && (!queue_.empty() || purge_due_)) {
        auto batch = std::make_shared<Batch>();
        batch->reserve(std::min<std::size_t>(queue_.size() + 1, config_.max_batch_commands));
        std::uint64_t bytes = 0;
        const bool purging = purge_due_;
        if (purging) {  // R-TTL-PURGE: the engine's own command, answered to nobody
            purge_due_ = false;
            batch->push_back(Command{kPurgeClient, ++purges_sent_, {Purge{config_.purge_max}}, stamp});
        }
        while (!queue_.empty() && batch->size() < config_.max_batch_commands) {
            QueuedRequest& q = queue_.front();
            if (waiting_.count({q.command.client, q.command.request}) == 0) {
                queued_.erase({q.command.client, q.command.request});
                queue_.pop_front();  // its client was already told the outcome is unknown
                continue;
            }
            if (!batch->empty() && bytes + q.bytes > config_.max_batch_bytes) break;
            bytes += q.bytes;
            assert(in_doubt_.count({q.command.client, q.command.request}) == 0);  // R-IN-DOUBT: never run again
            queued_.erase({q.command.client, q.command.request});
            batch->push_back(std::move(q.command));
            batch->back().stamp_ms = stamp;
            queue_.pop_front();
        }
        if (batch->empty()) break;
        const TxId tx{config_.self, incarnation_, next_seq_++};
        if (purging) purge_tx_ = tx;
        CoordTx ct;
        ct.id = tx;
        ct.batch = batch;
        ct.last_send_ms = now;
        ++own_undecided_;
        auto [it, inserted] = coord_.emplace(tx, std::move(ct));
        assert(inserted);
        next_resend_due_ms_ = std::min(next_resend_due_ms_, saturating_add(now, config_.resend_ms));
        const SharedBatch shared{BatchPtr(batch)};  // every participant's copy is this one batch
        for (const auto& m : view_.members) {  // R-CANCOMMIT
            if (m.node != config_.self) send(m.node, CanCommit{tx, shared});
        }
        const PeerHeader self_header{kProtocolVersion, config_.cluster_id, config_.self, incarnation_, view_.epoch};
        const Vote own = cast_vote(config_.self, self_header, tx, batch, now);
        on_vote(it->second, config_.self, own, now);
    }
}

std::uint64_t Engine::wall_clock_ms() const {
    if (wall_ms_ != 0) return wall_ms_;
    const std::int64_t offset = config_.wall_offset_ms;
    if (offset >= 0) return saturating_add(now_ms_, static_cast<std::uint64_t>(offset));
    const auto back = static_cast<std::uint64_t>(-(offset + 1)) + 1;
    return now_ms_ > back ? now_ms_ - back : 0;
}

// R-TTL-PURGE: the lowest member of the view proposes a purge once its own clock
// has passed the earliest expiry it holds; at most one per interval, one at a time.
void Engine::maybe_purge(std::uint64_t now) {
    if (config_.purge_interval_ms == 0) return;
    if (status_ != NodeStatus::Normal || !full_state_ || view_.members.empty()) return;
    if (view_.members.front().node != config_.self || !is_member(config_.self, incarnation_)) return;
    if (purge_due_ || (purge_tx_ && coord_.count(*purge_tx_) != 0)) return;
    if (last_purge_ms_ != 0 && now < saturating_add(last_purge_ms_, config_.purge_interval_ms)) return;
    const auto earliest = state_.expiries().earliest();
    if (!earliest || *earliest > wall_clock_ms()) return;
    last_purge_ms_ = now;
    purge_due_ = true;
}

void Engine::on_vote(CoordTx& ct, NodeId from, const Vote& v, std::uint64_t now) {
    if (ct.phase != Phase::Voting || !is_member(from) || !ct.voted.insert(cluster_position(from))) return;
    if (!v.yes) {
        ct.first_no = v.reason;
        decide(ct, false, now);  // R-ABORT-EARLY
        return;
    }
    observe(v.proposed);
    ct.max_proposal = std::max(ct.max_proposal, v.proposed);
    if (ct.voted.size() < view_.members.size()) return;
    // The coordinator's own PreCommit is an acceptance like any member's (R-PC-ACCEPT): once it has
    // promised a view change it accepts nothing of this epoch; the view change settles t.
    if (!can_vote()) return;
    // R-PRECOMMIT: every member said yes; f is fixed here, once.
    ct.phase = Phase::PreCommitting;
    ct.final_ts = ct.max_proposal;
    ct.last_send_ms = now;
    auto it = txs_.find(ct.id);
    assert(it != txs_.end());
    precommit_local(it->second, kOriginalBallot, ct.final_ts);
    ct.acked.insert(cluster_position(config_.self));
    broadcast_others(PreCommit{ct.id, kOriginalBallot, ct.final_ts});
    if (ct.acked.size() == view_.members.size()) decide(ct, true, now);
}

void Engine::on_ack(CoordTx& ct, NodeId from, std::uint64_t now) {
    if (ct.phase != Phase::PreCommitting || !is_member(from)) return;
    ct.acked.insert(cluster_position(from));
    if (ct.acked.size() == view_.members.size()) decide(ct, true, now);  // R-DOCOMMIT
}

// The coordinator gives up on its own transaction before anyone PreCommitted it.
void Engine::abort_own(CoordTx& ct, std::uint64_t now) {
    assert(ct.phase == Phase::Voting);  // never abort once anyone may be PC
    ct.phase = Phase::Decided;
    ct.commit = false;
    ct.last_send_ms = now;
    ++stats_.tx_aborted;
    assert(own_undecided_ > 0);
    --own_undecided_;
    broadcast_others(DoAbort{ct.id});
    learn_abort(ct.id);
}

void Engine::count_commit(const protocol::Batch& batch) {
    std::uint64_t ops = 0;
    for (const auto& cmd : batch) ops += cmd.ops.size();
    ++stats_.tx_committed;
    stats_.ops_committed += ops;
    std::size_t bucket = 0;
    while (bucket + 1 < EngineStats::kOpsBuckets && (std::uint64_t{1} << bucket) < ops) ++bucket;
    ++stats_.ops_per_tx[bucket];
}

void Engine::decide(CoordTx& ct, bool commit, std::uint64_t now) {
    assert(ct.phase != Phase::Decided);
    const BatchPtr batch = ct.batch;
    if (commit) {
        ct.phase = Phase::Decided;
        ct.commit = true;
        ct.last_send_ms = now;
        count_commit(*batch);
        assert(own_undecided_ > 0);
        --own_undecided_;
        broadcast_others(DoCommit{ct.id, ct.final_ts});
        learn_commit(ct.id, ct.final_ts);  // may deliver and reply
    } else {
        const VoteNoReason reason = ct.first_no;
        abort_own(ct, now);
        clear_in_doubt(*batch);  // R-IN-DOUBT: this attempt is known to be aborted
        if (reason == VoteNoReason::WrongEpoch || reason == VoteNoReason::ViewChanging ||
            reason == VoteNoReason::NotMember) {
            requeue(*batch);  // R-REQUEUE: membership in flux; try again in the next view
            // A member that promised a view change refuses every attempt: do not spin on it.
            hold_batches_until_ms_ = now + config_.resend_ms;
        } else {
            for (const auto& cmd : *batch) {
                const RequestKey key{cmd.client, cmd.request};
                if (waiting_.count(key) != 0) {
                    reply_error(key, error_for_no_vote(reason),
                                std::string("transaction aborted, nothing applied: a member voted no (") +
                                    no_vote_name(reason) + ")");
                }
            }
        }
    }
    start_batches(now);
}

void Engine::resend(std::uint64_t now) {  // R-RESEND, R-DECISION-RESEND
    if (now < next_resend_due_ms_) return;
    std::uint64_t next_due = ~std::uint64_t{0};
    for (auto& [tx, ct] : coord_) {
        if (now - ct.last_send_ms < config_.resend_ms) {
            next_due = std::min(next_due, saturating_add(ct.last_send_ms, config_.resend_ms));
            continue;
        }
        ct.last_send_ms = now;
        next_due = std::min(next_due, saturating_add(now, config_.resend_ms));
        for (const auto& m : view_.members) {
            if (m.node == config_.self) continue;
            switch (ct.phase) {
                case Phase::Voting:
                    if (!ct.voted.contains(cluster_position(m.node))) send(m.node, CanCommit{tx, SharedBatch(ct.batch)});
                    break;
                case Phase::PreCommitting:
                    if (!ct.acked.contains(cluster_position(m.node))) send(m.node, PreCommit{tx, kOriginalBallot, ct.final_ts});
                    break;
                case Phase::Decided: {
                    auto pf = peer_floors_.find(m.node);
                    std::uint64_t floor = 0;
                    if (pf != peer_floors_.end()) {
                        auto f = pf->second.find({tx.coordinator, tx.incarnation});
                        if (f != pf->second.end()) floor = f->second;
                    }
                    if (floor < tx.seq) {
                        if (ct.commit) {
                            send(m.node, DoCommit{tx, ct.final_ts});
                        } else {
                            send(m.node, DoAbort{tx});
                        }
                    }
                    break;
                }
            }
        }
    }
    next_resend_due_ms_ = next_due;
}

}  // namespace tricache::coordinator
