// tricache client library: talks the client protocol to one or several nodes.
//
// Every request gets this client's id (random per instance) and the next
// request id. When a node answers NO_QUORUM, NOT_READY, OVERLOADED or ABORTED
// (nothing was applied) or does not answer within attempt_timeout, the SAME
// request id is sent to the next node: the replicated retry table
// (R-RETRY-TABLE) makes that safe, so a retried write is applied at most once.
// Attempts go in rounds (every server at most once per round) with a jittered,
// exponentially growing pause between rounds (client/retry_policy.hpp), so a
// call never spins. When every server has refused and no attempt may have
// been applied, the call returns the refusal at once instead of waiting for
// the deadline. When some attempt may have been applied (sent and never
// answered, or answered TIMEOUT_OUTCOME_UNKNOWN), it keeps retrying to learn
// the outcome and, failing that, returns TIMEOUT_OUTCOME_UNKNOWN at the
// deadline, never a refusal. Every failure is a value; nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "client/result.hpp"
#include "client/retry_policy.hpp"
#include "protocol/codec.hpp"
#include "protocol/messages.hpp"

namespace tricache::client {

// CURVE: this client's key pair and each server's public key (Z85), the
// server keys in the same order as Options::servers.
struct CurveKeys {
    std::string public_key;
    std::string secret_key;
    std::vector<std::string> server_keys;
};

struct Options {
    std::vector<std::string> servers;  // "HOST:PORT" or "tcp://HOST:PORT", tried in this order
    std::string cluster_id = "tricache";
    std::chrono::milliseconds attempt_timeout{2000};  // wait for one node before trying the next
    std::chrono::milliseconds deadline{12000};        // the whole request, every attempt included
    std::optional<protocol::ClientId> client_id;      // random when not given
    std::size_t max_response_bytes = 64u << 20;
    BackoffConfig backoff;                            // the pause between two rounds of attempts
    std::optional<std::uint64_t> jitter_seed;         // random when not given
    std::optional<CurveKeys> curve;                   // set: every connection is CURVE
};

// How one call went (Client::last_call), or all calls so far (Client::totals).
struct CallStats {
    std::size_t calls = 0;
    std::size_t attempts = 0;  // requests handed to a socket, or tried and not queued
    std::size_t rounds = 0;    // passes over the servers
    std::chrono::milliseconds paused{0};   // time spent in backoff pauses
    std::chrono::milliseconds elapsed{0};  // wall time of the call(s)
};

// Which node a request goes to.
struct AnyNode {};          // failover across every server, starting with the last one that answered
struct OneNode {            // only this server (by index into Options::servers), e.g. status or admin
    std::size_t index = 0;
};
using Target = std::variant<AnyNode, OneNode>;

class Client {
public:
    static Result<Client> connect(Options options);

    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    ~Client();

    // Linearizable operations (one round through the total order).
    Result<protocol::OpResult> get(std::string key);
    Result<protocol::OpResult> set(std::string key, std::string value);
    Result<protocol::OpResult> del(std::string key);
    // expected = nullopt: set only if the key is absent.
    Result<protocol::OpResult> cas(std::string key, std::optional<std::string> expected, std::string value);
    Result<std::vector<protocol::OpResult>> multi(std::vector<protocol::Op> ops);

    // From one node's store, no round, no recency change; possibly stale.
    Result<protocol::LocalGetReply> local_get(std::string key, Target target = AnyNode{});
    Result<protocol::StatusReply> status(Target target = AnyNode{});
    Result<protocol::AdminReply> admin(protocol::AdminRequest request, Target target = OneNode{0});

    // The general form: one request, with retries as described above.
    Result<protocol::ClientResponseBody> call(protocol::ClientRequestBody body, Target target = AnyNode{});

    const CallStats& last_call() const;  // the latest call (every operation above is one call)
    const CallStats& totals() const;     // every call of this client so far

    protocol::ClientId id() const;
    std::size_t server_count() const;
    const std::string& server(std::size_t index) const;

private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// "HOST:PORT" or "tcp://HOST:PORT" -> "tcp://HOST:PORT"; nullopt when malformed.
std::optional<std::string> server_endpoint(std::string_view text);

}  // namespace tricache::client
