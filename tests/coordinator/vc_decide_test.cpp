// R-VC-DECIDE with promisers that hold different accepted records (spec
// section 8). One proposer of five is driven by hand: it is made to start a
// view change, and the promises it receives are written here, so each test
// fixes exactly which record every promiser accepted at which ballot. The
// rule: a record accepted in the instance is proposed again, the one with
// the highest ballot; only when none is, the record is built from the
// reports. A proposer keeping the lowest, the first or the last accepted
// record passes every test that has at most one accepted record in play.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/coordinator/harness.hpp"

namespace tricache::coordinator::testing {
namespace {

using namespace tricache::protocol;

class Proposer {
public:
    Proposer() : h_(5, failure_detection) {}

    Engine& engine() { return h_.node(1); }

    Output deliver(NodeId from, PeerBody body) {
        engine().on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", from, 1, 1, 1}, std::move(body)}, now_);
        return take();
    }
    Output tick(std::uint64_t ms) {
        now_ += ms;
        engine().on_tick(now_);
        return take();
    }
    // Node 1 has seen ballot counter 9 (a nack), then suspects its silent peers
    // and prepares ballot (10, 1) for epoch 2. It ticks on while it listens: one
    // leap of suspect_ms would be a stall of its own, no evidence (R-SUSPECT).
    Ballot start_view_change() {
        deliver(2, VcNack{Ballot{1, 2}, Ballot{9, 3}, 1});
        tick(0);
        for (std::uint64_t waited = 0; waited < engine().config().suspect_ms;) {
            waited += 10;
            const Output out = tick(10);
            for (const auto& m : out.messages) {
                if (const auto* p = std::get_if<VcPrepare>(&m.msg.body)) return p->ballot;
            }
        }
        ADD_FAILURE() << "node 1 did not start a view change";
        return {};
    }
    // Its VcAccept, from what one call sent.
    static const VcAccept* accept_in(const Output& out) {
        for (const auto& m : out.messages) {
            if (const auto* a = std::get_if<VcAccept>(&m.msg.body)) return a;
        }
        return nullptr;
    }
    std::vector<JournalEvent>& journal() { return journal_; }

    // A record closing epoch 1, naming `members` (incarnation 1) above base.
    EpochClosingRecord record(std::vector<NodeId> members, std::uint64_t base) {
        EpochClosingRecord ecr;
        ecr.closes = 1;
        ecr.next.epoch = 2;
        ecr.next.history = 1;
        ecr.next.birth = engine().view().birth;
        for (NodeId n : members) ecr.next.members.push_back({n, 1});
        ecr.next.base_ts = Timestamp{base, 0};
        return ecr;
    }
    static VcPromise promise(Ballot b, Ballot accepted, std::optional<EpochClosingRecord> ecr) {
        VcPromise p;
        p.ballot = b;
        p.last_normal_epoch = 1;
        p.accepted = accepted;
        p.accepted_ecr = std::move(ecr);
        return p;
    }

private:
    Output take() {
        Output out = engine().take_output();
        for (const auto& j : out.journal) journal_.push_back(j);
        return out;
    }
    Harness h_;
    std::uint64_t now_ = 1000;
    std::vector<JournalEvent> journal_;
};

const TxId kT{3, 1, seq_of(1, 1)};

// X aborts t and leaves node 5 out; Y (accepted later) commits t and leaves node 4 out.
struct TwoRecords {
    EpochClosingRecord x, y;
};
TwoRecords two_records(Proposer& p) {
    TwoRecords r{p.record({1, 2, 3, 4}, 50), p.record({1, 2, 3, 5}, 61)};
    r.x.aborted = {kT};
    r.y.committed = {CommittedTx{kT, Timestamp{60, 3}, Batch{Command{7, 1, {set("k", "v")}}}}};
    return r;
}

TEST(VcDecide, R_VC_DECIDE_the_record_accepted_at_the_highest_ballot_is_proposed_again) {
    for (const bool higher_first : {false, true}) {
        SCOPED_TRACE(higher_first ? "the higher ballot's promise arrives first" : "the lower ballot's promise first");
        Proposer p;
        const TwoRecords r = two_records(p);
        const Ballot b = p.start_view_change();
        const VcPromise low = Proposer::promise(b, Ballot{4, 2}, r.x);
        const VcPromise high = Proposer::promise(b, Ballot{7, 3}, r.y);
        EXPECT_EQ(Proposer::accept_in(p.deliver(higher_first ? 3 : 2, higher_first ? high : low)), nullptr)
            << "two promises of five are no majority";
        const Output out = p.deliver(higher_first ? 2 : 3, higher_first ? low : high);
        const VcAccept* accept = Proposer::accept_in(out);
        ASSERT_NE(accept, nullptr) << "three promises of five decide";
        EXPECT_EQ(accept->ballot, b);
        EXPECT_EQ(accept->ecr, r.y) << "the record accepted at (7,3), not the one at (4,2)";

        // Chosen and installed: t commits, as Y says.
        p.deliver(2, VcAccepted{b});
        p.deliver(3, VcAccepted{b});
        EXPECT_EQ(p.engine().view(), r.y.next);
        EXPECT_EQ(p.engine().state().store().peek("k"), std::optional<std::string_view>("v"));
        const auto chosen = std::find_if(p.journal().begin(), p.journal().end(),
                                         [](const JournalEvent& j) { return std::holds_alternative<EcrChosenEvent>(j); });
        ASSERT_NE(chosen, p.journal().end());
        EXPECT_EQ(std::get<EcrChosenEvent>(*chosen).ecr, r.y);
    }
}

TEST(VcDecide, R_VC_DECIDE_the_proposers_own_accepted_record_counts_like_any_promise) {
    for (const bool own_is_higher : {false, true}) {
        SCOPED_TRACE(own_is_higher ? "the proposer accepted the higher ballot" : "the proposer accepted the lower");
        Proposer p;
        const TwoRecords r = two_records(p);
        p.deliver(2, VcNack{Ballot{1, 2}, Ballot{9, 3}, 1});  // node 1 has seen ballot counter 9
        // Node 1 itself accepted one of the two records, from an earlier proposer.
        const Ballot own_ballot = own_is_higher ? Ballot{7, 3} : Ballot{4, 2};
        const EpochClosingRecord& own = own_is_higher ? r.y : r.x;
        p.deliver(own_ballot.node, VcPrepare{own_ballot, 2});
        const Output accepted = p.deliver(own_ballot.node, VcAccept{own_ballot, own});
        ASSERT_TRUE(std::any_of(accepted.messages.begin(), accepted.messages.end(),
                                [](const Outbound& m) { return std::holds_alternative<VcAccepted>(m.msg.body); }));
        // That attempt never finished: after its time node 1 tries itself, above every ballot it saw.
        Output out = p.tick(1000);
        Ballot b;
        for (const auto& m : out.messages) {
            if (const auto* prep = std::get_if<VcPrepare>(&m.msg.body)) b = prep->ballot;
        }
        ASSERT_GT(b, (Ballot{9, 3})) << "node 1 prepares above every ballot it saw";
        const Ballot other_ballot = own_is_higher ? Ballot{4, 2} : Ballot{7, 3};
        p.deliver(4, Proposer::promise(b, kNoBallot, std::nullopt));
        out = p.deliver(other_ballot.node, Proposer::promise(b, other_ballot, own_is_higher ? r.x : r.y));
        const VcAccept* accept = Proposer::accept_in(out);
        ASSERT_NE(accept, nullptr);
        EXPECT_EQ(accept->ecr, r.y) << "the highest accepted ballot wins, whoever holds it";
    }
}

TEST(VcDecide, R_VC_DECIDE_a_record_of_another_instance_is_not_proposed_again) {
    Proposer p;
    const Ballot b = p.start_view_change();
    // Node 2 reports a record it accepted closing epoch 2 (it is ahead of the
    // proposer's instance in its accepted slot): not a value of instance 1.
    EpochClosingRecord later = p.record({1, 2, 3}, 90);
    later.closes = 2;
    later.next.epoch = 3;
    p.deliver(2, Proposer::promise(b, Ballot{8, 2}, later));
    VcPromise pc = Proposer::promise(b, kNoBallot, std::nullopt);
    pc.reports.push_back(TxReport{kT, TxState::PreCommitted, kOriginalBallot, Timestamp{55, 3}, Timestamp{60, 3},
                                  Batch{Command{7, 1, {set("k", "v")}}}});
    const Output out = p.deliver(3, pc);
    const VcAccept* accept = Proposer::accept_in(out);
    ASSERT_NE(accept, nullptr);
    EXPECT_EQ(accept->ecr.closes, 1u);
    ASSERT_EQ(accept->ecr.committed.size(), 1u) << "built from the reports: the PC report commits t";
    EXPECT_EQ(accept->ecr.committed[0].tx, kT);
    EXPECT_EQ(accept->ecr.committed[0].final_ts, (Timestamp{60, 3}));
    EXPECT_GT(accept->ecr.next.base_ts, (Timestamp{60, 3}));
}

TEST(VcDecide, R_VC_DECIDE_the_proposal_event_lists_the_promises_it_was_built_from) {
    Proposer p;
    const TwoRecords r = two_records(p);
    const Ballot b = p.start_view_change();
    p.deliver(2, Proposer::promise(b, Ballot{4, 2}, r.x));
    p.deliver(3, Proposer::promise(b, Ballot{7, 3}, r.y));
    p.deliver(4, Proposer::promise(b, Ballot{5, 4}, r.x));  // late: the proposal is made
    const EcrProposedEvent* proposed = nullptr;
    for (const auto& j : p.journal()) {
        if (const auto* e = std::get_if<EcrProposedEvent>(&j)) proposed = e;
    }
    ASSERT_NE(proposed, nullptr);
    EXPECT_EQ(proposed->ballot, b);
    EXPECT_EQ(proposed->closes, 1u);
    EXPECT_EQ(proposed->ecr, r.y);
    std::vector<NodeId> from;
    for (const auto& s : proposed->promises) from.push_back(s.node);
    EXPECT_EQ(from, (std::vector<NodeId>{1, 2, 3})) << "its own and the first two; the late one is not counted";
}

}  // namespace
}  // namespace tricache::coordinator::testing
