#include "node/metrics/request_stats.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "coordinator/hash.hpp"
#include "protocol/errors.hpp"

namespace tricache::node::metrics {
namespace {

constexpr std::array<std::string_view, kOps> kOpNames = {
    "get",   "set",   "del",   "cas",   "incr",      "append", "exists", "require",
    "count", "scan",  "clear", "multi", "local_get", "status", "admin",  "other"};
constexpr std::size_t kMulti = 11, kLocalGet = 12, kStatus = 13, kAdmin = 14, kOther = 15;

constexpr std::array<std::string_view, kResults> kResultNames = {
    "ok",       "not_found", "not_applied", "NO_QUORUM", "TIMEOUT_OUTCOME_UNKNOWN", "NOT_READY", "BAD_REQUEST",
    "TOO_LARGE", "WRONG_CLUSTER", "ABORTED", "OVERLOADED", "NEEDS_REBOOTSTRAP", "other_error"};
constexpr std::size_t kOk = 0, kNotFound = 1, kNotApplied = 2, kOtherError = 12;

std::size_t one_op(const protocol::Op& op) {
    return std::visit(
        [](const auto& o) -> std::size_t {
            using T = std::remove_cvref_t<decltype(o)>;
            if constexpr (std::is_same_v<T, protocol::Get>) return 0;
            else if constexpr (std::is_same_v<T, protocol::Set>) return 1;
            else if constexpr (std::is_same_v<T, protocol::Del>) return 2;
            else if constexpr (std::is_same_v<T, protocol::Cas>) return 3;
            else if constexpr (std::is_same_v<T, protocol::Incr>) return 4;
            else if constexpr (std::is_same_v<T, protocol::Append>) return 5;
            else if constexpr (std::is_same_v<T, protocol::Exists>) return 6;
            else if constexpr (std::is_same_v<T, protocol::Require>) return 7;
            else if constexpr (std::is_same_v<T, protocol::Count>) return 8;
            else if constexpr (std::is_same_v<T, protocol::Scan>) return 9;
            else if constexpr (std::is_same_v<T, protocol::Clear>) return 10;
            else return kOther;
        },
        op);
}

std::size_t error_result(protocol::ErrorCode code) {
    switch (code) {
        case protocol::ErrorCode::NoQuorum: return 3;
        case protocol::ErrorCode::TimeoutOutcomeUnknown: return 4;
        case protocol::ErrorCode::NotReady: return 5;
        case protocol::ErrorCode::BadRequest: return 6;
        case protocol::ErrorCode::TooLarge: return 7;
        case protocol::ErrorCode::WrongCluster: return 8;
        case protocol::ErrorCode::Aborted: return 9;
        case protocol::ErrorCode::Overloaded: return 10;
        case protocol::ErrorCode::NeedsRebootstrap: return 11;
        default: return kOtherError;
    }
}

}  // namespace

std::string_view door_name(Door d) { return d == Door::Native ? "native" : "redis"; }
std::string_view op_name(std::size_t op) { return kOpNames.at(op); }
std::string_view result_name(std::size_t result) { return kResultNames.at(result); }

std::size_t op_of(const protocol::ClientRequestBody& body) {
    if (const auto* ops = std::get_if<protocol::OpsRequest>(&body)) {
        if (ops->ops.size() == 1) return one_op(ops->ops.front());
        return kMulti;
    }
    if (std::holds_alternative<protocol::LocalGetRequest>(body)) return kLocalGet;
    if (std::holds_alternative<protocol::StatusRequest>(body)) return kStatus;
    if (std::holds_alternative<protocol::AdminRequest>(body)) return kAdmin;
    return kOther;
}

std::size_t result_of(const protocol::ClientResponseBody& body, std::size_t op) {
    if (const auto* e = std::get_if<protocol::ErrorReply>(&body)) return error_result(e->code);
    if (const auto* l = std::get_if<protocol::LocalGetReply>(&body)) return l->found ? kOk : kNotFound;
    if (const auto* r = std::get_if<protocol::OpsReply>(&body)) {
        // A multi-op request is one transaction: it was applied, whatever each op found.
        if (op == kMulti || r->results.size() != 1 || r->results.front().ok) return kOk;
        const bool lookup = op == 0 || op == 2 || op == 6;  // get, del, exists
        return lookup ? kNotFound : kNotApplied;
    }
    return kOk;
}

std::size_t RequestStats::KeyHash::operator()(const Key& k) const noexcept {
    return static_cast<std::size_t>(coordinator::mix64(k.first * 0x9e3779b97f4a7c15ULL ^ k.second));
}

void RequestStats::begin(Door door, protocol::ClientId client, protocol::RequestId request,
                         const protocol::ClientRequestBody& body, std::uint64_t now_us) {
    started_.try_emplace(Key{client, request}, Started{door, static_cast<std::uint8_t>(op_of(body)), now_us});
}

void RequestStats::end(const protocol::ClientResponse& response, std::uint64_t now_us) {
    const auto it = started_.find(Key{response.client, response.request});
    if (it == started_.end()) return;
    const Started s = it->second;
    started_.erase(it);
    const auto door = static_cast<std::size_t>(s.door);
    ++counts_.requests[door][s.op][result_of(response.body, s.op)];
    const double seconds = static_cast<double>(now_us >= s.at_us ? now_us - s.at_us : 0) / 1e6;
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), seconds) - kLatencyBounds.begin());
    ++counts_.latency[door][s.op][bucket];
    counts_.latency_sum_seconds[door][s.op] += seconds;
}

void RequestStats::forget_before(std::uint64_t before_us) {
    std::erase_if(started_, [&](const auto& kv) { return kv.second.at_us < before_us; });
}

}  // namespace tricache::node::metrics
