// The named failure scenarios of issue 4, on the engine harness. Each test
// asserts what a broken rule would change: agreement across nodes, identical
// logs and stores, client results. Scenarios already covered one-to-one in
// view_change_test.cpp are not repeated here:
//   minority NO_QUORUM and rejoin after heal -> ViewChange.R_NO_QUORUM_minority_refuses_with_a_named_error
//   total failure and re-bootstrap           -> ViewChange.R_TOTAL_LOSS_* (two tests)
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "tests/coordinator/harness.hpp"

namespace tricache::coordinator::testing {
namespace {

using namespace tricache::protocol;






bool delivered_tx(Harness& h, NodeId n, const TxId& tx) {
    const auto& d = h.delivered(n);
    return std::any_of(d.begin(), d.end(), [&](const DeliveredTx& x) { return x.tx == tx; });
}

// Every decision any node journaled for `tx`: true = commit.
std::set<bool> decisions(Harness& h, const TxId& tx) {
    std::set<bool> out;
    for (const auto& j : h.journal()) {
        if (const auto* d = std::get_if<DecidedEvent>(&j); d != nullptr && d->tx == tx) out.insert(d->commit);
    }
    return out;
}

// Every distinct record that closed `epoch`, as installed anywhere.
std::vector<EpochClosingRecord> closing_records(Harness& h, Epoch epoch) {
    std::vector<EpochClosingRecord> out;
    for (const auto& j : h.journal()) {
        const auto* v = std::get_if<ViewInstalledEvent>(&j);
        if (v != nullptr && v->ecr.closes == epoch && std::find(out.begin(), out.end(), v->ecr) == out.end()) {
            out.push_back(v->ecr);
        }
    }
    return out;
}

// How many times (client, request) is in node n's delivered log.
std::size_t copies_in_log(Harness& h, NodeId n, ClientId client, RequestId req) {
    std::size_t copies = 0;
    for (const auto& d : h.delivered(n)) {
        for (const auto& cmd : *d.batch) copies += (cmd.client == client && cmd.request == req) ? 1u : 0u;
    }
    return copies;
}

// ---------------------------------------------------------------- the classic split

// Five nodes. Coordinator 1 gets every yes vote, PreCommits itself and node 2
// only (the acks are lost), then the network splits {1,2} | {3,4,5}: the
// PreCommitted side is a minority. Returns the transaction.
TxId classic_split(Harness& h) {
    h.request(1, 1, 1, {set("k", "v")});
    const TxId t{1, 1, seq_of(1, 1)};
    h.run([](const InFlight& m) { return !is<PreCommit>(m) || m.to == 2; });
    h.run([](const InFlight& m) { return !is<Ack>(m); });
    h.partition({1, 2});
    h.settle(10, 80);
    return t;
}

TEST(FailureScenarios, classic_split_majority_aborts_minority_answers_no_quorum_then_adopts_the_abort) {
    Harness h(5, failure_detection);
    const TxId t = classic_split(h);
    // The majority side closed epoch 1 without t: every promiser there was only W.
    for (NodeId n : {3u, 4u, 5u}) {
        EXPECT_EQ(h.node(n).node_status(), NodeStatus::Normal) << n;
        EXPECT_EQ(member_ids(h.node(n)), (std::vector<NodeId>{3, 4, 5})) << n;
        EXPECT_FALSE(delivered_tx(h, n, t)) << n;
    }
    const auto ecrs = closing_records(h, 1);
    ASSERT_EQ(ecrs.size(), 1u) << "one record closes epoch 1";
    EXPECT_NE(std::find(ecrs[0].aborted.begin(), ecrs[0].aborted.end(), t), ecrs[0].aborted.end());
    EXPECT_TRUE(ecrs[0].committed.empty());
    EXPECT_EQ(ecrs[0].next.members.size(), 3u) << "M' names only nodes the proposer heard from";
    // The PreCommitted minority decides nothing and says why.
    for (NodeId n : {1u, 2u}) {
        EXPECT_EQ(h.node(n).node_status(), NodeStatus::ViewChange) << n;
        EXPECT_EQ(h.node(n).state().log_length(), 0u) << n;
        EXPECT_FALSE(h.node(n).status().ready) << n;
    }
    h.request(2, 2, 1, {set("x", "1")});
    ASSERT_EQ(h.replies(2).size(), 1u);
    ASSERT_NE(error_reply(h.replies(2)[0]), nullptr);
    EXPECT_EQ(error_reply(h.replies(2)[0])->code, ErrorCode::NoQuorum);
    // t reached PreCommit at its coordinator, which cannot learn its outcome here: the honest
    // answer is "unknown", never NO_QUORUM (R-NO-QUORUM, R-IN-DOUBT).
    ASSERT_EQ(h.replies(1).size(), 1u);
    ASSERT_NE(error_reply(h.replies(1)[0]), nullptr);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::TimeoutOutcomeUnknown);
    // The majority goes on meanwhile.
    h.request(3, 3, 1, {set("k", "w")});
    h.settle(10, 10);
    ASSERT_EQ(h.replies(3).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(3)[0]), nullptr);

    h.heal();
    h.settle(10, 300);
    expect_converged(h, {1, 2, 3, 4, 5});
    EXPECT_EQ(decisions(h, t), std::set<bool>{false}) << "every node that decided t aborted it";
    for (NodeId n = 1; n <= 5; ++n) EXPECT_FALSE(delivered_tx(h, n, t)) << n;
    EXPECT_EQ(h.node(1).in_doubt_requests(), 0u) << "the closing record settled t: aborted";
    EXPECT_EQ(copies_in_log(h, 3, 1, 1), 0u);
    // The client retries t's request: it runs exactly once, now.
    h.request(1, 1, 1, {set("k", "v")});
    h.settle(10, 10);
    ASSERT_EQ(h.replies(1).size(), 2u);
    EXPECT_NE(ops_reply(h.replies(1)[1]), nullptr);
    EXPECT_EQ(copies_in_log(h, 3, 1, 1), 1u);
    EXPECT_EQ(h.node(1).state().store().peek("k"), std::optional<std::string_view>("v"));
}

// Classic 3PC termination (EngineConfig::TerminationRule::ClassicAnyPreCommitted:
// the nodes the failure detector still sees decide, any PC commits) on the same
// schedule: {1,2} commit t and answer the client, {3,4,5} abort it.
TEST(ClassicTermination, any_precommitted_rule_violates_agreement_in_the_classic_split_where_e3pc_does_not) {
    struct Outcome {
        std::set<bool> decisions;
        bool minority_delivered = false, majority_delivered = false, client_ok = false;
        std::size_t records = 0;
    };
    auto run = [](EngineConfig::TerminationRule rule) {
        Harness h(5, [&](EngineConfig& c) {
            failure_detection(c);
            c.termination_rule = rule;
        });
        const TxId t = classic_split(h);
        Outcome o;
        o.decisions = decisions(h, t);
        o.minority_delivered = delivered_tx(h, 1, t) && delivered_tx(h, 2, t);
        o.majority_delivered = delivered_tx(h, 3, t) || delivered_tx(h, 4, t) || delivered_tx(h, 5, t);
        o.client_ok = !h.replies(1).empty() && ops_reply(h.replies(1)[0]) != nullptr;
        o.records = closing_records(h, 1).size();
        return o;
    };
    const Outcome classic = run(EngineConfig::TerminationRule::ClassicAnyPreCommitted);
    EXPECT_EQ(classic.decisions, (std::set<bool>{false, true})) << "agreement violated: t both committed and aborted";
    EXPECT_TRUE(classic.minority_delivered) << "the PreCommitted minority commits t";
    EXPECT_FALSE(classic.majority_delivered) << "the majority aborts t";
    EXPECT_TRUE(classic.client_ok) << "and the client was told OK for a write the majority never applied";
    EXPECT_EQ(classic.records, 2u) << "two different records close epoch 1";

    const Outcome e3pc = run(EngineConfig::TerminationRule::E3PC);
    EXPECT_EQ(e3pc.decisions, std::set<bool>{false});
    EXPECT_FALSE(e3pc.minority_delivered);
    EXPECT_FALSE(e3pc.majority_delivered);
    EXPECT_FALSE(e3pc.client_ok);
    EXPECT_EQ(e3pc.records, 1u);
}

// ---------------------------------------------------------------- coordinator crashes

TEST(FailureScenarios, coordinator_crash_after_partial_precommit_survivors_commit_the_precommitted_write) {
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("k", "v")});
    const TxId t{1, 1, seq_of(1, 1)};
    h.run([](const InFlight& m) { return !is<PreCommit>(m) || m.to == 2; });  // 3 stays W
    h.crash(1);  // memory lost: no ack reaches it, no DoCommit ever leaves it
    h.settle(10, 80);
    for (NodeId n : {2u, 3u}) {
        EXPECT_EQ(member_ids(h.node(n)), (std::vector<NodeId>{2, 3})) << n;
        EXPECT_TRUE(delivered_tx(h, n, t)) << "2 reported PC: the ECR commits t at " << n;
    }
    EXPECT_EQ(decisions(h, t), std::set<bool>{true});
    EXPECT_EQ(h.delivered(2).front().final_ts, h.delivered(3).front().final_ts) << "f is never recomputed";
    expect_converged(h, {2, 3});
    h.request(3, 2, 1, {get("k")});
    h.settle(10, 5);
    ASSERT_EQ(h.replies(3).size(), 1u);
    ASSERT_NE(ops_reply(h.replies(3)[0]), nullptr);
    EXPECT_EQ(ops_reply(h.replies(3)[0])->results[0].value, std::optional<std::string>("v"));
    h.restart(1, 11);
    h.settle(10, 150);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(1).state().store().peek("k"), std::optional<std::string_view>("v"));
}

TEST(FailureScenarios, coordinator_crash_before_any_participant_precommitted_survivors_abort) {
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("k", "v")});
    const TxId t{1, 1, seq_of(1, 1)};
    h.run([](const InFlight& m) { return !is<PreCommit>(m); });  // only the coordinator itself is PC
    h.crash(1);
    h.settle(10, 80);
    EXPECT_EQ(member_ids(h.node(2)), (std::vector<NodeId>{2, 3}));
    EXPECT_EQ(decisions(h, t), std::set<bool>{false});
    for (NodeId n : {2u, 3u}) EXPECT_FALSE(delivered_tx(h, n, t)) << n;
    expect_converged(h, {2, 3});
    EXPECT_EQ(h.node(2).state().store().peek("k"), std::nullopt);
}

// Seven nodes. Coordinator 1 PreCommits 2 and crashes. The node leading the
// view change gets its record accepted by one other node and crashes; so does
// the next leader. The four survivors, a bare majority, must choose the record
// the second leader had got accepted (Paxos: the highest accepted ballot wins).
TEST(FailureScenarios, cascading_failures_leader_of_the_view_change_crashes_then_the_next_one) {
    Harness h(7, failure_detection);
    h.settle(10, 3);
    h.request(1, 1, 1, {set("k", "v")});
    const TxId t{1, 1, seq_of(1, 1)};
    h.run([](const InFlight& m) { return !is<PreCommit>(m) || m.to == 2; });
    h.run([](const InFlight& m) { return !is<Ack>(m); });
    h.crash(1);
    std::set<NodeId> down{1};
    std::vector<NodeId> leaders;
    std::optional<EpochClosingRecord> last_accepted;
    for (int round = 0; round < 2; ++round) {
        NodeId leader = 0;
        NodeId acceptor = 0;
        for (int i = 0; i < 400 && leader == 0; ++i) {
            h.advance(5);
            h.run([&](const InFlight& m) {
                const auto* acc = std::get_if<VcAccept>(&m.msg.body);
                if (acc == nullptr) return true;
                if (leader == 0 && down.count(m.to) == 0) {
                    leader = m.from;
                    acceptor = m.to;
                    last_accepted = acc->ecr;
                    return true;
                }
                return m.from != leader || m.to == acceptor;  // the leader's other VcAccepts are lost
            });
        }
        ASSERT_NE(leader, 0u) << "round " << round << ": nobody led a view change";
        h.crash(leader);
        down.insert(leader);
        leaders.push_back(leader);
    }
    ASSERT_EQ(down.size(), 3u);
    h.settle(10, 300);
    std::vector<NodeId> alive;
    for (NodeId n = 1; n <= 7; ++n) {
        if (down.count(n) == 0) alive.push_back(n);
    }
    expect_converged(h, alive);
    const auto ecrs = closing_records(h, 1);
    ASSERT_EQ(ecrs.size(), 1u) << "one record closes epoch 1";
    ASSERT_TRUE(last_accepted.has_value());
    EXPECT_EQ(ecrs[0], *last_accepted) << "the value accepted at the highest ballot is the one chosen";
    EXPECT_EQ(decisions(h, t).size(), 1u) << "t is decided one way everywhere";
    for (NodeId n : alive) EXPECT_EQ(delivered_tx(h, n, t), delivered_tx(h, alive.front(), t)) << n;
    // The three crashed nodes come back (a minority of 7 without memory) and converge.
    Incarnation inc = 20;
    for (NodeId n : down) h.restart(n, ++inc);
    h.settle(10, 400);
    expect_converged(h, {1, 2, 3, 4, 5, 6, 7});
}

// ---------------------------------------------------------------- false suspicion, concurrent view changes

// Coordinator 1 gets every vote for one SET; its PreCommits are held back
// instead of sent, as if it stalled right there.
std::deque<InFlight> stall_first_write_before_precommit(Harness& h) {
    h.settle(10, 3);
    h.request(1, 1, 1, {set("k", "v")});
    std::deque<InFlight> held;
    h.run([&](const InFlight& m) {
        if (!is<PreCommit>(m)) return true;
        held.push_back(m);
        return false;
    });
    return held;
}

// Coordinator 1 has every vote, then stalls (a long GC pause, not a crash)
// before its PreCommits leave. 2 and 3 suspect it and close epoch 1 without it,
// aborting t. When 1 wakes up its PreCommits arrive: nobody may ack them, so
// 1 can never commit t (R-TARGET-EPOCH); it adopts the abort instead.
TEST(FailureScenarios, falsely_suspected_slow_coordinator_commits_nothing_the_view_change_aborted) {
    Harness h(3, failure_detection);
    const TxId t{1, 1, seq_of(1, 1)};
    std::deque<InFlight> held = stall_first_write_before_precommit(h);
    ASSERT_EQ(held.size(), 2u) << "the two PreCommits";
    h.pause(1);
    h.settle(10, 60);
    ASSERT_EQ(member_ids(h.node(2)), (std::vector<NodeId>{2, 3}));
    EXPECT_EQ(decisions(h, t), std::set<bool>{false});
    h.resume(1);
    for (auto& m : held) h.inflight().push_front(std::move(m));
    std::size_t acks = 0;
    h.run([&](const InFlight& m) {
        acks += is<Ack>(m) ? 1u : 0u;
        return true;
    });
    EXPECT_EQ(acks, 0u);
    h.settle(10, 250);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(decisions(h, t), std::set<bool>{false}) << "1 adopted the abort; nobody committed t";
    for (NodeId n = 1; n <= 3; ++n) EXPECT_FALSE(delivered_tx(h, n, t)) << n;
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(1)[0]), nullptr) << "the request was re-queued and ran in a later view";
    EXPECT_EQ(copies_in_log(h, 2, 1, 1), 1u);
}

// The same stall, but the late PreCommits land while 2 and 3 have promised the
// view change and its record is not yet accepted: the promise alone must stop
// them acking, or 1 would commit t while the record (built from W reports)
// aborts it.
TEST(FailureScenarios, falsely_suspected_coordinator_is_nacked_between_promise_and_install) {
    Harness h(3, failure_detection);
    const TxId t{1, 1, seq_of(1, 1)};
    std::deque<InFlight> held = stall_first_write_before_precommit(h);
    ASSERT_EQ(held.size(), 2u);
    h.pause(1);
    std::deque<InFlight> accepts;  // the view change's second phase waits
    for (int i = 0; i < 60; ++i) {
        h.advance(10);
        h.run([&](const InFlight& m) {
            if (!is<VcAccept>(m)) return true;
            accepts.push_back(m);
            return false;
        });
        if (h.node(2).node_status() == NodeStatus::ViewChange && h.node(3).node_status() == NodeStatus::ViewChange &&
            !accepts.empty()) {
            break;
        }
    }
    ASSERT_FALSE(accepts.empty()) << "a proposer has its promises";
    ASSERT_EQ(h.node(2).view().epoch, 1u);
    ASSERT_EQ(h.node(3).view().epoch, 1u);
    h.resume(1);
    for (auto& m : held) h.inflight().push_back(std::move(m));
    std::size_t acks = 0;
    h.run([&](const InFlight& m) {
        acks += is<Ack>(m) ? 1u : 0u;
        return !is<VcAccept>(m);
    });
    EXPECT_EQ(acks, 0u) << "a promised member acks nothing more in the old epoch";
    EXPECT_FALSE(delivered_tx(h, 1, t));
    for (auto& m : accepts) h.inflight().push_back(std::move(m));
    h.settle(10, 250);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(decisions(h, t).size(), 1u);
    for (NodeId n = 1; n <= 3; ++n) EXPECT_EQ(delivered_tx(h, n, t), delivered_tx(h, 2, t)) << n;
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(1)[0]), nullptr);
    EXPECT_EQ(copies_in_log(h, 2, 1, 1), 1u) << "applied exactly once";
}

// t is PreCommitted at 1 and 2 when 5 crashes; the four survivors all suspect
// it at the same tick and race. Any majority of them includes 1 or 2, so
// whichever proposal wins commits t, and exactly one record closes epoch 1.
TEST(FailureScenarios, two_concurrent_view_changes_choose_one_record) {
    Harness h(5, failure_detection);
    h.settle(10, 3);
    h.request(1, 1, 1, {set("k", "v")});
    const TxId t{1, 1, seq_of(1, 1)};
    h.run([](const InFlight& m) { return !is<PreCommit>(m) || m.to == 2; });
    h.run([](const InFlight& m) { return !is<Ack>(m); });
    h.crash(5);
    std::set<NodeId> proposers;
    for (int i = 0; i < 150; ++i) {
        h.advance(10);
        h.run([&](const InFlight& m) {
            if (const auto* p = std::get_if<VcPrepare>(&m.msg.body); p != nullptr && p->target == 2) {
                proposers.insert(m.from);
            }
            return true;
        });
    }
    EXPECT_GE(proposers.size(), 2u) << "the scenario needs competing proposers";
    expect_converged(h, {1, 2, 3, 4});
    EXPECT_EQ(closing_records(h, 1).size(), 1u);
    for (const auto& j : h.journal()) {
        if (const auto* c = std::get_if<EcrChosenEvent>(&j); c != nullptr && c->ecr.closes == 1) {
            EXPECT_EQ(c->ecr, closing_records(h, 1).front()) << "a later ballot re-proposes the chosen record";
        }
    }
    EXPECT_EQ(decisions(h, t), std::set<bool>{true});
    for (NodeId n = 1; n <= 4; ++n) EXPECT_TRUE(delivered_tx(h, n, t)) << n;
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(1)[0]), nullptr);
}

// ---------------------------------------------------------------- restart, bridge

TEST(FailureScenarios, restart_during_heavy_writes_syncs_by_snapshot_and_converges) {
    Harness h(3, [](EngineConfig& c) {
        failure_detection(c);
        c.store_limits = {100000, 64u << 20};
    });
    RequestId req = 0;
    std::map<std::pair<ClientId, RequestId>, std::string> keys;
    auto burst = [&] {
        for (NodeId at : {1u, 2u}) {
            for (int i = 0; i < 3; ++i) {
                ++req;
                keys[{at, req}] = "k" + std::to_string(req);
                h.request(at, at, req, {set("k" + std::to_string(req), "v" + std::to_string(req))});
            }
        }
    };
    auto rounds = [&](int n) {
        for (int i = 0; i < n; ++i) {
            burst();
            h.advance(10);
            h.run();
        }
    };
    rounds(20);
    h.crash(3);
    rounds(40);
    h.restart(3, 9);
    const std::size_t ok_before = h.replies(1).size() + h.replies(2).size();
    bool normal_seen = false;
    std::size_t ok_while_syncing = 0;
    for (int i = 0; i < 80; ++i) {
        rounds(1);
        if (!normal_seen && h.node(3).node_status() == NodeStatus::Normal) {
            normal_seen = true;
            ok_while_syncing = h.replies(1).size() + h.replies(2).size() - ok_before;
        }
    }
    h.settle(10, 150);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(3).incarnation(), 9u);
    EXPECT_TRUE(normal_seen);
    EXPECT_GT(ok_while_syncing, 0u) << "writes went on while node 3 rejoined";
    bool snapshot = false;
    for (const auto& j : h.journal()) snapshot = snapshot || std::holds_alternative<SnapshotInstalledEvent>(j);
    EXPECT_TRUE(snapshot) << "the restarted node synced by snapshot";
    // Every acknowledged write is in the restarted node's store, with its value.
    std::size_t acked = 0;
    for (NodeId at : {1u, 2u}) {
        for (const auto& r : h.replies(at)) {
            if (ops_reply(r) == nullptr) continue;
            ++acked;
            const std::string& k = keys.at({r.client, r.request});
            EXPECT_EQ(h.node(3).state().store().peek(k), std::optional<std::string_view>("v" + k.substr(1))) << k;
        }
    }
    EXPECT_GT(acked, 500u);
}

// The snapshot of a 70 MB store is larger than any peer message may be (the
// codec's 64 MiB default); the restarted node must still install it.
TEST(FailureScenarios, restart_with_a_store_larger_than_a_peer_message_syncs) {
    Harness h(3, [](EngineConfig& c) {
        failure_detection(c);
        c.store_limits = {1024, 256u << 20};
    });
    const std::string big(1000000, 'x');
    for (RequestId r = 1; r <= 70; ++r) h.request(1, 1, r, {set("k" + std::to_string(r), big)});
    h.settle(10, 10);
    ASSERT_EQ(h.node(1).state().store().size(), 70u);
    h.crash(3);
    h.settle(10, 50);
    h.restart(3, 5);
    h.settle(10, 100);
    EXPECT_EQ(h.node(3).node_status(), NodeStatus::Normal) << to_string(h.node(3).node_status());
    EXPECT_EQ(h.node(3).state().store().size(), 70u);
    EXPECT_EQ(h.node(3).state().store().digest(), h.node(1).state().store().digest());
}

// A–B–C: 1 and 3 cannot talk, 2 talks to both. Whatever views come and go,
// no two nodes ever disagree on a log position, at most one record closes each
// epoch, and once healed everyone converges.
TEST(FailureScenarios, bridge_topology_keeps_logs_consistent_and_converges_after_heal) {
    Harness h(3, failure_detection);
    h.settle(10, 3);
    h.cut(1, 3);
    RequestId req = 0;
    for (int i = 0; i < 200; ++i) {
        ++req;
        h.request(2, 1, req, {set("k" + std::to_string(req % 10), std::to_string(req))});
        h.advance(10);
        h.run();
    }
    std::size_t ok = 0;
    for (const auto& r : h.replies(2)) ok += ops_reply(r) != nullptr ? 1u : 0u;
    EXPECT_GT(ok, 0u) << "the bridge node's majority side commits writes";
    // A node that rejoined by snapshot has gaps in its delivered list: compare by log index.
    std::map<std::uint64_t, TxId> at_index;
    for (NodeId n = 1; n <= 3; ++n) {
        for (const auto& d : h.delivered(n)) {
            auto [it, fresh] = at_index.emplace(d.index, d.tx);
            EXPECT_TRUE(fresh || it->second == d.tx) << "node " << n << " differs at log index " << d.index;
        }
    }
    for (Epoch e = 1; e <= h.node(2).view().epoch; ++e) EXPECT_LE(closing_records(h, e).size(), 1u) << e;
    h.heal();
    h.settle(10, 300);
    expect_converged(h, {1, 2, 3});
}

}  // namespace
}  // namespace tricache::coordinator::testing
