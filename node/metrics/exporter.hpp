// The node's Prometheus endpoint: a prometheus-cpp registry served over HTTP by
// prometheus-cpp's exposer (civetweb, its own small thread pool).
//
// Threads: the exposer's threads only serialise the registry. Everything the
// metrics say is read from the engine, the store and the server on the node's
// event loop, which calls publish() every few hundred milliseconds; publish()
// writes the values into the registry's counters and gauges (atomics, and the
// registry's own locks for new label sets). So the HTTP side never touches
// engine state, and a scrape costs the loop nothing.
//
// Counters only grow within an incarnation: publish() adds the growth of each
// source since the previous call, and a source that starts again from zero (the
// store's eviction count after a snapshot install) adds its new value. The
// incarnation is a label of tricache_node_info, so a restart shows as a new
// series there and counters that start again at zero.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "coordinator/engine.hpp"
#include "node/metrics/peer_traffic.hpp"
#include "node/metrics/request_stats.hpp"
#include "protocol/messages.hpp"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace tricache::node::metrics {

// A histogram kept on the loop: non-cumulative bucket counts and a sum.
struct HistogramCounts {
    std::vector<double> bounds;          // upper bounds, increasing; +Inf is implied
    std::vector<std::uint64_t> buckets;  // bounds.size() + 1
    double sum = 0;
    explicit HistogramCounts(std::vector<double> b) : bounds(std::move(b)), buckets(bounds.size() + 1, 0) {}
    void observe(double v);
};

// Bucket bounds of tricache_snapshot_install_duration_seconds.
std::vector<double> snapshot_install_bounds();

// Everything one publish() reports about the node, taken on the loop.
struct NodeSample {
    protocol::StatusReply status;  // Engine::status(): the numbers `status` and INFO answer with
    coordinator::NodeStatus state = coordinator::NodeStatus::Normal;
    coordinator::EngineStats engine;
    std::uint64_t cluster_size = 0;
    std::uint64_t majority_unheard_ms = 0;
    bool quorum_lost = false;  // refusing requests with NO_QUORUM right now
    std::uint64_t queued_requests = 0;
    std::uint64_t waiting_clients = 0;
    std::uint64_t in_doubt_requests = 0;
    std::uint64_t max_entries = 0;
    std::uint64_t max_bytes = 0;
    std::uint64_t evictions = 0;    // the store's count since its construction or last restore
    std::uint64_t expirations = 0;  // the same for expired entries
    std::array<std::uint64_t, kDoors> connections{};        // open now
    std::array<std::uint64_t, kDoors> connections_total{};  // accepted
    std::uint64_t requests_rejected = 0;  // native frames that did not decode
    std::array<std::uint64_t, 2> auth_refused{};  // CURVE handshakes refused, by door: peer, client
};

struct Identity {
    protocol::NodeId node = 0;
    std::string cluster_id;
    protocol::Incarnation incarnation = 0;
    double start_time_seconds = 0;  // wall clock, seconds since the epoch
};

class Exporter {
public:
    using Opened = std::variant<std::unique_ptr<Exporter>, std::string>;
    // Binds HOST:PORT (port 0: any free one) and starts serving /metrics.
    static Opened open(const std::string& host, std::uint16_t port, const Identity& id);
    ~Exporter();
    Exporter(const Exporter&) = delete;
    Exporter& operator=(const Exporter&) = delete;

    std::uint16_t port() const { return port_; }
    void publish(const NodeSample& s, const RequestCounts& requests, const PeerTraffic& peers,
                 const HistogramCounts& snapshot_install);
    // The registry in the text exposition format, as a scrape would see it (tests).
    std::string text() const;

private:
    struct Feed {  // one counter fed from a growing source
        prometheus::Counter* counter = nullptr;
        std::uint64_t last = 0;
        void to(std::uint64_t value);
    };
    struct HistogramFeed {
        prometheus::Histogram* histogram = nullptr;
        std::vector<std::uint64_t> last;
        double last_sum = 0;
        void to(const std::uint64_t* buckets, std::size_t n, double sum);
    };
    Exporter();
    void build(const Identity& id);

    std::shared_ptr<prometheus::Registry> registry_;
    std::unique_ptr<prometheus::Exposer> exposer_;
    std::uint16_t port_ = 0;

    // Families, owned by the registry.
    prometheus::Family<prometheus::Counter>* requests_ = nullptr;
    prometheus::Family<prometheus::Histogram>* latency_ = nullptr;
    prometheus::Family<prometheus::Counter>* peer_messages_ = nullptr;
    prometheus::Family<prometheus::Counter>* peer_bytes_ = nullptr;
    prometheus::Family<prometheus::Counter>* peer_dropped_ = nullptr;
    prometheus::Family<prometheus::Gauge>* state_ = nullptr;
    prometheus::Family<prometheus::Gauge>* connections_ = nullptr;
    prometheus::Family<prometheus::Counter>* connections_total_ = nullptr;
    prometheus::Family<prometheus::Counter>* auth_refused_ = nullptr;

    // Series that exist from the start, by name.
    std::map<std::string, Feed> feeds_;
    std::map<std::string, prometheus::Gauge*> gauges_;
    // Series made when first needed (label sets seen only under some traffic).
    std::array<std::array<std::array<Feed, kResults>, kOps>, kDoors> request_feeds_{};
    std::array<std::array<HistogramFeed, kOps>, kDoors> latency_feeds_{};
    std::array<std::array<Feed, kPeerKinds>, 2> peer_message_feeds_{};
    std::array<std::array<Feed, kPeerKinds>, 2> peer_byte_feeds_{};
    std::map<std::pair<Direction, std::string>, Feed> drop_feeds_;
    std::array<prometheus::Gauge*, 5> state_gauges_{};
    std::array<prometheus::Gauge*, kDoors> connection_gauges_{};
    std::array<Feed, kDoors> connection_feeds_{};
    std::array<Feed, 2> auth_refused_feeds_{};  // peer, client
    HistogramFeed ops_per_tx_;
    HistogramFeed snapshot_install_;
};

}  // namespace tricache::node::metrics
