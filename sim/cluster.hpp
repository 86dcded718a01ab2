// N engines over the simulated network, one fake clock, the client model and
// every per-step check. The manual verbs (deliver, drop, duplicate, tick,
// advance, client, retry, pause, resume) are what a generated schedule drives;
// the automatic-mode primitives (set_time, deliver_ready, tick_node, ...) are
// what the seed runner's event loop drives. finish() heals, runs until quiet
// within a bound, and runs the end-of-run checks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "checker/checks.hpp"
#include "checker/types.hpp"
#include "coordinator/engine.hpp"
#include "sim/clients.hpp"
#include "sim/engine_monitor.hpp"
#include "sim/log_chain.hpp"
#include "sim/network.hpp"
#include "sim/rng.hpp"
#include "sim/safety_monitor.hpp"
#include "sim/trace.hpp"

namespace tricache::sim {

// Lets a benchmark time the engine calls without the simulator reading a clock.
class EngineCallObserver {
public:
    virtual ~EngineCallObserver() = default;
    virtual void before_call() = 0;
    virtual void after_call() = 0;
};

struct ClusterOptions {
    std::uint32_t nodes = 3;  // ids 1..nodes
    std::uint64_t seed = 1;   // skews, codec choices, link fault draws, engine seeds
    store::Limits store_limits{5, 360};
    std::uint64_t max_skew_ms = 4;  // each node's clock runs ahead by [0, max_skew_ms]
    double codec_rate = 0.2;        // share of messages sent through the real codec
    std::uint32_t clients = 3;
    protocol::ClientId first_client_id = 101;

    // Engine knobs (the rest are the engine's defaults).
    std::uint64_t resend_ms = 40;
    std::uint64_t heartbeat_ms = 25;
    std::uint64_t query_ms = 150;
    std::uint64_t client_timeout_ms = 1000;
    std::uint32_t max_batch_commands = 64;
    std::uint32_t max_in_flight = 8;
    std::uint64_t max_value_bytes = 1024;

    std::uint64_t tick_every_ms = 5;  // how often automatic mode and finish() tick each node
    bool deep_store_checks = true;    // LruStore::check_invariants after every call (O(entries))
    // The simulator's own engine monitors (EngineMonitor, LogChains). Off, only
    // the checker's properties judge: for measuring what the checker alone catches.
    bool engine_monitors = true;
    bool transcript = false;          // keep one readable line per event (for shrunk failures)
    EngineCallObserver* observer = nullptr;
};

enum class VerdictKind : std::uint8_t { Pass, Safety, Liveness };

struct Verdict {
    VerdictKind kind = VerdictKind::Pass;
    checker::Violation violation;  // meaningful unless Pass
    checker::LinearizabilityStats stats;
};

struct ClusterCounters {
    std::uint64_t engine_calls = 0;
    std::uint64_t messages_delivered = 0;
    std::uint64_t ticks = 0;
    std::uint64_t transactions_delivered = 0;  // summed over nodes
};

class Cluster {
public:
    explicit Cluster(ClusterOptions options);

    std::uint32_t size() const { return options_.nodes; }
    const ClusterOptions& options() const { return options_; }
    std::uint64_t now() const { return now_ms_; }
    // The time a node's engine is told: global time + its skew + its drift.
    std::uint64_t node_time(NodeId node) const;
    // History time: simulated milliseconds x 1000 + the order of the event
    // within that millisecond (saturating at 999), so events strictly order.
    std::uint64_t history_time();

    // ---- manual verbs. Each returns whether it changed anything. A message
    // verb addresses the k-th oldest message of link from->to; if that link
    // holds nothing it acts on the next non-empty link in the fixed cyclic order.
    bool deliver(NodeId from, NodeId to, std::uint64_t k);
    bool drop(NodeId from, NodeId to, std::uint64_t k);
    bool duplicate(NodeId from, NodeId to, std::uint64_t k);
    bool tick(NodeId node, std::uint64_t ms);  // that node's time moves on by ms, then it ticks
    void advance(std::uint64_t ms);             // global time moves on; every node that can step ticks
    // Delivers every message in flight, oldest first, and what those produce,
    // to nodes that can step, without moving time; at most max_messages.
    std::size_t drain(std::size_t max_messages = 10000);
    // A new request from an idle client slot (false if it is waiting).
    bool client(NodeId node, std::uint32_t slot, protocol::ClientRequestBody body, bool wrong_cluster = false);
    // The slot's last ops request again, same request id (false if none).
    bool retry(NodeId node, std::uint32_t slot);
    void pause(NodeId node);
    void resume(NodeId node);

    // ---- automatic-mode primitives.
    void set_time(std::uint64_t now_ms);  // never backwards
    std::size_t deliver_ready();          // every message ready by now, in (ready, send) order
    void tick_node(NodeId node);
    void tick_due();                       // ticks the nodes whose tick phase is now
    void pause_until(NodeId node, std::uint64_t until_ms);
    void clog(Link link, std::uint64_t until_ms);
    Network& network() { return network_; }
    const Network& network() const { return network_; }
    Clients& clients() { return clients_; }
    const Clients& clients() const { return clients_; }

    // ---- checks.
    // The first safety violation seen so far, if any (checked after every step).
    const std::optional<checker::Violation>& violation() const { return violation_; }
    // No client waiting, nothing undecided or queued, every node at the same
    // log length; why_not_quiet() says what is missing.
    bool quiet() const;
    std::string why_not_quiet() const;
    // Ends every fault, runs until quiet for at most bound_ms of simulated
    // time (a liveness violation otherwise), then P5, P6, P7 and a final P1-P3.
    Verdict finish(std::uint64_t bound_ms);

    // ---- observations.
    const coordinator::Engine& engine(NodeId node) const { return nodes_.at(node - 1).engine; }
    // Every log segment of every node. A node that installs a snapshot starts
    // a new segment at the snapshot's log length; segment s > 0 of incarnation
    // i is named incarnation i + s x kSegmentStride (the checker tells logs
    // apart by (node, incarnation), and a log may not jump).
    static constexpr std::uint64_t kSegmentStride = 1000000;
    const std::vector<checker::NodeLog>& logs() const { return logs_; }
    const checker::Journal& journal() const { return safety_.journal(); }
    std::uint64_t trace_hash() const { return trace_.value(); }
    const std::vector<std::string>& transcript() const { return transcript_; }
    std::string transcript_tail(std::size_t lines) const;
    // Adds a line to the transcript (e.g. the schedule step about to run).
    void note_step(const std::string& line) { note(">> " + line); }
    const ClusterCounters& counters() const { return counters_; }

private:
    struct NodeSlot {
        coordinator::Engine engine;
        std::uint64_t skew_ms = 0;
        std::uint64_t drift_ms = 0;
        std::deque<protocol::ClientRequest> inbox;  // client requests held while the node is paused
    };

    NodeSlot& slot(NodeId node) { return nodes_.at(node - 1); }
    bool can_step(NodeId node) const { return network_.can_step(node, now_ms_); }
    // One call into an engine, then everything it produced is routed and checked.
    void step(NodeId node, const std::function<void(coordinator::Engine&, std::uint64_t)>& call);
    void route(NodeId node, coordinator::Output out);
    void submit(NodeId node, protocol::ClientRequest req);
    void flush_inbox(NodeId node);
    void deliver_message(Link link, InFlight message);
    std::optional<Link> pick_link(NodeId from, NodeId to, bool need_receiver) const;
    void fail(checker::CheckResult result);
    void note(const std::string& line);
    void start_segment(NodeId node, std::uint64_t start_index);
    checker::CheckResult final_checks(checker::LinearizabilityStats& stats) const;

    ClusterOptions options_;
    std::vector<NodeSlot> nodes_;
    Network network_;
    Clients clients_;
    Rng rng_;
    SafetyMonitor safety_;
    EngineMonitor engine_monitor_;
    LogChains chains_;
    std::vector<checker::NodeLog> logs_;  // every segment, in creation order
    std::vector<std::size_t> current_;    // by node - 1: its segment in logs_ that grows
    std::vector<std::uint64_t> segments_;  // by node - 1: segments started after the first
    TraceHash trace_;
    std::vector<std::string> transcript_;
    std::optional<checker::Violation> violation_;
    ClusterCounters counters_;
    std::uint64_t now_ms_ = 0;
    std::uint64_t history_ms_ = 0;
    std::uint64_t history_sub_ = 0;
};

}  // namespace tricache::sim
