#include "client/client.hpp"

#include <algorithm>
#include <charconv>
#include <random>
#include <thread>

#include <zmq.hpp>

namespace tricache::client {
namespace {

using protocol::ErrorCode;
using Clock = std::chrono::steady_clock;

// Replies that say "not applied here, try elsewhere".
bool retry_elsewhere(ErrorCode code) {
    return code == ErrorCode::NoQuorum || code == ErrorCode::NotReady || code == ErrorCode::Overloaded ||
           code == ErrorCode::Aborted;
}

protocol::ClientId random_client_id() {
    std::random_device rd;
    protocol::ClientId id = 0;
    while (id == 0) id = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    return id;
}

Error unexpected(const char* what) { return Error{ErrorCode::BadRequest, std::string("unexpected reply: ") + what}; }

}  // namespace

std::optional<std::string> server_endpoint(std::string_view text) {
    constexpr std::string_view scheme = "tcp://";
    if (text.substr(0, scheme.size()) == scheme) text.remove_prefix(scheme.size());
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const auto port = text.substr(colon + 1);
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    return "tcp://" + std::string(text.substr(0, colon)) + ":" + std::to_string(value);
}

struct Client::Impl {
    Options options;
    protocol::ClientId id = 0;
    protocol::RequestId next_request = 0;
    std::size_t preferred = 0;  // the server that answered last
    zmq::context_t context{1};
    std::vector<zmq::socket_t> sockets;  // one DEALER per server, same order as options.servers
    protocol::CodecLimits limits;

    // One reply read from socket `index`, if it is the answer to (id, request).
    std::optional<protocol::ClientResponseBody> read_reply(std::size_t index, protocol::RequestId request,
                                                           bool current_socket) {
        zmq::message_t msg;
        for (;;) {
            try {
                if (!sockets[index].recv(msg, zmq::recv_flags::dontwait)) return std::nullopt;
            } catch (const zmq::error_t&) {
                return std::nullopt;
            }
            if (msg.more()) continue;  // nodes send one frame; ignore anything else
            auto decoded = protocol::decode_client_response(msg.to_string_view(), limits);
            if (!decoded) continue;
            auto resp = std::move(decoded).value();
            if (resp.client == id && resp.request == request) return std::move(resp.body);
            // A node that could not read our request cannot name it: it answers
            // (0, 0). On the socket we just used, that is the answer to this request.
            if (current_socket && resp.client == 0 && resp.request == 0 &&
                std::holds_alternative<protocol::ErrorReply>(resp.body)) {
                return std::move(resp.body);
            }
            // Anything else is a late answer to an earlier request: drop it.
        }
    }

    // Waits until `until` for the answer to `request`; any socket may carry it.
    std::optional<protocol::ClientResponseBody> wait(protocol::RequestId request, std::size_t current,
                                                     Clock::time_point until) {
        std::vector<zmq_pollitem_t> items;
        for (auto& s : sockets) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
        for (;;) {
            const auto now = Clock::now();
            const auto left = until > now ? std::chrono::duration_cast<std::chrono::milliseconds>(until - now)
                                          : std::chrono::milliseconds(0);
            try {
                zmq::poll(items, left);
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR) return std::nullopt;
            }
            for (std::size_t i = 0; i < items.size(); ++i) {
                if ((items[i].revents & ZMQ_POLLIN) == 0) continue;
                if (auto body = read_reply(i, request, i == current)) return body;
            }
            if (Clock::now() >= until) return std::nullopt;
        }
    }

    Result<protocol::ClientResponseBody> call(protocol::ClientRequestBody body, const Target& target) {
        protocol::ClientRequest req{protocol::kProtocolVersion, options.cluster_id, id, ++next_request,
                                    std::move(body)};
        const std::string bytes = protocol::encode(req);
        std::vector<std::size_t> order;
        if (const auto* one = std::get_if<OneNode>(&target)) {
            if (one->index >= sockets.size()) {
                return Error{ErrorCode::BadRequest, "no server number " + std::to_string(one->index)};
            }
            order.push_back(one->index);
        } else {
            for (std::size_t k = 0; k < sockets.size(); ++k) order.push_back((preferred + k) % sockets.size());
        }
        const auto deadline = Clock::now() + options.deadline;
        bool maybe_applied = false;  // some attempt went unanswered: the outcome is unknown
        std::optional<Error> last_rejection;
        std::string tried;
        std::size_t attempts = 0;
        std::chrono::milliseconds backoff{20};
        for (std::size_t k = 0; Clock::now() < deadline; ++k) {
            const std::size_t server = order[k % order.size()];
            if (k > 0 && k % order.size() == 0 && last_rejection && !maybe_applied) {
                // Every node said "not here": give them a moment before the next round.
                std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - Clock::now()));
                backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
                if (Clock::now() >= deadline) break;
            }
            ++attempts;
            if (tried.find(options.servers[server]) == std::string::npos) {
                tried += (tried.empty() ? "" : ", ") + options.servers[server];
            }
            bool sent = false;
            try {
                sent = sockets[server].send(zmq::const_buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait)
                           .has_value();
            } catch (const zmq::error_t&) {
                sent = false;
            }
            if (!sent) {
                // Queue full towards that node: it has not answered earlier attempts either.
                maybe_applied = true;
                continue;
            }
            const auto until = std::min(deadline, Clock::now() + options.attempt_timeout);
            auto answer = wait(req.request, server, until);
            if (!answer) {
                maybe_applied = true;
                continue;
            }
            if (const auto* err = std::get_if<protocol::ErrorReply>(&*answer)) {
                if (err->code == ErrorCode::TimeoutOutcomeUnknown) {
                    maybe_applied = true;
                    continue;
                }
                if (retry_elsewhere(err->code)) {
                    last_rejection = Error{err->code, err->detail};
                    continue;
                }
                return Error{err->code, err->detail};
            }
            if (std::holds_alternative<AnyNode>(target)) preferred = server;
            return std::move(*answer);
        }
        if (maybe_applied || !last_rejection) {
            return Error{ErrorCode::TimeoutOutcomeUnknown,
                         "no answer within " + std::to_string(options.deadline.count()) + " ms after " +
                             std::to_string(attempts) + " attempt(s) at " + tried + "; the request may or may not apply"};
        }
        return *last_rejection;
    }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Result<Client> Client::connect(Options options) {
    if (options.servers.empty()) return Error{ErrorCode::BadRequest, "no server given"};
    if (options.attempt_timeout.count() <= 0 || options.deadline.count() <= 0) {
        return Error{ErrorCode::BadRequest, "timeouts must be positive"};
    }
    auto impl = std::make_unique<Impl>();
    impl->id = options.client_id.value_or(random_client_id());
    impl->limits.max_message_bytes = options.max_response_bytes;
    try {
        for (const auto& s : options.servers) {
            auto endpoint = server_endpoint(s);
            if (!endpoint) return Error{ErrorCode::BadRequest, "bad server address '" + s + "' (want HOST:PORT)"};
            zmq::socket_t sock(impl->context, zmq::socket_type::dealer);
            sock.set(zmq::sockopt::linger, 0);
            sock.set(zmq::sockopt::sndhwm, 1000);
            sock.set(zmq::sockopt::rcvhwm, 1000);
            sock.set(zmq::sockopt::reconnect_ivl, 100);
            sock.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options.max_response_bytes));
            sock.connect(*endpoint);
            impl->sockets.push_back(std::move(sock));
        }
    } catch (const zmq::error_t& e) {
        return Error{ErrorCode::BadRequest, std::string("cannot connect: ") + e.what()};
    }
    impl->options = std::move(options);
    return Client(std::move(impl));
}

protocol::ClientId Client::id() const { return impl_->id; }
std::size_t Client::server_count() const { return impl_->sockets.size(); }
const std::string& Client::server(std::size_t index) const { return impl_->options.servers.at(index); }

Result<protocol::ClientResponseBody> Client::call(protocol::ClientRequestBody body, Target target) {
    return impl_->call(std::move(body), target);
}

Result<std::vector<protocol::OpResult>> Client::multi(std::vector<protocol::Op> ops) {
    const std::size_t n = ops.size();
    auto r = call(protocol::OpsRequest{std::move(ops)});
    if (!r) return r.error();
    auto* reply = std::get_if<protocol::OpsReply>(&r.value());
    if (reply == nullptr) return unexpected("not an OpsReply");
    if (reply->results.size() != n) return unexpected("wrong number of results");
    return std::move(reply->results);
}

namespace {
Result<protocol::OpResult> single(Result<std::vector<protocol::OpResult>> r) {
    if (!r) return r.error();
    return std::move(r.value().front());
}
}  // namespace

Result<protocol::OpResult> Client::get(std::string key) { return single(multi({protocol::Get{std::move(key)}})); }
Result<protocol::OpResult> Client::set(std::string key, std::string value) {
    return single(multi({protocol::Set{std::move(key), std::move(value)}}));
}
Result<protocol::OpResult> Client::del(std::string key) { return single(multi({protocol::Del{std::move(key)}})); }
Result<protocol::OpResult> Client::cas(std::string key, std::optional<std::string> expected, std::string value) {
    return single(multi({protocol::Cas{std::move(key), std::move(expected), std::move(value)}}));
}

Result<protocol::LocalGetReply> Client::local_get(std::string key, Target target) {
    auto r = call(protocol::LocalGetRequest{std::move(key)}, target);
    if (!r) return r.error();
    auto* reply = std::get_if<protocol::LocalGetReply>(&r.value());
    if (reply == nullptr) return unexpected("not a LocalGetReply");
    return std::move(*reply);
}

Result<protocol::StatusReply> Client::status(Target target) {
    auto r = call(protocol::StatusRequest{}, target);
    if (!r) return r.error();
    auto* reply = std::get_if<protocol::StatusReply>(&r.value());
    if (reply == nullptr) return unexpected("not a StatusReply");
    return std::move(*reply);
}

Result<protocol::AdminReply> Client::admin(protocol::AdminRequest request, Target target) {
    auto r = call(std::move(request), target);
    if (!r) return r.error();
    auto* reply = std::get_if<protocol::AdminReply>(&r.value());
    if (reply == nullptr) return unexpected("not an AdminReply");
    return std::move(*reply);
}

}  // namespace tricache::client
