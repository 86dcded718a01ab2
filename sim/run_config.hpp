// Everything one automatic-mode run depends on. A run is a pure function of
// its RunConfig; swarm() draws a whole RunConfig from one seed (swarm
// testing: every seed is a different world, not just a different schedule).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/cluster.hpp"
#include "sim/workload.hpp"

namespace tricache::sim {

struct FaultParams {
    double loss = 0.0;              // per link, each send (links vary around it in swarm mode)
    double duplicate = 0.0;
    std::uint64_t delay_max_ms = 1;  // delays are uniform in [1, delay_max_ms]: reorders
    double clog_rate = 0.0;          // chance per simulated ms that one random link clogs...
    std::uint64_t clog_max_ms = 0;   // ...for up to this long
    double pause_rate = 0.0;         // chance per simulated ms that one random node pauses...
    std::uint64_t pause_max_ms = 0;  // ...for up to this long
    // Pauses longer than the failure detector's timeout: suspect_ms x [1, 3].
    double long_pause_rate = 0.0;
    // Topology: per simulated ms, the chance of a new partition (two or three
    // random groups), a one-way cut of one link, or a bridge (a and c cannot
    // talk, both reach b); each lasts up to topology_max_ms, then that part heals.
    double partition_rate = 0.0;
    double cut_rate = 0.0;
    double bridge_rate = 0.0;
    std::uint64_t topology_max_ms = 0;
    // Crashes: per ms the chance one random node crashes (memory lost; refused
    // when a majority would be without memory, unless cluster.allow_total_loss:
    // swarm_config sets it in some runs, see R-TOTAL-LOSS); it restarts after
    // [restart_min_ms, restart_max_ms].
    double crash_rate = 0.0;
    std::uint64_t restart_min_ms = 0;
    std::uint64_t restart_max_ms = 0;
    // Targeted at R-IN-DOUBT: the chance, each time a node sends a PreCommit,
    // that it is cut off from everyone at once (before its DoCommit can go out)
    // for [2, 6] x suspect_ms, and — with churn_on_isolation — another node
    // pauses past suspect_ms meanwhile, so the others change the view twice and
    // the coordinator later learns only a record after the one that decided
    // its transaction. One isolation at a time.
    double isolate_coordinator_rate = 0.0;
    bool churn_on_isolation = false;
};

struct RunConfig {
    std::uint64_t seed = 1;
    ClusterOptions cluster;
    FaultParams faults;
    WorkloadParams workload;
    std::uint64_t sim_ms = 2000;             // the faulty, loaded phase
    std::uint64_t quiesce_bound_ms = 30000;  // then: heal and be quiet within this
    double request_rate = 0.1;               // chance per idle client per ms to send a request
    double retry_rate = 0.5;                 // after a timeout or give-up: retry elsewhere, same id
    double retry_same_node = 0.0;            // the share of retries sent to the node tried last instead
    std::uint32_t max_attempts = 3;
    std::size_t transcript_lines = 200;  // how much of the transcript a failing run keeps
    std::uint64_t give_up_ms = 0;  // client stops waiting; 0: client_timeout_ms + 500
};

// The default knobs, with faults as given, for `nodes` nodes and `seed`.
RunConfig plain_config(std::uint64_t seed, std::uint32_t nodes);

// Draws faults, store limits, engine windows, clients and workload from the
// seed, each from its own stream (so fixing one never shifts the others).
RunConfig swarm_config(std::uint64_t seed, std::uint32_t nodes);

// One line naming every knob of the run.
std::string describe(const RunConfig& config);

}  // namespace tricache::sim
