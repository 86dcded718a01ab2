#include "checker/reference_lru.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tricache::checker {
namespace {

Contents C(std::initializer_list<std::pair<std::string, std::string>> kv) { return Contents(kv); }

TEST(ReferenceLru, ChargeIsKeyPlusValuePlusOverhead) {
    EXPECT_EQ(ReferenceLru::charge("ab", "xyz"), 2u + 3u + 48u);
}

TEST(ReferenceLru, EvictsLeastRecentlyUsedByCount) {
    ReferenceLru lru(Limits{2, 10'000});
    ASSERT_TRUE(lru.put("a", "1"));
    ASSERT_TRUE(lru.put("b", "2"));
    ASSERT_EQ(lru.get("a"), "1");  // a becomes MRU, b is now LRU
    ASSERT_TRUE(lru.put("c", "3"));
    EXPECT_EQ(lru.contents_mru_first(), C({{"c", "3"}, {"a", "1"}}));
    EXPECT_EQ(lru.bytes(), ReferenceLru::charge("c", "3") + ReferenceLru::charge("a", "1"));
}

TEST(ReferenceLru, EvictsByBytesUntilUnderLimit) {
    // Three 50-byte entries fit in 150; a 52-byte one forces out the two oldest.
    ReferenceLru lru(Limits{100, 150});
    ASSERT_TRUE(lru.put("a", "1"));
    ASSERT_TRUE(lru.put("b", "2"));
    ASSERT_TRUE(lru.put("c", "3"));
    EXPECT_EQ(lru.entry_count(), 3u);
    ASSERT_TRUE(lru.put("d", "xyz"));
    EXPECT_EQ(lru.contents_mru_first(), C({{"d", "xyz"}, {"c", "3"}}));
}

TEST(ReferenceLru, TooLargeIsRejectedAndChangesNothing) {
    ReferenceLru lru(Limits{10, 60});
    ASSERT_TRUE(lru.put("a", "1"));
    ASSERT_TRUE(lru.put("b", "2"));  // evicts a: 100 > 60
    const Contents before = lru.contents_mru_first();
    EXPECT_FALSE(lru.put("b", std::string(20, 'x')));  // 1 + 20 + 48 > 60
    EXPECT_EQ(lru.contents_mru_first(), before);
    EXPECT_EQ(lru.peek("b"), "2");
}

TEST(ReferenceLru, OverwriteMovesToMruAndRecharges) {
    ReferenceLru lru(Limits{3, 10'000});
    lru.put("a", "1");
    lru.put("b", "2");
    lru.put("a", "long");
    EXPECT_EQ(lru.contents_mru_first(), C({{"a", "long"}, {"b", "2"}}));
    EXPECT_EQ(lru.bytes(), ReferenceLru::charge("a", "long") + ReferenceLru::charge("b", "2"));
}

TEST(ReferenceLru, PeekDoesNotTouchButTouchDoes) {
    ReferenceLru lru(Limits{2, 10'000});
    lru.put("a", "1");
    lru.put("b", "2");
    EXPECT_EQ(lru.peek("a"), "1");
    lru.put("c", "3");  // a still LRU: evicted
    EXPECT_EQ(lru.peek("a"), std::nullopt);
    lru.touch("b");
    lru.put("d", "4");  // c is LRU now
    EXPECT_EQ(lru.contents_mru_first(), C({{"d", "4"}, {"b", "2"}}));
}

TEST(ReferenceLru, OpSemantics) {
    ReferenceLru lru(Limits{10, 10'000});
    EXPECT_EQ(lru.apply_op(Op::get("k")), (OpResult{false, std::nullopt}));
    EXPECT_EQ(lru.apply_op(Op::del("k")), (OpResult{false, std::nullopt}));
    EXPECT_EQ(lru.apply_op(Op::set("k", "v")), (OpResult{true, std::nullopt}));
    EXPECT_EQ(lru.apply_op(Op::get("k")), (OpResult{true, "v"}));
    EXPECT_EQ(lru.apply_op(Op::del("k")), (OpResult{true, std::nullopt}));
    EXPECT_EQ(lru.entry_count(), 0u);
}

TEST(ReferenceLru, CasSemantics) {
    ReferenceLru lru(Limits{10, 10'000});
    // Expect absent, absent: writes.
    EXPECT_EQ(lru.apply_op(Op::cas("k", std::nullopt, "v1")), (OpResult{true, std::nullopt}));
    // Expect absent, present: returns the current value.
    EXPECT_EQ(lru.apply_op(Op::cas("k", std::nullopt, "v2")), (OpResult{false, "v1"}));
    // Expect wrong value.
    EXPECT_EQ(lru.apply_op(Op::cas("k", "zz", "v2")), (OpResult{false, "v1"}));
    // Expect a value, absent key.
    EXPECT_EQ(lru.apply_op(Op::cas("nope", "v1", "v2")), (OpResult{false, std::nullopt}));
    EXPECT_EQ(lru.peek("nope"), std::nullopt);
    // Match.
    EXPECT_EQ(lru.apply_op(Op::cas("k", "v1", "v2")), (OpResult{true, std::nullopt}));
    EXPECT_EQ(lru.peek("k"), "v2");
}

TEST(ReferenceLru, CasMismatchTouchesMatchTooLargeDoesNot) {
    ReferenceLru lru(Limits{2, 200});
    lru.put("a", "1");
    lru.put("b", "2");
    // Mismatch on a: a becomes MRU, so c evicts b.
    EXPECT_EQ(lru.apply_op(Op::cas("a", "x", "y")), (OpResult{false, "1"}));
    lru.put("c", "3");
    EXPECT_EQ(lru.contents_mru_first(), C({{"c", "3"}, {"a", "1"}}));
    // Match but too large: rejected, no recency change, so d evicts a.
    EXPECT_EQ(lru.apply_op(Op::cas("a", "1", std::string(200, 'x'))), (OpResult{false, std::nullopt}));
    lru.put("d", "4");
    EXPECT_EQ(lru.contents_mru_first(), C({{"d", "4"}, {"c", "3"}}));
}

TEST(ReferenceLru, SetTooLargeResult) {
    ReferenceLru lru(Limits{10, 60});
    EXPECT_EQ(lru.apply_op(Op::set("k", std::string(100, 'x'))), (OpResult{false, std::nullopt}));
}

TEST(ReferenceLru, DuplicateCommandReturnsFirstResultsAndChangesNothing) {
    ReferenceLru lru(Limits{10, 10'000});
    const Command c1{7, 1, {Op::set("k", "v"), Op::get("k")}};
    const auto first = lru.apply_command(c1);
    EXPECT_FALSE(first.duplicate);
    lru.apply_command(Command{7, 2, {Op::set("k", "w")}});
    const auto again = lru.apply_command(c1);
    EXPECT_TRUE(again.duplicate);
    EXPECT_EQ(again.results, first.results);
    EXPECT_EQ(lru.peek("k"), "w");
    // Another client with the same request id is not a duplicate.
    EXPECT_FALSE(lru.apply_command(Command{8, 1, {Op::get("k")}}).duplicate);
}

TEST(ReferenceLru, RetryWindowKeepsTheLast64RequestsPerClient) {
    ReferenceLru lru(Limits{10, 10'000});
    for (std::uint64_t r = 1; r <= 65; ++r) lru.apply_command(Command{1, r, {Op::set("n", std::to_string(r))}});
    // Request 1 fell out of the window: applied again. Request 2 is still in it.
    EXPECT_TRUE(lru.apply_command(Command{1, 2, {Op::set("n", "2")}}).duplicate);
    EXPECT_EQ(lru.peek("n"), "65");
    EXPECT_FALSE(lru.apply_command(Command{1, 1, {Op::set("n", "1")}}).duplicate);
    EXPECT_EQ(lru.peek("n"), "1");
}

// Ids out of order and a window that wraps several times: exactly the last
// `retry_window` applied requests are remembered, each with its own results.
TEST(ReferenceLru, RetryWindowForgetsTheOldestAcrossWraps) {
    ReferenceLru lru(Limits{10, 10'000, 3});
    const auto cmd = [](std::uint64_t r) {
        return Command{1, r, {Op::set("n", std::to_string(r)), Op::get("n")}};
    };
    for (const std::uint64_t r : {5u, 2u, 9u, 7u, 1u, 8u, 3u, 6u, 4u}) EXPECT_FALSE(lru.apply_command(cmd(r)).duplicate);
    for (const std::uint64_t r : {3u, 6u, 4u}) {
        const auto again = lru.apply_command(cmd(r));
        EXPECT_TRUE(again.duplicate) << r;
        ASSERT_EQ(again.results.size(), 2u);
        EXPECT_EQ(again.results[1].value, std::to_string(r));
    }
    EXPECT_EQ(lru.peek("n"), "4");
    EXPECT_FALSE(lru.apply_command(cmd(7)).duplicate);  // forgotten; now 3 is the oldest and leaves
    EXPECT_FALSE(lru.apply_command(cmd(3)).duplicate);  // and 6 leaves
    EXPECT_TRUE(lru.apply_command(cmd(4)).duplicate);
    EXPECT_FALSE(lru.apply_command(cmd(6)).duplicate);
    EXPECT_EQ(lru.peek("n"), "6");
}

TEST(ReferenceLru, RetryWindowOfZeroRemembersNothing) {
    ReferenceLru lru(Limits{10, 10'000, 0});
    const Command c{1, 1, {Op::set("n", "x")}};
    EXPECT_FALSE(lru.apply_command(c).duplicate);
    EXPECT_FALSE(lru.apply_command(c).duplicate);
}

TEST(ReferenceLru, ApplyLogEntryRunsCommandsInOrder) {
    ReferenceLru lru(Limits{10, 10'000});
    const LogEntry e{TxKey{1, 1, 1}, Stamp{1, 1}, 1,
                     {Command{1, 1, {Op::set("a", "x")}}, Command{2, 1, {Op::get("a"), Op::del("a")}}}};
    const auto out = lru.apply_log_entry(e);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].results, (std::vector<OpResult>{{true, "x"}, {true, std::nullopt}}));
    EXPECT_EQ(lru.entry_count(), 0u);
}

}  // namespace
}  // namespace tricache::checker
