// One tricache node process: the engine behind ZeroMQ, driven by one event loop.
//
// Transport (why PUSH/PULL for peers): every peer message of the protocol is a
// one-way datagram addressed by node id; an answer is a separate message that
// the engine addresses itself. So each node binds one PULL socket for all
// inbound peer traffic and keeps one PUSH socket per other node, connected to
// that node's PULL. Nothing ever needs to reply on the connection a message came
// in on, so ROUTER identities would add nothing but a failure mode (a restarted
// peer reconnecting with an identity the ROUTER still holds). Every PUSH has
// ZMQ_IMMEDIATE (nothing is queued for a peer that is not connected), a bounded
// SNDHWM and ZMQ_LINGER 0, and every send is ZMQ_DONTWAIT: when a peer is slow
// or gone the message is dropped, which the protocol tolerates (R-RESEND,
// R-DECISION-QUERY) and the loop needs (it must never block).
//
// Clients talk to a ROUTER: each request frame is an encoded ClientRequest and
// the reply goes back to the routing id it came from, found through a bounded
// (client id, request id) -> routing id map. Admin Isolate/Heal are handled
// here, by dropping traffic to and from the named peers; everything else goes
// to the engine unchanged. The node never decides anything of the protocol.
//
// The optional metrics endpoint (node/metrics/exporter.hpp) serves Prometheus
// text from its own HTTP thread; this loop publishes into it every
// kPublishEveryMs, so that thread never reads engine state.
//
// Redis clients talk to the optional third endpoint (node/resp/listener.hpp),
// served by the same loop. It turns each Redis command into ordinary client
// requests under one client id of its own (fresh per process), so they reach
// the engine exactly as native requests do, and the engine's replies to that
// id go back to it.
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <zmq.hpp>

#include "coordinator/engine.hpp"
#include "curve/keys.hpp"
#include "node/auth/zap.hpp"
#include "node/config.hpp"
#include "node/delivery_log.hpp"
#include "node/metrics/exporter.hpp"
#include "node/metrics/peer_traffic.hpp"
#include "node/metrics/request_stats.hpp"
#include "node/resp/listener.hpp"
#include "protocol/codec.hpp"

namespace tricache::node {

// At most `burst` log lines per `window_ms` for one kind of event; the rest are
// counted and reported with the next line that gets through.
class RateLimitedLog {
public:
    RateLimitedLog(std::uint64_t burst, std::uint64_t window_ms) : burst_(burst), window_ms_(window_ms) {}
    // True when a line may be written now; `suppressed` is how many were not since the last one.
    bool allow(std::uint64_t now_ms, std::uint64_t& suppressed);

private:
    std::uint64_t burst_;
    std::uint64_t window_ms_;
    std::uint64_t window_start_ = 0;
    std::uint64_t used_ = 0;
    std::uint64_t suppressed_ = 0;
};

// How a decoder failure is reported to a client: decoder codes are not part of
// the client-facing set, so everything but TOO_LARGE (and WRONG_CLUSTER, should
// a decoder ever produce it) becomes BAD_REQUEST. The decoder's own code and
// detail go in the reply's detail: "TRUNCATED: ...".
protocol::ErrorCode client_code_for_decode_error(protocol::ErrorCode decoder_code);

struct ServerOptions {
    ClusterConfig cluster;
    protocol::NodeId self = 0;
    bool bootstrap = false;                // Engine::bootstrap (epoch 1, incarnation 1)
    protocol::Incarnation incarnation = 0;  // for Engine::join: new, > 1
    std::uint64_t seed = 1;
    // Non-empty: write every delivered transaction and snapshot install to
    // DIR/node-<id>-<incarnation>.log (see delivery_log.hpp).
    std::string delivery_log_dir;
    // The node's CURVE key pair (node/auth/secrets.hpp); set exactly when the
    // cluster file gives the nodes keys: every peer and client socket is then CURVE.
    std::optional<curve::KeyPair> curve;
    std::string redis_password;  // non-empty: the Redis endpoint requires AUTH
};

struct ServerCounters {
    std::uint64_t peer_in = 0;
    std::uint64_t peer_out = 0;
    std::uint64_t peer_dropped_in = 0;    // undecodable, wrong cluster, unknown node
    std::uint64_t peer_dropped_out = 0;   // EAGAIN (slow or absent peer) or send error
    std::uint64_t isolated_dropped = 0;   // either direction, while isolated
    std::uint64_t client_requests = 0;
    std::uint64_t client_rejected = 0;    // undecodable or malformed framing
    std::uint64_t replies = 0;
    std::uint64_t replies_unroutable = 0; // no pending entry (expired or never ours)
    std::uint64_t delivery_log_records = 0;
    std::uint64_t delivery_log_errors = 0;
};

class Server {
public:
    using Created = std::variant<std::unique_ptr<Server>, std::string>;
    // Builds the engine, binds both endpoints and connects to every peer.
    // Failures (address in use, bad endpoint) come back as a message.
    static Created create(ServerOptions options, std::shared_ptr<spdlog::logger> log);

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();

    // The event loop. Returns when `stop_fd` (a signalfd or pipe) becomes readable.
    void run(int stop_fd);

    const ServerCounters& counters() const { return counters_; }
    // The Redis endpoint's port, 0 when the node has none.
    std::uint16_t resp_port() const { return resp_ ? resp_->port() : 0; }
    // The metrics endpoint's port, 0 when the node has none.
    std::uint16_t metrics_port() const { return exporter_ ? exporter_->port() : 0; }
    // What the metrics say about the node now; INFO reads the same (resp_facts).
    metrics::NodeSample sample() const;
    const coordinator::Engine& engine() const { return engine_; }

private:
    struct Pending {
        std::vector<std::string> envelope;  // routing id (and an empty delimiter for REQ clients)
        std::uint64_t expires_ms = 0;
    };
    using RequestKey = std::pair<protocol::ClientId, protocol::RequestId>;

    Server(ServerOptions options, coordinator::Engine engine, std::shared_ptr<spdlog::logger> log);
    void open_sockets();

    // Each takes at most `budget` messages; true when it stopped at the budget (more may be waiting).
    // Both read until the queue is empty (false), or `budget` messages or the
    // pass's time slice ran out (true: more may be waiting).
    bool drain_peers(std::uint64_t budget, std::uint64_t slice_end_ms);
    bool drain_clients(std::uint64_t budget, std::uint64_t slice_end_ms);
    void on_peer_bytes(std::string_view bytes);
    void on_client_frames(std::vector<zmq::message_t>& frames);
    void handle_transport_admin(const std::vector<std::string>& envelope, const protocol::ClientRequest& req);
    void flush();
    void after_engine_call();
    void record_deliveries(const coordinator::Output& out);
    void send_to_client(const std::vector<std::string>& envelope, const protocol::ClientResponse& resp);
    void sweep_pending(std::uint64_t now);
    void log_stats();
    void peer_drop(std::string_view reason, std::string_view detail);
    void open_resp();
    resp::NodeFacts resp_facts() const;
    void open_client_monitor();
    void drain_client_monitor();
    void watch_snapshot_install();
    void publish_metrics();
    void secure_socket(zmq::socket_t& s, std::string_view zap_domain);
    void drain_zap();
    void note_auth_refusal(const auth::Refusal& r);

    ServerOptions options_;
    coordinator::Engine engine_;
    std::shared_ptr<spdlog::logger> log_;
    protocol::CodecLimits limits_;
    std::uint64_t now_ms_ = 0;

    zmq::context_t context_;
    zmq::socket_t peer_in_;
    zmq::socket_t client_;
    std::map<protocol::NodeId, zmq::socket_t> peer_out_;

    std::set<protocol::NodeId> isolated_;
    std::map<RequestKey, Pending> pending_;
    ServerCounters counters_;
    std::map<std::string, RateLimitedLog, std::less<>> peer_logs_;  // one per drop reason: a bounded set
    RateLimitedLog client_log_{5, 1000};
    RateLimitedLog send_log_{5, 1000};
    std::unique_ptr<DeliveryLogWriter> delivery_log_;
    RateLimitedLog delivery_log_log_{5, 1000};
    RateLimitedLog stall_log_{5, 1000};

    std::unique_ptr<resp::Listener> resp_;
    protocol::ClientId resp_client_ = 0;
    std::uint64_t started_ms_ = 0;
    // Replies for the Redis endpoint that arrive while it is itself calling the
    // engine (a flush from after_engine_call): handed over once it returns.
    bool in_resp_ = false;
    std::vector<protocol::ClientResponse> resp_deferred_;

    // Metrics (all on the loop; the exporter only serves what publish_metrics wrote).
    std::unique_ptr<metrics::Exporter> exporter_;
    metrics::RequestStats requests_;
    metrics::PeerTraffic traffic_;
    metrics::HistogramCounts snapshot_install_{metrics::snapshot_install_bounds()};
    std::uint64_t syncing_since_us_ = 0;  // 0: not syncing
    std::uint64_t snapshots_seen_ = 0;
    // The client ROUTER's connect/disconnect events (zmq_socket_monitor).
    zmq::socket_t client_monitor_;
    std::uint64_t native_accepted_ = 0;
    std::uint64_t native_closed_ = 0;

    // CURVE: the ZAP handler (set when the cluster has keys) and what it refused, by door.
    std::unique_ptr<auth::ZapHandler> zap_;
    std::array<std::uint64_t, auth::kDoors> auth_refused_{};
    RateLimitedLog auth_log_{1, 1000};
};

// Milliseconds of std::chrono::steady_clock: the only clock the engine is fed.
std::uint64_t monotonic_ms();
// Microseconds of the same clock, for request latencies.
std::uint64_t monotonic_us();

}  // namespace tricache::node
