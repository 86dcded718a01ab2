// Clients' side of the engine: admission (spec section 2), the waiting
// table and its deadlines, re-queueing and every refusal (R-REQUEUE,
// R-IN-DOUBT, R-NO-QUORUM).
#include "coordinator/engine.hpp"

#include <algorithm>
#include <cassert>
#include <type_traits>

namespace tricache::coordinator {

using namespace tricache::protocol;

namespace {

std::uint64_t op_bytes(const Op& op) { return op_key(op).size() + 16 + op_value_bytes(op); }

}  // namespace

std::uint64_t command_bytes(const Command& c) {
    std::uint64_t n = 16;
    for (const auto& op : c.ops) n += op_bytes(op);
    return n;
}

void Engine::reply(const RequestKey& key, ClientResponseBody body) {
    waiting_.erase(key);
    out_.replies.push_back(ClientResponse{kProtocolVersion, key.first, key.second, std::move(body)});
}

void Engine::reply_error(const RequestKey& key, ErrorCode code, std::string detail) {
    reply(key, ErrorReply{code, std::move(detail)});
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
                if constexpr (std::is_same_v<T, Expire>) {
                    if (!err && o.when.kind != ExpiryKind::At && o.when.kind != ExpiryKind::After) {
                        detail = where() + "an expire needs an absolute or a relative time";
                        err = ErrorCode::BadRequest;
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
    advance_clock(now_ms);
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
    if (req.client == kPurgeClient) {  // R-TTL-PURGE: the engine's own client id
        direct(ErrorReply{ErrorCode::BadRequest, "client id reserved for the engine's purges"});
        return;
    }
    if (auto err = admission_error(ops, detail)) {  // R-ADMIT-SHAPE, R-ADMIT-SIZE
        direct(ErrorReply{*err, detail});
        return;
    }
    if (const auto* earlier = state_.retries().find(req.client, req.request)) {  // R-ADMIT-RETRY
        direct(OpsReply{earlier->to_vector()});
        return;
    }
    if (waiting_.count(key) != 0) return;  // already queued or in flight here: one answer will come
    if (in_doubt_.count(key) != 0) {  // R-IN-DOUBT: a retry of an attempt that may commit waits with it
        if (auto refusal = no_quorum_refusal(now)) {
            direct(ErrorReply{ErrorCode::TimeoutOutcomeUnknown,
                              "an earlier attempt of this request may have been applied, and " + *refusal});
            return;
        }
        wait_for(key, now);
        return;
    }
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
        case NodeStatus::Normal: break;
    }
    if (auto refusal = no_quorum_refusal(now)) {  // R-NO-QUORUM
        direct(ErrorReply{ErrorCode::NoQuorum, *refusal});
        return;
    }
    if (queue_.size() >= config_.max_queued_requests) {  // R-ADMIT-OVERLOAD
        direct(ErrorReply{ErrorCode::Overloaded, "request queue full"});
        return;
    }
    wait_for(key, now);
    QueuedRequest q;
    q.command = Command{req.client, req.request, movable_ops != nullptr ? std::move(*movable_ops) : ops.ops};
    q.bytes = command_bytes(q.command);
    // A copy left in the queue by an earlier attempt that timed out runs for this one (R-ADMIT-RETRY).
    if (queued_.try_emplace(key).second) queue_.push_back(std::move(q));
    start_batches(now);
}

void Engine::wait_for(const RequestKey& key, std::uint64_t now) {
    waiting_[key] = Waiting{now + config_.client_timeout_ms};
    deadlines_.emplace_back(now + config_.client_timeout_ms, key);
}

void Engine::expire_clients(std::uint64_t now) {  // R-CLIENT-TIMEOUT
    std::vector<RequestKey> expired;
    while (!deadlines_.empty() && deadlines_.front().first <= now) {
        const auto& [deadline, key] = deadlines_.front();
        auto it = waiting_.find(key);
        if (it != waiting_.end() && it->second.deadline_ms == deadline) expired.push_back(key);
        deadlines_.pop_front();
    }
    if (expired.empty()) return;
    std::sort(expired.begin(), expired.end());
    expired.erase(std::unique(expired.begin(), expired.end()), expired.end());
    for (const auto& key : expired) {
        reply_error(key, ErrorCode::TimeoutOutcomeUnknown,
                    "no outcome within " + std::to_string(config_.client_timeout_ms) + " ms; it may still apply");
    }
    keep_in_doubt(expired);  // R-IN-DOUBT: their attempts go on; a retry must not start another
}

// ------------------------------------------------------------------ R-IN-DOUBT

bool Engine::may_still_commit(const CoordTx& ct) const {
    if (ct.phase != Phase::Decided) return true;
    if (!ct.commit) return false;
    const auto it = txs_.find(ct.id);
    return it != txs_.end() && !it->second.delivered;
}

void Engine::mark_in_doubt(const Batch& batch) {
    for (const auto& cmd : batch) in_doubt_.try_emplace({cmd.client, cmd.request});
}

void Engine::clear_in_doubt(const Batch& batch) {
    if (in_doubt_.empty()) return;
    for (const auto& cmd : batch) in_doubt_.erase({cmd.client, cmd.request});
}

void Engine::keep_in_doubt(const std::vector<RequestKey>& sorted_keys) {
    for (const auto& [tx, ct] : coord_) {
        if (!may_still_commit(ct)) continue;
        for (const auto& cmd : *ct.batch) {
            const RequestKey key{cmd.client, cmd.request};
            if (std::binary_search(sorted_keys.begin(), sorted_keys.end(), key)) in_doubt_.try_emplace(key);
        }
    }
}

// The node holds the state at an epoch boundary later than every attempt in
// doubt: each one's outcome is in it. The retry table holds the results of the
// one execution; an absent row may have left the bounded window, so absence
// proves nothing and the honest answer is "unknown".
void Engine::settle_in_doubt() {
    if (in_doubt_.empty()) return;
    std::vector<RequestKey> keys;
    keys.reserve(in_doubt_.size());
    for (const auto& [key, mark] : in_doubt_) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    in_doubt_.clear();
    for (const auto& key : keys) {
        if (waiting_.count(key) == 0) continue;
        if (const auto* earlier = state_.retries().find(key.first, key.second)) {
            reply(key, OpsReply{earlier->to_vector()});
        } else {
            reply_error(key, ErrorCode::TimeoutOutcomeUnknown,
                        "an earlier attempt was decided while this node was away and its result is not in the "
                        "retry window; it may have been applied");
        }
    }
}

// ------------------------------------------------------------------ R-NO-QUORUM

std::uint64_t Engine::majority_silence_ms(std::uint64_t now) const {
    const std::size_t others = majority() - 1;
    if (others == 0) return 0;
    std::vector<std::uint64_t> heard;  // at most |C| - 1 entries
    heard.reserve(config_.cluster.size());
    for (NodeId n : config_.cluster) {
        if (n == config_.self) continue;
        const auto it = seen_.find(n);
        heard.push_back(std::max(contact_baseline_ms_, it == seen_.end() ? 0 : it->second.at_ms));
    }
    // The others' contacts, newest first: the (others)-th is when a majority was last all heard.
    std::nth_element(heard.begin(), heard.begin() + static_cast<std::ptrdiff_t>(others - 1), heard.end(),
                     std::greater<>());
    const std::uint64_t since = heard[others - 1];
    return now > since ? now - since : 0;
}

std::optional<std::string> Engine::no_quorum_refusal(std::uint64_t now) const {
    if (status_ != NodeStatus::Normal && status_ != NodeStatus::ViewChange) return std::nullopt;
    // The usual case, checked on every request without sorting anything: a majority was heard lately.
    std::size_t recent = 1;  // this node
    for (NodeId n : config_.cluster) {
        if (n == config_.self) continue;
        const auto it = seen_.find(n);
        const std::uint64_t heard = std::max(contact_baseline_ms_, it == seen_.end() ? 0 : it->second.at_ms);
        if (now < heard + config_.no_quorum_ms) ++recent;
    }
    const std::uint64_t silent = recent >= majority() ? 0 : majority_silence_ms(now);
    if (silent >= config_.no_quorum_ms) {
        return "no majority of the cluster heard from for " + std::to_string(silent) + " ms";
    }
    if (status_ == NodeStatus::ViewChange && now - view_change_since_ms_ >= config_.no_quorum_ms) {
        return "a view change without a reachable majority for " + std::to_string(now - view_change_since_ms_) +
               " ms";
    }
    return std::nullopt;
}

void Engine::refuse_without_quorum(const std::string& why, std::uint64_t now) {
    refuse_queued(ErrorCode::NoQuorum, why);
    for (auto& [tx, ct] : coord_) {
        if (ct.phase == Phase::Voting) {
            // Nobody holds it PreCommitted, so no closing record can commit it: abort it here, once.
            abort_own(ct, now);
            clear_in_doubt(*ct.batch);
            for (const auto& cmd : *ct.batch) {
                const RequestKey key{cmd.client, cmd.request};
                if (waiting_.count(key) != 0) {
                    reply_error(key, ErrorCode::NoQuorum, why + "; its transaction was aborted before PreCommit, not applied");
                }
            }
        } else if (may_still_commit(ct)) {
            for (const auto& cmd : *ct.batch) {
                const RequestKey key{cmd.client, cmd.request};
                if (waiting_.count(key) == 0) continue;
                in_doubt_.try_emplace(key);
                reply_error(key, ErrorCode::TimeoutOutcomeUnknown,
                            "its transaction reached PreCommit and " + why + "; it may still apply");
            }
        }
    }
}

// ------------------------------------------------------------------ re-queueing and refusals

void Engine::requeue(const Batch& batch) {  // R-REQUEUE: only attempts known to be aborted
    for (const auto& cmd : batch) {
        const RequestKey key{cmd.client, cmd.request};
        assert(in_doubt_.count(key) == 0);
        if (waiting_.count(key) == 0 || !queued_.try_emplace(key).second) continue;  // R-ADMIT-RETRY: never twice
        QueuedRequest q;
        q.command = cmd;
        q.bytes = command_bytes(cmd);
        queue_.push_front(std::move(q));  // it was first in line
    }
}

// R-HISTORY: nothing of a history this node leaves can be answered truthfully
// any more, and a request of it may have been applied there at nodes that
// crashed since, which the next history's retry table cannot know.
void Engine::abandon_clients(const std::string& why) {
    std::vector<RequestKey> abandoned;
    for (const auto& [key, w] : waiting_) abandoned.push_back(key);
    std::sort(abandoned.begin(), abandoned.end());
    for (const auto& key : abandoned) reply_error(key, ErrorCode::TimeoutOutcomeUnknown, why);
    queue_.clear();
    queued_.clear();
    in_doubt_.clear();
}

// Answers every queued request. The queue holds only requests no attempt of
// which may commit (R-IN-DOUBT keeps the others out of it): "not applied" is true.
void Engine::refuse_queued(ErrorCode code, const std::string& detail) {
    while (!queue_.empty()) {
        const QueuedRequest& q = queue_.front();
        const RequestKey key{q.command.client, q.command.request};
        assert(in_doubt_.count(key) == 0);
        if (waiting_.count(key) != 0) reply_error(key, code, detail + "; not applied");
        queued_.erase(key);
        queue_.pop_front();
    }
}

}  // namespace tricache::coordinator
