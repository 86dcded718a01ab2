#include "client/client.hpp"

#include <algorithm>
#include <charconv>
#include <random>

#include <zmq.hpp>

#include "curve/keys.hpp"

namespace tricache::client {
namespace {

using protocol::ErrorCode;
using Clock = std::chrono::steady_clock;

std::uint64_t random_u64() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

protocol::ClientId random_client_id() {
    protocol::ClientId id = 0;
    while (id == 0) id = random_u64();
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
    using Outcome = std::optional<Result<protocol::ClientResponseBody>>;

    Options options;
    protocol::ClientId id = 0;
    protocol::RequestId next_request = 0;
    std::uint64_t jitter_seed = 0;
    std::size_t preferred = 0;  // the server that answered last
    zmq::context_t context{1};
    std::vector<zmq::socket_t> sockets;  // one DEALER per server, same order as options.servers
    protocol::CodecLimits limits;
    CallStats last;
    CallStats totals;

    // Reads what socket `index` holds. Replies naming (id, request) go to the
    // ledger; returns the call's result once a reply decides it.
    Outcome drain(std::size_t index, protocol::RequestId request, std::optional<std::size_t> current,
                  AttemptLedger& ledger, bool any_node) {
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
            const bool ours = resp.client == id && resp.request == request;
            // A node that could not read our request cannot name it: it answers
            // (0, 0). On the socket we just used, that is the answer to this request.
            const bool anonymous = current == index && resp.client == 0 && resp.request == 0 &&
                                   std::holds_alternative<protocol::ErrorReply>(resp.body);
            if (!ours && !anonymous) continue;  // a late answer to an earlier request: drop it
            if (const auto* err = std::get_if<protocol::ErrorReply>(&resp.body)) {
                if (auto stop = ledger.on_error(index, Error{err->code, err->detail})) return Outcome{std::move(*stop)};
                continue;
            }
            ledger.on_success(index);
            if (any_node) preferred = index;
            return Outcome{std::move(resp.body)};
        }
    }

    // Polls every socket (any may carry a late answer to this request) until
    // `until`, until `done()` holds, or until a reply decides the call.
    template <class Done>
    Outcome poll_until(Clock::time_point until, protocol::RequestId request, std::optional<std::size_t> current,
                       AttemptLedger& ledger, bool any_node, Done done) {
        std::vector<zmq_pollitem_t> items;
        for (auto& s : sockets) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
        for (;;) {
            const auto now = Clock::now();
            const auto left = until > now ? std::chrono::ceil<std::chrono::milliseconds>(until - now)
                                          : std::chrono::milliseconds(0);
            try {
                zmq::poll(items, left);
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR) return std::nullopt;
            }
            for (std::size_t i = 0; i < items.size(); ++i) {
                if ((items[i].revents & ZMQ_POLLIN) == 0) continue;
                if (auto out = drain(i, request, current, ledger, any_node)) return out;
            }
            if (done() || Clock::now() >= until) return std::nullopt;
        }
    }

    bool send(std::size_t server, const std::string& bytes) {
        try {
            return sockets[server].send(zmq::const_buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait)
                .has_value();
        } catch (const zmq::error_t&) {
            return false;
        }
    }

    // One request, the same (id, request id) in every attempt. Rounds over the
    // servers, a Backoff pause between rounds; the AttemptLedger decides when
    // an honest answer can be given before the deadline (client/retry_policy.hpp).
    Result<protocol::ClientResponseBody> call(protocol::ClientRequestBody body, const Target& target) {
        const auto started = Clock::now();
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
        const bool any_node = std::holds_alternative<AnyNode>(target);
        const auto deadline = started + options.deadline;
        AttemptLedger ledger(options.servers);
        Backoff backoff(options.backoff, jitter_seed ^ (req.request * 0x9e3779b97f4a7c15ULL));
        CallStats stats;
        stats.calls = 1;
        auto finish = [&](Result<protocol::ClientResponseBody> r) {
            stats.attempts = ledger.attempts();
            stats.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
            last = stats;
            totals.calls += 1;
            totals.attempts += stats.attempts;
            totals.rounds += stats.rounds;
            totals.paused += stats.paused;
            totals.elapsed += stats.elapsed;
            return r;
        };
        while (Clock::now() < deadline) {
            ++stats.rounds;
            for (std::size_t server : order) {
                if (Clock::now() >= deadline) break;
                if (!ledger.worth_trying(server)) continue;
                const bool sent = send(server, bytes);
                ledger.on_send(server, sent);
                // Not even queued (the queue towards that node is full): the
                // round moves on, and the pause below paces the next try.
                if (!sent) continue;
                const std::size_t answers = ledger.answers(server);
                const auto until = std::min(deadline, Clock::now() + options.attempt_timeout);
                if (auto out = poll_until(until, req.request, server, ledger, any_node,
                                          [&] { return ledger.answers(server) > answers; })) {
                    return finish(std::move(*out));
                }
            }
            if (auto stop = ledger.after_round(order)) return finish(std::move(*stop));
            const auto now = Clock::now();
            if (now >= deadline) break;
            const auto until = std::min(deadline, now + backoff.next());
            if (auto out = poll_until(until, req.request, std::nullopt, ledger, any_node,
                                      [&] { return ledger.after_round(order).has_value(); })) {
                return finish(std::move(*out));
            }
            stats.paused += std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - now);
            if (auto stop = ledger.after_round(order)) return finish(std::move(*stop));
        }
        return finish(ledger.at_deadline(options.deadline));
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
    if (auto e = backoff_config_error(options.backoff)) return Error{ErrorCode::BadRequest, *e};
    auto impl = std::make_unique<Impl>();
    impl->id = options.client_id.value_or(random_client_id());
    impl->jitter_seed = options.jitter_seed.value_or(random_u64());
    impl->limits.max_message_bytes = options.max_response_bytes;
    if (const auto& k = options.curve) {
        if (k->server_keys.size() != options.servers.size()) {
            return Error{ErrorCode::BadRequest, "CURVE needs one server key per server (" +
                                                    std::to_string(options.servers.size()) + " servers, " +
                                                    std::to_string(k->server_keys.size()) + " keys)"};
        }
        for (const auto& key : k->server_keys) {
            if (!curve::is_z85_key(key)) return Error{ErrorCode::BadRequest, "'" + key + "' is not a Z85 public key"};
        }
        if (!curve::is_z85_key(k->public_key) || !curve::is_z85_key(k->secret_key)) {
            return Error{ErrorCode::BadRequest, "the client key pair is not two Z85 keys"};
        }
    }
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
            if (const auto& k = options.curve) {
                sock.set(zmq::sockopt::curve_serverkey, k->server_keys[impl->sockets.size()]);
                sock.set(zmq::sockopt::curve_publickey, k->public_key);
                sock.set(zmq::sockopt::curve_secretkey, k->secret_key);
            }
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
const CallStats& Client::last_call() const { return impl_->last; }
const CallStats& Client::totals() const { return impl_->totals; }
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
