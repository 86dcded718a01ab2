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

TEST(Schedule, RejectsGarbage) {
    std::string bad;
    EXPECT_FALSE(parse_schedule("deliver 1->2 #1\nfly 1->2\n", &bad).has_value());
    EXPECT_EQ(bad, "fly 1->2");
    EXPECT_FALSE(parse_step("deliver 1-2 #1").has_value());
    EXPECT_FALSE(parse_step("tick 2 30ms").has_value());
    EXPECT_FALSE(parse_step("client c0 @1 CAS k1 x").has_value());
}

RC_GTEST_PROP(Schedule, DescribeThenParseIsIdentity, ()) {
    const Step step = *gen_step(5, 3);
    const auto back = parse_step(describe(step));
    RC_ASSERT(back.has_value());
    RC_ASSERT(*back == step);
}

}  // namespace
}  // namespace tricache::sim::testing
