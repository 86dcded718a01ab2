// The automatic mode over many seeds with swarm faults on 3, 5 and 7 nodes.
// Each failure names the seed and the tricache-sim command that replays it.
// TRICACHE_SOAK=1 runs 20 times as many seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "sim/runner.hpp"

namespace tricache::sim {
namespace {

int soak_factor() {
    const char* soak = std::getenv("TRICACHE_SOAK");
    return soak != nullptr && *soak != '\0' && std::strcmp(soak, "0") != 0 ? 20 : 1;
}

// TRICACHE_SIM_CHECKER_ONLY=1: only the checker judges (mutation experiments).
bool engine_monitors() {
    const char* only = std::getenv("TRICACHE_SIM_CHECKER_ONLY");
    return only == nullptr || *only == '\0' || std::strcmp(only, "0") == 0;
}

// The sanitizer pass hunts memory and undefined-behaviour errors; breadth is
// the release pass's job, which runs every seed. A sanitized build (10x slower)
// runs the first tenth.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t kSanitizedShare = 10;
#else
constexpr std::uint64_t kSanitizedShare = 1;
#endif

constexpr std::uint64_t kSimMs = 1500;
constexpr std::uint64_t kBoundMs = 20000;

void sweep(std::uint32_t nodes, std::uint64_t first_seed, std::uint64_t seeds) {
    std::uint64_t ok_ops = 0;
    std::uint64_t failures = 0;
    seeds = std::max<std::uint64_t>(1, seeds / kSanitizedShare);
    for (std::uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
        RunConfig config = swarm_config(seed, nodes);
        config.sim_ms = kSimMs;
        config.quiesce_bound_ms = kBoundMs;
        config.cluster.engine_monitors = engine_monitors();
        const RunResult r = run(config);
        ok_ops += r.clients.ok;
        if (r.verdict.kind == VerdictKind::Pass) continue;
        ++failures;
        ADD_FAILURE() << (r.verdict.kind == VerdictKind::Safety ? "SAFETY " : "LIVENESS ")
                      << r.verdict.violation.property << ": " << r.verdict.violation.detail << "\n  seed " << seed
                      << ": " << describe(config) << "\n  replay: tricache-sim --seed " << seed
                      << " --runs 1 --nodes " << nodes << " --sim-ms " << kSimMs << " --bound-ms " << kBoundMs
                      << " --swarm --transcript";
        if (failures >= 5) break;  // enough to go on; the first seeds are the report
    }
    EXPECT_GT(ok_ops, seeds);  // the sweep did real work
}

// Bigger clusters cost more per run; 3-node runs are where most windows line up.
TEST(SimSeedSweep, ThreeNodes) { sweep(3, 1, 1000 * static_cast<std::uint64_t>(soak_factor())); }
TEST(SimSeedSweep, FiveNodes) { sweep(5, 100001, 500 * static_cast<std::uint64_t>(soak_factor())); }
TEST(SimSeedSweep, SevenNodes) { sweep(7, 200001, 250 * static_cast<std::uint64_t>(soak_factor())); }

}  // namespace
}  // namespace tricache::sim
