#include "node/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <random>

#include <poll.h>
#include <unistd.h>
#include <zmq.h>

#include "coordinator/hash.hpp"

namespace tricache::node {
namespace {

using protocol::ClientRequest;
using protocol::ClientResponse;
using protocol::ErrorCode;
using protocol::ErrorReply;
using protocol::NodeId;

// How many messages one socket may hand the loop before the other gets a turn.
constexpr std::uint64_t kBurst = 256;
// Frames a client message may have before the rest are discarded unread.
constexpr std::size_t kMaxClientFrames = 4;
// How long a (client, request) -> routing id entry outlives the engine's own
// client timeout: the engine answers every request by then, so this only
// catches entries the engine had no reason to answer.
constexpr std::uint64_t kPendingGraceMs = 2000;
constexpr std::uint64_t kStatsEveryMs = 60000;
// How often the loop copies its numbers into the metrics registry: well under
// any scrape interval, and costing the loop nothing it would notice.
constexpr std::uint64_t kPublishEveryMs = 250;
constexpr const char* kClientMonitor = "inproc://tricache-client-monitor";

int as_int(std::uint64_t v) { return static_cast<int>(std::min<std::uint64_t>(v, std::numeric_limits<int>::max())); }

std::string ids_text(const std::set<NodeId>& ids) {
    std::string s;
    for (NodeId id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
    return s.empty() ? "none" : s;
}

std::string printable(std::string_view s, std::size_t max = 120) {
    std::string out;
    for (char c : s.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f && c != '"') ? c : '?';
    }
    if (s.size() > max) out += "...";
    return out;
}

}  // namespace

std::uint64_t monotonic_ms() {
    const auto d = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

std::uint64_t monotonic_us() {
    const auto d = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

namespace {
// R-TTL-STAMP: expiry times are Unix times, so commands are stamped from the wall clock.
std::uint64_t wall_clock_ms() {
    const auto d = std::chrono::system_clock::now().time_since_epoch();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return ms > 0 ? static_cast<std::uint64_t>(ms) : 1;
}
}  // namespace

bool RateLimitedLog::allow(std::uint64_t now_ms, std::uint64_t& suppressed) {
    if (now_ms >= window_start_ + window_ms_) {
        window_start_ = now_ms;
        used_ = 0;
    }
    if (used_ < burst_) {
        ++used_;
        suppressed = suppressed_;
        suppressed_ = 0;
        return true;
    }
    ++suppressed_;
    return false;
}

ErrorCode client_code_for_decode_error(ErrorCode decoder_code) {
    switch (decoder_code) {
        case ErrorCode::TooLarge: return ErrorCode::TooLarge;
        case ErrorCode::WrongCluster: return ErrorCode::WrongCluster;
        default: return ErrorCode::BadRequest;
    }
}

Server::Created Server::create(ServerOptions options, std::shared_ptr<spdlog::logger> log) {
    if (auto err = check_self(options.cluster, options.self)) return err->to_string();
    if (!options.bootstrap && options.incarnation <= 1) return std::string("a joining node needs an incarnation > 1");
    auto ec = engine_config(options.cluster, options.self, options.seed);
    ec.record_deliveries = !options.delivery_log_dir.empty();
    coordinator::Engine engine = options.bootstrap ? coordinator::Engine::bootstrap(std::move(ec))
                                                   : coordinator::Engine::join(std::move(ec), options.incarnation);
    std::unique_ptr<DeliveryLogWriter> delivery_log;
    if (!options.delivery_log_dir.empty()) {
        auto opened = DeliveryLogWriter::open(options.delivery_log_dir, options.self, engine.incarnation());
        if (auto* err = std::get_if<std::string>(&opened)) return *err;
        delivery_log = std::move(std::get<std::unique_ptr<DeliveryLogWriter>>(opened));
    }
    std::unique_ptr<Server> server(new Server(std::move(options), std::move(engine), std::move(log)));
    server->delivery_log_ = std::move(delivery_log);
    try {
        server->open_sockets();
    } catch (const zmq::error_t& e) {
        return std::string("cannot open sockets: ") + e.what();
    }
    if (const NodeEntry* me = server->options_.cluster.find(server->options_.self); !me->resp.empty()) {
        const auto where = split_endpoint(me->resp);
        if (!where) return "bad Redis endpoint " + me->resp;
        resp::ListenerOptions lo;
        lo.host = where->first;
        lo.port = where->second;
        lo.cluster_id = server->options_.cluster.cluster_id;
        lo.password = server->options_.redis_password;
        lo.reply_deadline_ms = server->engine_.config().client_timeout_ms + kPendingGraceMs;
        const auto max_request = server->options_.cluster.transport.max_message_bytes;
        lo.parser.max_bulk_bytes = max_request;
        lo.parser.max_request_bytes = 2 * max_request;
        // One client id for every Redis request of this process: fresh per
        // process, so a restarted node's request ids never meet the retry
        // table's rows of its previous life.
        std::random_device rd;
        const std::uint64_t salt = (std::uint64_t{rd()} << 32) ^ rd() ^ monotonic_ms();
        lo.client_id = coordinator::mix64(salt ^ (std::uint64_t{server->options_.self} << 48) ^
                                          server->engine_.incarnation()) | 1u;
        server->resp_client_ = lo.client_id;
        Server* self = server.get();
        resp::Listener::Hooks hooks;
        hooks.submit = [self](protocol::ClientRequest&& req) {
            ++self->counters_.client_requests;
            if (self->exporter_) {
                self->requests_.begin(metrics::Door::Redis, req.client, req.request, req.body, monotonic_us());
            }
            self->engine_.on_client_request(std::move(req), self->now_ms_);
            self->after_engine_call();
        };
        hooks.facts = [self] { return self->resp_facts(); };
        auto opened = resp::Listener::open(std::move(lo), std::move(hooks), server->log_);
        if (auto* err = std::get_if<std::string>(&opened)) return *err;
        server->resp_ = std::move(std::get<std::unique_ptr<resp::Listener>>(opened));
    }
    if (const NodeEntry* me = server->options_.cluster.find(server->options_.self); !me->metrics.empty()) {
        const auto where = split_endpoint(me->metrics);
        if (!where) return "bad metrics endpoint " + me->metrics;
        metrics::Identity id;
        id.node = server->options_.self;
        id.cluster_id = server->options_.cluster.cluster_id;
        id.incarnation = server->engine_.incarnation();
        id.start_time_seconds =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        auto opened = metrics::Exporter::open(where->first, where->second, id);
        if (auto* err = std::get_if<std::string>(&opened)) return *err;
        server->exporter_ = std::move(std::get<std::unique_ptr<metrics::Exporter>>(opened));
        try {
            server->open_client_monitor();
        } catch (const zmq::error_t& e) {
            return std::string("cannot watch client connections: ") + e.what();
        }
        server->publish_metrics();
    }
    server->started_ms_ = monotonic_ms();
    return server;
}

Server::Server(ServerOptions options, coordinator::Engine engine, std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      engine_(std::move(engine)),
      log_(std::move(log)),
      limits_(codec_limits(options_.cluster)),
      context_(1),
      peer_in_(context_, zmq::socket_type::pull),
      client_(context_, zmq::socket_type::router) {}

Server::~Server() {
    // Linger 0 everywhere: nothing queued may hold up the exit.
    if (client_monitor_) {
        zmq_socket_monitor(client_.handle(), nullptr, 0);
        client_monitor_.close();
    }
    peer_out_.clear();
    peer_in_.close();
    client_.close();
}

void Server::open_sockets() {
    const auto& cfg = options_.cluster;
    const auto& t = cfg.transport;
    const NodeEntry* me = cfg.find(options_.self);
    assert(me != nullptr);
    // A frame a little over the codec limit still reaches the decoder, so the
    // client hears TOO_LARGE; one far over it is cut off by ZeroMQ itself.
    const auto socket_max = static_cast<std::int64_t>(2 * t.max_message_bytes);

    if (options_.curve) {
        // Bound before any CURVE socket: without a handler libzmq admits every key.
        std::vector<std::string> node_keys;
        for (const auto& n : cfg.nodes) node_keys.push_back(n.curve_public);
        zap_ = std::make_unique<auth::ZapHandler>(context_, auth::policy_from_z85(node_keys, cfg.client_keys));
        secure_socket(peer_in_, auth::kPeerDomain);
        secure_socket(client_, auth::kClientDomain);
    }
    peer_in_.set(zmq::sockopt::linger, 0);
    peer_in_.set(zmq::sockopt::maxmsgsize, socket_max);
    peer_in_.set(zmq::sockopt::rcvhwm, as_int(t.peer_send_hwm));
    peer_in_.bind(me->peer);

    client_.set(zmq::sockopt::linger, 0);
    client_.set(zmq::sockopt::maxmsgsize, socket_max);
    client_.set(zmq::sockopt::sndhwm, as_int(t.client_hwm));
    client_.set(zmq::sockopt::rcvhwm, as_int(t.client_hwm));
    client_.bind(me->client);

    for (const auto& n : cfg.nodes) {
        if (n.id == options_.self) continue;
        zmq::socket_t s(context_, zmq::socket_type::push);
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::immediate, 1);
        s.set(zmq::sockopt::sndhwm, as_int(t.peer_send_hwm));
        s.set(zmq::sockopt::reconnect_ivl, 50);
        s.set(zmq::sockopt::reconnect_ivl_max, 500);
        if (options_.curve) {  // a CURVE client of the peer's PULL, which must hold n.curve_public's secret
            s.set(zmq::sockopt::curve_serverkey, n.curve_public);
            s.set(zmq::sockopt::curve_publickey, options_.curve->public_key);
            s.set(zmq::sockopt::curve_secretkey, options_.curve->secret_key);
        }
        s.connect(n.peer);
        peer_out_.emplace(n.id, std::move(s));
    }
}

// The server side of CURVE on a bound socket; `zap_domain` tells the ZAP handler which door it is.
void Server::secure_socket(zmq::socket_t& s, std::string_view zap_domain) {
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, options_.curve->secret_key);
    s.set(zmq::sockopt::zap_domain, zap_domain);
}

void Server::drain_zap() {
    try {
        for (const auto& r : zap_->serve()) note_auth_refusal(r);
    } catch (const zmq::error_t& e) {
        log_->warn("event=zap_failed error=\"{}\"", e.what());
    }
}

void Server::note_auth_refusal(const auth::Refusal& r) {
    if (r.door) ++auth_refused_[static_cast<std::size_t>(*r.door)];
    std::uint64_t suppressed = 0;
    if (auth_log_.allow(now_ms_, suppressed)) {
        log_->warn("event=auth_refused door={} reason={} key={} address={} suppressed={}",
                   r.door ? auth::door_name(*r.door) : "unknown", r.reason, r.key_z85.empty() ? "none" : r.key_z85,
                   r.address.empty() ? "unknown" : r.address, suppressed);
    }
}

void Server::run(int stop_fd) {
    const auto& ec = engine_.config();
    const auto s = engine_.status();
    log_->info("event=start node={} cluster={} incarnation={} mode={} epoch={} peer={} client={} peers={} "
               "max_entries={} max_bytes={} client_timeout_ms={}",
               options_.self, ec.cluster_id, engine_.incarnation(), options_.bootstrap ? "bootstrap" : "join",
               s.epoch, options_.cluster.find(options_.self)->peer, options_.cluster.find(options_.self)->client,
               peer_out_.size(), ec.store_limits.max_entries, ec.store_limits.max_bytes, ec.client_timeout_ms);
    if (delivery_log_) log_->info("event=delivery_log path={}", delivery_log_->path());
    if (zap_) {
        log_->info("event=curve peer_keys={} client_keys={}", options_.cluster.nodes.size(),
                   options_.cluster.client_keys.size());
        drain_zap();  // read it empty once, so its descriptor fires for the first request
    } else {
        log_->warn("event=unauthenticated detail=\"no CURVE keys in the cluster file: anyone who reaches the peer "
                   "or client port can send peer messages and requests (README: Security)\"");
    }

    if (resp_) log_->info("event=resp_listening endpoint={} port={}", options_.cluster.find(options_.self)->resp,
                          resp_->port());
    if (exporter_) log_->info("event=metrics_listening endpoint={} port={}",
                              options_.cluster.find(options_.self)->metrics, exporter_->port());
    // One poll(2) over the sockets' descriptors, not zmq::poll: that one asks
    // every ZeroMQ socket for its events before and after sleeping, and each
    // ask is a poll and a getpid inside libzmq (about 1.5 of each per operation
    // on a participant). A ZeroMQ socket's descriptor only says "look again",
    // so a socket is drained when it fires, again while a drain stops at its
    // budget, and the client socket is asked once after a flush that sent on it
    // (a send may take in the wake-up of a request that is already queued).
    // A descriptor of -1 is ignored by poll(2): the Redis endpoint and the
    // connection monitor are optional.
    std::array<pollfd, 6> fds{{
        {peer_in_.get(zmq::sockopt::fd), POLLIN, 0},
        {client_.get(zmq::sockopt::fd), POLLIN, 0},
        {stop_fd, POLLIN, 0},
        {resp_ ? resp_->poll_fd() : -1, POLLIN, 0},
        {client_monitor_ ? client_monitor_.get(zmq::sockopt::fd) : -1, POLLIN, 0},
        {zap_ ? zap_->fd() : -1, POLLIN, 0},
    }};
    const nfds_t polled = fds.size();
    const std::uint64_t tick_ms = options_.cluster.transport.tick_ms;
    now_ms_ = monotonic_ms();
    std::uint64_t next_tick = now_ms_;
    std::uint64_t next_sweep = now_ms_ + 1000;
    std::uint64_t next_stats = now_ms_ + kStatsEveryMs;
    std::uint64_t next_publish = now_ms_ + kPublishEveryMs;
    bool peers_due = true, clients_due = true;  // whatever came before the first wake-up
    // A pass that starts or ends far behind its schedule is logged: a peer
    // suspected under load shows whether this process was descheduled (late)
    // or busy (a long pass) while its heartbeats were due.
    const std::uint64_t stall_ms = std::max<std::uint64_t>(ec.suspect_ms / 3, 1);
    const std::uint64_t slice_ms = std::max<std::uint64_t>(ec.heartbeat_ms / 2, 1);
    for (;;) {
        now_ms_ = monotonic_ms();
        const std::uint64_t wait = peers_due || clients_due ? 0 : next_tick > now_ms_ ? next_tick - now_ms_ : 0;
        const std::uint64_t poll_due = now_ms_ + wait;
        if (poll(fds.data(), polled, as_int(wait)) < 0) {
            if (errno == EINTR) continue;
            log_->critical("event=poll_failed error=\"{}\"", std::strerror(errno));
            return;
        }
        if ((fds[2].revents & POLLIN) != 0) return;
        if ((fds[5].revents & POLLIN) != 0) drain_zap();
        now_ms_ = monotonic_ms();
        const std::uint64_t pass_start = now_ms_;
        const std::uint64_t late = pass_start > poll_due ? pass_start - poll_due : 0;
        engine_.set_wall_clock_ms(wall_clock_ms());
        // Everything this pass read is one burst (R-BATCH-BURST): the requests
        // form one batch when it ends, not a batch of one and a queue.
        engine_.begin_burst();
        // A pass also ends when its time slice is used up: what it produced
        // (votes, acks, heartbeats) is sent only when it ends, and a node that
        // reads for a second is as silent to its peers as a dead one.
        const std::uint64_t slice_end = pass_start + slice_ms;
        if (peers_due || (fds[0].revents & POLLIN) != 0) peers_due = drain_peers(kBurst, slice_end);
        const std::uint64_t peers_done = monotonic_ms();
        if (clients_due || (fds[1].revents & POLLIN) != 0) clients_due = drain_clients(kBurst, slice_end);
        const std::uint64_t clients_done = monotonic_ms();
        if (resp_ && (fds[3].revents & POLLIN) != 0) {
            in_resp_ = true;
            resp_->service(now_ms_);
            in_resp_ = false;
        }
        const std::uint64_t resp_done = monotonic_ms();
        engine_.end_burst(now_ms_);
        now_ms_ = monotonic_ms();
        const std::uint64_t batches_done = now_ms_;
        engine_.set_wall_clock_ms(wall_clock_ms());
        if (now_ms_ >= next_tick) {
            engine_.on_tick(now_ms_);
            next_tick = now_ms_ + tick_ms;
        }
        const std::uint64_t replies_before = counters_.replies;
        const std::uint64_t tick_done = monotonic_ms();
        flush();
        const std::uint64_t flush_done = monotonic_ms();
        if (!clients_due && counters_.replies != replies_before) {
            clients_due = (client_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
        }
        if (now_ms_ >= next_sweep) {
            sweep_pending(now_ms_);
            next_sweep = now_ms_ + 1000;
        }
        if (now_ms_ >= next_stats) {
            log_stats();
            next_stats = now_ms_ + kStatsEveryMs;
        }
        if (exporter_) {
            if ((fds[4].revents & POLLIN) != 0) drain_client_monitor();
            watch_snapshot_install();
            if (now_ms_ >= next_publish) {
                publish_metrics();
                next_publish = now_ms_ + kPublishEveryMs;
            }
        }
        const std::uint64_t busy = monotonic_ms() - pass_start;
        if (late >= stall_ms || busy >= stall_ms) {
            std::uint64_t suppressed = 0;
            if (stall_log_.allow(now_ms_, suppressed)) {
                log_->warn("event=loop_stall late_ms={} busy_ms={} peers_ms={} clients_ms={} resp_ms={} batches_ms={} "
                           "tick_ms={} flush_ms={} suppressed={}",
                           late, busy, peers_done - pass_start, clients_done - peers_done, resp_done - clients_done,
                           batches_done - resp_done, tick_done - batches_done, flush_done - tick_done, suppressed);
            }
        }
    }
}

void Server::log_stats() {
    const auto s = engine_.status();
    const auto& c = counters_;
    log_->info("event=stats epoch={} ready={} delivered={} entries={} log_hash={:016x} digest={:016x} peer_in={} "
               "peer_out={} peer_dropped_in={} peer_dropped_out={} isolated_dropped={} client_requests={} "
               "client_rejected={} replies={} replies_unroutable={} pending={} delivery_log_records={} "
               "delivery_log_errors={}",
               s.epoch, s.ready, s.delivered, s.entries, s.log_hash, s.digest, c.peer_in, c.peer_out,
               c.peer_dropped_in, c.peer_dropped_out, c.isolated_dropped, c.client_requests, c.client_rejected,
               c.replies, c.replies_unroutable, pending_.size(), c.delivery_log_records, c.delivery_log_errors);
}

// ------------------------------------------------------------------ peers

bool Server::drain_peers(std::uint64_t budget, std::uint64_t slice_end_ms) {
    bool skipping = false;  // inside a multi-frame message: peers never send those
    for (std::uint64_t i = 0; i < budget; ++i) {
        if (i > 0 && monotonic_ms() >= slice_end_ms) return true;  // at least one, then the slice bounds it
        zmq::message_t msg;
        zmq::recv_result_t got;
        try {
            got = peer_in_.recv(msg, zmq::recv_flags::dontwait);
        } catch (const zmq::error_t& e) {
            log_->warn("event=peer_recv_failed error=\"{}\"", e.what());
            return false;
        }
        if (!got) return false;
        const bool more = msg.more();
        if (skipping || more) {
            if (!skipping) peer_drop("multipart", "a peer message is one frame");
            skipping = more;
            continue;
        }
        on_peer_bytes(msg.to_string_view());
    }
    return true;  // the budget ran out: more may be waiting
}

void Server::peer_drop(std::string_view reason, std::string_view detail) {
    ++counters_.peer_dropped_in;
    traffic_.drop(metrics::Direction::In, reason);
    std::uint64_t suppressed = 0;
    auto it = peer_logs_.find(reason);
    if (it == peer_logs_.end()) it = peer_logs_.emplace(std::string(reason), RateLimitedLog{5, 1000}).first;
    if (it->second.allow(now_ms_, suppressed)) {
        log_->warn("event=peer_drop reason={} detail=\"{}\" suppressed={}", reason, printable(detail), suppressed);
    }
}

void Server::on_peer_bytes(std::string_view bytes) {
    auto decoded = protocol::decode_peer_message(bytes, limits_);
    if (!decoded) {
        const auto& e = decoded.error();
        peer_drop(protocol::error_name(e.code), e.detail);
        return;
    }
    const protocol::PeerMessage& msg = decoded.value();
    const auto& h = msg.header;
    if (h.cluster_id != options_.cluster.cluster_id) {
        peer_drop("wrong_cluster", "cluster '" + h.cluster_id + "' from node " + std::to_string(h.from));
        return;
    }
    if (h.from == options_.self || options_.cluster.find(h.from) == nullptr) {
        peer_drop("unknown_node", "node " + std::to_string(h.from) + " is not a configured peer");
        return;
    }
    if (isolated_.count(h.from) != 0) {
        ++counters_.isolated_dropped;
        traffic_.drop(metrics::Direction::In, "isolated");
        return;
    }
    ++counters_.peer_in;
    traffic_.count(metrics::Direction::In, msg, bytes.size());
    if (log_->should_log(spdlog::level::trace)) {
        log_->trace("event=peer_in from={} kind={} epoch={}", h.from, protocol::kind_name(msg.body), h.epoch);
    }
    engine_.on_message(msg, now_ms_);
    after_engine_call();
}

// ------------------------------------------------------------------ clients

bool Server::drain_clients(std::uint64_t budget, std::uint64_t slice_end_ms) {
    for (std::uint64_t i = 0; i < budget; ++i) {
        if (i > 0 && monotonic_ms() >= slice_end_ms) return true;
        std::vector<zmq::message_t> frames;
        try {
            zmq::message_t first;
            if (!client_.recv(first, zmq::recv_flags::dontwait)) return false;
            bool more = first.more();
            frames.push_back(std::move(first));
            // ZeroMQ delivers a message's frames together: once the first is
            // here, the rest are too, and they are drained even when discarded.
            std::size_t extra = 0;
            while (more) {
                zmq::message_t part;
                if (!client_.recv(part, zmq::recv_flags::dontwait)) break;
                more = part.more();
                if (frames.size() < kMaxClientFrames) {
                    frames.push_back(std::move(part));
                } else {
                    ++extra;
                }
            }
            if (extra > 0) frames.emplace_back();  // too many frames: on_client_frames rejects it
        } catch (const zmq::error_t& e) {
            log_->warn("event=client_recv_failed error=\"{}\"", e.what());
            return false;
        }
        on_client_frames(frames);
    }
    return true;  // the budget ran out: more may be waiting
}

void Server::on_client_frames(std::vector<zmq::message_t>& frames) {
    assert(!frames.empty());  // a ROUTER always prepends the routing id
    std::vector<std::string> envelope{frames[0].to_string()};
    std::size_t body = 1;
    // A REQ client puts an empty delimiter before its payload; keep it for the reply.
    if (frames.size() == 3 && frames[1].size() == 0) {
        envelope.emplace_back();
        body = 2;
    }
    auto reject = [&](ErrorCode code, std::string detail) {
        ++counters_.client_rejected;
        std::uint64_t suppressed = 0;
        if (client_log_.allow(now_ms_, suppressed)) {
            log_->warn("event=client_reject code={} detail=\"{}\" suppressed={}", protocol::error_name(code),
                       printable(detail), suppressed);
        }
        // The request could not be read, so its ids are unknown: the reply carries 0, 0.
        send_to_client(envelope, ClientResponse{protocol::kProtocolVersion, 0, 0, ErrorReply{code, std::move(detail)}});
    };
    if (frames.size() != body + 1) {
        reject(ErrorCode::BadRequest,
               "expected exactly one payload frame, got " + std::to_string(frames.size() - 1) + " frames");
        return;
    }
    auto decoded = protocol::decode_client_request(frames[body].to_string_view(), limits_);
    if (!decoded) {
        const auto& e = decoded.error();
        reject(client_code_for_decode_error(e.code), std::string(protocol::error_name(e.code)) + ": " + e.detail);
        return;
    }
    const ClientRequest& req = decoded.value();
    ++counters_.client_requests;
    if (exporter_) requests_.begin(metrics::Door::Native, req.client, req.request, req.body, monotonic_us());
    if (const auto* admin = std::get_if<protocol::AdminRequest>(&req.body);
        admin != nullptr && (admin->kind == protocol::AdminKind::Isolate || admin->kind == protocol::AdminKind::Heal)) {
        handle_transport_admin(envelope, req);
        return;
    }
    const RequestKey key{req.client, req.request};
    auto it = pending_.find(key);
    if (it == pending_.end() && pending_.size() >= options_.cluster.transport.max_pending_replies) {
        // A resource limit of this process, not a protocol decision: the engine never saw it.
        send_to_client(envelope, ClientResponse{protocol::kProtocolVersion, req.client, req.request,
                                                ErrorReply{ErrorCode::Overloaded, "too many requests awaiting replies"}});
        return;
    }
    // A retry of the same (client, request) is answered where it came from last.
    Pending& p = pending_[key];
    p.envelope = std::move(envelope);
    p.expires_ms = now_ms_ + engine_.config().client_timeout_ms + kPendingGraceMs;
    engine_.on_client_request(req, now_ms_);
    after_engine_call();
}

void Server::handle_transport_admin(const std::vector<std::string>& envelope, const ClientRequest& req) {
    const auto& admin = std::get<protocol::AdminRequest>(req.body);
    auto answer = [&](protocol::ClientResponseBody body) {
        send_to_client(envelope, ClientResponse{protocol::kProtocolVersion, req.client, req.request, std::move(body)});
    };
    if (req.cluster_id != options_.cluster.cluster_id) {
        answer(ErrorReply{ErrorCode::WrongCluster, "this node serves cluster '" + options_.cluster.cluster_id +
                                                       "', not '" + req.cluster_id + "'"});
        return;
    }
    if (admin.kind == protocol::AdminKind::Heal) {
        const auto was = ids_text(isolated_);
        isolated_.clear();
        log_->info("event=heal was_isolated_from={}", was);
        answer(protocol::AdminReply{"healed (was isolated from " + was + ")", {}});
        return;
    }
    for (NodeId p : admin.peers) {
        if (p == options_.self || options_.cluster.find(p) == nullptr) {
            answer(ErrorReply{ErrorCode::BadRequest, "cannot isolate from node " + std::to_string(p) +
                                                         ": not another node of this cluster"});
            return;
        }
    }
    isolated_.insert(admin.peers.begin(), admin.peers.end());
    log_->info("event=isolate isolated_from={}", ids_text(isolated_));
    protocol::AdminReply r{"isolated from " + ids_text(isolated_), {}};
    for (NodeId p : isolated_) r.values.push_back(p);
    answer(std::move(r));
}

void Server::send_to_client(const std::vector<std::string>& envelope, const ClientResponse& resp) {
    const std::string bytes = protocol::encode(resp);
    try {
        for (const auto& frame : envelope) {
            // A ROUTER without ROUTER_MANDATORY drops what it cannot route or
            // queue instead of blocking; dontwait keeps it that way.
            (void)client_.send(zmq::const_buffer(frame.data(), frame.size()),
                               zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        }
        (void)client_.send(zmq::const_buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait);
        ++counters_.replies;
        if (exporter_) requests_.end(resp, monotonic_us());
    } catch (const zmq::error_t& e) {
        std::uint64_t suppressed = 0;
        if (send_log_.allow(now_ms_, suppressed)) {
            log_->warn("event=client_send_failed error=\"{}\" suppressed={}", e.what(), suppressed);
        }
    }
}

void Server::sweep_pending(std::uint64_t now) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        it = it->second.expires_ms <= now ? pending_.erase(it) : std::next(it);
    }
    // Requests the engine never answered by then (it answers every one by its
    // client timeout) are not coming back: their latency is not counted.
    const std::uint64_t horizon_us = 1000 * (engine_.config().client_timeout_ms + kPendingGraceMs);
    const std::uint64_t now_us = monotonic_us();
    if (now_us > horizon_us) requests_.forget_before(now_us - horizon_us);
}

// ------------------------------------------------------------------ output

// With a delivery log, the output of every engine call is taken at once: the
// engine's delivered list and its journal are separate, so only one call's
// output at a time says for certain whether a snapshot install came before or
// after a delivery (the simulator takes it the same way).
void Server::after_engine_call() {
    if (delivery_log_) flush();
}

void Server::record_deliveries(const coordinator::Output& out) {
    auto append = [&](const protocol::DeliveryRecord& rec) {
        if (auto err = delivery_log_->append(rec)) {
            ++counters_.delivery_log_errors;
            std::uint64_t suppressed = 0;
            if (delivery_log_log_.allow(now_ms_, suppressed)) {
                log_->error("event=delivery_log_failed path={} error=\"{}\" suppressed={}", delivery_log_->path(),
                            *err, suppressed);
            }
        } else {
            ++counters_.delivery_log_records;
        }
    };
    for (const auto& ev : out.journal) {
        if (const auto* v = std::get_if<coordinator::ViewInstalledEvent>(&ev)) {
            std::string members;
            for (const auto& m : v->ecr.next.members) {
                members += (members.empty() ? "" : ",") + std::to_string(m.node) + "." + std::to_string(m.incarnation);
            }
            log_->info("event=view_installed epoch={} members={} member={} full_state={} committed={} aborted={}",
                       v->ecr.next.epoch, members, v->member, v->full_state, v->ecr.committed.size(),
                       v->ecr.aborted.size());
        } else if (const auto* snap = std::get_if<coordinator::SnapshotInstalledEvent>(&ev)) {
            log_->info("event=snapshot_installed epoch={} log_length={} log_hash={:016x}", snap->epoch,
                       snap->log_length, snap->log_hash);
            append(protocol::SnapshotInstalledRecord{snap->epoch, snap->log_length, snap->log_hash});
        }
    }
    for (const auto& d : out.delivered) {
        append(protocol::DeliveredRecord{d.index, d.tx, d.final_ts, d.epoch, d.batch ? *d.batch : protocol::Batch{}});
    }
}

void Server::flush() {
    coordinator::Output out = engine_.take_output();
    if (delivery_log_) record_deliveries(out);
    for (const auto& vc : out.view_changes) {
        log_->warn("event=view_change_proposed closes={} cause={} node={} silent_ms={}", vc.closes,
                   coordinator::cause_name(vc.kind), vc.node, vc.silent_ms);
    }
    for (const auto& ob : out.messages) {
        if (isolated_.count(ob.to) != 0) {
            ++counters_.isolated_dropped;
            traffic_.drop(metrics::Direction::Out, "isolated");
            continue;
        }
        auto it = peer_out_.find(ob.to);
        if (it == peer_out_.end()) {
            std::uint64_t suppressed = 0;
            if (send_log_.allow(now_ms_, suppressed)) {
                log_->warn("event=send_drop reason=no_such_peer to={} suppressed={}", ob.to, suppressed);
            }
            ++counters_.peer_dropped_out;
            traffic_.drop(metrics::Direction::Out, "no_such_peer");
            continue;
        }
        const std::string bytes = protocol::encode(ob.msg);
        try {
            if (it->second.send(zmq::const_buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait)) {
                ++counters_.peer_out;
                traffic_.count(metrics::Direction::Out, ob.msg, bytes.size());
            } else {
                ++counters_.peer_dropped_out;  // not connected or queue full: the protocol resends
                traffic_.drop(metrics::Direction::Out, "not_connected_or_full");
            }
        } catch (const zmq::error_t& e) {
            ++counters_.peer_dropped_out;
            traffic_.drop(metrics::Direction::Out, "send_error");
            std::uint64_t suppressed = 0;
            if (send_log_.allow(now_ms_, suppressed)) {
                log_->warn("event=send_drop reason=error to={} error=\"{}\" suppressed={}", ob.to, e.what(),
                           suppressed);
            }
        }
    }
    for (const auto& r : out.replies) {
        if (resp_ && r.client == resp_client_) {
            ++counters_.replies;
            if (exporter_) requests_.end(r, monotonic_us());
            resp_deferred_.push_back(r);
            continue;
        }
        auto it = pending_.find({r.client, r.request});
        if (it == pending_.end()) {
            ++counters_.replies_unroutable;
            log_->debug("event=reply_unroutable client={} request={}", r.client, r.request);
            continue;
        }
        if (log_->should_log(spdlog::level::debug)) {
            if (const auto* e = std::get_if<ErrorReply>(&r.body)) {
                log_->debug("event=reply client={} request={} error={} detail=\"{}\"", r.client, r.request,
                            protocol::error_name(e->code), printable(e->detail));
            }
        }
        send_to_client(it->second.envelope, r);
        pending_.erase(it);
    }
    if (resp_ && !in_resp_) {
        // Replies go back in, then every connection they completed is written.
        std::vector<protocol::ClientResponse> replies;
        replies.swap(resp_deferred_);
        in_resp_ = true;
        for (const auto& r : replies) resp_->on_reply(r);
        resp_->flush(now_ms_);
        in_resp_ = false;
    }
}

resp::NodeFacts Server::resp_facts() const {
    resp::NodeFacts f;
    const auto& ec = engine_.config();
    f.node = options_.self;
    f.cluster_id = options_.cluster.cluster_id;
    f.port = resp_ ? resp_->port() : 0;
    f.pid = static_cast<std::int64_t>(getpid());
    f.max_entries = ec.store_limits.max_entries;
    f.max_bytes = ec.store_limits.max_bytes;
    f.max_value_bytes = ec.max_value_bytes;
    f.uptime_ms = now_ms_ - started_ms_;
    if (resp_) {
        f.connected_clients = resp_->connected();
        f.total_connections = resp_->counters().connections;
        f.rejected_connections = resp_->counters().rejected_connections;
        f.total_commands = resp_->counters().commands;
    }
    f.max_clients = resp::ListenerOptions{}.max_clients;
    f.evicted_keys = engine_.state().store().evictions();
    f.expired_keys = engine_.state().expired_removed();
    // The engine's counters, as the metrics publish them.
    const auto& st = engine_.stats();
    f.transactions_committed = st.tx_committed;
    f.transactions_aborted = st.tx_aborted;
    f.transactions_applied = st.tx_applied;
    f.view_changes_started = st.view_changes_started;
    f.views_installed = st.views_installed;
    f.quorum_lost = engine_.refusing_no_quorum(now_ms_);
    f.majority_unheard_ms = engine_.majority_unheard_ms(now_ms_);
    return f;
}


// ------------------------------------------------------------------ metrics

metrics::NodeSample Server::sample() const {
    metrics::NodeSample s;
    s.status = engine_.status();
    s.state = engine_.node_status();
    s.engine = engine_.stats();
    s.cluster_size = options_.cluster.nodes.size();
    s.majority_unheard_ms = engine_.majority_unheard_ms(now_ms_);
    s.quorum_lost = engine_.refusing_no_quorum(now_ms_);
    s.queued_requests = engine_.queued_requests();
    s.waiting_clients = engine_.waiting_clients();
    s.in_doubt_requests = engine_.in_doubt_requests();
    const auto& ec = engine_.config();
    s.max_entries = ec.store_limits.max_entries;
    s.max_bytes = ec.store_limits.max_bytes;
    s.evictions = engine_.state().store().evictions();
    s.expirations = engine_.state().expired_removed();  // restarts at 0 on a snapshot install: the exporter adds growth only
    const auto native = static_cast<std::size_t>(metrics::Door::Native);
    const auto redis = static_cast<std::size_t>(metrics::Door::Redis);
    s.connections[native] = native_accepted_ > native_closed_ ? native_accepted_ - native_closed_ : 0;
    s.connections_total[native] = native_accepted_;
    if (resp_) {
        s.connections[redis] = resp_->connected();
        s.connections_total[redis] = resp_->counters().connections;
    }
    s.requests_rejected = counters_.client_rejected;
    s.auth_refused = auth_refused_;
    return s;
}

void Server::publish_metrics() {
    exporter_->publish(sample(), requests_.counts(), traffic_, snapshot_install_);
}

// A rejoin, from the moment the engine starts syncing to its snapshot installed.
void Server::watch_snapshot_install() {
    const bool syncing = engine_.node_status() == coordinator::NodeStatus::Syncing;
    if (syncing && syncing_since_us_ == 0) syncing_since_us_ = monotonic_us();
    if (syncing) return;
    const std::uint64_t installed = engine_.stats().snapshots_installed;
    if (syncing_since_us_ != 0 && installed != snapshots_seen_) {
        snapshot_install_.observe(static_cast<double>(monotonic_us() - syncing_since_us_) / 1e6);
    }
    snapshots_seen_ = installed;
    syncing_since_us_ = 0;
}

// Client connections of the native endpoint: ZeroMQ hides them behind the
// ROUTER, so its own monitor reports each accept and disconnect.
void Server::open_client_monitor() {
    // A handshake that fails before ZAP is asked (a client without CURVE, or with
    // the wrong server key) is a refusal too; ZAP's own refusals are counted by drain_zap.
    const int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                       (zap_ ? ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL : 0);
    if (zmq_socket_monitor(client_.handle(), kClientMonitor, events) != 0) {
        throw zmq::error_t();
    }
    client_monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
    client_monitor_.set(zmq::sockopt::linger, 0);
    client_monitor_.connect(kClientMonitor);
    // Read it empty once: ZeroMQ signals the descriptor only when a message
    // arrives at a pipe its reader has found empty, so without this first read
    // the first event would never wake the loop.
    drain_client_monitor();
}

void Server::drain_client_monitor() {
    for (;;) {
        zmq::message_t event;
        zmq::message_t address;
        try {
            if (!client_monitor_.recv(event, zmq::recv_flags::dontwait)) return;
            if (event.more()) (void)client_monitor_.recv(address, zmq::recv_flags::dontwait);
        } catch (const zmq::error_t& e) {
            log_->warn("event=client_monitor_failed error=\"{}\"", e.what());
            return;
        }
        if (event.size() < sizeof(std::uint16_t)) continue;
        std::uint16_t id = 0;
        std::memcpy(&id, event.data(), sizeof id);
        if (id == ZMQ_EVENT_ACCEPTED) ++native_accepted_;
        if (id == ZMQ_EVENT_DISCONNECTED) ++native_closed_;
        if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            note_auth_refusal(auth::Refusal{auth::Door::Client, "handshake_failed", "", ""});  // the monitor names our endpoint, not theirs
        }
    }
}

}  // namespace tricache::node
