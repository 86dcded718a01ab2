// Named errors: every failure that crosses a module or process boundary is one
// of these values, never an exception or a bare string.
#pragma once

#include <cstdint>
#include <string_view>

namespace tricache::protocol {

enum class ErrorCode : std::uint8_t {
    // Replies to clients.
    NoQuorum = 1,               // this node's side has no majority of the configured cluster
    TimeoutOutcomeUnknown = 2,  // the request may or may not have been applied
    NotReady = 3,               // rejoining, or not yet installed a snapshot
    BadRequest = 4,             // well-formed msgpack, but a request that makes no sense
    TooLarge = 5,               // a key, value, batch or message over a configured limit
    WrongCluster = 6,           // the message names another cluster id
    Aborted = 7,                // the transaction was aborted; nothing was applied
    Overloaded = 8,             // too much in flight; retry later
    NeedsRebootstrap = 9,       // a majority lost memory; an operator must rebootstrap
    // Decoding failures (codec).
    Truncated = 20,
    WrongType = 21,
    WrongArity = 22,
    UnknownKind = 23,
    UnsupportedVersion = 24,
    Malformed = 25,  // trailing bytes, nesting too deep, invalid field value
};

constexpr std::string_view error_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::NoQuorum: return "NO_QUORUM";
        case ErrorCode::TimeoutOutcomeUnknown: return "TIMEOUT_OUTCOME_UNKNOWN";
        case ErrorCode::NotReady: return "NOT_READY";
        case ErrorCode::BadRequest: return "BAD_REQUEST";
        case ErrorCode::TooLarge: return "TOO_LARGE";
        case ErrorCode::WrongCluster: return "WRONG_CLUSTER";
        case ErrorCode::Aborted: return "ABORTED";
        case ErrorCode::Overloaded: return "OVERLOADED";
        case ErrorCode::NeedsRebootstrap: return "NEEDS_REBOOTSTRAP";
        case ErrorCode::Truncated: return "TRUNCATED";
        case ErrorCode::WrongType: return "WRONG_TYPE";
        case ErrorCode::WrongArity: return "WRONG_ARITY";
        case ErrorCode::UnknownKind: return "UNKNOWN_KIND";
        case ErrorCode::UnsupportedVersion: return "UNSUPPORTED_VERSION";
        case ErrorCode::Malformed: return "MALFORMED";
    }
    return "UNKNOWN_ERROR";
}

constexpr bool is_known_error_code(std::uint8_t raw) {
    return (raw >= 1 && raw <= 9) || (raw >= 20 && raw <= 25);
}

}  // namespace tricache::protocol
