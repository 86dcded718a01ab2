// The client's retry policy, without sockets or clocks, so it can be tested alone.
//
// One call sends the same request (client id, request id) to its servers in
// rounds: each round gives every server at most one attempt, and between two
// rounds the call pauses for an exponentially growing, jittered time (Backoff).
// An AttemptLedger keeps what the attempts of one call have learned, server by
// server, and decides when the call can stop early with an honest answer:
//
//  - an attempt that was sent and never answered may have been applied, and so
//    may one answered TIMEOUT_OUTCOME_UNKNOWN ("maybe applied");
//  - replies are counted per server: a node answers a request id it already
//    holds only once, so a refusal settles that server's attempts only when it
//    has answered as many times as it was sent the request;
//  - the call returns a refusal (NO_QUORUM, NOT_READY, or a final error such as
//    WRONG_CLUSTER) only when nothing may have been applied; otherwise the best
//    it can say, at the deadline, is TIMEOUT_OUTCOME_UNKNOWN.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/result.hpp"

namespace tricache::client {

struct BackoffConfig {
    std::chrono::milliseconds initial{50};  // the ceiling of the first pause
    std::chrono::milliseconds cap{500};     // no pause is longer than this
};

// Why `config` is unusable, or nullopt.
std::optional<std::string> backoff_config_error(const BackoffConfig& config);

// Exponential backoff with "equal jitter": pause n (counting from 0) is drawn
// uniformly from [ceil(c/2), c] whole milliseconds, c = min(cap, initial * 2^n).
// So a pause is never shorter than half the current ceiling (no spinning) and
// never longer than the cap. Deterministic for a given seed.
class Backoff {
public:
    Backoff(BackoffConfig config, std::uint64_t seed);
    std::chrono::milliseconds ceiling() const { return ceiling_; }  // c of the next pause
    std::chrono::milliseconds next();                               // draws a pause, then doubles c (capped)

private:
    std::uint64_t draw();
    BackoffConfig config_;
    std::chrono::milliseconds ceiling_;
    std::uint64_t state_;
};

// What an error reply says about the attempt it answers.
enum class ReplyKind {
    Refused,    // NO_QUORUM, NOT_READY: not applied by this attempt; this node will not do it for a while
    Transient,  // OVERLOADED, ABORTED: not applied by this attempt; worth another try soon
    Unknown,    // TIMEOUT_OUTCOME_UNKNOWN: this attempt may have been applied
    Final,      // anything else (BAD_REQUEST, WRONG_CLUSTER, NEEDS_REBOOTSTRAP, ...): not applied; do not retry there
};
ReplyKind classify(protocol::ErrorCode code);

class AttemptLedger {
public:
    explicit AttemptLedger(std::vector<std::string> server_names);

    // One attempt towards `server`; sent = false when it could not even be queued.
    void on_send(std::size_t server, bool sent);
    // An error reply from `server` naming this call's request. Returns the
    // error the call must return right now, if any: a Final error when nothing
    // may have been applied.
    std::optional<Error> on_error(std::size_t server, Error error);
    // A success from `server` (the caller returns it; kept for the counts).
    void on_success(std::size_t server);

    bool outstanding(std::size_t server) const;  // sent more often than it answered
    std::size_t answers(std::size_t server) const;  // replies from it so far
    bool worth_trying(std::size_t server) const;  // has not answered a Final error
    bool maybe_applied() const;
    std::size_t attempts() const { return attempts_; }

    // After a round over `servers` (and after each pause): the answer to return
    // now, if every one of them has definitely refused and nothing may have
    // been applied, or if none is worth trying any more.
    std::optional<Error> after_round(const std::vector<std::size_t>& servers) const;
    // The answer when the deadline has passed.
    Error at_deadline(std::chrono::milliseconds deadline) const;

private:
    struct Server {
        std::size_t sent = 0;      // attempts queued towards it
        std::size_t answered = 0;  // replies from it naming this request
        bool unknown = false;      // it answered TIMEOUT_OUTCOME_UNKNOWN
        std::optional<ReplyKind> last_kind;
        std::optional<Error> last_error;
    };
    std::string summary() const;           // "N attempt(s) at A, B"
    Error with_summary(Error error) const;  // the detail followed by the summary

    std::vector<std::string> names_;
    std::vector<Server> servers_;
    std::vector<std::size_t> tries_;  // attempts per server, queued or not
    std::size_t attempts_ = 0;
    std::optional<Error> last_error_;  // the latest error reply, from any server
};

}  // namespace tricache::client
