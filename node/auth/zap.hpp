// The node's ZAP handler (ZeroMQ Authentication Protocol, RFC 27): libzmq asks
// it, over inproc://zeromq.zap.01, whether each CURVE handshake on the node's
// bound sockets may complete. One job: decide those requests.
//
// The two doors are told apart by the ZAP domain each bound socket carries: the
// peer PULL admits only the cluster's node keys, the client ROUTER only the
// allowed client keys. Node keys are not client keys: nodes never use another
// node's client door, so a node's secret key gives no client access and a
// client key can never pose as a peer.
//
// Why the node loop polls the REP socket (not a thread of its own): the refusal
// counts and their rate-limited log live on the loop like every other counter,
// with no locks; a handshake waits at most one loop pass, far inside libzmq's
// handshake timeout. The handler must be bound before the CURVE sockets are:
// without a handler libzmq lets CURVE handshakes through unchecked.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

namespace tricache::node::auth {

enum class Door : std::uint8_t { Peer = 0, Client = 1 };
constexpr std::size_t kDoors = 2;
std::string_view door_name(Door d);  // "peer", "client"

// The ZAP domains the server sets on its bound sockets.
constexpr std::string_view kPeerDomain = "tricache-peer";
constexpr std::string_view kClientDomain = "tricache-client";

// Who may come in: raw 32-byte CURVE public keys.
struct Policy {
    std::set<std::string> peer_keys;
    std::set<std::string> client_keys;
};

// Builds a policy from Z85 keys; malformed ones are skipped (the config checked them).
Policy policy_from_z85(const std::vector<std::string>& peer_keys, const std::vector<std::string>& client_keys);

struct Decision {
    bool allow = false;
    std::optional<Door> door;  // from the domain; nullopt: not one of ours
    std::string reason;        // why refused: "unknown_key", "not_curve", "unknown_domain"
};

// The whole decision, a pure function: mechanism as ZAP names it ("CURVE"),
// the socket's domain, the client's raw public key.
Decision decide(const Policy& policy, std::string_view mechanism, std::string_view domain, std::string_view key);

// One refused handshake, for the owner to count and log.
struct Refusal {
    std::optional<Door> door;
    std::string reason;
    std::string key_z85;  // the key offered, Z85; empty when none
    std::string address;  // the remote IP address libzmq reports
};

class ZapHandler {
public:
    // Binds the REP socket on inproc://zeromq.zap.01 of `context`. Throws zmq::error_t.
    ZapHandler(zmq::context_t& context, Policy policy);

    int fd() const;
    // Answers every waiting request; returns the refused ones. Reads until the
    // socket is empty, so its descriptor fires again for the next request.
    std::vector<Refusal> serve();

private:
    Policy policy_;
    zmq::socket_t socket_;
};

}  // namespace tricache::node::auth
