#include "client/retry_policy.hpp"

#include <algorithm>
#include <cassert>

namespace tricache::client {

using protocol::ErrorCode;

std::optional<std::string> backoff_config_error(const BackoffConfig& config) {
    if (config.initial.count() <= 0 || config.cap.count() <= 0) return "backoff times must be positive";
    if (config.initial > config.cap) return "the first backoff must not exceed the backoff cap";
    return std::nullopt;
}

Backoff::Backoff(BackoffConfig config, std::uint64_t seed)
    : config_(config), ceiling_(std::min(config.initial, config.cap)), state_(seed) {
    assert(!backoff_config_error(config));
}

// splitmix64: small, fast, and the same numbers on every platform.
std::uint64_t Backoff::draw() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::chrono::milliseconds Backoff::next() {
    const auto c = static_cast<std::uint64_t>(ceiling_.count());
    const std::uint64_t low = (c + 1) / 2;
    const std::uint64_t pause = low + draw() % (c - low + 1);
    ceiling_ = std::min(ceiling_ * 2, config_.cap);
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(pause));
}

ReplyKind classify(ErrorCode code) {
    switch (code) {
        case ErrorCode::NoQuorum:
        case ErrorCode::NotReady: return ReplyKind::Refused;
        case ErrorCode::Overloaded:
        case ErrorCode::Aborted: return ReplyKind::Transient;
        case ErrorCode::TimeoutOutcomeUnknown: return ReplyKind::Unknown;
        default: return ReplyKind::Final;
    }
}

AttemptLedger::AttemptLedger(std::vector<std::string> server_names)
    : names_(std::move(server_names)), servers_(names_.size()), tries_(names_.size(), 0) {}

void AttemptLedger::on_send(std::size_t server, bool sent) {
    assert(server < servers_.size());
    ++attempts_;
    ++tries_[server];
    if (sent) ++servers_[server].sent;
}

std::optional<Error> AttemptLedger::on_error(std::size_t server, Error error) {
    assert(server < servers_.size());
    Server& s = servers_[server];
    // A node answers a request at most once per copy it was sent; a surplus
    // reply (none is expected) settles nothing more.
    if (s.answered < s.sent) ++s.answered;
    const ReplyKind kind = classify(error.code);
    if (kind == ReplyKind::Unknown) s.unknown = true;
    s.last_kind = kind;
    s.last_error = error;
    last_error_ = error;
    if (kind == ReplyKind::Final && !maybe_applied()) return with_summary(std::move(error));
    return std::nullopt;
}

void AttemptLedger::on_success(std::size_t server) {
    assert(server < servers_.size());
    Server& s = servers_[server];
    if (s.answered < s.sent) ++s.answered;
}

bool AttemptLedger::outstanding(std::size_t server) const {
    return servers_.at(server).answered < servers_.at(server).sent;
}

std::size_t AttemptLedger::answers(std::size_t server) const { return servers_.at(server).answered; }

bool AttemptLedger::worth_trying(std::size_t server) const {
    return servers_.at(server).last_kind != ReplyKind::Final;
}

bool AttemptLedger::maybe_applied() const {
    return std::any_of(servers_.begin(), servers_.end(),
                       [](const Server& s) { return s.unknown || s.answered < s.sent; });
}

std::optional<Error> AttemptLedger::after_round(const std::vector<std::size_t>& servers) const {
    assert(!servers.empty());
    const bool any_worth = std::any_of(servers.begin(), servers.end(), [&](std::size_t s) { return worth_trying(s); });
    if (!any_worth && maybe_applied()) {
        return Error{ErrorCode::TimeoutOutcomeUnknown,
                     "every server refuses for good (last: " + last_error_.value_or(Error{}).to_string() +
                         "), but an earlier attempt may have applied; " + summary()};
    }
    if (maybe_applied()) return std::nullopt;
    // Nothing may have been applied: stop once every server has definitely
    // refused, reporting the most telling refusal (a final error, then
    // NO_QUORUM, then NOT_READY; the first in the given order among equals).
    const Error* best = nullptr;
    auto rank = [](const Error& e) {
        if (classify(e.code) == ReplyKind::Final) return 0;
        return e.code == ErrorCode::NoQuorum ? 1 : 2;
    };
    for (std::size_t i : servers) {
        const Server& s = servers_.at(i);
        if (s.last_kind != ReplyKind::Refused && s.last_kind != ReplyKind::Final) return std::nullopt;
        if (best == nullptr || rank(*s.last_error) < rank(*best)) best = &*s.last_error;
    }
    return with_summary(*best);
}

Error AttemptLedger::at_deadline(std::chrono::milliseconds deadline) const {
    const std::string within = "within " + std::to_string(deadline.count()) + " ms";
    if (maybe_applied()) {
        const bool unknown = std::any_of(servers_.begin(), servers_.end(), [](const Server& s) { return s.unknown; });
        return Error{ErrorCode::TimeoutOutcomeUnknown,
                     "no outcome " + within + " after " + summary() + " (" +
                         (unknown ? "a node answered TIMEOUT_OUTCOME_UNKNOWN" : "an attempt went unanswered") +
                         "); the request may or may not apply"};
    }
    if (last_error_) return with_summary(*last_error_);
    // Every attempt failed to be queued: nothing left this client.
    return Error{ErrorCode::Overloaded, "could not queue the request towards any server " + within + " after " +
                                            summary() + "; never sent, not applied"};
}

Error AttemptLedger::with_summary(Error error) const {
    error.detail += " (" + summary() + ")";
    return error;
}

std::string AttemptLedger::summary() const {
    std::string tried;
    for (std::size_t i = 0; i < names_.size(); ++i) {
        if (tries_[i] == 0) continue;
        tried += (tried.empty() ? "" : ", ") + names_[i];
    }
    return std::to_string(attempts_) + " attempt(s) at " + (tried.empty() ? std::string("no server") : tried);
}

}  // namespace tricache::client
