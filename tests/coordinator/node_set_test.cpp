#include "coordinator/node_set.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <vector>

using tricache::coordinator::NodeSet;

TEST(NodeSet, InsertReportsNewOnlyOnceAndCounts) {
    NodeSet s;
    EXPECT_EQ(s.size(), 0u);
    EXPECT_FALSE(s.contains(0));
    EXPECT_TRUE(s.insert(0));
    EXPECT_FALSE(s.insert(0));
    EXPECT_TRUE(s.insert(63));
    EXPECT_TRUE(s.insert(64));  // first position past the inline word
    EXPECT_TRUE(s.insert(200));
    EXPECT_EQ(s.size(), 4u);
    EXPECT_TRUE(s.contains(63));
    EXPECT_TRUE(s.contains(64));
    EXPECT_FALSE(s.contains(65));
    EXPECT_FALSE(s.contains(128));
    EXPECT_FALSE(s.contains(1000));  // beyond every stored word
}

// Any sequence of inserts and lookups answers as a std::set does.
RC_GTEST_PROP(NodeSetProperty, BehavesLikeAStdSet, (const std::vector<std::uint8_t>& steps)) {
    NodeSet s;
    std::set<std::size_t> model;
    for (std::uint8_t step : steps) {
        const std::size_t position = step % 160;  // spans the inline word and two spilled ones
        if (step & 0x80) {
            RC_ASSERT(s.insert(position) == model.insert(position).second);
        } else {
            RC_ASSERT(s.contains(position) == (model.count(position) == 1));
        }
        RC_ASSERT(s.size() == model.size());
    }
    for (std::size_t p = 0; p < 256; ++p) RC_ASSERT(s.contains(p) == (model.count(p) == 1));
}
