// The participant role (spec section 3): votes, PreCommit acceptance,
// decisions and delivery in final-timestamp order.
#include "coordinator/engine.hpp"

#include "coordinator/engine_detail.hpp"

#include <algorithm>
#include <cassert>

namespace tricache::coordinator {

using namespace tricache::protocol;
using detail::saturating_add;
using detail::is_undecided;

// ------------------------------------------------------------------ participant role

Vote Engine::cast_vote(NodeId coordinator_node, const PeerHeader& h, const TxId& tx, BatchPtr batch,
                       std::uint64_t now) {
    TxRecord rec;
    rec.id = tx;
    rec.epoch = h.epoch;
    rec.batch = std::move(batch);
    const Batch& commands = *rec.batch;
    std::uint64_t bytes = 0;
    for (const auto& c : commands) bytes += command_bytes(c);

    VoteNoReason reason = VoteNoReason::None;
    if (h.epoch != view_.epoch) {
        reason = VoteNoReason::WrongEpoch;
    } else if (status_ == NodeStatus::ViewChange) {
        reason = VoteNoReason::ViewChanging;
    } else if (!can_vote() || !is_member(coordinator_node, h.incarnation)) {
        reason = VoteNoReason::NotMember;
    } else if (undecided_.size() >= config_.max_undecided) {
        reason = VoteNoReason::Overloaded;
    } else if (commands.size() > config_.max_batch_commands || bytes > config_.max_batch_bytes) {
        reason = VoteNoReason::TooLarge;
    }

    Vote v{tx, reason == VoteNoReason::None, {}, reason};
    if (reason == VoteNoReason::WrongEpoch) return v;  // no record: the transaction belongs to no epoch we hold
    if (v.yes) {  // R-VOTE-YES
        clock_ = Hlc::next(clock_, now);
        rec.proposed = Timestamp{clock_, config_.self};
        rec.state = TxState::Waiting;
        rec.undecided_since_ms = now;
        undecided_.insert({rec.proposed, tx});
        next_query_due_ms_ = std::min(next_query_due_ms_, saturating_add(now, config_.query_ms));
        v.proposed = rec.proposed;
    } else {  // R-VOTE-NO: a no is this node's own abort
        rec.state = TxState::Aborted;
        mark_decided(tx);
    }
    rec.voted_yes = v.yes;
    rec.no_reason = reason;
    if (config_.record_deliveries) out_.journal.push_back(VotedEvent{tx, h.epoch, v.yes});
    txs_.emplace(tx, std::move(rec));
    return v;
}

void Engine::handle(const PeerHeader& h, const CanCommit& m, std::uint64_t now) {
    if (m.tx.coordinator != h.from || m.tx.incarnation != h.incarnation) return;
    if (h.epoch != view_.epoch) {  // R-EPOCH-FILTER: a no that leaves no record behind
        send(h.from, Vote{m.tx, false, {}, VoteNoReason::WrongEpoch});
        return;
    }
    auto it = txs_.find(m.tx);
    if (it != txs_.end()) {  // R-VOTE-ONCE
        const TxRecord& rec = it->second;
        send(h.from, Vote{m.tx, rec.voted_yes, rec.proposed, rec.no_reason});
        return;
    }
    if (is_stale(m.tx)) return;  // R-STALE
    send(h.from, cast_vote(h.from, h, m.tx, m.batch.shared(), now));
}

void Engine::handle(const PeerHeader& h, const Vote& m, std::uint64_t now) {
    if (m.tx.coordinator != config_.self || m.tx.incarnation != incarnation_) return;
    auto it = coord_.find(m.tx);
    if (it == coord_.end()) return;
    on_vote(it->second, h.from, m, now);
}

void Engine::precommit_local(TxRecord& rec, Ballot b, Timestamp f) {
    assert(is_undecided(rec.state));
    undecided_.erase({key_of(rec), rec.id});
    rec.state = TxState::PreCommitted;
    rec.promised = b;
    rec.accepted = b;
    rec.final_ts = f;
    assert(rec.proposed <= f);
    undecided_.insert({f, rec.id});
    observe(f);
}

void Engine::handle(const PeerHeader& h, const PreCommit& m, std::uint64_t /*now*/) {
    auto it = txs_.find(m.tx);
    if (it == txs_.end()) return;  // stale, or never voted: nothing to accept
    TxRecord& rec = it->second;
    if (h.epoch != view_.epoch || !can_vote() || rec.epoch != view_.epoch) {  // R-EPOCH-FILTER, R-TARGET-EPOCH
        send(h.from, Nack{m.tx, m.ballot, rec.promised});
        return;
    }
    if (rec.state == TxState::Committed && rec.final_ts == m.final_ts) {
        send(h.from, Ack{m.tx, m.ballot});  // R-IDEMPOTENT: our ack was lost
        return;
    }
    if (!is_undecided(rec.state) || m.ballot < rec.promised) {
        send(h.from, Nack{m.tx, m.ballot, rec.promised});
        return;
    }
    if (rec.state == TxState::PreCommitted && rec.accepted == m.ballot) {
        assert(rec.final_ts == m.final_ts);
        send(h.from, Ack{m.tx, m.ballot});
        return;
    }
    precommit_local(rec, m.ballot, m.final_ts);  // R-PC-ACCEPT
    send(h.from, Ack{m.tx, m.ballot});
}

void Engine::handle(const PeerHeader& h, const Ack& m, std::uint64_t now) {
    if (m.tx.coordinator != config_.self || m.tx.incarnation != incarnation_) return;
    if (m.ballot != kOriginalBallot) return;
    auto it = coord_.find(m.tx);
    if (it == coord_.end()) return;
    on_ack(it->second, h.from, now);
}

void Engine::handle(const PeerHeader& /*h*/, const Nack& /*m*/, std::uint64_t /*now*/) {
    // A member refused our PreCommit: it promised a view change or moved to
    // another epoch. The coordinator must not decide; the view change settles t.
}

void Engine::handle(const PeerHeader& h, const DoCommit& m, std::uint64_t /*now*/) {
    if (h.from != m.tx.coordinator) return;
    learn_commit(m.tx, m.final_ts);
}

void Engine::handle(const PeerHeader& h, const DoAbort& m, std::uint64_t /*now*/) {
    if (h.from != m.tx.coordinator) return;
    learn_abort(m.tx);
}

void Engine::handle(const PeerHeader& h, const DecisionQuery& m, std::uint64_t /*now*/) {
    for (const TxId& tx : m.txs) {
        auto it = txs_.find(tx);
        if (it == txs_.end()) continue;
        const TxRecord& rec = it->second;
        if (rec.state == TxState::Committed) {
            send(h.from, Decision{tx, Outcome::Committed, rec.final_ts});
        } else if (rec.state == TxState::Aborted) {
            send(h.from, Decision{tx, Outcome::Aborted, {}});
        }
    }
}

void Engine::handle(const PeerHeader& /*h*/, const Decision& m, std::uint64_t /*now*/) {
    if (m.outcome == Outcome::Committed) {
        learn_commit(m.tx, m.final_ts);
    } else if (m.outcome == Outcome::Aborted) {
        learn_abort(m.tx);
    }
}

void Engine::handle(const PeerHeader& h, const Heartbeat& m, std::uint64_t /*now*/) {
    auto& floors = peer_floors_[h.from];
    for (const auto& f : m.floors) {
        auto& cur = floors[{f.coordinator, f.incarnation}];
        cur = std::max(cur, f.seq);  // floors only grow; a reordered old heartbeat changes nothing
    }
}

void Engine::learn_commit(const TxId& tx, Timestamp f) {
    auto it = txs_.find(tx);
    if (it == txs_.end()) return;  // a member voted before any commit; without a record it is stale
    TxRecord& rec = it->second;
    if (rec.state == TxState::Committed) {
        assert(rec.final_ts == f);  // P1: one final timestamp
        return;
    }
    assert(rec.state != TxState::Aborted);  // P1: never both
    assert(rec.voted_yes);
    undecided_.erase({key_of(rec), tx});
    rec.state = TxState::Committed;
    rec.final_ts = f;
    observe(f);
    committed_.insert({f, tx});
    mark_decided(tx);
    if (config_.record_deliveries) out_.journal.push_back(DecidedEvent{tx, true, f});
    try_deliver();
}

void Engine::learn_abort(const TxId& tx) {
    auto it = txs_.find(tx);
    if (it == txs_.end()) {
        mark_decided(tx);  // never saw its CanCommit; remember so a late copy stays dead
        return;
    }
    TxRecord& rec = it->second;
    if (rec.state == TxState::Aborted) return;
    assert(rec.state != TxState::Committed);  // P1
    undecided_.erase({key_of(rec), tx});
    rec.state = TxState::Aborted;
    mark_decided(tx);
    if (config_.record_deliveries) out_.journal.push_back(DecidedEvent{tx, false, {}});
    try_deliver();
}

void Engine::try_deliver() {  // R-DELIVER
    if (!full_state_) return;  // R-SYNC-VOTE: commits wait for the snapshot
    while (!committed_.empty()) {
        const auto [f, tx] = *committed_.begin();
        if (!undecided_.empty() && undecided_.begin()->first < f) return;
        committed_.erase(committed_.begin());
        TxRecord& rec = txs_.at(tx);
        assert(rec.state == TxState::Committed && !rec.delivered);
        rec.delivered = true;
        ++stats_.tx_applied;
        // R-REPLY-AFTER-DELIVERY: whoever waits here for one of these commands gets its results now.
        if (tx.coordinator == config_.self) {  // its waiters are mostly here: make room once
            const std::size_t need = out_.replies.size() + rec.batch->size();
            if (out_.replies.capacity() < need) out_.replies.reserve(std::max(need, 2 * out_.replies.capacity()));
        }
        const Batch& batch = *rec.batch;
        state_.apply(tx, f, batch, [&](std::size_t i, const std::vector<OpResult>& results) {
            const RequestKey key{batch[i].client, batch[i].request};
            if (!in_doubt_.empty()) in_doubt_.erase(key);  // R-IN-DOUBT: its one execution is in the log now
            const auto w = waiting_.find(key);
            if (w == waiting_.end()) return;
            waiting_.erase(w);
            ClientResponse& r = out_.replies.emplace_back();
            r.client = key.first;
            r.request = key.second;
            r.body.emplace<OpsReply>().results = results;
        });
        if (config_.record_deliveries) {
            out_.delivered.push_back(DeliveredTx{state_.log_length(), tx, f, rec.epoch, rec.batch});
        }
    }
}

}  // namespace tricache::coordinator
