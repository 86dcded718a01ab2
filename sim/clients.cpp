#include "sim/clients.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <utility>

#include "sim/convert.hpp"

namespace tricache::sim {

namespace {

// Named errors that mean "definitely not applied" (for a request sent once).
bool definitely_not_applied(protocol::ErrorCode code) {
    switch (code) {
        case protocol::ErrorCode::Aborted:
        case protocol::ErrorCode::Overloaded:
        case protocol::ErrorCode::TooLarge:
        case protocol::ErrorCode::BadRequest:
        case protocol::ErrorCode::NoQuorum:
        case protocol::ErrorCode::NotReady:
        case protocol::ErrorCode::WrongCluster: return true;
        default: return false;
    }
}

}  // namespace

Clients::Clients(std::uint32_t count, protocol::ClientId first_id, std::string cluster_id)
    : cluster_id_(std::move(cluster_id)),
      first_id_(first_id),
      slots_(count),
      waiting_((std::size_t{count} + 63) / 64, 0),
      histories_(1) {
    for (std::uint32_t i = 0; i < count; ++i) slots_[i].id = first_id + i;
}

bool Clients::any_waiting() const {
    return std::any_of(waiting_.begin(), waiting_.end(), [](std::uint64_t w) { return w != 0; });
}

std::uint32_t Clients::next_idle(std::uint32_t from) const {
    const std::uint32_t n = count();
    while (from < n) {
        // Bits at or after `from` in its word that are idle.
        const std::uint64_t idle = ~waiting_[from / 64] >> (from % 64);
        if (idle != 0) return std::min(n, from + static_cast<std::uint32_t>(std::countr_zero(idle)));
        from = (from / 64 + 1) * 64;
    }
    return n;
}

void Clients::set_waiting(std::uint32_t slot, bool on) {
    const std::uint64_t bit = std::uint64_t{1} << (slot % 64);
    if (on) {
        waiting_[slot / 64] |= bit;
    } else {
        waiting_[slot / 64] &= ~bit;
    }
}

bool Clients::can_retry(std::uint32_t slot) const {
    const Slot& s = slots_.at(slot);
    return s.current && std::holds_alternative<protocol::OpsRequest>(s.current->body);
}

protocol::ClientRequest Clients::start(std::uint32_t slot, NodeId node, protocol::ClientRequestBody body,
                                       bool wrong_cluster, std::uint64_t time, std::size_t history) {
    Slot& s = slots_.at(slot);
    assert(!waiting(slot));
    protocol::ClientRequest req;
    req.cluster_id = wrong_cluster ? cluster_id_ + "-elsewhere" : cluster_id_;
    req.client = s.id;
    req.request = s.next_request++;
    req.body = std::move(body);
    s.current = req;
    s.tried.assign(1, node);
    s.last_node = node;
    set_waiting(slot, true);
    s.first_send = time;
    s.last_send = time;
    s.attempts = 1;
    s.last_reply = ReplyKind::Ignored;
    ++counters_.requests;
    ++counters_.attempts;
    Open open{req.request, node, time, false, {}, history};
    if (const auto* ops = std::get_if<protocol::OpsRequest>(&req.body)) {
        histories_.at(history).record_invoke(checker::Invoke{time, req.client, req.request, node, to_checker(ops->ops)});
    } else if (const auto* local = std::get_if<protocol::LocalGetRequest>(&req.body)) {
        open.local_read = true;
        open.key = local->key;
    }
    s.open.push_back(std::move(open));
    return req;
}

protocol::ClientRequest Clients::retry(std::uint32_t slot, NodeId node, std::uint64_t time, std::size_t history) {
    Slot& s = slots_.at(slot);
    assert(can_retry(slot));
    const protocol::ClientRequest& req = *s.current;
    set_waiting(slot, true);
    s.last_send = time;
    s.last_reply = ReplyKind::Ignored;
    ++s.attempts;
    if (std::find(s.tried.begin(), s.tried.end(), node) == s.tried.end()) s.tried.push_back(node);
    s.last_node = node;
    ++counters_.attempts;
    const auto& ops = std::get<protocol::OpsRequest>(req.body);
    histories_.at(history).record_invoke(checker::Invoke{time, req.client, req.request, node, to_checker(ops.ops)});
    s.open.push_back(Open{req.request, node, time, false, {}, history});
    return req;
}

void Clients::forget_attempts_at(NodeId node) {
    for (Slot& s : slots_) {
        std::erase_if(s.open, [&](const Open& o) { return o.node == node; });
    }
}

void Clients::give_up(std::uint32_t slot) {
    Slot& s = slots_.at(slot);
    set_waiting(slot, false);
    s.last_reply = ReplyKind::Ignored;
}

std::size_t Clients::begin_new_history() {
    for (std::uint32_t slot = 0; slot < count(); ++slot) {
        if (waiting(slot)) give_up(slot);
    }
    histories_.emplace_back();
    return histories_.size() - 1;
}

checker::CheckResult Clients::recording_error() const {
    for (const auto& h : histories_) {
        if (auto e = h.recording_error()) return e;
    }
    return std::nullopt;
}

ReplyEvent Clients::on_reply(NodeId node, const protocol::ClientResponse& response, std::uint64_t time,
                             std::uint64_t node_start_index, std::size_t node_history) {
    ReplyEvent ev;
    // Client ids are first_id_ + slot; any other id (the operator's) has no slot.
    const std::uint64_t slot_index = response.client - first_id_;
    if (response.client < first_id_ || slot_index >= slots_.size()) {
        ++counters_.unmatched_replies;
        return ev;
    }
    std::vector<Open>& attempts = slots_[slot_index].open;
    const auto it = std::find_if(attempts.begin(), attempts.end(),
                                 [&](const Open& o) { return o.request == response.request && o.node == node; });
    if (it == attempts.end()) {
        ++counters_.unmatched_replies;
        return ev;
    }
    Open open = std::move(*it);
    attempts.erase(it);
    ev.slot = static_cast<std::uint32_t>(slot_index);

    if (open.local_read) {
        if (node_history != open.history && std::holds_alternative<protocol::LocalGetReply>(response.body)) {
            ev.kind = ReplyKind::Info;
            ++counters_.info;
        } else if (const auto* r = std::get_if<protocol::LocalGetReply>(&response.body)) {
            histories_.at(open.history).record_local_read(
                checker::LocalRead{open.sent, time, node, open.key, r->found, r->value, r->delivered, node_start_index});
            ev.kind = ReplyKind::LocalRead;
            ++counters_.local_reads;
        } else {
            ev.kind = ReplyKind::Fail;
            ++counters_.fail;
        }
    } else {
        checker::Complete c;
        c.time = time;
        c.client = response.client;
        c.request = response.request;
        // An attempt stays in the history its node was in when it was sent: a
        // node that moves to another history answers it TIMEOUT_OUTCOME_UNKNOWN
        // (R-HISTORY), so an Ok from another history is judged, not excused.
        if (const auto* ok = std::get_if<protocol::OpsReply>(&response.body)) {
            c.outcome = checker::Outcome::Ok;
            c.results = to_checker(ok->results);
        } else if (const auto* err = std::get_if<protocol::ErrorReply>(&response.body)) {
            const checker::LogicalOp* op = histories_.at(open.history).find(response.client, response.request);
            const bool sent_once = op != nullptr && op->attempts == 1;
            // Another attempt of the same request may still apply it.
            c.outcome = definitely_not_applied(err->code) && sent_once ? checker::Outcome::Fail
                                                                        : checker::Outcome::Info;
        } else {
            c.outcome = checker::Outcome::Info;  // no such answer to an ops request; unknown
        }
        histories_.at(open.history).record_complete(c);
        switch (c.outcome) {
            case checker::Outcome::Ok: ev.kind = ReplyKind::Ok; ++counters_.ok; break;
            case checker::Outcome::Fail: ev.kind = ReplyKind::Fail; ++counters_.fail; break;
            case checker::Outcome::Info: ev.kind = ReplyKind::Info; ++counters_.info; break;
        }
    }

    Slot& s = slots_.at(ev.slot);
    if (waiting(ev.slot) && s.current && s.current->request == response.request) {
        set_waiting(ev.slot, false);
        s.last_reply = ev.kind;
        ev.finished_wait = true;
    }
    return ev;
}

std::string Clients::describe_waiting() const {
    std::string out;
    for (std::uint32_t slot = 0; slot < count(); ++slot) {
        const Slot& s = slots_[slot];
        if (!waiting(slot) || !s.current) continue;
        if (!out.empty()) out += "; ";
        out += "client " + std::to_string(s.id) + " request " + std::to_string(s.current->request) + " sent to";
        for (NodeId n : s.tried) out += " " + std::to_string(n);
        out += " (first at t=" + std::to_string(s.first_send) + ", " + std::to_string(s.attempts) + " attempts)";
    }
    return out;
}

}  // namespace tricache::sim
