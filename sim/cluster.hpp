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
#include <utility>
#include <tuple>
#include <map>
#include <vector>

#include "checker/checks.hpp"
#include "checker/types.hpp"
#include "coordinator/engine.hpp"
#include "coordinator/history.hpp"
#include "sim/clients.hpp"
#include "sim/delivery_cache.hpp"
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

// The client id the operator's admin requests use (no simulated client has it).
inline constexpr protocol::ClientId kOperatorClient = 1;

struct ClusterOptions {
    std::uint32_t nodes = 3;  // ids 1..nodes
    std::uint64_t seed = 1;   // skews, codec choices, link fault draws, engine seeds
    store::Limits store_limits{5, 360};
    std::uint64_t max_skew_ms = 4;  // each node's clock runs ahead by [0, max_skew_ms]
    // R-TTL: each node's wall clock (which stamps its commands) is off by up to this much either way,
    // drawn per node from the seed; kept across the node's restarts.
    std::uint64_t max_wall_skew_ms = 0;
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

    // Failure detection and view change (spec section 8). The defaults are
    // the engine's; a partition, crash or pause longer than suspect_ms makes
    // the survivors change the view.
    std::uint64_t suspect_ms = 300;
    std::uint64_t vc_timeout_ms = 200;
    std::uint64_t vc_backoff_ms = 150;
    std::uint64_t no_quorum_ms = 1000;
    std::uint64_t join_retry_ms = 100;
    std::uint64_t snapshot_chunk_bytes = 256;  // small, so snapshots of even tiny stores travel in chunks
    // A total-failure scenario: crash may leave a majority without memory or
    // every holder of the data gone (the cluster must then report
    // NEEDS_REBOOTSTRAP), and finish() plays the operator who rebootstraps.
    // Off: crash refuses to leave a majority without memory or data.
    bool allow_total_loss = false;
    std::uint32_t rebootstrap_lanes = 256;  // EngineConfig::rebootstrap_lanes

    std::uint64_t tick_every_ms = 5;  // how often automatic mode and finish() tick each node
    bool deep_store_checks = true;    // LruStore::check_invariants after every call (O(entries))
    // The simulator's own engine monitors (EngineMonitor, LogChains). Off, only
    // the checker's properties judge: for measuring what the checker alone catches.
    bool engine_monitors = true;
    bool transcript = false;          // keep one readable line per event (for shrunk failures)
    // Keep the nodes that sent a PreCommit, for automatic mode's targeted faults
    // (FaultParams::isolate_coordinator_rate); drained by take_precommit_senders.
    bool watch_precommits = false;
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
    std::uint64_t crashes = 0;
    std::uint64_t cuts = 0;  // links blocked, one direction each (partitions count every link they cut)
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
    // Topology. partition: nodes in different groups cannot reach each other,
    // a node in no group is alone; it replaces every earlier partition or cut.
    // cut: one direction of one link. heal_links: every partition and cut ends.
    // Messages queued on a blocked link wait; new sends on it are lost.
    void partition(const std::vector<std::vector<NodeId>>& groups);
    bool cut(NodeId from, NodeId to);
    bool uncut(NodeId from, NodeId to);  // that direction of that link works again
    void heal_links();
    // The node's engine is destroyed (its memory is lost) and every message
    // to or from it dropped. Refused (false) when the node is down already,
    // or when it would leave a majority of the cluster without memory and
    // the options do not allow total loss.
    bool crash(NodeId node);
    // A crashed node starts again as a new engine, Engine::join with an
    // incarnation above every earlier one of that node. False if it is up.
    bool restart(NodeId node);
    // The operator's `rebootstrap` sent to the node (R-REBOOTSTRAP). False if
    // the node is down; the engine itself refuses unless it needs one.
    bool rebootstrap(NodeId node);
    // The operator of a total-failure run (allow_total_loss; else nothing): a
    // node in NEEDS_REBOOTSTRAP gets `rebootstrap`, at most once per suspect_ms.
    // finish() calls it while quiescing; the automatic runner also every ms.
    void operator_rebootstrap_if_needed();
    // Histories started so far: 1, plus one per rebootstrap some node adopted.
    std::size_t histories() const { return gens_.size(); }
    bool crashed(NodeId node) const { return !network_.node(node).up; }
    // Without memory: crashed, or restarted and not yet re-added by a view
    // change, or without the data (a member waiting for a snapshot, or a node
    // left out of a view).
    bool memoryless(NodeId node) const;
    std::uint32_t memoryless_count() const;
    // The most nodes that may be without memory at once: a minority.
    std::uint32_t max_memoryless() const { return (options_.nodes - 1) / 2; }

    // ---- automatic-mode primitives.
    void set_time(std::uint64_t now_ms);  // never backwards
    std::size_t deliver_ready();          // every message ready by now, in (ready, send) order
    void tick_node(NodeId node);
    void tick_due();                       // ticks the nodes whose tick phase is now
    void set_watch_precommits(bool on) { options_.watch_precommits = on; }
    // The nodes that sent a PreCommit since the last call (watch_precommits only).
    std::vector<NodeId> take_precommit_senders() { return std::exchange(precommit_senders_, {}); }
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
    // Ends every fault (heal, resume, restart every crashed node), runs until
    // quiet for at most bound_ms of simulated time, then (P9) sends one new
    // write that must be answered Ok within probe_bound_ms() and quiets
    // again (a liveness violation otherwise), then P5, P6, P7 and a final
    // P1-P4.
    Verdict finish(std::uint64_t bound_ms);
    // Once every node is in one view and nothing is in flight, a write needs
    // three round trips of a millisecond and perhaps a resend; we allow one
    // whole failure-detection and view-change cycle on top, so a member that
    // was suspected just as the faults ended does not count as a hang.
    std::uint64_t probe_bound_ms() const {
        return options_.suspect_ms + options_.vc_timeout_ms + options_.vc_backoff_ms + 4 * options_.resend_ms;
    }

    // ---- observations.
    const coordinator::Engine& engine(NodeId node) const { return nodes_.at(node - 1).engine; }
    // Every log segment of every node. A node that installs a snapshot starts
    // a new segment at the snapshot's log length; segment s > 0 of incarnation
    // i is named incarnation i + s x kSegmentStride (the checker tells logs
    // apart by (node, incarnation), and a log may not jump).
    static constexpr std::uint64_t kSegmentStride = 1000000;
    // Of the history node 1 is in (each rebootstrap starts one, checked on its own).
    const std::vector<checker::NodeLog>& logs() const { return gens_[generation_of_node(1)].logs; }
    // Moves those logs out, for a caller done with the cluster (no check runs after).
    std::vector<checker::NodeLog> release_logs() { return std::move(gens_[generation_of_node(1)].logs); }
    const checker::Journal& journal() const { return gens_[generation_of_node(1)].safety.journal(); }
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

    // One history of the cluster: the bootstrap's, then one per rebootstrap.
    // Its epochs start at first_epoch and lie below the next history's
    // (R-REBOOTSTRAP), so every event is judged in the history of its epoch;
    // two rebootstraps whose lanes collide share a first epoch, and the tag
    // (R-HISTORY: a hash of the birth) then says which one an event is of.
    struct Generation {
        protocol::Epoch first_epoch = 0;
        std::uint64_t tag = 0;  // coordinator::history_tag of its record (0: the bootstrap history)
        protocol::Epoch max_epoch = 0;  // the highest epoch a node installed in this history
        protocol::View record;          // the rebootstrap's view (empty for the bootstrap history)
        bool retired = false;           // dead, and its first epoch reused by a later rebootstrap
        SafetyMonitor safety;
        LogChains chains;
        std::vector<checker::NodeLog> logs;  // every segment, in creation order
        // by node - 1: its segment in logs that grows (none: it has no log in this history)
        std::vector<std::optional<std::size_t>> current;
        std::vector<std::uint64_t> segments;  // by node - 1: segments started after the first
        // R-IN-DOUBT: the first committed transaction of each request, per coordinator incarnation.
        // A coordinator never runs a request again once an attempt of it may commit, so a second
        // committed transaction of the same coordinator holding the request is a re-run.
        std::map<std::tuple<NodeId, protocol::Incarnation, protocol::ClientId, protocol::RequestId>, protocol::TxId>
            first_commit;
    };

    NodeSlot& slot(NodeId node) { return nodes_.at(node - 1); }
    std::optional<checker::Violation> check_no_rerun(Generation& gen, const coordinator::DeliveredTx& d);
    Generation make_generation(protocol::Epoch first_epoch, std::uint64_t tag) const;
    // The history of `epoch` as seen by a node whose history has tag `tag`.
    std::size_t generation_of(protocol::Epoch epoch, std::uint64_t tag) const;
    // The node's history now: the one of its installed epoch.
    std::size_t generation_of_node(NodeId node) const {
        return generation_of(engine(node).view().epoch, coordinator::history_tag(engine(node).view()));
    }
    // Where a client's attempt at the node is recorded (a crashed node refuses it: the newest history).
    std::size_t client_history(NodeId node) const { return crashed(node) ? gens_.size() - 1 : generation_of_node(node); }
    void start_generation(const protocol::View& view, NodeId adopter);
    bool generation_alive(std::size_t gen, NodeId adopter) const;
    checker::CheckResult check_history_lost(std::size_t gen, NodeId adopter, const protocol::View& record) const;
    checker::NodeLog* growing_log(NodeId node, std::size_t gen);
    bool can_step(NodeId node) const { return network_.can_step(node, now_ms_); }
    // One call into an engine, then everything it produced is routed and checked.
    // (A template, not std::function: it runs for every message and tick.)
    template <class Call>
    void step(NodeId node, Call&& call);
    void route(NodeId node, coordinator::Output& out);
    coordinator::Output out_;  // reused by step(): the engine swaps its vectors in, keeping their capacity
    void submit(NodeId node, protocol::ClientRequest req);
    bool refused_by_crash(NodeId node, std::uint32_t slot_index);
    void flush_inbox(NodeId node);
    void deliver_message(Link link, InFlight&& message);
    std::optional<Link> pick_link(NodeId from, NodeId to, bool need_receiver) const;
    void fail(checker::CheckResult result);
    checker::CheckResult check_sent(NodeId node, const protocol::PeerMessage& msg) const;
    bool run_until_quiet(std::uint64_t bound_ms, Verdict& verdict, const std::string& what);
    void note(const std::string& line);
    void start_segment(NodeId node, std::size_t gen, std::uint64_t start_index);
    checker::CheckResult final_checks(checker::LinearizabilityStats& stats) const;

    ClusterOptions options_;
    std::vector<NodeSlot> nodes_;
    Network network_;
    Clients clients_;
    Rng rng_;
    EngineMonitor engine_monitor_;
    DeliveryCache deliveries_;  // one converted copy of each delivered transaction, shared by every log
    std::vector<Generation> gens_;  // oldest first; never empty
    std::vector<std::size_t> log_gen_;  // by node - 1: the history of the log its engine holds
    // The stepped node as it was before the call: what a rebootstrap adopter abandoned.
    struct PreCall {
        bool amnesiac = false;
        bool holds_data = false;
        protocol::Epoch epoch = 0;
        std::uint64_t tag = 0;  // coordinator::history_tag of its view
    };
    PreCall pre_call_;
    static constexpr std::size_t kNoLog = static_cast<std::size_t>(-1);  // restarted: in no history yet
    std::uint64_t last_operator_ms_ = 0;
    protocol::RequestId operator_requests_ = 0;
    TraceHash trace_;
    std::vector<std::string> transcript_;
    std::optional<checker::Violation> violation_;
    ClusterCounters counters_;
    std::vector<protocol::Incarnation> last_incarnation_;  // by node - 1: the highest ever used
    // by node - 1, for its current incarnation: epochs it installed, and
    // whether it installed a view naming it (R-AMNESIA: only then may it count).
    std::vector<std::vector<std::uint64_t>> installed_;
    std::vector<bool> named_;
    std::uint64_t now_ms_ = 0;
    std::uint64_t history_ms_ = 0;
    std::uint64_t history_sub_ = 0;
    std::vector<NodeId> precommit_senders_;
};

}  // namespace tricache::sim
