// The engine's frame: construction, views, input dispatch, housekeeping and
// status. The roles live beside it: clients.cpp (admission and answers),
// coordinator_role.cpp, participant.cpp, view_change.cpp (section 8).
#include "coordinator/engine.hpp"

#include "coordinator/engine_detail.hpp"
#include "coordinator/hash.hpp"
#include "coordinator/history.hpp"

#include <algorithm>
#include <cassert>

namespace tricache::coordinator {

using namespace tricache::protocol;
using detail::saturating_add;
using detail::is_undecided;


void Engine::Floor::mark(std::uint64_t seq) {
    if (seq <= floor) return;
    if (seq == floor + 1) {
        floor = seq;  // the usual, in-order case: no set node to make and drop again
    } else {
        above.insert(seq);
    }
    while (!above.empty() && *above.begin() == floor + 1) {
        floor = *above.begin();
        above.erase(above.begin());
    }
}

const char* to_string(NodeStatus s) {
    switch (s) {
        case NodeStatus::Normal: return "NORMAL";
        case NodeStatus::ViewChange: return "VIEW_CHANGE";
        case NodeStatus::Syncing: return "SYNCING";
        case NodeStatus::Joining: return "JOINING";
        case NodeStatus::NeedsRebootstrap: return "NEEDS_REBOOTSTRAP";
    }
    return "?";
}

Engine::Engine(EngineConfig config, Incarnation incarnation)
    : config_(std::move(config)), incarnation_(incarnation), state_(config_.store_limits) {
    std::sort(config_.cluster.begin(), config_.cluster.end());
    config_.cluster.erase(std::unique(config_.cluster.begin(), config_.cluster.end()), config_.cluster.end());
    assert(std::binary_search(config_.cluster.begin(), config_.cluster.end(), config_.self));
    assert(config_.max_in_flight >= 1 && config_.max_batch_commands >= 1);
    rng_state_ = mix64(config_.seed ^ (std::uint64_t{config_.self} << 32) ^ incarnation);
}

Engine Engine::bootstrap(EngineConfig config) {
    Engine e(std::move(config), 1);
    View v;
    v.epoch = 1;
    v.history = 1;  // R-HISTORY
    for (NodeId n : e.config_.cluster) {
        v.members.push_back({n, 1});
        v.birth.push_back({n, 1, 0});  // R-HISTORY-ORDER: before every rebootstrap
    }
    e.enter_view(v, 0);
    e.status_ = NodeStatus::Normal;
    e.last_normal_epoch_ = 1;
    return e;
}

Engine Engine::join(EngineConfig config, Incarnation incarnation) {
    assert(incarnation > 1);
    Engine e(std::move(config), incarnation);
    e.status_ = NodeStatus::Joining;
    e.amnesiac_ = true;
    e.full_state_ = false;
    return e;
}

// R-SEQ-EPOCH: floors and seqs restart at every view.
void Engine::enter_view(const View& v, std::uint64_t now) {
    view_ = v;
    history_tag_ = history_tag(v);
    next_seq_ = (v.epoch << 32) + 1;
    floors_.clear();
    peer_floors_.clear();
    for (const auto& m : v.members) floors_[{m.node, m.incarnation}].floor = v.epoch << 32;
    last_heard_.clear();
    for (const auto& m : v.members) {
        if (now != 0) last_heard_[m.node] = now;
    }
    if (vc_accepted_ecr_ && vc_accepted_ecr_->closes < v.epoch) {  // that instance is over
        vc_accepted_ballot_ = kNoBallot;
        vc_accepted_ecr_.reset();
    }
    proposal_.reset();
    loss_ = Loss::None;  // a view installed: whatever was lost, this node is past it
    observe(v.base_ts);
}

Output Engine::take_output() {
    Output o = std::move(out_);
    out_ = Output{};
    return o;
}

void Engine::take_output(Output& into) {
    into.messages.clear();
    into.replies.clear();
    into.delivered.clear();
    into.journal.clear();
    into.view_changes.clear();
    std::swap(into.messages, out_.messages);
    std::swap(into.replies, out_.replies);
    std::swap(into.delivered, out_.delivered);
    std::swap(into.journal, out_.journal);
    std::swap(into.view_changes, out_.view_changes);
}

// ------------------------------------------------------------------ helpers

bool Engine::is_member(NodeId node, Incarnation inc) const {
    return std::any_of(view_.members.begin(), view_.members.end(),
                       [&](const Member& m) { return m.node == node && m.incarnation == inc; });
}

bool Engine::is_member(NodeId node) const { return member_incarnation(node).has_value(); }

std::optional<Incarnation> Engine::member_incarnation(NodeId node) const {
    for (const auto& m : view_.members) {
        if (m.node == node) return m.incarnation;
    }
    return std::nullopt;
}

bool Engine::is_stale(const TxId& tx) const {
    auto it = floors_.find({tx.coordinator, tx.incarnation});
    return it != floors_.end() && it->second.covers(tx.seq);
}

Timestamp Engine::key_of(const TxRecord& rec) const {
    return rec.state == TxState::PreCommitted || rec.state == TxState::Committed ? rec.final_ts : rec.proposed;
}

std::optional<Timestamp> Engine::min_undecided_key() const {
    if (undecided_.empty()) return std::nullopt;
    return undecided_.begin()->first;
}

void Engine::observe(const Timestamp& ts) { clock_ = std::max(clock_, ts.counter); }  // R-CLOCK

void Engine::send(NodeId to, PeerBody body) {
    PeerMessage m;
    m.header = PeerHeader{kProtocolVersion, config_.cluster_id, config_.self, incarnation_, view_.epoch, view_.history,
                          history_tag_};
    m.body = std::move(body);
    out_.messages.push_back({to, std::move(m)});
}

void Engine::broadcast_others(const PeerBody& body) {
    for (const auto& m : view_.members) {
        if (m.node != config_.self) send(m.node, body);
    }
}

// ------------------------------------------------------------------ input

void Engine::on_message(const PeerMessage& msg, std::uint64_t now_ms) {
    advance_clock(now_ms);
    const PeerHeader& h = msg.header;
    if (h.version != kProtocolVersion || h.cluster_id != config_.cluster_id) return;
    if (h.from == config_.self) return;
    if (!std::binary_search(config_.cluster.begin(), config_.cluster.end(), h.from)) return;
    const std::uint64_t now = now_ms_;
    // Membership traffic comes from any node of C, whatever its incarnation or epoch.
    const bool view_change = std::holds_alternative<VcPrepare>(msg.body) || std::holds_alternative<VcPromise>(msg.body) ||
                             std::holds_alternative<VcAccept>(msg.body) || std::holds_alternative<VcAccepted>(msg.body) ||
                             std::holds_alternative<VcNack>(msg.body);
    const bool membership = view_change || std::holds_alternative<NewView>(msg.body) ||
                            std::holds_alternative<RbPrepare>(msg.body) || std::holds_alternative<RbPromise>(msg.body) ||
                            std::holds_alternative<JoinReq>(msg.body) ||
                            std::holds_alternative<SnapshotRequest>(msg.body) ||
                            std::holds_alternative<SnapshotChunk>(msg.body);
    seen_[h.from] = Seen{h.incarnation, now};
    max_epoch_seen_ = std::max(max_epoch_seen_, h.epoch);
    const bool same_history = coordinator::same_history(h, view_, history_tag_);  // R-HISTORY, R-HISTORY-ORDER
    if ((h.epoch < view_.epoch || !same_history) && !std::holds_alternative<NewView>(msg.body)) {
        push_new_view(h.from, now);  // R-CATCH-UP: whichever of us is in the older history crosses
    }
    if (auto inc = member_incarnation(h.from)) {
        if (*inc == h.incarnation) {
            // A member in another epoch is not taking part in this one. Catch-up
            // moves a member that is behind, or us when it is ahead; if neither
            // can (one of us refuses a rebootstrap record), it must be suspected.
            if (h.epoch == view_.epoch && same_history) last_heard_[h.from] = now;
        } else if (h.incarnation != 0 && status_ == NodeStatus::Normal) {
            // A member speaks with another incarnation: it restarted and forgot. R-SUSPECT.
            joiners_[h.from] = Joiner{h.incarnation, now, true};
        }
    }
    // R-VC-PREPARE, R-VC-ACCEPT: another history's instances are not ours, and its
    // epochs are not ours to compare; the NewView pushed above settles who crosses.
    if (view_change && !same_history) return;
    if (membership) {
        std::visit([&](const auto& body) { handle(h, body, now); }, msg.body);
        return;
    }
    // R-EPOCH-FILTER: commit-path traffic only from the current incarnation of a member, in our history.
    if (!is_member(h.from, h.incarnation) || !same_history) return;
    std::visit([&](const auto& body) { handle(h, body, now); }, msg.body);
}

void Engine::on_tick(std::uint64_t now_ms) {
    advance_clock(now_ms);
    const std::uint64_t now = now_ms_;
    expire_clients(now);
    check_failures(now);
    drive_view_change(now);
    drive_rebootstrap(now);
    maybe_purge(now);
    start_batches(now);
    resend(now);
    send_decision_queries(now);
    if (now - last_heartbeat_ms_ >= config_.heartbeat_ms) {
        last_heartbeat_ms_ = now;
        send_heartbeats(now);
        collect_garbage();
    }
}

// ------------------------------------------------------------------ housekeeping

void Engine::send_heartbeats(std::uint64_t /*now*/) {  // R-DECISION-FLOOR
    Heartbeat hb;
    hb.delivered = state_.log_length();
    for (const auto& m : view_.members) {
        auto it = floors_.find({m.node, m.incarnation});
        hb.floors.push_back({m.node, m.incarnation, it == floors_.end() ? 0 : it->second.floor});
    }
    broadcast_others(hb);
}

void Engine::send_decision_queries(std::uint64_t now) {  // R-DECISION-QUERY
    if (now < next_query_due_ms_) return;
    // A record is due once both its undecided time and its last query are query_ms old.
    std::uint64_t next_due = ~std::uint64_t{0};
    DecisionQuery q;
    for (const auto& [key, tx] : undecided_) {
        TxRecord& rec = txs_.at(tx);
        if (now - rec.undecided_since_ms < config_.query_ms || now - rec.last_query_ms < config_.query_ms) {
            next_due = std::min(next_due, saturating_add(std::max(rec.undecided_since_ms, rec.last_query_ms),
                                                         config_.query_ms));
            continue;
        }
        rec.last_query_ms = now;
        q.txs.push_back(tx);
        next_due = std::min(next_due, saturating_add(now, config_.query_ms));
    }
    next_query_due_ms_ = next_due;
    if (!q.txs.empty()) broadcast_others(q);
}

void Engine::collect_garbage() {  // R-TOMBSTONE
    // What every other member has told us it decided of one coordinator
    // incarnation: the smallest of their floors (0 when one has not said).
    const auto floor_all_peers_know = [&](const CoordKey& key) {
        std::uint64_t known = ~std::uint64_t{0};
        for (const auto& m : view_.members) {
            if (m.node == config_.self) continue;
            auto pf = peer_floors_.find(m.node);
            if (pf == peer_floors_.end()) return std::uint64_t{0};
            auto f = pf->second.find(key);
            if (f == pf->second.end()) return std::uint64_t{0};
            known = std::min(known, f->second);
        }
        return known;
    };
    // txs_ is ordered by (coordinator, incarnation, seq): the peers' floor is
    // looked up once per coordinator incarnation, and the records above it are
    // skipped in one jump, since none of them can go yet.
    for (auto it = txs_.begin(); it != txs_.end();) {
        const CoordKey key{it->first.coordinator, it->first.incarnation};
        const std::uint64_t known = floor_all_peers_know(key);
        while (it != txs_.end() && it->first.coordinator == key.first && it->first.incarnation == key.second &&
               it->first.seq <= known) {
            const TxRecord& rec = it->second;
            const bool settled =
                rec.state == TxState::Aborted || (rec.state == TxState::Committed && rec.delivered);
            if (settled && is_stale(rec.id)) {
                // Its coordinator may not have decided it: it learned the outcome from a peer
                // (R-DECISION-QUERY) before the votes or acks came. Its window slot goes too.
                if (const auto ct = coord_.find(rec.id); ct != coord_.end()) {
                    if (ct->second.phase != Phase::Decided) {
                        --own_undecided_;
                        if (rec.state == TxState::Aborted) {  // known aborted: its clients go again (R-REQUEUE)
                            clear_in_doubt(*ct->second.batch);
                            requeue(*ct->second.batch);
                        }
                    }
                    coord_.erase(ct);
                }
                it = txs_.erase(it);
            } else {
                ++it;
            }
        }
        if (it != txs_.end() && it->first.coordinator == key.first && it->first.incarnation == key.second) {
            it = txs_.upper_bound(TxId{key.first, key.second, ~std::uint64_t{0}});
        }
    }
}

StatusReply Engine::status() const {
    StatusReply s;
    s.node = config_.self;
    s.incarnation = incarnation_;
    s.epoch = view_.epoch;
    s.members = view_.members;
    s.history = view_.history;
    s.ready = status_ == NodeStatus::Normal && is_member(config_.self, incarnation_);
    switch (status_) {
        case NodeStatus::Normal:
            if (!s.ready) s.why_not_ready = "not a member of the installed view";
            break;
        case NodeStatus::ViewChange: s.why_not_ready = "view change in progress"; break;
        case NodeStatus::Syncing: s.why_not_ready = "rejoining: waiting for the snapshot"; break;
        case NodeStatus::Joining: s.why_not_ready = "not a member: waiting to be re-added"; break;
        case NodeStatus::NeedsRebootstrap:
            s.why_not_ready = loss_reason() + ": needs rebootstrap";
            if (rb_proposal_) {
                s.why_not_ready += "; rebootstrap proposed at epoch " + std::to_string(rb_proposal_->epoch) + ": " +
                                   std::to_string(rb_proposal_->promised.size()) + " of " +
                                   std::to_string(majority()) + " promises needed";
            } else if (!rb_outcome_.empty()) {
                s.why_not_ready += "; " + rb_outcome_;
            }
            break;
    }
    s.delivered = state_.log_length();
    s.log_hash = state_.log_hash();
    s.digest = state_.store().digest();  // what a client can check against a replay of the log (nemesis, checker)
    s.entries = state_.store().size();
    s.bytes = state_.store().bytes();
    s.in_flight = own_undecided_;
    return s;
}

}  // namespace tricache::coordinator
