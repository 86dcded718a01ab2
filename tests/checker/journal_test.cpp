#include "checker/journal.hpp"

#include <gtest/gtest.h>

namespace tricache::checker {
namespace {

const TxKey kT1{1, 1, 1};
const TxKey kT2{2, 1, 1};

Journal committed_everywhere() {
    Journal j;
    j.tx_epochs[kT1] = TxEpoch{1, {1, 2, 3}};
    j.tx_epochs[kT2] = TxEpoch{1, {1, 2, 3}};
    for (std::uint32_t n = 1; n <= 3; ++n) {
        j.views.push_back(ViewRec{n, 1, {1, 2, 3}});
        j.votes.push_back(VoteRec{n, kT1, true, 1});
        j.votes.push_back(VoteRec{n, kT2, true, 1});
        j.decisions.push_back(DecisionRec{n, kT1, true, Stamp{5, 2}});
        j.decisions.push_back(DecisionRec{n, kT2, true, Stamp{7, 3}});
    }
    return j;
}

std::vector<NodeLog> logs_of_both() {
    const LogEntry e1{kT1, Stamp{5, 2}, 1, {}};
    const LogEntry e2{kT2, Stamp{7, 3}, 1, {}};
    return {NodeLog{1, 1, 0, {e1, e2}, std::nullopt}, NodeLog{2, 1, 0, {e1}, std::nullopt}};
}

void expect_violation(const CheckResult& r, const std::string& property, const std::string& needle) {
    ASSERT_TRUE(r.has_value()) << "expected a " << property << " violation";
    EXPECT_EQ(r->property, property);
    EXPECT_NE(r->detail.find(needle), std::string::npos) << r->detail;
}

TEST(Agreement, HoldsForConsistentDecisions) {
    const Journal j = committed_everywhere();
    EXPECT_EQ(check_agreement(j), std::nullopt);
    EXPECT_EQ(check_view_agreement(j), std::nullopt);
    EXPECT_EQ(check_validity(j, logs_of_both()), std::nullopt);
}

TEST(Agreement, CommitAndAbortOfOneTxFails) {
    Journal j = committed_everywhere();
    j.decisions.push_back(DecisionRec{3, kT2, false, {}});
    expect_violation(check_agreement(j), "P1 agreement", "node 3 decided ABORT");
}

TEST(Agreement, CommitsWithDifferentTimestampsFail) {
    Journal j = committed_everywhere();
    j.decisions[4].final_ts = Stamp{6, 2};  // node 3's commit of kT1
    expect_violation(check_agreement(j), "P1 agreement", "two final timestamps");
}

TEST(Agreement, RepeatedAbortsAgree) {
    Journal j;
    j.decisions.push_back(DecisionRec{1, kT1, false, {}});
    j.decisions.push_back(DecisionRec{2, kT1, false, {}});
    EXPECT_EQ(check_agreement(j), std::nullopt);
}

TEST(Validity, MissingVoteFails) {
    Journal j = committed_everywhere();
    j.votes.erase(j.votes.begin() + 2);  // node 2's vote on kT1
    expect_violation(check_validity(j, {}), "P2 validity", "member 2 of epoch 1");
}

TEST(Validity, NoVoteFromAMemberFails) {
    Journal j = committed_everywhere();
    j.votes[0].yes = false;  // node 1 on kT1
    expect_violation(check_validity(j, {}), "P2 validity", "voted no");
}

TEST(Validity, YesVoteInAnotherEpochFails) {
    Journal j = committed_everywhere();
    j.votes[0].epoch = 2;
    expect_violation(check_validity(j, {}), "P2 validity", "yes vote is for epoch 2");
}

TEST(Validity, NonMembersNeedNotVote) {
    Journal j = committed_everywhere();
    j.tx_epochs[kT1].members = {1, 2};
    j.votes.erase(j.votes.begin() + 4);  // node 3's vote on kT1
    EXPECT_EQ(check_validity(j, {}), std::nullopt);
}

TEST(Validity, CommitWithoutKnownEpochFails) {
    Journal j = committed_everywhere();
    j.tx_epochs.erase(kT2);
    expect_violation(check_validity(j, {}), "P2 validity", "knows no epoch");
}

TEST(Validity, DeliveredButNeverCommittedFails) {
    Journal j = committed_everywhere();
    auto logs = logs_of_both();
    logs[0].entries.push_back(LogEntry{TxKey{3, 1, 9}, Stamp{9, 1}, 1, {}});
    expect_violation(check_validity(j, logs), "P2 validity", "no commit for it");
}

TEST(Validity, DeliveredButAbortedFails) {
    Journal j = committed_everywhere();
    const TxKey t3{3, 1, 9};
    j.decisions.push_back(DecisionRec{1, t3, false, {}});
    auto logs = logs_of_both();
    logs[1].entries.push_back(LogEntry{t3, Stamp{9, 1}, 1, {}});
    expect_violation(check_validity(j, logs), "P2 validity", "decided ABORT");
}

TEST(Validity, DeliveredWithAnotherTimestampFails) {
    Journal j = committed_everywhere();
    auto logs = logs_of_both();
    logs[1].entries[0].final_ts = Stamp{5, 1};
    expect_violation(check_validity(j, logs), "P2 validity", "with final_ts (5,1)");
}

TEST(Validity, DeliveredInAnotherEpochFails) {
    Journal j = committed_everywhere();
    auto logs = logs_of_both();
    logs[0].entries[1].epoch = 2;
    expect_violation(check_validity(j, logs), "P2 validity", "in epoch 2");
}

TEST(CommitAcks, EveryMemberAckedHolds) {
    const TxEpoch epoch{1, {1, 2, 3}};
    const std::vector<AckRec> acks{{1, kT1, 1}, {3, kT1, 1}, {2, kT1, 1}};
    EXPECT_FALSE(check_commit_acks(DecisionRec{1, kT1, true, Stamp{5, 2}}, &epoch, acks, false));
}

TEST(CommitAcks, AMemberWithoutAnAckFails) {
    const TxEpoch epoch{1, {1, 2, 3}};
    const std::vector<AckRec> acks{{1, kT1, 1}, {2, kT1, 1}};
    expect_violation(check_commit_acks(DecisionRec{1, kT1, true, Stamp{5, 2}}, &epoch, acks, false),
                     "P2 unanimous acks", "before member 3 of epoch 1");
}

TEST(CommitAcks, AnAckInAnotherEpochDoesNotCount) {
    const TxEpoch epoch{2, {1, 2}};
    const std::vector<AckRec> acks{{1, kT1, 2}, {2, kT1, 1}};
    expect_violation(check_commit_acks(DecisionRec{1, kT1, true, Stamp{5, 2}}, &epoch, acks, false),
                     "P2 unanimous acks", "member 2");
}

TEST(CommitAcks, AClosingRecordsCommitNeedsNoAck) {
    const TxEpoch epoch{1, {1, 2, 3}};
    EXPECT_FALSE(check_commit_acks(DecisionRec{1, kT1, true, Stamp{5, 2}}, &epoch, {}, true));
}

TEST(ViewAgreement, TwoViewsForOneEpochFail) {
    Journal j = committed_everywhere();
    j.views.push_back(ViewRec{3, 1, {1, 3}});
    expect_violation(check_view_agreement(j), "P8 view agreement", "epoch 1");
}

TEST(ViewAgreement, TxEpochMembersMustMatchTheView) {
    Journal j = committed_everywhere();
    j.tx_epochs[kT1].members = {1, 2};
    expect_violation(check_view_agreement(j), "P8 view agreement", "attributed to epoch 1");
}

}  // namespace
}  // namespace tricache::checker
