// The schedule script format: every step reads back as itself, so a shrunk
// counterexample printed by the property pastes into a regression test.
#include <gtest/gtest.h>

#include <rapidcheck/gtest.h>

#include "schedule_gen.hpp"
#include "sim/schedule.hpp"

namespace tricache::sim::testing {
namespace {

TEST(Schedule, ParsesEveryVerb) {
    const auto steps = parse_schedule(R"(
        # a comment line
        deliver 1->2 #3
        drop 2->1 #0   # a trailing comment
        dup 3->1 #1
        tick 2 +30ms
        advance +50ms
        pause 3
        resume 3
        retry c1 @2
        client c0 @2 SET k1=abc; GET k2; DEL k3; CAS k1 abc->xyz; CAS k4 absent->q
        client c2 @1 LGET k2
        client c0 @3 GET k1 !wrong-cluster
        client c0 @3 SET k1=
        drain
    )");
    ASSERT_TRUE(steps.has_value());
    ASSERT_EQ(steps->size(), 13u);
    EXPECT_EQ((*steps)[12].kind, StepKind::Drain);
    EXPECT_EQ((*steps)[0].kind, StepKind::Deliver);
    EXPECT_EQ((*steps)[0].node, 1u);
    EXPECT_EQ((*steps)[0].to, 2u);
    EXPECT_EQ((*steps)[0].k, 3u);
    EXPECT_EQ((*steps)[3].k, 30u);
    const auto& ops = std::get<protocol::OpsRequest>((*steps)[8].body).ops;
    ASSERT_EQ(ops.size(), 5u);
    EXPECT_EQ(std::get<protocol::Cas>(ops[3]), (protocol::Cas{"k1", "abc", "xyz"}));
    EXPECT_EQ(std::get<protocol::Cas>(ops[4]), (protocol::Cas{"k4", std::nullopt, "q"}));
    EXPECT_TRUE((*steps)[10].wrong_cluster);
    EXPECT_EQ(std::get<protocol::Set>(std::get<protocol::OpsRequest>((*steps)[11].body).ops[0]).value, "");
}

TEST(Schedule, ParsesTheFailureVerbs) {
    const auto steps = parse_schedule(R"(
        partition 1,2 | 3
        partition 1 | 2,4 | 3,5
        cut 1->2
        bridge 1-2-3
        heal
        crash 2
        restart 2
    )");
    ASSERT_TRUE(steps.has_value());
    ASSERT_EQ(steps->size(), 7u);
    EXPECT_EQ((*steps)[0].kind, StepKind::Partition);
    EXPECT_EQ((*steps)[0].groups, (std::vector<std::vector<NodeId>>{{1, 2}, {3}}));
    EXPECT_EQ((*steps)[1].groups, (std::vector<std::vector<NodeId>>{{1}, {2, 4}, {3, 5}}));
    EXPECT_EQ((*steps)[2].kind, StepKind::Cut);
    EXPECT_EQ((*steps)[2].node, 1u);
    EXPECT_EQ((*steps)[2].to, 2u);
    EXPECT_EQ((*steps)[3].kind, StepKind::Bridge);
    EXPECT_EQ((*steps)[3].groups, (std::vector<std::vector<NodeId>>{{1, 2, 3}}));
    EXPECT_EQ((*steps)[4].kind, StepKind::Heal);
    EXPECT_EQ((*steps)[5].kind, StepKind::Crash);
    EXPECT_EQ((*steps)[6].kind, StepKind::Restart);
    EXPECT_EQ((*steps)[6].node, 2u);
    EXPECT_EQ(describe((*steps)[1]), "partition 1 | 2,4 | 3,5");
    EXPECT_FALSE(parse_step("bridge 1-2").has_value());
    EXPECT_FALSE(parse_step("partition").has_value());
    EXPECT_FALSE(parse_step("heal now").has_value());
}

// The amnesia constraint: a crash that would leave a majority without
// memory is refused; a crashed node restarts with a new incarnation.
TEST(Schedule, CrashKeepsTheMemorylessAMinority) {
    Cluster cluster(scripted_options(5, 1));
    EXPECT_TRUE(cluster.crash(1));
    EXPECT_TRUE(cluster.crash(2));
    EXPECT_FALSE(cluster.crash(3));  // three of five would have no memory
    EXPECT_FALSE(cluster.crash(1));  // down already
    EXPECT_EQ(cluster.memoryless_count(), 2u);
    EXPECT_TRUE(cluster.restart(1));
    EXPECT_GT(cluster.engine(1).incarnation(), 1u);
    EXPECT_TRUE(cluster.engine(1).amnesiac());
    EXPECT_EQ(cluster.memoryless_count(), 2u);  // restarted, not yet re-added
    EXPECT_FALSE(cluster.crash(3));
    const Verdict v = cluster.finish(20000);
    EXPECT_EQ(v.kind, VerdictKind::Pass) << v.violation.property << ": " << v.violation.detail;
    EXPECT_EQ(cluster.memoryless_count(), 0u);
    EXPECT_GT(cluster.engine(2).incarnation(), 1u);  // finish restarted it
}

TEST(Schedule, RejectsGarbage) {
    std::string bad;
    EXPECT_FALSE(parse_schedule("deliver 1->2 #1\nfly 1->2\n", &bad).has_value());
    EXPECT_EQ(bad, "fly 1->2");
    EXPECT_FALSE(parse_step("deliver 1-2 #1").has_value());
    EXPECT_FALSE(parse_step("tick 2 30ms").has_value());
    EXPECT_FALSE(parse_step("client c0 @1 CAS k1 x").has_value());
}

TEST(Schedule, HeaderTimersOverrideTheScriptedCluster) {
    const std::string text = "# nodes=6 seed=0 total-loss heartbeat=10 suspect=40 join_retry=200\ncrash 4\n";
    ClusterOptions o = scripted_options(6, 0);
    const ClusterOptions defaults = o;
    ASSERT_TRUE(apply_schedule_timers(text, o));
    EXPECT_EQ(o.heartbeat_ms, 10u);
    EXPECT_EQ(o.suspect_ms, 40u);
    EXPECT_EQ(o.join_retry_ms, 200u);
    EXPECT_EQ(o.vc_timeout_ms, defaults.vc_timeout_ms);
    ClusterOptions plain = scripted_options(3, 0);
    EXPECT_TRUE(apply_schedule_timers("# nodes=3 seed=0 total-loss (14 steps)\n", plain)) << "notes are not timers";
    EXPECT_EQ(plain.suspect_ms, defaults.suspect_ms);
    std::string bad;
    EXPECT_FALSE(apply_schedule_timers("# nodes=3 seed=0 suspekt=40\n", plain, &bad));
    EXPECT_EQ(bad, "suspekt=40");
    EXPECT_FALSE(apply_schedule_timers("# nodes=3 seed=0 suspect=0\n", plain, &bad));
}

RC_GTEST_PROP(Schedule, DescribeThenParseIsIdentity, ()) {
    const Step step = *gen_step(5, 3);
    const auto back = parse_step(describe(step));
    RC_ASSERT(back.has_value());
    RC_ASSERT(*back == step);
}

}  // namespace
}  // namespace tricache::sim::testing
