// The nondeterminism detector: a run is a pure function of its configuration.
#include <gtest/gtest.h>

#include <set>

#include "sim/runner.hpp"
#include "sim/schedule.hpp"

namespace tricache::sim {
namespace {

RunConfig faulty(std::uint64_t seed, std::uint32_t nodes) {
    RunConfig c = swarm_config(seed, nodes);
    c.sim_ms = 800;
    c.quiesce_bound_ms = 5000;
    return c;
}

bool same_logs(const std::vector<checker::NodeLog>& a, const std::vector<checker::NodeLog>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].node != b[i].node || a[i].incarnation != b[i].incarnation ||
            a[i].start_index != b[i].start_index || a[i].entries != b[i].entries) {
            return false;
        }
    }
    return true;
}

TEST(SimDeterminism, SameSeedGivesTheSameTraceAndLogs) {
    for (std::uint64_t seed : {1u, 7u, 42u, 1234u}) {
        for (std::uint32_t nodes : {3u, 5u}) {
            const RunResult a = run(faulty(seed, nodes));
            const RunResult b = run(faulty(seed, nodes));
            EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed << " nodes " << nodes;
            EXPECT_TRUE(same_logs(a.logs, b.logs)) << "seed " << seed << " nodes " << nodes;
            EXPECT_EQ(a.verdict.kind, b.verdict.kind);
            EXPECT_EQ(a.clients.ok, b.clients.ok);
            EXPECT_EQ(a.network.sent, b.network.sent);
            EXPECT_GT(a.network.sent, 0u);  // the run did something
        }
    }
}

TEST(SimDeterminism, DifferentSeedsGiveDifferentTraces) {
    std::set<std::uint64_t> hashes;
    constexpr std::uint64_t kSeeds = 24;
    for (std::uint64_t seed = 100; seed < 100 + kSeeds; ++seed) hashes.insert(run(faulty(seed, 3)).trace_hash);
    EXPECT_GE(hashes.size(), kSeeds - 1);
}

TEST(SimDeterminism, ScheduleReplaysGiveTheSameTrace) {
    const auto steps = parse_schedule(R"(
        client c0 @1 SET k1=aa
        client c1 @2 GET k1; SET k2=bbb
        deliver 1->2 #0
        deliver 2->1 #0
        advance +60ms
        deliver 1->3 #1
        dup 2->3 #0
        tick 3 +45ms
    )");
    ASSERT_TRUE(steps.has_value());
    ClusterOptions o;
    o.seed = 9;
    const auto a = run_schedule(o, *steps, 10000);
    const auto b = run_schedule(o, *steps, 10000);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    o.seed = 10;  // other skews and codec choices
    const auto c = run_schedule(o, *steps, 10000);
    EXPECT_NE(a.trace_hash, c.trace_hash);
}

}  // namespace
}  // namespace tricache::sim
