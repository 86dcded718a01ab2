// Section 8 of spec/PROTOCOL.md: failure detection, the view change as one
// Paxos instance per epoch deciding an epoch-closing record, installation,
// rejoin and snapshot transfer. Same class as engine.cpp; split for size.
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
    bool needed = false;
    for (const auto& m : view_.members) {
        if (m.node == config_.self) continue;
        auto [it, fresh] = last_heard_.try_emplace(m.node, now);  // the first check starts the clock
        if (!fresh && now - it->second >= config_.suspect_ms) needed = true;
    }
    for (const auto& [node, j] : joiners_) {
        if (now - j.heard_ms < config_.suspect_ms && !is_member(node, j.incarnation)) needed = true;
    }
    if (needed && now >= next_attempt_ms_) start_view_change(now);
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

// R-DATA-LOSS: this node needs the snapshot of its view's epoch and every
// other node of C said lately that it holds none and cannot come to, or that
// it lost its memory.
bool Engine::data_lost(std::uint64_t now) const {
    const bool fetching = status_ == NodeStatus::Syncing ||
                          (status_ == NodeStatus::NeedsRebootstrap && loss_ == Loss::Data);
    if (!fetching || !fetch_ || fetch_->epoch != view_.epoch || config_.cluster.size() < 2) return false;
    const std::uint64_t fresh = loss_evidence_ms();
    for (NodeId n : config_.cluster) {
        if (n == config_.self) continue;
        const auto none = fetch_->none_ms.find(n);
        if (none != fetch_->none_ms.end() && now - none->second < fresh) continue;
        const auto j = joiners_.find(n);
        if (j != joiners_.end() && j->second.amnesiac && now - j->second.heard_ms < fresh) continue;
        return false;
    }
    return true;
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

// R-TOTAL-LOSS: the operator's way out. It proposes a new, empty history;
// the old one is abandoned once a majority of C promised the proposal
// (R-RB-PROMISE): this node's evidence may be stale, theirs is current.
bool Engine::rebootstrap(std::uint64_t now, std::string& detail) {
    if (status_ != NodeStatus::NeedsRebootstrap) {
        detail = std::string("this node is ") + to_string(status_) + ", not NEEDS_REBOOTSTRAP";
        return false;
    }
    // R-REBOOTSTRAP: far above every epoch seen, so no epoch of the old history,
    // even one decided out of our sight, names a view or a transaction of the
    // new; in a lane of this node and incarnation, so that rebootstraps that
    // did not see each other (the first one's adopters crashed) are unlikely to
    // share an epoch even when one node started both, before and after a crash.
    constexpr std::uint64_t kHistoryGap = std::uint64_t{1} << 20;
    constexpr std::uint64_t kLane = std::uint64_t{1} << 12;
    const std::uint64_t lane = mix64((std::uint64_t{config_.self} << 32) ^ incarnation_) % (kHistoryGap / kLane);
    const Epoch epoch = (std::max(view_.epoch, max_epoch_seen_) / kHistoryGap + 2) * kHistoryGap + lane * kLane;
    if (holds_rb_promise(now) && rb_promise_->epoch > epoch) {
        detail = "this node promised a rebootstrap at epoch " + std::to_string(rb_promise_->epoch) + " of another node";
        return false;
    }
    rb_proposal_ = RbProposal{epoch, now, now, {}};
    rb_outcome_.clear();
    rb_promise_ = RbPromiseHeld{epoch, now + 2 * config_.vc_timeout_ms, config_.self, ++rb_promises_given_};
    rb_proposal_->promised[config_.self] = BirthStamp{config_.self, incarnation_, rb_promise_->count};
    for (NodeId n : config_.cluster) {
        if (n != config_.self) send(n, RbPrepare{epoch});
    }
    detail = "proposed a new empty history at epoch " + std::to_string(epoch) + "; it starts once " +
             std::to_string(majority()) + " of " + std::to_string(config_.cluster.size()) +
             " nodes promise it (see status)";
    finish_rebootstrap(now);
    return true;
}

void Engine::drive_rebootstrap(std::uint64_t now) {
    if (!rb_proposal_) return;
    if (now - rb_proposal_->started_ms >= config_.vc_timeout_ms) {
        rb_outcome_ = "the rebootstrap proposed at epoch " + std::to_string(rb_proposal_->epoch) + " lapsed: " +
                      std::to_string(rb_proposal_->promised.size()) + " of " + std::to_string(majority()) +
                      " promises needed; retry it";
        rb_proposal_.reset();
        if (rb_promise_ && rb_promise_->to == config_.self) rb_promise_.reset();
        return;
    }
    if (now - rb_proposal_->last_sent_ms < config_.resend_ms) return;
    rb_proposal_->last_sent_ms = now;
    for (NodeId n : config_.cluster) {
        if (!rb_proposal_->promised.contains(n)) send(n, RbPrepare{rb_proposal_->epoch});
    }
}

// R-RB-PROMISE: a node bound by another node's promise stays where it is;
// its own proposal it gives up instead (a view of a running history named it,
// or its evidence went stale). True if it may leave for a record below `below`.
bool Engine::release_rb_promise(Epoch below, std::uint64_t now, const char* why) {
    if (!holds_rb_promise(now) || below >= rb_promise_->epoch) return true;
    if (rb_promise_->to != config_.self) return false;
    rb_outcome_ =
        "the rebootstrap proposed at epoch " + std::to_string(rb_promise_->epoch) + " was given up: " + std::string(why);
    rb_proposal_.reset();
    rb_promise_.reset();
    return true;
}

// A majority promised within vc_timeout_ms of the first prepare, so each of
// their promises still binds now: the history this node abandons is dead.
void Engine::finish_rebootstrap(std::uint64_t now) {
    if (!rb_proposal_ || rb_proposal_->promised.size() < majority() ||
        now - rb_proposal_->started_ms >= config_.vc_timeout_ms) {
        return;
    }
    assert(amnesiac_ || status_ == NodeStatus::NeedsRebootstrap);  // else release_rb_promise dropped the proposal
    View v;
    v.epoch = rb_proposal_->epoch;
    v.history = v.epoch;  // R-HISTORY: a new history starts here
    // Exactly the incarnations that promised: a node heard only before it
    // crashed would make a view that can never commit.
    for (const auto& [node, stamp] : rb_proposal_->promised) {
        v.members.push_back({node, stamp.incarnation});
        v.birth.push_back(stamp);  // R-HISTORY-ORDER: sorted by node, as the map is
    }
    v.base_ts = Timestamp{clock_ + 1, 0};
    EpochClosingRecord ecr;
    ecr.closes = 0;  // marks a new history: nothing of the old one carries over
    ecr.next = v;
    rb_proposal_.reset();
    rb_outcome_.clear();
    for (NodeId n : config_.cluster) {
        if (n != config_.self) send(n, NewView{ecr});
    }
    install_rebootstrap(ecr, now);
}

void Engine::handle(const PeerHeader& h, const RbPrepare& m, std::uint64_t now) {  // R-RB-PROMISE
    if (!amnesiac_ && status_ != NodeStatus::NeedsRebootstrap) return;  // it may serve a history: no promise
    // Two proposals in one epoch (a lane collision) would name two views: only one proposer per epoch.
    if (holds_rb_promise(now) &&
        (m.epoch < rb_promise_->epoch || (m.epoch == rb_promise_->epoch && h.from != rb_promise_->to))) {
        return;
    }
    if (m.epoch <= view_.epoch) return;  // an old proposal; R-CATCH-UP moves its sender on
    const bool again = holds_rb_promise(now) && m.epoch == rb_promise_->epoch && h.from == rb_promise_->to;
    const std::uint64_t count = again ? rb_promise_->count : ++rb_promises_given_;  // R-HISTORY-ORDER
    rb_promise_ = RbPromiseHeld{m.epoch, now + 2 * config_.vc_timeout_ms, h.from, count};
    if (rb_proposal_ && rb_proposal_->epoch < m.epoch) {
        rb_outcome_ = "the rebootstrap proposed at epoch " + std::to_string(rb_proposal_->epoch) +
                      " gave way to node " + std::to_string(h.from) + "'s at epoch " + std::to_string(m.epoch);
        rb_proposal_.reset();  // this node would refuse its own record now
    }
    send(h.from, RbPromise{m.epoch, count});
}

void Engine::handle(const PeerHeader& h, const RbPromise& m, std::uint64_t now) {
    if (!rb_proposal_ || m.epoch != rb_proposal_->epoch) return;
    rb_proposal_->promised[h.from] = BirthStamp{h.from, h.incarnation, m.count};
    finish_rebootstrap(now);
}

void Engine::install_rebootstrap(const EpochClosingRecord& ecr, std::uint64_t now) {
    // Such a record exists only once a node saw the old history lose a
    // majority's memory or its data; a node that cannot serve there has
    // nothing left in it. A NORMAL node goes on until its view fails.
    if ((status_ == NodeStatus::Normal && !amnesiac_) || !newer_record(ecr.next, view_)) return;
    if (!release_rb_promise(ecr.next.epoch, now, "another node's rebootstrap came first")) return;
    const bool member = std::any_of(ecr.next.members.begin(), ecr.next.members.end(), [&](const Member& m) {
        return m.node == config_.self && m.incarnation == incarnation_;
    });
    abandon_clients("the cluster was rebootstrapped; its old history is gone");
    forget_history();
    rb_promise_.reset();  // fulfilled: this record is at least the promised epoch
    if (rb_proposal_ && rb_proposal_->epoch <= ecr.next.epoch) rb_proposal_.reset();
    txs_.clear();
    undecided_.clear();
    committed_.clear();
    coord_.clear();
    own_undecided_ = 0;
    state_ = ReplicatedState(config_.store_limits);
    full_state_ = true;
    enter_view(ecr.next, now);
    last_ecr_ = ecr;
    joiners_.clear();
    if (member) {
        amnesiac_ = false;
        status_ = NodeStatus::Normal;
        last_normal_epoch_ = view_.epoch;
        frozen_epoch_ = view_.epoch;
        frozen_snapshot_ = encode(state_.snapshot(view_.epoch, view_.base_ts));
    } else {
        status_ = NodeStatus::Joining;
        full_state_ = false;
        amnesiac_ = true;  // R-HISTORY: it never took part in this history at this incarnation
        last_join_ms_ = 0;
    }
    if (config_.record_deliveries) out_.journal.push_back(ViewInstalledEvent{ecr, member, member});
}

// ------------------------------------------------------------------ proposer

void Engine::start_view_change(std::uint64_t now) {  // R-VC-PREPARE
    assert(!amnesiac_);
    freeze_epoch(now);
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
    if (!proposal_ && now >= next_attempt_ms_) start_view_change(now);
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
