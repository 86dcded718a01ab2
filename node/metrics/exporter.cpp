#include "node/metrics/exporter.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <exception>

namespace tricache::node::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

struct Named {
    const char* name;
    const char* help;
};

// Counters with no labels, fed from NodeSample fields of the same order in publish().
constexpr Named kCounters[] = {
    {"tricache_transactions_committed_total", "Transactions this node coordinated that committed."},
    {"tricache_transactions_aborted_total", "Transactions this node coordinated that aborted (nothing applied)."},
    {"tricache_transactions_applied_total", "Transactions applied to this node's store, whoever coordinated them."},
    {"tricache_view_changes_started_total", "Times this node froze its epoch for a view change."},
    {"tricache_view_change_proposals_total", "View changes this node proposed (a subset of those started)."},
    {"tricache_views_installed_total", "Views this node installed (rebootstraps included)."},
    {"tricache_snapshots_installed_total", "Snapshots this node installed to rejoin."},
    {"tricache_snapshot_sent_bytes_total", "Snapshot bytes this node sent to rejoining peers."},
    {"tricache_snapshot_received_bytes_total", "Snapshot bytes this node received while rejoining."},
    {"tricache_store_evictions_total", "Entries the LRU store evicted for its entry or byte limit."},
    {"tricache_store_expirations_total", "Entries the store removed because their time to live ran out."},
    {"tricache_requests_rejected_total", "Native client frames that could not be decoded (answered BAD_REQUEST or "
                                         "TOO_LARGE with ids 0)."},
};

constexpr Named kGauges[] = {
    {"tricache_node_start_time_seconds", "When this incarnation started, in seconds since the Unix epoch."},
    {"tricache_cluster_nodes", "Nodes in the configured cluster."},
    {"tricache_view_epoch", "The epoch of the view this node has installed."},
    {"tricache_history_epoch", "The epoch this node's history started at (1 until a rebootstrap; 0: in none)."},
    {"tricache_view_members", "Members of the view this node has installed."},
    {"tricache_ready", "1 when this node serves requests (a member of its view, not changing views), else 0."},
    {"tricache_quorum_lost", "1 when this node refuses requests with NO_QUORUM: no majority of the cluster heard "
                             "from for no_quorum_ms, or a view change that long."},
    {"tricache_majority_unheard_seconds", "Time since this node last heard from a majority of the cluster (itself "
                                          "included); heartbeats keep it near heartbeat_ms while all is well."},
    {"tricache_log_transactions", "Transactions in this node's log (status: delivered)."},
    {"tricache_transactions_in_flight", "Transactions this node coordinates that are not decided yet."},
    {"tricache_requests_queued", "Client requests waiting for a batch at this node."},
    {"tricache_requests_waiting", "Client requests this node owes an answer."},
    {"tricache_requests_in_doubt", "Requests whose outcome this node does not know yet (R-IN-DOUBT)."},
    {"tricache_store_entries", "Entries in the store."},
    {"tricache_store_bytes", "Bytes the store counts (key + value + 48 per entry)."},
    {"tricache_store_max_entries", "The store's entry limit."},
    {"tricache_store_max_bytes", "The store's byte limit."},
};

constexpr const char* kStateNames[] = {"normal", "view_change", "syncing", "joining", "needs_rebootstrap"};

std::vector<double> ops_bounds() {
    std::vector<double> b;
    for (std::size_t k = 0; k + 1 < coordinator::EngineStats::kOpsBuckets; ++k) {
        b.push_back(static_cast<double>(std::uint64_t{1} << k));
    }
    return b;
}

}  // namespace

std::vector<double> snapshot_install_bounds() { return {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}; }

void HistogramCounts::observe(double v) {
    const auto i = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
    ++buckets[i];
    sum += v;
}

void Exporter::Feed::to(std::uint64_t value) {
    // A source that starts again from zero (a restored store) adds its new value.
    const std::uint64_t growth = value >= last ? value - last : value;
    if (growth > 0) counter->Increment(static_cast<double>(growth));
    last = value;
}

void Exporter::HistogramFeed::to(const std::uint64_t* buckets, std::size_t n, double sum) {
    if (last.size() != n) last.assign(n, 0);
    std::vector<double> growth(n);
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
        growth[i] = static_cast<double>(buckets[i] >= last[i] ? buckets[i] - last[i] : buckets[i]);
        any = any || growth[i] > 0;
        last[i] = buckets[i];
    }
    if (any) histogram->ObserveMultiple(growth, std::max(0.0, sum - last_sum));
    last_sum = sum;
}

Exporter::Exporter() : registry_(std::make_shared<prometheus::Registry>()) {}

Exporter::~Exporter() = default;

Exporter::Opened Exporter::open(const std::string& host, std::uint16_t port, const Identity& id) {
    std::unique_ptr<Exporter> e(new Exporter());
    e->build(id);
    const std::string where =
        (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
    try {
        // One worker: scrapes are rare and small.
        e->exposer_ = std::make_unique<prometheus::Exposer>(
            std::vector<std::string>{"listening_ports", where, "num_threads", "1"});
    } catch (const std::exception& ex) {
        return "cannot serve metrics on " + where + ": " + ex.what();
    }
    e->exposer_->RegisterCollectable(e->registry_);
    const auto ports = e->exposer_->GetListeningPorts();
    e->port_ = ports.empty() ? port : static_cast<std::uint16_t>(ports.front());
    return e;
}

void Exporter::build(const Identity& id) {
    auto& r = *registry_;
    BuildGauge()
        .Name("tricache_node_info")
        .Help("1, labelled with this node's id, cluster and incarnation (new at every start).")
        .Register(r)
        .Add({{"node", std::to_string(id.node)},
              {"cluster", id.cluster_id},
              {"incarnation", std::to_string(id.incarnation)}})
        .Set(1);
    for (const auto& c : kCounters) {
        feeds_[c.name].counter = &BuildCounter().Name(c.name).Help(c.help).Register(r).Add({});
    }
    for (const auto& g : kGauges) gauges_[g.name] = &BuildGauge().Name(g.name).Help(g.help).Register(r).Add({});
    gauges_["tricache_node_start_time_seconds"]->Set(id.start_time_seconds);

    state_ = &BuildGauge()
                  .Name("tricache_node_state")
                  .Help("1 for the state this node is in (normal, view_change, syncing, joining, "
                        "needs_rebootstrap), 0 for the others.")
                  .Register(r);
    for (std::size_t i = 0; i < state_gauges_.size(); ++i) state_gauges_[i] = &state_->Add({{"state", kStateNames[i]}});

    requests_ = &BuildCounter()
                     .Name("tricache_requests_total")
                     .Help("Client requests answered, by front door (native, redis), operation and result (ok, "
                           "not_found, not_applied, or the error code).")
                     .Register(r);
    latency_ = &BuildHistogram()
                    .Name("tricache_request_duration_seconds")
                    .Help("Time from a request's arrival at this node to its reply, by front door and operation.")
                    .Register(r);
    peer_messages_ = &BuildCounter()
                          .Name("tricache_peer_messages_total")
                          .Help("Peer messages received (in) and sent (out), by kind.")
                          .Register(r);
    peer_bytes_ = &BuildCounter()
                       .Name("tricache_peer_bytes_total")
                       .Help("Encoded bytes of peer messages received (in) and sent (out), by kind.")
                       .Register(r);
    peer_dropped_ = &BuildCounter()
                         .Name("tricache_peer_messages_dropped_total")
                         .Help("Peer messages dropped, by direction and reason.")
                         .Register(r);
    connections_ = &BuildGauge()
                        .Name("tricache_client_connections")
                        .Help("Client connections open now, by front door.")
                        .Register(r);
    connections_total_ = &BuildCounter()
                              .Name("tricache_client_connections_accepted_total")
                              .Help("Client connections accepted, by front door.")
                              .Register(r);
    for (std::size_t d = 0; d < kDoors; ++d) {
        const std::string door(door_name(static_cast<Door>(d)));
        connection_gauges_[d] = &connections_->Add({{"door", door}});
        connection_feeds_[d].counter = &connections_total_->Add({{"door", door}});
    }
    auth_refused_ = &BuildCounter()
                         .Name("tricache_auth_refused_total")
                         .Help("CURVE handshakes refused: a key not listed for that door (peer: the cluster's node "
                               "keys; client: auth.client_keys), or a handshake that failed before (no CURVE, wrong "
                               "server key; client door).")
                         .Register(r);
    auth_refused_feeds_[0].counter = &auth_refused_->Add({{"door", "peer"}});
    auth_refused_feeds_[1].counter = &auth_refused_->Add({{"door", "client"}});
    ops_per_tx_.histogram = &BuildHistogram()
                                 .Name("tricache_transaction_operations")
                                 .Help("Operations per committed transaction this node coordinated.")
                                 .Register(r)
                                 .Add({}, ops_bounds());
    snapshot_install_.histogram =
        &BuildHistogram()
             .Name("tricache_snapshot_install_duration_seconds")
             .Help("Time from entering the syncing state to the snapshot installed.")
             .Register(r)
             .Add({}, snapshot_install_bounds());
}

void Exporter::publish(const NodeSample& s, const RequestCounts& requests, const PeerTraffic& peers,
                       const HistogramCounts& snapshot_install) {
    const std::uint64_t counter_values[] = {
        s.engine.tx_committed,        s.engine.tx_aborted,     s.engine.tx_applied,
        s.engine.view_changes_started, s.engine.view_change_proposals, s.engine.views_installed,
        s.engine.snapshots_installed, peers.snapshot_bytes[static_cast<std::size_t>(Direction::Out)],
        peers.snapshot_bytes[static_cast<std::size_t>(Direction::In)], s.evictions, s.expirations,
        s.requests_rejected,
    };
    static_assert(std::size(counter_values) == std::size(kCounters));
    for (std::size_t i = 0; i < std::size(kCounters); ++i) feeds_[kCounters[i].name].to(counter_values[i]);

    const auto& st = s.status;
    const double gauge_values[] = {
        -1,  // start time: set once
        static_cast<double>(s.cluster_size),
        static_cast<double>(st.epoch),
        static_cast<double>(st.history),
        static_cast<double>(st.members.size()),
        st.ready ? 1.0 : 0.0,
        s.quorum_lost ? 1.0 : 0.0,
        static_cast<double>(s.majority_unheard_ms) / 1000.0,
        static_cast<double>(st.delivered),
        static_cast<double>(st.in_flight),
        static_cast<double>(s.queued_requests),
        static_cast<double>(s.waiting_clients),
        static_cast<double>(s.in_doubt_requests),
        static_cast<double>(st.entries),
        static_cast<double>(st.bytes),
        static_cast<double>(s.max_entries),
        static_cast<double>(s.max_bytes),
    };
    static_assert(std::size(gauge_values) == std::size(kGauges));
    for (std::size_t i = 1; i < std::size(kGauges); ++i) gauges_[kGauges[i].name]->Set(gauge_values[i]);
    for (std::size_t i = 0; i < state_gauges_.size(); ++i) {
        state_gauges_[i]->Set(static_cast<std::size_t>(s.state) == i ? 1.0 : 0.0);
    }
    for (std::size_t d = 0; d < kDoors; ++d) {
        connection_gauges_[d]->Set(static_cast<double>(s.connections[d]));
        connection_feeds_[d].to(s.connections_total[d]);
    }
    for (std::size_t d = 0; d < auth_refused_feeds_.size(); ++d) auth_refused_feeds_[d].to(s.auth_refused[d]);

    for (std::size_t d = 0; d < kDoors; ++d) {
        const std::string door(door_name(static_cast<Door>(d)));
        for (std::size_t op = 0; op < kOps; ++op) {
            for (std::size_t res = 0; res < kResults; ++res) {
                const std::uint64_t v = requests.requests[d][op][res];
                Feed& f = request_feeds_[d][op][res];
                if (f.counter == nullptr) {
                    if (v == 0) continue;
                    f.counter = &requests_->Add(
                        {{"door", door}, {"op", std::string(op_name(op))}, {"result", std::string(result_name(res))}});
                }
                f.to(v);
            }
            HistogramFeed& h = latency_feeds_[d][op];
            const auto& buckets = requests.latency[d][op];
            if (h.histogram == nullptr) {
                if (std::all_of(buckets.begin(), buckets.end(), [](std::uint64_t b) { return b == 0; })) continue;
                h.histogram = &latency_->Add({{"door", door}, {"op", std::string(op_name(op))}},
                                             std::vector<double>(kLatencyBounds.begin(), kLatencyBounds.end()));
            }
            h.to(buckets.data(), buckets.size(), requests.latency_sum_seconds[d][op]);
        }
    }

    for (std::size_t dir = 0; dir < 2; ++dir) {
        const std::string direction(direction_name(static_cast<Direction>(dir)));
        for (std::size_t k = 0; k < kPeerKinds; ++k) {
            Feed& m = peer_message_feeds_[dir][k];
            Feed& b = peer_byte_feeds_[dir][k];
            if (m.counter == nullptr) {
                if (peers.messages[dir][k] == 0) continue;
                m.counter = &peer_messages_->Add({{"direction", direction}, {"kind", peer_kind_name(k)}});
                b.counter = &peer_bytes_->Add({{"direction", direction}, {"kind", peer_kind_name(k)}});
            }
            m.to(peers.messages[dir][k]);
            b.to(peers.bytes[dir][k]);
        }
    }
    for (const auto& [key, count] : peers.dropped) {
        Feed& f = drop_feeds_[key];
        if (f.counter == nullptr) {
            f.counter = &peer_dropped_->Add({{"direction", std::string(direction_name(key.first))}, {"reason", key.second}});
        }
        f.to(count);
    }

    ops_per_tx_.to(s.engine.ops_per_tx.data(), s.engine.ops_per_tx.size(), static_cast<double>(s.engine.ops_committed));
    snapshot_install_.to(snapshot_install.buckets.data(), snapshot_install.buckets.size(), snapshot_install.sum);
}

std::string Exporter::text() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace tricache::node::metrics
