#include "checker/global_log.hpp"

#include <gtest/gtest.h>

namespace tricache::checker {
namespace {

LogEntry entry(std::uint64_t seq, std::uint64_t counter, std::uint64_t epoch = 1) {
    return LogEntry{TxKey{1, 1, seq}, Stamp{counter, 1}, epoch,
                    {Command{1, seq, {Op::set("k" + std::to_string(seq), "v")}}}};
}

std::vector<LogEntry> chain(std::uint64_t n) {
    std::vector<LogEntry> out;
    for (std::uint64_t i = 1; i <= n; ++i) out.push_back(entry(i, 10 * i));
    return out;
}

NodeLog slice(std::uint32_t node, std::uint64_t incarnation, const std::vector<LogEntry>& g, std::uint64_t from,
              std::uint64_t to) {
    NodeLog l{node, incarnation, from, {}, std::nullopt};
    for (std::uint64_t i = from; i < to; ++i) l.entries.push_back(g[i]);
    return l;
}

void expect_violation(const CheckResult& r, const std::string& property, const std::string& needle) {
    ASSERT_TRUE(r.has_value()) << "expected a " << property << " violation";
    EXPECT_EQ(r->property, property);
    EXPECT_NE(r->detail.find(needle), std::string::npos) << r->detail;
}

TEST(TotalOrder, SlicesOfOneLogMergeIntoIt) {
    const auto g = chain(10);
    // A crashed incarnation, a full log, a lagging log, and a node that joined by snapshot at 6.
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 4), slice(2, 1, g, 0, 10), slice(3, 1, g, 0, 7),
                                    slice(1, 2, g, 6, 10)};
    const auto built = build_global_log(logs);
    ASSERT_EQ(built.violation, std::nullopt);
    EXPECT_EQ(built.log.start, 0u);
    EXPECT_EQ(built.log.entries, g);
    EXPECT_EQ(check_prefix_comparable(logs), std::nullopt);
}

TEST(TotalOrder, GMayBeStitchedFromSeveralLogs) {
    const auto g = chain(8);
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 5), slice(2, 2, g, 3, 8)};
    const auto built = build_global_log(logs);
    ASSERT_EQ(built.violation, std::nullopt);
    EXPECT_EQ(built.log.entries, g);
}

TEST(TotalOrder, EmptyLogsGiveEmptyG) {
    const std::vector<NodeLog> logs{NodeLog{1, 1, 0, {}, std::nullopt}, NodeLog{2, 2, 5, {}, std::nullopt}};
    const auto built = build_global_log(logs);
    ASSERT_EQ(built.violation, std::nullopt);
    EXPECT_EQ(built.log.end_index(), 0u);
}

TEST(TotalOrder, ForkedLogFails) {
    const auto g = chain(6);
    auto other = g;
    other[4] = entry(40, 45);  // same position, another transaction
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 6), slice(2, 1, other, 0, 6)};
    expect_violation(check_total_order(logs), "P3 total order", "logs fork at index 4");
    expect_violation(check_prefix_comparable(logs), "P3 total order", "logs fork at index 4");
}

TEST(TotalOrder, SameTxDifferentCommandsFails) {
    const auto g = chain(3);
    auto other = g;
    other[1].commands[0].ops[0].value = "w";
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 3), slice(2, 1, other, 0, 3)};
    expect_violation(check_total_order(logs), "P3 total order", "command 0");
}

TEST(TotalOrder, ForkAfterSnapshotFails) {
    const auto g = chain(6);
    auto other = g;
    other[5].final_ts = Stamp{55, 2};
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 6), slice(2, 2, other, 4, 6)};
    expect_violation(check_total_order(logs), "P3 total order", "with final_ts (60,1) vs (55,2)");
}

TEST(TotalOrder, DecreasingTimestampsFail) {
    auto g = chain(5);
    g[3].final_ts = Stamp{25, 1};  // below g[2]'s (30,1)
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 5)};
    expect_violation(check_total_order(logs), "P3 total order", "does not increase at index 3");
}

TEST(TotalOrder, EqualTimestampsFail) {
    auto g = chain(3);
    g[2].final_ts = g[1].final_ts;
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 3)};
    expect_violation(check_total_order(logs), "P3 total order", "does not increase");
}

TEST(TotalOrder, DuplicateTxFails) {
    auto g = chain(4);
    g[3].tx = g[1].tx;
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 4)};
    expect_violation(check_total_order(logs), "P3 total order", "delivered twice: at index 1 and at index 3");
}

TEST(TotalOrder, UncoveredGapFails) {
    const auto g = chain(10);
    const std::vector<NodeLog> logs{slice(1, 1, g, 0, 3), slice(2, 2, g, 6, 10)};
    expect_violation(check_total_order(logs), "P3 total order", "indices [3, 6)");
    // Mid-run, a gap is not yet an error.
    EXPECT_EQ(check_prefix_comparable(logs), std::nullopt);
}

TEST(PrefixMonitor, AcceptsGrowingLogsAndCatchesALateFork) {
    const auto g = chain(12);
    PrefixMonitor monitor;
    std::vector<NodeLog> logs{slice(1, 1, g, 0, 0), slice(2, 1, g, 0, 0)};
    for (std::uint64_t step = 0; step < 12; ++step) {
        logs[0].entries.push_back(g[step]);
        if (step % 2 == 1) logs[1] = slice(2, 1, g, 0, step);
        ASSERT_EQ(monitor.observe(logs), std::nullopt) << "step " << step;
    }
    logs.push_back(slice(3, 2, g, 12, 12));  // joined by snapshot at the end, nothing delivered
    ASSERT_EQ(monitor.observe(logs), std::nullopt);
    logs[2].entries.push_back(entry(99, 130));
    ASSERT_EQ(monitor.observe(logs), std::nullopt);
    ASSERT_EQ(logs[1].entries.size(), 11u);
    logs[1].entries.push_back(g[11]);
    logs[1].entries.push_back(entry(13, 131));  // differs from node 3's entry 12
    expect_violation(monitor.observe(logs), "P3 total order", "logs fork at index 12");
}

TEST(PrefixMonitor, ShrinkingLogFails) {
    const auto g = chain(5);
    PrefixMonitor monitor;
    std::vector<NodeLog> logs{slice(1, 1, g, 0, 5)};
    ASSERT_EQ(monitor.observe(logs), std::nullopt);
    logs[0].entries.pop_back();
    expect_violation(monitor.observe(logs), "P3 total order", "shrank from 5 to 4");
}

TEST(PrefixMonitor, MovedStartFails) {
    const auto g = chain(5);
    PrefixMonitor monitor;
    std::vector<NodeLog> logs{slice(1, 1, g, 0, 5), slice(2, 2, g, 2, 5)};
    ASSERT_EQ(monitor.observe(logs), std::nullopt);
    logs[1] = slice(2, 2, g, 3, 5);
    expect_violation(monitor.observe(logs), "P3 total order", "changed its start index from 2 to 3");
}

TEST(PrefixMonitor, OrderViolationAcrossAGapIsCaughtWhenTheGapCloses) {
    auto g = chain(6);
    g[3].final_ts = Stamp{15, 1};  // below g[2]
    PrefixMonitor monitor;
    std::vector<NodeLog> logs{slice(1, 1, g, 0, 2), slice(2, 2, g, 3, 6)};
    ASSERT_EQ(monitor.observe(logs), std::nullopt);
    logs[0] = slice(1, 1, g, 0, 3);
    expect_violation(monitor.observe(logs), "P3 total order", "does not increase at index 3");
}

TEST(EpochCut, NonDecreasingEpochsHold) {
    GlobalLog g{0, {entry(1, 10, 1), entry(2, 20, 1), entry(3, 30, 2), entry(4, 40, 4)}};
    EXPECT_EQ(check_epoch_cut(g), std::nullopt);
}

TEST(EpochCut, EpochGoingBackFails) {
    GlobalLog g{0, {entry(1, 10, 1), entry(2, 20, 2), entry(3, 30, 1)}};
    expect_violation(check_epoch_cut(g), "P4 epoch cut", "at index 2");
}

}  // namespace
}  // namespace tricache::checker
