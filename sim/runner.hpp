// The automatic mode: an event loop over simulated milliseconds that delivers
// messages when they are ready, ticks every node every few ms, injects the
// run's faults and drives the client workload; then heals, waits for quiet
// and runs the end-of-run checks. Same RunConfig, same result, bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/cluster.hpp"
#include "sim/run_config.hpp"

namespace tricache::sim {

struct RunResult {
    Verdict verdict;
    std::uint64_t trace_hash = 0;
    std::uint64_t sim_ms = 0;  // simulated time at the end, quiesce included
    std::uint64_t log_length = 0;
    std::uint64_t epoch = 0;  // node 1's epoch at the end (view changes happened when > 1)
    // Total-failure runs: whether, at some ms of the faulty phase, more nodes
    // were without memory than the crash limit allows (a majority of an odd
    // cluster, half of an even one), and how many histories the run had (1 + the
    // rebootstraps some node adopted).
    bool majority_lost = false;
    std::size_t histories = 1;
    ClientCounters clients;
    ClusterCounters cluster;
    NetworkCounters network;
    std::string transcript_tail;  // when the config asked for a transcript
    std::vector<checker::NodeLog> logs;
};

RunResult run(const RunConfig& config);

}  // namespace tricache::sim
