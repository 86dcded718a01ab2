// The R-VC-DECIDE monitor on hand-made proposals: it must pass what the rule
// allows and name what it does not.
#include "sim/ecr_monitor.hpp"

#include <gtest/gtest.h>

namespace tricache::sim {
namespace {

using namespace tricache::protocol;
using coordinator::EcrProposedEvent;
using coordinator::PromiseSeen;

const TxId kT{3, 1, (1ULL << 32) + 1};
const TxId kU{2, 1, (1ULL << 32) + 1};
const Ballot kB{10, 1};

EpochClosingRecord record(std::uint64_t base) {
    EpochClosingRecord r;
    r.closes = 1;
    r.next = View{2, {{1, 1}, {2, 1}, {3, 1}}, Timestamp{base, 0}, 1, {}};
    return r;
}

PromiseSeen promise(NodeId node, Ballot accepted, std::optional<EpochClosingRecord> ecr) {
    VcPromise p;
    p.ballot = kB;
    p.accepted = accepted;
    p.accepted_ecr = std::move(ecr);
    return PromiseSeen{node, 1, p};
}

EcrProposedEvent proposal(std::vector<PromiseSeen> promises, EpochClosingRecord ecr) {
    return EcrProposedEvent{kB, 1, std::move(promises), std::move(ecr)};
}

TEST(EcrMonitor, TheHighestAcceptedRecordPasses) {
    const EpochClosingRecord x = record(50), y = record(60);
    EXPECT_FALSE(check_ecr_proposal(1, proposal({promise(1, kNoBallot, std::nullopt), promise(2, Ballot{4, 2}, x),
                                                 promise(3, Ballot{7, 3}, y)},
                                                y)));
}

TEST(EcrMonitor, ALowerAcceptedRecordIsNamed) {
    const EpochClosingRecord x = record(50), y = record(60);
    const auto v = check_ecr_proposal(
        1, proposal({promise(1, kNoBallot, std::nullopt), promise(2, Ballot{4, 2}, x), promise(3, Ballot{7, 3}, y)}, x));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->property, "P8 R-VC-DECIDE");
    EXPECT_NE(v->detail.find("accepted at ballot b(4,2)"), std::string::npos) << v->detail;
    EXPECT_NE(v->detail.find("highest ballot, b(7,3)"), std::string::npos) << v->detail;
}

TEST(EcrMonitor, AFreshRecordMustCommitWhatAPromiserPreCommitted) {
    std::vector<PromiseSeen> promises{promise(1, kNoBallot, std::nullopt), promise(2, kNoBallot, std::nullopt)};
    const Batch batch{Command{7, 1, {Set{"k", "v"}}}};
    promises[1].promise.reports.push_back(
        TxReport{kT, TxState::PreCommitted, kOriginalBallot, Timestamp{40, 3}, Timestamp{45, 2}, batch});
    promises[0].promise.reports.push_back(TxReport{kU, TxState::Waiting, kNoBallot, Timestamp{41, 2}, {}, {}});
    EpochClosingRecord good = record(46);
    good.committed.push_back(CommittedTx{kT, Timestamp{45, 2}, batch});
    good.aborted.push_back(kU);
    EXPECT_FALSE(check_ecr_proposal(1, proposal(promises, good)));

    EpochClosingRecord drops = record(46);
    drops.aborted = {kT, kU};
    const auto v = check_ecr_proposal(1, proposal(promises, drops));
    ASSERT_TRUE(v);
    EXPECT_NE(v->detail.find("reports committed or pre-committed"), std::string::npos) << v->detail;

    EpochClosingRecord low_base = good;
    low_base.next.base_ts = Timestamp{45, 2};
    EXPECT_TRUE(check_ecr_proposal(1, proposal(promises, low_base)));

    EpochClosingRecord without_promiser = good;
    without_promiser.next.members = {{1, 1}, {3, 1}};
    EXPECT_TRUE(check_ecr_proposal(1, proposal(promises, without_promiser)));
}

}  // namespace
}  // namespace tricache::sim
