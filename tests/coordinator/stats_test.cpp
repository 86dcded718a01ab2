// The engine's plain counters (EngineStats), which the node's metrics and INFO
// publish: what they count on the commit path, in a view change, and how a
// node that lost its majority shows it. No protocol rule reads them.
#include <gtest/gtest.h>

#include "tests/coordinator/harness.hpp"

namespace tricache::coordinator::testing {
namespace {

using namespace tricache::protocol;

TEST(EngineStats, CountCommittedTransactionsTheirOperationsAndApplicationsEverywhere) {
    Harness h(3);
    h.request(1, 7, 1, {set("a", "1")});
    h.run();
    h.request(1, 7, 2, {set("b", "2"), get("a"), del("c")});
    h.run();
    h.request(2, 8, 1, {get("b")});
    h.run();
    h.settle();
    const auto& s1 = h.node(1).stats();
    EXPECT_EQ(s1.tx_committed, 2u);
    EXPECT_EQ(s1.tx_aborted, 0u);
    EXPECT_EQ(s1.ops_committed, 4u);
    EXPECT_EQ(s1.ops_per_tx[0], 1u);  // one op
    EXPECT_EQ(s1.ops_per_tx[2], 1u);  // three ops: more than 2, at most 4
    EXPECT_EQ(h.node(2).stats().tx_committed, 1u);
    EXPECT_EQ(h.node(3).stats().tx_committed, 0u);
    for (NodeId n : {1u, 2u, 3u}) {
        EXPECT_EQ(h.node(n).stats().tx_applied, 3u) << "node " << n;
        EXPECT_EQ(h.node(n).stats().view_changes_started, 0u) << "node " << n;
        EXPECT_EQ(h.node(n).stats().views_installed, 0u) << "node " << n;
    }
}

TEST(EngineStats, CountViewChangesAndShowALostMajority) {
    Harness h(3, failure_detection);
    h.request(1, 7, 1, {set("a", "1")});
    h.settle();
    h.partition({3});  // node 3 alone: the others remove it, it loses its majority
    for (int i = 0; i < 100; ++i) {
        h.advance(10);
        h.run();
    }
    for (NodeId n : {1u, 2u}) {
        EXPECT_GE(h.node(n).stats().view_changes_started, 1u) << "node " << n;
        EXPECT_GE(h.node(n).stats().views_installed, 1u) << "node " << n;
        EXPECT_FALSE(h.node(n).refusing_no_quorum(h.now())) << "node " << n;
        EXPECT_LT(h.node(n).majority_unheard_ms(h.now()), 200u) << "node " << n;
    }
    EXPECT_GE(h.node(1).stats().view_change_proposals + h.node(2).stats().view_change_proposals, 1u);
    EXPECT_EQ(h.node(3).stats().views_installed, 0u);
    EXPECT_TRUE(h.node(3).refusing_no_quorum(h.now()));
    EXPECT_GE(h.node(3).majority_unheard_ms(h.now()), 600u);  // no_quorum_ms in failure_detection
}

}  // namespace
}  // namespace tricache::coordinator::testing
