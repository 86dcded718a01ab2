#include "coordinator/engine.hpp"

#include "coordinator/hash.hpp"

#include <algorithm>
#include <cassert>
#include <type_traits>

namespace tricache::coordinator {

using namespace tricache::protocol;

namespace {

std::uint64_t op_bytes(const Op& op) { return op_key(op).size() + 16 + op_value_bytes(op); }

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) { return a > ~b ? ~std::uint64_t{0} : a + b; }

bool is_undecided(TxState s) {
    return s == TxState::Waiting || s == TxState::PreCommitted || s == TxState::PreAborted;
}

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

std::uint64_t command_bytes(const Command& c) {
    std::uint64_t n = 16;
    for (const auto& op : c.ops) n += op_bytes(op);
    return n;
}

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
    std::swap(into.messages, out_.messages);
    std::swap(into.replies, out_.replies);
    std::swap(into.delivered, out_.delivered);
    std::swap(into.journal, out_.journal);
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
    m.header = PeerHeader{kProtocolVersion, config_.cluster_id, config_.self, incarnation_, view_.epoch, view_.history};
    m.body = std::move(body);
    out_.messages.push_back({to, std::move(m)});
}

void Engine::broadcast_others(const PeerBody& body) {
    for (const auto& m : view_.members) {
        if (m.node != config_.self) send(m.node, body);
    }
}

void Engine::reply(const RequestKey& key, ClientResponseBody body) {
    waiting_.erase(key);
    out_.replies.push_back(ClientResponse{kProtocolVersion, key.first, key.second, std::move(body)});
}

void Engine::reply_error(const RequestKey& key, ErrorCode code, std::string detail) {
    reply(key, ErrorReply{code, std::move(detail)});
}

// ------------------------------------------------------------------ input

void Engine::on_message(const PeerMessage& msg, std::uint64_t now_ms) {
    now_ms_ = std::max(now_ms_, now_ms);
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
    const bool same_history = h.history == view_.history;  // R-HISTORY-ORDER
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
    now_ms_ = std::max(now_ms_, now_ms);
    const std::uint64_t now = now_ms_;
    expire_clients(now);
    check_failures(now);
    drive_view_change(now);
    drive_rebootstrap(now);
    start_batches(now);
    resend(now);
    send_decision_queries(now);
    if (now - last_heartbeat_ms_ >= config_.heartbeat_ms) {
        last_heartbeat_ms_ = now;
        send_heartbeats(now);
        collect_garbage();
    }
}

std::optional<ErrorCode> Engine::admission_error(const OpsRequest& req, std::string& detail) const {
    if (req.ops.empty()) {
        detail = "request has no operation";
        return ErrorCode::BadRequest;
    }
    if (req.ops.size() > config_.max_ops_per_request) {
        detail = "more than " + std::to_string(config_.max_ops_per_request) + " operations";
        return ErrorCode::TooLarge;
    }
    std::uint64_t total = 16;
    for (std::size_t i = 0; i < req.ops.size(); ++i) {
        const Op& op = req.ops[i];
        std::optional<ErrorCode> err;
        std::visit(
            [&](const auto& o) {
                using T = std::decay_t<decltype(o)>;
                const auto where = [i] { return "op " + std::to_string(i) + ": "; };  // built only on error
                if (op_has_key(op) && op_key(op).empty()) {
                    detail = where() + "empty key";
                    err = ErrorCode::BadRequest;
                } else if (op_key(op).size() > config_.max_key_bytes) {
                    detail = where() + "key of " + std::to_string(op_key(op).size()) + " bytes over max_key_bytes " +
                             std::to_string(config_.max_key_bytes);
                    err = ErrorCode::TooLarge;
                }
                if constexpr (std::is_same_v<T, Set> || std::is_same_v<T, Cas> || std::is_same_v<T, Append>) {
                    if (!err && o.value.size() > config_.max_value_bytes) {
                        detail = where() + "value of " + std::to_string(o.value.size()) +
                                 " bytes over max_value_bytes " + std::to_string(config_.max_value_bytes);
                        err = ErrorCode::TooLarge;
                    } else if (!err && store::entry_charge(o.key, o.value) > config_.store_limits.max_bytes) {
                        detail = where() + "entry larger than the store's byte limit";
                        err = ErrorCode::TooLarge;
                    }
                }
                if constexpr (std::is_same_v<T, Cas>) {
                    if (!err && o.expected && o.expected->size() > config_.max_value_bytes) {
                        detail = where() + "expected value over max_value_bytes";
                        err = ErrorCode::TooLarge;
                    }
                }
            },
            op);
        if (err) return err;
        total += op_bytes(op);
    }
    if (total > config_.max_batch_bytes) {
        detail = "request larger than max_batch_bytes";
        return ErrorCode::TooLarge;
    }
    return std::nullopt;
}

void Engine::on_client_request(const ClientRequest& req, std::uint64_t now_ms) { admit(req, nullptr, now_ms); }

void Engine::on_client_request(ClientRequest&& req, std::uint64_t now_ms) {
    auto* ops = std::get_if<OpsRequest>(&req.body);
    admit(req, ops != nullptr ? &ops->ops : nullptr, now_ms);
}

void Engine::admit(const ClientRequest& req, std::vector<Op>* movable_ops, std::uint64_t now_ms) {
    now_ms_ = std::max(now_ms_, now_ms);
    const std::uint64_t now = now_ms_;
    const RequestKey key{req.client, req.request};
    auto direct = [&](ClientResponseBody body) {
        out_.replies.push_back(ClientResponse{kProtocolVersion, req.client, req.request, std::move(body)});
    };
    if (req.cluster_id != config_.cluster_id) {  // R-ADMIT-CLUSTER
        direct(ErrorReply{ErrorCode::WrongCluster,
                          "this node serves cluster '" + config_.cluster_id + "', not '" + req.cluster_id + "'"});
        return;
    }
    if (std::holds_alternative<StatusRequest>(req.body)) {
        direct(status());
        return;
    }
    if (const auto* local = std::get_if<LocalGetRequest>(&req.body)) {  // R-LOCAL-READ
        if (local->key.empty()) {
            direct(ErrorReply{ErrorCode::BadRequest, "empty key"});
        } else if (!full_state_ || status_ == NodeStatus::Joining || status_ == NodeStatus::NeedsRebootstrap) {
            direct(ErrorReply{ErrorCode::NotReady, "no installed state to read from"});
        } else {
            LocalGetReply r;
            if (auto v = state_.peek(local->key)) {
                r.found = true;
                r.value = std::string(*v);
            }
            r.delivered = state_.log_length();
            direct(std::move(r));
        }
        return;
    }
    if (const auto* admin = std::get_if<AdminRequest>(&req.body)) {
        if (admin->kind == AdminKind::DebugLog) {
            direct(AdminReply{"log length and hash", {state_.log_length(), state_.log_hash()}});
        } else if (admin->kind == AdminKind::Rebootstrap) {
            std::string detail;
            if (rebootstrap(now, detail)) {
                direct(AdminReply{detail, {view_.epoch}});
            } else {
                direct(ErrorReply{ErrorCode::BadRequest, "rebootstrap refused: " + detail});
            }
        } else {
            direct(ErrorReply{ErrorCode::BadRequest, "isolate/heal are handled by the node's transport"});
        }
        return;
    }
    const auto& ops = std::get<OpsRequest>(req.body);
    std::string detail;
    if (auto err = admission_error(ops, detail)) {  // R-ADMIT-SHAPE, R-ADMIT-SIZE
        direct(ErrorReply{*err, detail});
        return;
    }
    if (const auto* earlier = state_.retries().find(req.client, req.request)) {  // R-ADMIT-RETRY
        direct(OpsReply{earlier->to_vector()});
        return;
    }
    if (waiting_.count(key) != 0) return;  // already queued or in flight here: one answer will come
    switch (status_) {  // R-ADMIT-READY
        case NodeStatus::Joining:
            direct(ErrorReply{ErrorCode::NotReady, "not a member: waiting to be re-added by a view change"});
            return;
        case NodeStatus::Syncing:
            direct(ErrorReply{ErrorCode::NotReady, "rejoining: waiting for the snapshot of epoch " +
                                                       std::to_string(view_.epoch)});
            return;
        case NodeStatus::NeedsRebootstrap:
            direct(ErrorReply{ErrorCode::NeedsRebootstrap, loss_reason() + "; an operator must rebootstrap"});
            return;
        case NodeStatus::ViewChange:
            if (now - view_change_since_ms_ >= config_.no_quorum_ms) {  // R-NO-QUORUM
                direct(ErrorReply{ErrorCode::NoQuorum, "view change without a reachable majority for " +
                                                           std::to_string(now - view_change_since_ms_) + " ms"});
                return;
            }
            break;  // queue: the view change usually ends soon
        case NodeStatus::Normal: break;
    }
    if (queue_.size() >= config_.max_queued_requests) {  // R-ADMIT-OVERLOAD
        direct(ErrorReply{ErrorCode::Overloaded, "request queue full"});
        return;
    }
    waiting_[key] = Waiting{now + config_.client_timeout_ms};
    deadlines_.emplace_back(now + config_.client_timeout_ms, key);
    QueuedRequest q;
    q.command = Command{req.client, req.request, movable_ops != nullptr ? std::move(*movable_ops) : ops.ops};
    q.bytes = command_bytes(q.command);
    queued_.try_emplace(key);
    queue_.push_back(std::move(q));
    start_batches(now);
}

void Engine::expire_clients(std::uint64_t now) {  // R-CLIENT-TIMEOUT
    std::vector<RequestKey> expired;
    while (!deadlines_.empty() && deadlines_.front().first <= now) {
        const auto& [deadline, key] = deadlines_.front();
        auto it = waiting_.find(key);
        if (it != waiting_.end() && it->second.deadline_ms == deadline) expired.push_back(key);
        deadlines_.pop_front();
    }
    std::sort(expired.begin(), expired.end());
    expired.erase(std::unique(expired.begin(), expired.end()), expired.end());
    for (const auto& key : expired) {
        reply_error(key, ErrorCode::TimeoutOutcomeUnknown,
                    "no outcome within " + std::to_string(config_.client_timeout_ms) + " ms; it may still apply");
    }
}

// ------------------------------------------------------------------ coordinator role

void Engine::start_batches(std::uint64_t now) {  // R-BATCH
    if (status_ != NodeStatus::Normal || !full_state_ || !is_member(config_.self, incarnation_)) return;
    if (now < hold_batches_until_ms_) return;
    while (own_undecided_ < config_.max_in_flight && !queue_.empty()) {
        auto batch = std::make_shared<Batch>();
        batch->reserve(std::min<std::size_t>(queue_.size(), config_.max_batch_commands));
        std::uint64_t bytes = 0;
        while (!queue_.empty() && batch->size() < config_.max_batch_commands) {
            QueuedRequest& q = queue_.front();
            if (waiting_.count({q.command.client, q.command.request}) == 0) {
                queued_.erase({q.command.client, q.command.request});
                queue_.pop_front();  // its client was already told the outcome is unknown
                continue;
            }
            if (!batch->empty() && bytes + q.bytes > config_.max_batch_bytes) break;
            bytes += q.bytes;
            queued_.erase({q.command.client, q.command.request});
            batch->push_back(std::move(q.command));
            queue_.pop_front();
        }
        if (batch->empty()) break;
        const TxId tx{config_.self, incarnation_, next_seq_++};
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

void Engine::decide(CoordTx& ct, bool commit, std::uint64_t now) {
    assert(ct.phase != Phase::Decided);
    assert(commit || ct.phase == Phase::Voting);  // never abort once anyone may be PC
    ct.phase = Phase::Decided;
    ct.commit = commit;
    ct.last_send_ms = now;
    assert(own_undecided_ > 0);
    --own_undecided_;
    const TxId tx = ct.id;
    const BatchPtr batch = ct.batch;
    const VoteNoReason reason = ct.first_no;
    if (commit) {
        broadcast_others(DoCommit{tx, ct.final_ts});
        learn_commit(tx, ct.final_ts);  // may deliver and reply
    } else {
        broadcast_others(DoAbort{tx});
        learn_abort(tx);
        if (reason == VoteNoReason::WrongEpoch || reason == VoteNoReason::ViewChanging ||
            reason == VoteNoReason::NotMember) {
            requeue(*batch, false);  // R-REQUEUE: membership in flux; try again in the next view
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
        // R-REPLY-AFTER-DELIVERY: whoever waits here for one of these commands gets its results now.
        if (tx.coordinator == config_.self) {  // its waiters are mostly here: make room once
            const std::size_t need = out_.replies.size() + rec.batch->size();
            if (out_.replies.capacity() < need) out_.replies.reserve(std::max(need, 2 * out_.replies.capacity()));
        }
        const Batch& batch = *rec.batch;
        state_.apply(tx, f, batch, [&](std::size_t i, const std::vector<OpResult>& results) {
            const RequestKey key{batch[i].client, batch[i].request};
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
                coord_.erase(rec.id);
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
    s.digest = state_.store().digest();
    s.entries = state_.store().size();
    s.bytes = state_.store().bytes();
    s.in_flight = own_undecided_;
    return s;
}

}  // namespace tricache::coordinator
