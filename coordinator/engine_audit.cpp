// Read-only views of the engine for the simulator's monitors: the inputs of a
// view-change proposal, and a self-check of the engine's bookkeeping. Nothing
// here changes the engine. Same class as engine.cpp; split for size.
#include <cassert>
#include <cstddef>

#include "coordinator/engine.hpp"
#include "coordinator/engine_detail.hpp"

namespace tricache::coordinator {

using namespace tricache::protocol;

EcrProposedEvent Engine::proposal_event() const {
    assert(proposal_);
    EcrProposedEvent e;
    e.ballot = proposal_->ballot;
    e.closes = view_.epoch;
    e.promises.reserve(proposal_->promises.size());
    for (const auto& [node, entry] : proposal_->promises) e.promises.push_back({node, entry.first, entry.second});
    e.ecr = proposal_->ecr;
    return e;
}

namespace {

std::string state_name(TxState s) {
    switch (s) {
        case TxState::Unknown: return "unknown";
        case TxState::Waiting: return "W";
        case TxState::PreCommitted: return "PC";
        case TxState::PreAborted: return "PA";
        case TxState::Committed: return "C";
        case TxState::Aborted: return "A";
    }
    return "state " + std::to_string(static_cast<int>(s));
}

}  // namespace

std::optional<std::string> Engine::check_bookkeeping() const {
    // undecided_ holds exactly the records in W, PC or PA, each under its key (R-DELIVER).
    std::size_t pending_records = 0;
    std::size_t committed_records = 0;  // committed, not yet delivered
    for (const auto& [tx, rec] : txs_) {
        if (rec.id != tx) return "the record under " + to_string(tx) + " names " + to_string(rec.id);
        if (detail::is_undecided(rec.state)) ++pending_records;
        if (rec.state == TxState::Committed && !rec.delivered) ++committed_records;
        if (rec.delivered && rec.state != TxState::Committed) {
            return to_string(tx) + " is marked delivered in state " + state_name(rec.state);
        }
        if (rec.state != TxState::Aborted && !rec.batch) return to_string(tx) + " has no batch";
    }
    for (const auto& [key, tx] : undecided_) {
        const auto it = txs_.find(tx);
        if (it == txs_.end()) return "undecided entry " + to_string(tx) + " has no transaction record";
        if (!detail::is_undecided(it->second.state)) {
            return "undecided entry " + to_string(tx) + " is in state " +
                   state_name(it->second.state);
        }
        if (key_of(it->second) != key) {
            return "undecided entry " + to_string(tx) + " sits under key " + to_string(key) + ", its record's is " +
                   to_string(key_of(it->second));
        }
    }
    if (pending_records != undecided_.size()) {
        return std::to_string(pending_records) + " records are undecided but the undecided set holds " +
               std::to_string(undecided_.size()) + " entries";
    }
    // committed_ holds exactly the committed, undelivered records, each under its final timestamp.
    for (const auto& [f, tx] : committed_) {
        const auto it = txs_.find(tx);
        if (it == txs_.end()) return "committed entry " + to_string(tx) + " has no transaction record";
        const TxRecord& rec = it->second;
        if (rec.state != TxState::Committed || rec.delivered) {
            return "committed entry " + to_string(tx) + " is in state " + state_name(rec.state) +
                   (rec.delivered ? ", delivered" : "");
        }
        if (rec.final_ts != f) {
            return "committed entry " + to_string(tx) + " sits under " + to_string(f) + ", its record's f is " +
                   to_string(rec.final_ts);
        }
    }
    if (committed_records != committed_.size()) {
        return std::to_string(committed_records) + " records are committed and undelivered but the delivery queue holds " +
               std::to_string(committed_.size());
    }
    // The coordinator: one in-flight count per undecided transaction of its own, each with a record.
    std::size_t in_flight = 0;
    for (const auto& [tx, ct] : coord_) {
        if (ct.id != tx || tx.coordinator != config_.self || tx.incarnation != incarnation_) {
            return "coordinated transaction " + to_string(tx) + " is not this incarnation's";
        }
        if (!ct.batch) return "coordinated transaction " + to_string(tx) + " has no batch";
        if (ct.phase == Phase::Decided) continue;
        ++in_flight;
        // Its own record may be decided already (a peer answered a DecisionQuery from a view change's
        // record), but it is kept: only a settled record is collected, and with it the coordinated one.
        if (txs_.count(tx) == 0) return "coordinated transaction " + to_string(tx) + " is undecided but has no record";
    }
    if (in_flight != own_undecided_) {
        return std::to_string(in_flight) + " coordinated transactions are undecided but the window counts " +
               std::to_string(own_undecided_);
    }
    // The request queue: the index names each request in the queue exactly once (R-ADMIT-RETRY: a retry of a
    // request whose timed-out copy is still queued uses that copy), and no request in doubt is queued (R-IN-DOUBT).
    if (queued_.size() != queue_.size()) {
        return std::to_string(queue_.size()) + " requests are queued but the queue index holds " +
               std::to_string(queued_.size());
    }
    for (const auto& q : queue_) {
        const RequestKey key{q.command.client, q.command.request};
        if (queued_.count(key) == 0) return "a queued request is missing from the queue index";
        if (in_doubt_.count(key) != 0 && waiting_.count(key) != 0) {
            return "client " + std::to_string(key.first) + " request " + std::to_string(key.second) +
                   " is in doubt and queued to run again";
        }
    }
    // Each waiting client has a deadline row (R-CLIENT-TIMEOUT).
    if (deadlines_.size() < waiting_.size()) {
        return std::to_string(waiting_.size()) + " clients are waiting but only " + std::to_string(deadlines_.size()) +
               " deadlines are kept";
    }
    return std::nullopt;
}

}  // namespace tricache::coordinator
