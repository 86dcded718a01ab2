// Section 8 of spec/PROTOCOL.md, after a total failure: the operator's rebootstrap
// (R-REBOOTSTRAP, R-RB-PROMISE) and the new history it starts. Same class as engine.cpp.
#include <algorithm>
#include <cassert>

#include "coordinator/engine.hpp"
#include "coordinator/hash.hpp"
#include "coordinator/history.hpp"
#include "protocol/codec.hpp"

namespace tricache::coordinator {

using namespace tricache::protocol;


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
    assert(config_.rebootstrap_lanes >= 1 && config_.rebootstrap_lanes <= kHistoryGap / kLane);
    const std::uint64_t lane = mix64((std::uint64_t{config_.self} << 32) ^ incarnation_) % config_.rebootstrap_lanes;
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
    ++stats_.views_installed;
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

}  // namespace tricache::coordinator
