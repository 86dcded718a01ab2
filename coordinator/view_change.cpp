// Section 8 of spec/PROTOCOL.md: failure detection and loss evidence, and the
// view change as one Paxos instance per epoch deciding an epoch-closing record
// (proposer and acceptor). Installing it is view_install.cpp; rebootstrap is
// rebootstrap.cpp. Same class as engine.cpp; split for size.
#include <algorithm>
#include <cassert>

#include "coordinator/engine.hpp"
#include "coordinator/hash.hpp"
#include "coordinator/history.hpp"
#include "protocol/codec.hpp"

namespace tricache::coordinator {

using namespace tricache::protocol;

namespace {

// How many promises, then acceptances, decide an ECR. E3PC: a majority of C, so
// two decisions always share a node. EngineConfig::TerminationRule::
// ClassicAnyPreCommitted (test-only, to show why E3PC is needed) is classic 3PC
// termination: every node the failure detector still sees decides, so both
// sides of a partition can. The per-transaction rule needs no branch: only the
// original coordinator sends PreCommit, so "the highest accepted attempt is PC"
// and "some report is PC" are the same test here; the quorum is the difference.
std::size_t deciding_set(const EngineConfig& c, const std::map<NodeId, std::uint64_t>& last_heard,
                         std::uint64_t now) {
    if (c.termination_rule == EngineConfig::TerminationRule::E3PC) return c.cluster.size() / 2 + 1;
    std::size_t live = 1;
    for (const auto& [node, at] : last_heard) live += (node != c.self && now - at < c.suspect_ms) ? 1u : 0u;
    return live;
}

}  // namespace

bool Engine::can_vote() const {
    return (status_ == NodeStatus::Normal || status_ == NodeStatus::Syncing) && is_member(config_.self, incarnation_);
}

std::uint64_t Engine::random_below(std::uint64_t bound) {
    rng_state_ = mix64(rng_state_ + 0x9e3779b97f4a7c15ULL);
    return bound == 0 ? 0 : rng_state_ % bound;
}

// R-HISTORY: what belongs to the history left behind. Its epochs may equal
// the new one's, so an accepted record or a frozen snapshot of it would be
// taken for the new history's.
void Engine::forget_history() {
    fetch_.reset();
    vc_accepted_ballot_ = kNoBallot;
    vc_accepted_ecr_.reset();
    frozen_epoch_ = 0;
    frozen_snapshot_.clear();
}

// ------------------------------------------------------------------ failure detection

void Engine::check_failures(std::uint64_t now) {  // R-SUSPECT
    update_total_loss(now);
    if (auto why = no_quorum_refusal(now)) refuse_without_quorum(*why, now);  // R-NO-QUORUM
    if (status_ != NodeStatus::Normal || amnesiac_) return;
    std::optional<ViewChangeCause> cause;
    for (const auto& m : view_.members) {
        if (m.node == config_.self) continue;
        auto [it, fresh] = last_heard_.try_emplace(m.node, now);  // the first check starts the clock
        const std::uint64_t silent = now - std::max(it->second, listening_since_ms_);
        if (!fresh && silent >= config_.suspect_ms && (!cause || silent > cause->silent_ms)) {
            cause = ViewChangeCause{ViewChangeCause::Kind::Silent, view_.epoch, m.node, silent};
        }
    }
    for (auto it = joiners_.begin(); !cause && it != joiners_.end(); ++it) {
        const auto& [node, j] = *it;
        if (now - j.heard_ms < config_.suspect_ms && !is_member(node, j.incarnation)) {
            cause = ViewChangeCause{ViewChangeCause::Kind::Joiner, view_.epoch, node, 0};
        }
    }
    if (cause && now >= next_attempt_ms_) start_view_change(*cause, now);
}

void Engine::update_total_loss(std::uint64_t now) {  // R-TOTAL-LOSS, R-DATA-LOSS, R-LOSS-EVIDENCE
    std::size_t amnesiac = amnesiac_ ? 1 : 0;
    for (const auto& [node, j] : joiners_) {
        if (node != config_.self && j.amnesiac && now - j.heard_ms < loss_evidence_ms()) ++amnesiac;
    }
    Loss loss = Loss::None;
    // The others are no majority: no view change can ever be decided again.
    if (amnesiac > config_.cluster.size() - majority() && status_ != NodeStatus::Normal) {
        loss = Loss::Memory;
    } else if (status_ != NodeStatus::Normal && view_orphaned(now)) {
        loss = Loss::Members;
    } else if (data_lost(now)) {
        loss = Loss::Data;
    }
    if (loss != Loss::None) {
        loss_ = loss;
        if (status_ != NodeStatus::NeedsRebootstrap) {
            refuse_queued(ErrorCode::NeedsRebootstrap, loss_reason());
            status_before_loss_ = status_;
        }
        status_ = NodeStatus::NeedsRebootstrap;
    } else if (status_ == NodeStatus::NeedsRebootstrap &&
               release_rb_promise(view_.epoch + 1, now, "the evidence went stale")) {  // R-RB-PROMISE binds
        status_ = status_before_loss_;  // the evidence went stale (a restarted node was re-added or went quiet)
        loss_ = Loss::None;
    }
}

// R-DATA-LOSS: this node needs the snapshot of its view's epoch and the double
// collect holds: every other node of C answered *none* twice in one streak, the
// second lately and to a request made after every node's first *none* was heard.
// Between the two answers of every node lies one instant at which nobody held
// the snapshot or was receiving it, so nobody can ever come to hold it.
bool Engine::data_lost(std::uint64_t now) const {
    const bool fetching = status_ == NodeStatus::Syncing ||
                          (status_ == NodeStatus::NeedsRebootstrap && loss_ == Loss::Data);
    if (!fetching || !fetch_ || fetch_->epoch != view_.epoch || config_.cluster.size() < 2) return false;
    const std::uint64_t fresh = loss_evidence_ms();
    std::uint64_t all_first_heard = 0;  // the asks made by when every node's first "none" was in
    for (NodeId n : config_.cluster) {
        if (n == config_.self) continue;
        const auto streak = fetch_->nones.find(n);
        if (streak == fetch_->nones.end() || now - streak->second.heard_ms >= fresh) return false;
        all_first_heard = std::max(all_first_heard, streak->second.asks_when_first_heard);
    }
    return std::all_of(fetch_->nones.begin(), fetch_->nones.end(), [&](const auto& entry) {
        return entry.first == config_.self || entry.second.latest_ask > all_first_heard;
    });
}

// R-TOTAL-LOSS: this node is outside its view and every member of that view
// spoke lately with a later incarnation. Only a member can propose the next
// view, and an incarnation never comes back, so nobody can ever add this node.
bool Engine::view_orphaned(std::uint64_t now) const {
    if (view_.members.empty() || is_member(config_.self, incarnation_)) return false;
    const std::uint64_t fresh = loss_evidence_ms();
    for (const auto& m : view_.members) {
        if (m.node == config_.self) continue;  // named at an older incarnation of ours
        const auto heard = seen_.find(m.node);
        if (heard == seen_.end() || heard->second.incarnation <= m.incarnation || now - heard->second.at_ms >= fresh) {
            return false;
        }
    }
    return true;
}

std::string Engine::loss_reason() const {
    switch (loss_) {
        case Loss::Memory: return "too many nodes lost their memory: those left are no majority of the cluster";
        case Loss::Members: return "every member of this node's view restarted, so nobody can add it";
        case Loss::Data:
            return "the data of epoch " + std::to_string(view_.epoch) + " is lost: every node that held it lost it";
        case Loss::None: break;
    }
    return "nothing is lost";
}

// ------------------------------------------------------------------ proposer

const char* cause_name(ViewChangeCause::Kind k) {
    switch (k) {
        case ViewChangeCause::Kind::Silent: return "silent";
        case ViewChangeCause::Kind::Joiner: return "joiner";
        case ViewChangeCause::Kind::Retry: return "retry";
    }
    return "?";
}

void Engine::start_view_change(const ViewChangeCause& cause, std::uint64_t now) {  // R-VC-PREPARE
    assert(!amnesiac_);
    out_.view_changes.push_back(cause);
    freeze_epoch(now);
    ++stats_.view_change_proposals;
    const Ballot b{std::max(vc_counter_seen_, vc_promised_.counter) + 1, config_.self};
    vc_counter_seen_ = b.counter;
    vc_promised_ = b;
    proposal_ = Proposal{};
    proposal_->ballot = b;
    proposal_->started_ms = now;
    for (NodeId n : config_.cluster) {
        if (n != config_.self) send(n, VcPrepare{b, view_.epoch + 1});
    }
    on_promise(config_.self, incarnation_, make_promise(b), now);
}

void Engine::drive_view_change(std::uint64_t now) {
    // Outside its view, a node waiting for the operator asks on: its JoinReq keeps the peers' evidence fresh.
    if (status_ == NodeStatus::Joining ||
        (status_ == NodeStatus::NeedsRebootstrap && !is_member(config_.self, incarnation_))) {
        if (now - last_join_ms_ >= config_.join_retry_ms) {  // R-AMNESIA, R-TOTAL-LOSS
            last_join_ms_ = now;
            for (NodeId n : config_.cluster) {
                if (n != config_.self) send(n, JoinReq{amnesiac_});
            }
        }
        return;
    }
    if (status_ == NodeStatus::Syncing || (status_ == NodeStatus::NeedsRebootstrap && loss_ == Loss::Data)) {
        request_snapshot(now);  // R-DATA-LOSS: keep asking; a late chunk ends the loss
        return;
    }
    if (status_ != NodeStatus::ViewChange || amnesiac_) return;
    if (proposal_ && now - proposal_->started_ms >= config_.vc_timeout_ms) {  // R-VC-RETRY
        proposal_.reset();
        next_attempt_ms_ = now + random_below(config_.vc_backoff_ms);
    }
    if (!proposal_ && now >= next_attempt_ms_) {
        start_view_change(ViewChangeCause{ViewChangeCause::Kind::Retry, view_.epoch, 0, 0}, now);
    }
}

VcPromise Engine::make_promise(const Ballot& b) const {
    VcPromise p;
    p.ballot = b;
    p.last_normal_epoch = last_normal_epoch_;
    p.delivered = state_.log_length();
    if (vc_accepted_ecr_ && vc_accepted_ecr_->closes == view_.epoch) {
        p.accepted = vc_accepted_ballot_;
        p.accepted_ecr = *vc_accepted_ecr_;
    }
    for (const auto& [tx, rec] : txs_) {
        if (rec.epoch != view_.epoch) continue;
        TxReport r;
        r.tx = tx;
        r.state = rec.state;
        r.accepted = rec.accepted;
        r.proposed = rec.proposed;
        r.final_ts = rec.final_ts;
        if (rec.state == TxState::PreCommitted || rec.state == TxState::Committed) r.batch = *rec.batch;
        p.reports.push_back(std::move(r));
    }
    return p;
}

void Engine::on_promise(NodeId from, Incarnation inc, const VcPromise& p, std::uint64_t now) {
    if (!proposal_ || proposal_->accepting || p.ballot != proposal_->ballot) return;
    proposal_->promises[from] = {inc, p};
    if (proposal_->promises.size() < deciding_set(config_, last_heard_, now)) return;
    // R-VC-DECIDE, then R-VC-ACCEPT with ourselves as the first acceptor.
    proposal_->ecr = build_ecr(now);
    if (config_.record_deliveries) out_.journal.push_back(proposal_event());
    proposal_->accepting = true;
    vc_accepted_ballot_ = proposal_->ballot;
    vc_accepted_ecr_ = proposal_->ecr;
    for (NodeId n : config_.cluster) {
        if (n != config_.self) send(n, VcAccept{proposal_->ballot, proposal_->ecr});
    }
    on_accepted(config_.self, now);
}

EpochClosingRecord Engine::build_ecr(std::uint64_t now) const {
    assert(proposal_);
    // Paxos: a value some acceptor accepted in this instance must be proposed again.
    const EpochClosingRecord* best = nullptr;
    Ballot best_ballot = kNoBallot;
    for (const auto& [node, entry] : proposal_->promises) {
        const VcPromise& p = entry.second;
        if (p.accepted_ecr && p.accepted_ecr->closes == view_.epoch && p.accepted > best_ballot) {
            best_ballot = p.accepted;
            best = &*p.accepted_ecr;
        }
    }
    if (best != nullptr) return *best;

    struct Verdict {
        bool committed = false, aborted = false, precommitted = false;
        Timestamp final_ts;
        const Batch* batch = nullptr;
    };
    std::map<TxId, Verdict> seen;
    for (const auto& [node, entry] : proposal_->promises) {
        for (const TxReport& r : entry.second.reports) {
            Verdict& s = seen[r.tx];
            switch (r.state) {
                case TxState::Committed:
                    assert(!s.committed || s.final_ts == r.final_ts);
                    s.committed = true;
                    s.final_ts = r.final_ts;
                    s.batch = &r.batch;
                    break;
                case TxState::PreCommitted:
                    assert(!s.precommitted || s.final_ts == r.final_ts);
                    s.precommitted = true;
                    if (!s.committed) {
                        s.final_ts = r.final_ts;
                        s.batch = &r.batch;
                    }
                    break;
                case TxState::Aborted:
                case TxState::PreAborted: s.aborted = true; break;
                default: break;
            }
        }
    }
    EpochClosingRecord ecr;
    ecr.closes = view_.epoch;
    std::uint64_t top = clock_;
    for (const auto& [tx, s] : seen) {
        assert(!(s.committed && s.aborted));    // P1 across the promisers
        assert(!(s.precommitted && s.aborted));  // only the original coordinator aborts, before any PreCommit
        if (s.committed || s.precommitted) {
            ecr.committed.push_back({tx, s.final_ts, *s.batch});
            top = std::max(top, s.final_ts.counter);
        } else {
            ecr.aborted.push_back(tx);
        }
    }
    std::sort(ecr.committed.begin(), ecr.committed.end(),
              [](const CommittedTx& a, const CommittedTx& b) { return a.final_ts < b.final_ts; });
    ecr.next.epoch = view_.epoch + 1;
    ecr.next.history = view_.history;
    ecr.next.birth = view_.birth;
    // M': the promisers, then joiners, then members of the current view heard from lately. Taking only
    // the first majority of promisers would leave a live member out of every view and churn forever.
    std::map<NodeId, Incarnation> next;
    for (const auto& [node, entry] : proposal_->promises) next.emplace(node, entry.first);
    for (const auto& [node, j] : joiners_) {
        if (now - j.heard_ms < config_.suspect_ms) next.emplace(node, j.incarnation);
    }
    for (const auto& m : view_.members) {
        // Heard means a message of that incarnation arrived: last_heard_ also holds the failure
        // detector's grace start, which would name a member nobody has heard from.
        auto heard = seen_.find(m.node);
        if (heard != seen_.end() && heard->second.incarnation == m.incarnation &&
            now - heard->second.at_ms < config_.suspect_ms) {
            next.emplace(m.node, m.incarnation);
        }
    }
    for (const auto& [node, inc] : next) ecr.next.members.push_back({node, inc});
    ecr.next.base_ts = Timestamp{top + 1, 0};
    assert(ecr.next.members.size() >= majority() ||
           config_.termination_rule == EngineConfig::TerminationRule::ClassicAnyPreCommitted);
    return ecr;
}

void Engine::on_accepted(NodeId from, std::uint64_t now) {
    if (!proposal_ || !proposal_->accepting) return;
    proposal_->accepted.insert(from);
    if (proposal_->accepted.size() < deciding_set(config_, last_heard_, now)) return;
    const EpochClosingRecord ecr = proposal_->ecr;
    if (config_.record_deliveries) out_.journal.push_back(EcrChosenEvent{proposal_->ballot, ecr});
    proposal_.reset();
    for (NodeId n : config_.cluster) {
        if (n != config_.self) send(n, NewView{ecr});
    }
    install(ecr, now);
}

// ------------------------------------------------------------------ acceptor

// After a promise or an acceptance: this epoch is frozen here, and our own
// attempt (if lower) gives way while the higher one gets time to finish.
void Engine::defer_to(const Ballot& b, std::uint64_t now) {
    freeze_epoch(now);
    if (proposal_ && proposal_->ballot < b) proposal_.reset();
    next_attempt_ms_ = now + config_.vc_timeout_ms + random_below(config_.vc_backoff_ms);
}

// No more votes or acks in this epoch, ever (R-VC-PREPARE).
void Engine::freeze_epoch(std::uint64_t now) {
    if (status_ == NodeStatus::Normal || status_ == NodeStatus::Syncing) {
        status_ = NodeStatus::ViewChange;
        view_change_since_ms_ = now;
        ++stats_.view_changes_started;
        fetch_.reset();
    }
}

void Engine::handle(const PeerHeader& h, const VcPrepare& m, std::uint64_t now) {
    if (amnesiac_) return;  // R-AMNESIA: a forgotten promise must not be counted
    if (holds_rb_promise(now)) return;  // R-RB-PROMISE: out of the old history
    vc_counter_seen_ = std::max(vc_counter_seen_, m.ballot.counter);
    if (m.target <= view_.epoch) {
        send(h.from, VcNack{m.ballot, vc_promised_, view_.epoch});
        push_new_view(h.from, now);
        return;
    }
    if (m.ballot < vc_promised_) {
        send(h.from, VcNack{m.ballot, vc_promised_, view_.epoch});
        return;
    }
    vc_promised_ = m.ballot;
    defer_to(m.ballot, now);
    if (m.target == view_.epoch + 1) {
        send(h.from, make_promise(m.ballot));
    } else {
        // Behind: we never accepted anything in the proposer's instance and hold none of its transactions.
        VcPromise p;
        p.ballot = m.ballot;
        p.last_normal_epoch = last_normal_epoch_;
        p.delivered = state_.log_length();
        if (vc_accepted_ecr_ && vc_accepted_ecr_->closes + 1 == m.target) {
            p.accepted = vc_accepted_ballot_;
            p.accepted_ecr = *vc_accepted_ecr_;
        }
        send(h.from, p);
    }
}

void Engine::handle(const PeerHeader& h, const VcPromise& m, std::uint64_t now) {
    vc_counter_seen_ = std::max(vc_counter_seen_, m.ballot.counter);
    on_promise(h.from, h.incarnation, m, now);
}

void Engine::handle(const PeerHeader& h, const VcAccept& m, std::uint64_t now) {
    if (amnesiac_ || holds_rb_promise(now)) return;  // R-AMNESIA, R-RB-PROMISE
    vc_counter_seen_ = std::max(vc_counter_seen_, m.ballot.counter);
    if (m.ecr.closes < view_.epoch) {
        send(h.from, VcNack{m.ballot, vc_promised_, view_.epoch});
        push_new_view(h.from, now);
        return;
    }
    // Behind (R-VC-ACCEPT): one accepted slot serves the instance of our own epoch. Accepting a later
    // instance's record here would overwrite a value that may already be chosen for ours, and our next
    // promise in our instance would no longer report it (Spin finding F1). The nack's epoch header makes
    // the proposer push its NewView to us (R-CATCH-UP).
    if (m.ecr.closes > view_.epoch || m.ballot < vc_promised_) {
        send(h.from, VcNack{m.ballot, vc_promised_, view_.epoch});
        return;
    }
    vc_promised_ = m.ballot;
    vc_accepted_ballot_ = m.ballot;
    vc_accepted_ecr_ = m.ecr;
    defer_to(m.ballot, now);
    send(h.from, VcAccepted{m.ballot});
}

void Engine::handle(const PeerHeader& h, const VcAccepted& m, std::uint64_t now) {
    if (proposal_ && proposal_->accepting && m.ballot == proposal_->ballot) on_accepted(h.from, now);
}

void Engine::handle(const PeerHeader& /*h*/, const VcNack& m, std::uint64_t now) {
    vc_counter_seen_ = std::max(vc_counter_seen_, m.promised.counter);
    if (!proposal_ || m.ballot != proposal_->ballot) return;
    if (m.promised > proposal_->ballot || m.installed > view_.epoch) {
        proposal_.reset();  // outbid, or we are behind (the nacker pushes its NewView)
        next_attempt_ms_ = now + random_below(config_.vc_backoff_ms);
    }
}

void Engine::handle(const PeerHeader& /*h*/, const NewView& m, std::uint64_t now) { install(m.ecr, now); }

void Engine::handle(const PeerHeader& h, const JoinReq& m, std::uint64_t now) {
    if (is_member(h.from, h.incarnation)) return;  // already in; it will install by catch-up
    joiners_[h.from] = Joiner{h.incarnation, now, m.amnesiac};
    push_new_view(h.from, now);
    update_total_loss(now);
}

void Engine::push_new_view(NodeId to, std::uint64_t now) {  // R-CATCH-UP
    if (!last_ecr_ || to == config_.self) return;
    auto [it, fresh] = last_push_ms_.try_emplace(to, now);
    if (!fresh && now - it->second < config_.resend_ms) return;
    it->second = now;
    send(to, NewView{*last_ecr_});
}

}  // namespace tricache::coordinator
