// tricache client library: talks the client protocol to one or several nodes.
//
// Every request gets this client's id (random per instance) and the next
// request id. When a node answers NO_QUORUM, NOT_READY, OVERLOADED or ABORTED
// (nothing was applied) or does not answer in time, the SAME request id is
// sent to the next node: the replicated retry table (R-RETRY-TABLE) makes that
// safe, so a retried write is applied at most once. When no attempt produced
// an answer, the result is TIMEOUT_OUTCOME_UNKNOWN: the request may or may not
// have been applied. Every failure is a value; nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/codec.hpp"
#include "protocol/messages.hpp"

namespace tricache::client {

struct Error {
    protocol::ErrorCode code = protocol::ErrorCode::BadRequest;
    std::string detail;
    bool outcome_unknown() const { return code == protocol::ErrorCode::TimeoutOutcomeUnknown; }
    std::string to_string() const { return std::string(protocol::error_name(code)) + ": " + detail; }
};

template <class T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}     // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool ok() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<T>(v_); }
    T& value() & { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    const Error& error() const { return std::get<Error>(v_); }

private:
    std::variant<T, Error> v_;
};

struct Options {
    std::vector<std::string> servers;  // "HOST:PORT" or "tcp://HOST:PORT", tried in this order
    std::string cluster_id = "tricache";
    std::chrono::milliseconds attempt_timeout{2000};  // wait for one node before trying the next
    std::chrono::milliseconds deadline{12000};        // the whole request, every attempt included
    std::optional<protocol::ClientId> client_id;      // random when not given
    std::size_t max_response_bytes = 64u << 20;
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
