#include "node/auth/zap.hpp"

#include "curve/keys.hpp"

namespace tricache::node::auth {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

// A ZAP request: version, request id, domain, address, identity, mechanism, credentials...
struct Request {
    std::vector<std::string> frames;
    std::string_view frame(std::size_t i) const { return i < frames.size() ? std::string_view(frames[i]) : ""; }
};

}  // namespace

std::string_view door_name(Door d) { return d == Door::Peer ? "peer" : "client"; }

Policy policy_from_z85(const std::vector<std::string>& peer_keys, const std::vector<std::string>& client_keys) {
    Policy p;
    for (const auto& k : peer_keys) {
        if (auto raw = curve::decode_key(k)) p.peer_keys.insert(std::move(*raw));
    }
    for (const auto& k : client_keys) {
        if (auto raw = curve::decode_key(k)) p.client_keys.insert(std::move(*raw));
    }
    return p;
}

Decision decide(const Policy& policy, std::string_view mechanism, std::string_view domain, std::string_view key) {
    Decision d;
    if (domain == kPeerDomain) d.door = Door::Peer;
    if (domain == kClientDomain) d.door = Door::Client;
    if (!d.door) {
        d.reason = "unknown_domain";
        return d;
    }
    if (mechanism != "CURVE") {
        d.reason = "not_curve";
        return d;
    }
    const auto& keys = *d.door == Door::Peer ? policy.peer_keys : policy.client_keys;
    d.allow = key.size() == 32 && keys.count(std::string(key)) != 0;
    if (!d.allow) d.reason = "unknown_key";
    return d;
}

ZapHandler::ZapHandler(zmq::context_t& context, Policy policy)
    : policy_(std::move(policy)), socket_(context, zmq::socket_type::rep) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind(kZapEndpoint);
}

int ZapHandler::fd() const { return socket_.get(zmq::sockopt::fd); }

std::vector<Refusal> ZapHandler::serve() {
    std::vector<Refusal> refused;
    for (;;) {
        Request req;
        zmq::message_t part;
        if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
        req.frames.push_back(part.to_string());
        while (part.more()) {
            if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
            req.frames.push_back(part.to_string());
        }
        // Frames 0..6: version, request id, domain, address, identity, mechanism, key.
        const bool well_formed = req.frame(0) == "1.0" && req.frames.size() >= 6;
        Decision d = well_formed ? decide(policy_, req.frame(5), req.frame(2), req.frame(6)) : Decision{};
        if (!well_formed) d.reason = "malformed_request";
        const std::string status = d.allow ? "200" : well_formed ? "400" : "500";
        const std::string text = d.allow ? "OK" : d.reason;
        const std::string user = d.allow && d.door ? std::string(door_name(*d.door)) : "";
        const std::string reply[] = {"1.0", std::string(req.frame(1)), status, text, user, ""};
        for (std::size_t i = 0; i < std::size(reply); ++i) {
            const auto flags = i + 1 < std::size(reply) ? zmq::send_flags::sndmore : zmq::send_flags::none;
            (void)socket_.send(zmq::buffer(reply[i]), flags);
        }
        if (!d.allow) {
            const std::string_view key = req.frame(6);
            refused.push_back(Refusal{d.door, d.reason, key.size() == 32 ? curve::encode_key(key) : "",
                                      std::string(req.frame(3))});
        }
    }
    return refused;
}

}  // namespace tricache::node::auth
