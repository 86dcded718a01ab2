#include "checker/history.hpp"

#include <gtest/gtest.h>

namespace tricache::checker {
namespace {

const std::vector<Op> kOps{Op::set("k", "v")};
const std::vector<OpResult> kOk{{true, std::nullopt}};

TEST(History, SingleOkOperation) {
    History h;
    EXPECT_EQ(h.record_invoke(Invoke{10, 1, 1, 2, kOps}), std::nullopt);
    EXPECT_EQ(h.record_complete(Complete{12, 1, 1, Outcome::Ok, kOk}), std::nullopt);
    const LogicalOp* op = h.find(1, 1);
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->outcome(), Outcome::Ok);
    EXPECT_EQ(op->first_invoke, 10u);
    EXPECT_EQ(op->first_ok, 12u);
    EXPECT_EQ(op->ok_results, kOk);
    EXPECT_EQ(op->node, 2u);
    EXPECT_TRUE(op->has_write());
    EXPECT_EQ(h.recording_error(), std::nullopt);
}

TEST(History, RetriesFormOneOperationAndOkWins) {
    History h;
    (void)h.record_invoke(Invoke{10, 1, 1, 2, kOps});
    (void)h.record_complete(Complete{20, 1, 1, Outcome::Info, {}});
    (void)h.record_invoke(Invoke{25, 1, 1, 3, kOps});
    (void)h.record_complete(Complete{30, 1, 1, Outcome::Ok, kOk});
    (void)h.record_invoke(Invoke{31, 1, 1, 3, kOps});
    (void)h.record_complete(Complete{40, 1, 1, Outcome::Fail, {}});
    const LogicalOp* op = h.find(1, 1);
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->outcome(), Outcome::Ok);
    EXPECT_EQ(op->attempts, 3u);
    EXPECT_EQ(op->first_invoke, 10u);
    EXPECT_EQ(op->last_complete, 40u);
    EXPECT_EQ(op->first_ok, 30u);
    EXPECT_EQ(op->node, 2u);
    EXPECT_EQ(h.size(), 1u);
}

TEST(History, FailOnlyWhenEveryAttemptFailed) {
    History h;
    (void)h.record_invoke(Invoke{1, 1, 1, 1, kOps});
    (void)h.record_complete(Complete{2, 1, 1, Outcome::Fail, {}});
    EXPECT_EQ(h.find(1, 1)->outcome(), Outcome::Fail);
    (void)h.record_invoke(Invoke{3, 1, 1, 1, kOps});
    EXPECT_EQ(h.find(1, 1)->outcome(), Outcome::Info) << "a pending retry may still apply";
    (void)h.record_complete(Complete{4, 1, 1, Outcome::Fail, {}});
    EXPECT_EQ(h.find(1, 1)->outcome(), Outcome::Fail);
    (void)h.record_invoke(Invoke{5, 2, 1, 1, kOps});
    (void)h.record_complete(Complete{6, 2, 1, Outcome::Info, {}});
    (void)h.record_invoke(Invoke{7, 2, 1, 1, kOps});
    (void)h.record_complete(Complete{8, 2, 1, Outcome::Fail, {}});
    EXPECT_EQ(h.find(2, 1)->outcome(), Outcome::Info);
}

TEST(History, DifferingOkResultsAreKept) {
    History h;
    (void)h.record_invoke(Invoke{1, 1, 1, 1, kOps});
    (void)h.record_invoke(Invoke{2, 1, 1, 1, kOps});
    (void)h.record_complete(Complete{5, 1, 1, Outcome::Ok, {{false, std::nullopt}}});
    (void)h.record_complete(Complete{4, 1, 1, Outcome::Ok, kOk});
    const LogicalOp* op = h.find(1, 1);
    EXPECT_EQ(op->first_ok, 4u);
    EXPECT_EQ(op->ok_results, kOk);
    ASSERT_TRUE(op->conflicting_ok.has_value());
    EXPECT_EQ(op->conflicting_ok->first, 5u);
}

TEST(History, MalformedEventsAreReportedAndRemembered) {
    History h;
    const auto never = h.record_complete(Complete{5, 9, 9, Outcome::Ok, {}});
    ASSERT_TRUE(never.has_value());
    EXPECT_EQ(never->property, "H well-formed");
    EXPECT_NE(never->detail.find("never invoked"), std::string::npos);

    (void)h.record_invoke(Invoke{10, 1, 1, 1, kOps});
    EXPECT_TRUE(h.record_invoke(Invoke{11, 1, 1, 1, {Op::get("k")}}).has_value());
    EXPECT_TRUE(h.record_invoke(Invoke{9, 1, 1, 1, kOps}).has_value());
    EXPECT_TRUE(h.record_complete(Complete{8, 1, 1, Outcome::Ok, kOk}).has_value());
    EXPECT_EQ(h.record_complete(Complete{12, 1, 1, Outcome::Ok, kOk}), std::nullopt);
    const auto extra = h.record_complete(Complete{13, 1, 1, Outcome::Ok, kOk});
    ASSERT_TRUE(extra.has_value());
    EXPECT_NE(extra->detail.find("more completions than invocations"), std::string::npos);
    EXPECT_TRUE(h.record_local_read(LocalRead{5, 4, 1, "k", false, "", 0, 0}).has_value());
    EXPECT_TRUE(h.record_local_read(LocalRead{5, 6, 1, "k", false, "", 3, 4}).has_value());

    ASSERT_TRUE(h.recording_error().has_value());
    EXPECT_NE(h.recording_error()->detail.find("never invoked"), std::string::npos) << "the first error sticks";
    EXPECT_TRUE(h.local_reads().empty());
}

TEST(History, OperationsAreOrderedByFirstInvoke) {
    History h;
    (void)h.record_invoke(Invoke{30, 1, 2, 1, kOps});
    (void)h.record_invoke(Invoke{10, 2, 1, 1, kOps});
    (void)h.record_invoke(Invoke{10, 1, 5, 1, kOps});
    const auto ops = h.operations();
    ASSERT_EQ(ops.size(), 3u);
    EXPECT_EQ(std::make_pair(ops[0]->client, ops[0]->request), std::make_pair(std::uint64_t{1}, std::uint64_t{5}));
    EXPECT_EQ(std::make_pair(ops[1]->client, ops[1]->request), std::make_pair(std::uint64_t{2}, std::uint64_t{1}));
    EXPECT_EQ(std::make_pair(ops[2]->client, ops[2]->request), std::make_pair(std::uint64_t{1}, std::uint64_t{2}));
}

}  // namespace
}  // namespace tricache::checker
