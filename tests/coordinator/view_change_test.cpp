// Scenarios for section 8 of spec/PROTOCOL.md: where classic 3PC goes wrong,
// tricache must not. One test per rule or named scenario.
#include <gtest/gtest.h>

#include <algorithm>

#include "coordinator/history.hpp"
#include "tests/coordinator/harness.hpp"

namespace tricache::coordinator::testing {
namespace {

using namespace tricache::protocol;






TEST(ViewChange, R_SUSPECT_silent_member_is_removed_and_writes_go_on) {
    Harness h(3, failure_detection);
    h.settle(10, 5);
    h.crash(3);
    h.settle(10, 60);
    EXPECT_EQ(h.node(1).view().epoch, 2u);
    EXPECT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2}));
    h.request(1, 1, 1, {set("k", "v")});
    h.settle(10, 10);
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(1)[0]), nullptr);
    expect_converged(h, {1, 2});
}

// A machine starved for a moment stalls every node at once: when they resume,
// nobody has heard anybody for longer than suspect_ms, and yet nobody was
// silent while the others were listening. No view change may follow.
TEST(ViewChange, R_SUSPECT_a_stall_of_every_node_at_once_is_no_evidence) {
    Harness h(3, failure_detection);
    h.settle(10, 5);
    const std::uint64_t suspect = h.node(1).config().suspect_ms;
    h.advance(3 * suspect);  // one step: no node ran, and so no node spoke
    h.settle(10, 60);
    for (NodeId n = 1; n <= 3; ++n) {
        EXPECT_EQ(h.node(n).stats().view_changes_started, 0u) << "node " << n;
        EXPECT_EQ(h.node(n).view().epoch, 1u) << "node " << n;
    }
    h.request(2, 1, 1, {set("k", "v")});
    h.settle(10, 10);
    ASSERT_EQ(h.replies(2).size(), 1u);
    expect_converged(h, {1, 2, 3});
}

// The stall only restarts the count: a member that stays silent after it is
// suspected suspect_ms after the resume, not before and not never.
TEST(ViewChange, R_SUSPECT_after_a_stall_a_silent_member_is_suspected_once_the_others_listened_long_enough) {
    Harness h(3, failure_detection);
    h.settle(10, 5);
    const std::uint64_t suspect = h.node(1).config().suspect_ms;
    h.crash(3);
    h.advance(3 * suspect);
    h.run();
    const std::uint64_t resumed = h.now();
    std::uint64_t started_at = 0;
    for (int i = 0; i < 100 && started_at == 0; ++i) {
        h.advance(5);
        h.run();
        if (h.node(1).stats().view_changes_started + h.node(2).stats().view_changes_started > 0) started_at = h.now();
    }
    ASSERT_NE(started_at, 0u) << "node 3 was never suspected";
    EXPECT_GE(started_at - resumed, suspect);
    h.settle(10, 60);
    EXPECT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2}));
}

TEST(ViewChange, R_VC_DECIDE_classic_split_precommitted_majority_commits) {
    // Coordinator 1 pre-commits at 2, then {1,2} | {3}. Classic 3PC termination would let 3 abort alone.
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("k", "v")});
    h.run([](const InFlight& m) { return !is<PreCommit>(m) || m.to == 2; });
    h.run([](const InFlight& m) { return !is<Ack>(m); });  // the acks are lost: nothing commits yet
    h.partition({3});
    h.settle(10, 80);
    EXPECT_NE(h.node(3).node_status(), NodeStatus::Normal) << "the minority never decides";
    EXPECT_EQ(h.node(3).state().log_length(), 0u);
    ASSERT_EQ(h.node(1).view().epoch, 2u);
    EXPECT_EQ(h.node(1).state().log_length(), 1u) << "PC at the highest attempt: the view change commits";
    h.heal();
    h.settle(10, 150);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(3).state().store().peek("k"), std::optional<std::string_view>("v"));
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(1)[0]), nullptr);
}

TEST(ViewChange, R_VC_DECIDE_classic_split_precommitted_minority_aborts) {
    // Only the coordinator reached PC, then it is cut off: the majority sees only W and aborts.
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("k", "v")});
    h.run([](const InFlight& m) { return !is<PreCommit>(m); });
    h.partition({1});
    h.settle(10, 80);
    EXPECT_EQ(h.node(2).view().epoch, 2u);
    EXPECT_EQ(h.node(2).state().log_length(), 0u);
    EXPECT_EQ(h.node(1).state().log_length(), 0u) << "a PC coordinator in a minority must not commit";
    // Cut off past no_quorum_ms with its transaction PreCommitted, node 1 cannot know the
    // outcome: the honest answer is "unknown" (R-NO-QUORUM, R-IN-DOUBT), never NO_QUORUM.
    ASSERT_EQ(h.replies(1).size(), 1u);
    ASSERT_NE(error_reply(h.replies(1)[0]), nullptr);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::TimeoutOutcomeUnknown);
    h.heal();
    h.settle(10, 200);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(1).in_doubt_requests(), 0u) << "the closing record settled it: aborted";
    // The client retries the same request: it now runs, once.
    h.request(1, 1, 1, {set("k", "v")});
    h.settle(10, 10);
    ASSERT_EQ(h.replies(1).size(), 2u);
    EXPECT_NE(ops_reply(h.replies(1)[1]), nullptr);
    EXPECT_EQ(h.node(2).state().store().peek("k"), std::optional<std::string_view>("v"));
}

TEST(ViewChange, R_TARGET_EPOCH_promised_member_nacks_a_slow_coordinator) {
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("k", "v")});
    std::deque<InFlight> held;  // all voted; the PreCommits are held back
    h.run([&](const InFlight& m) {
        if (!is<PreCommit>(m)) return true;
        held.push_back(m);
        return false;
    });
    ASSERT_EQ(held.size(), 2u);
    // Meanwhile 1 looks dead to 2 and 3, who change the view without it.
    h.cut(1, 2);
    h.cut(1, 3);
    h.settle(10, 60);
    ASSERT_EQ(h.node(2).view().epoch, 2u);
    // The slow coordinator's PreCommits finally arrive: nobody may ack them.
    h.heal();
    std::size_t acks = 0;
    std::swap(held, h.inflight());
    h.run([&](const InFlight& m) {
        if (is<Ack>(m)) ++acks;
        return true;
    });
    EXPECT_EQ(acks, 0u);
    h.settle(10, 200);
    expect_converged(h, {1, 2, 3});
}

TEST(ViewChange, R_AMNESIA_restarted_node_is_readded_and_syncs_by_snapshot) {
    Harness h(3, failure_detection);
    for (RequestId r = 1; r <= 6; ++r) h.request(static_cast<NodeId>(r % 3 + 1), 1, r, {set("k" + std::to_string(r), "v")});
    h.settle(10, 5);
    h.crash(3);
    h.settle(10, 50);
    ASSERT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2}));
    h.restart(3, 77);
    h.replies(3).clear();
    h.request(3, 9, 1, {get("k1")});
    ASSERT_EQ(h.replies(3).size(), 1u);
    EXPECT_EQ(error_reply(h.replies(3)[0])->code, ErrorCode::NotReady);
    h.settle(10, 100);
    EXPECT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2, 3}));
    EXPECT_FALSE(h.node(3).amnesiac());
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(3).state().log_length(), h.node(1).state().log_length());
    h.request(3, 9, 2, {get("k6")});
    h.settle(10, 10);
    ASSERT_EQ(h.replies(3).size(), 2u);
    ASSERT_NE(ops_reply(h.replies(3)[1]), nullptr);
    EXPECT_EQ(ops_reply(h.replies(3)[1])->results[0].value, std::optional<std::string>("v"));
    expect_converged(h, {1, 2, 3});
}

TEST(ViewChange, R_SNAPSHOT_chunks_arriving_out_of_order_are_kept_not_refetched) {
    Harness h(3, [](EngineConfig& c) {
        failure_detection(c);
        c.snapshot_chunk_bytes = 64;
        c.snapshot_window = 4;
    });
    for (RequestId r = 1; r <= 30; ++r) {
        h.request(static_cast<NodeId>(r % 2 + 1), 1, r, {set("k" + std::to_string(r), std::string(40, 'v'))});
    }
    h.settle(10, 5);
    h.crash(3);
    h.settle(10, 50);
    h.restart(3, 77);
    // Every window the donor sends arrives in reverse order.
    std::uint32_t total = 0;
    std::size_t chunks_to_3 = 0;
    for (int round = 0; round < 300 && h.node(3).node_status() != NodeStatus::Normal; ++round) {
        h.advance(10);
        auto& q = h.inflight();
        while (!q.empty()) {
            auto end = q.begin();
            while (end != q.end() && is<SnapshotChunk>(*end)) ++end;
            std::reverse(q.begin(), end);
            if (const auto* c = std::get_if<SnapshotChunk>(&q.front().msg.body); c != nullptr && q.front().to == 3) {
                total = c->total;
                ++chunks_to_3;
            }
            h.run({}, 1);
        }
    }
    ASSERT_EQ(h.node(3).node_status(), NodeStatus::Normal);
    ASSERT_GT(total, 8u) << "the snapshot must span several windows";
    EXPECT_EQ(chunks_to_3, total) << "every chunk travelled once: none was dropped and fetched again";
    expect_converged(h, {1, 2, 3});
}

// Spin finding F1: with one accepted slot, an acceptor still in epoch 1 that accepted
// a record closing epoch 2 lost the record it had accepted for epoch 1, and a later
// proposer for epoch 1 could choose a second, different record for the same epoch.
TEST(ViewChange, R_VC_ACCEPT_an_acceptor_behind_keeps_the_record_of_its_own_instance) {
    Harness h(3, failure_detection);
    Engine& n1 = h.node(1);
    auto deliver = [&](NodeId from, Epoch epoch, PeerBody body) {
        n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", from, 1, epoch, 1}, std::move(body)}, h.now());
        return n1.take_output();
    };
    EpochClosingRecord closes_1;
    closes_1.closes = 1;
    closes_1.next = View{2, {{1, 1}, {2, 1}}, Timestamp{100, 0}, 1, {}};
    EpochClosingRecord closes_2;
    closes_2.closes = 2;
    closes_2.next = View{3, {{1, 1}, {2, 1}, {3, 1}}, Timestamp{200, 0}, 1, {}};

    deliver(2, 1, VcPrepare{Ballot{1, 2}, 2});
    auto out = deliver(2, 1, VcAccept{Ballot{1, 2}, closes_1});
    ASSERT_EQ(out.messages.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<VcAccepted>(out.messages[0].msg.body));
    // Node 2 installed epoch 2 and runs the next instance; node 1 never heard of epoch 2.
    deliver(2, 2, VcPrepare{Ballot{2, 2}, 3});
    out = deliver(2, 2, VcAccept{Ballot{2, 2}, closes_2});
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<VcNack>(out.messages[0].msg.body)) << "a record of a later instance is refused";
    // Node 3 now runs epoch 1's instance: node 1's promise must still report what it accepted there.
    out = deliver(3, 1, VcPrepare{Ballot{3, 3}, 2});
    const VcPromise* promise = nullptr;
    for (const auto& m : out.messages) {
        if (m.to == 3) promise = std::get_if<VcPromise>(&m.msg.body);
    }
    ASSERT_NE(promise, nullptr);
    EXPECT_EQ(promise->accepted, (Ballot{1, 2}));
    ASSERT_TRUE(promise->accepted_ecr.has_value());
    EXPECT_EQ(*promise->accepted_ecr, closes_1);
}

TEST(ViewChange, R_REQUEUE_refused_request_is_queued_once_and_not_retried_at_once) {
    Harness h(3, failure_detection);
    // Node 3 has promised someone's view change: it refuses every CanCommit of epoch 1.
    PeerMessage prep{PeerHeader{kProtocolVersion, "test", 2, 1, 1, 1}, VcPrepare{Ballot{9, 2}, 2}};
    h.node(3).on_message(prep, h.now());
    h.node(3).take_output();
    h.request(1, 1, 1, {set("k", "v")});
    h.run([](const InFlight& m) { return m.from != 2 && m.to != 2; });  // node 2 silent for now
    EXPECT_EQ(h.node(1).queued_requests(), 1u) << "aborted by VIEW_CHANGING: back in the queue, once";
    EXPECT_EQ(h.node(1).coordinating(), 1u) << "no new attempt before resend_ms";
    for (int i = 0; i < 5; ++i) {
        h.advance(h.node(1).config().resend_ms);
        h.run([](const InFlight& m) { return m.from != 2 && m.to != 2; });
        EXPECT_LE(h.node(1).queued_requests(), 1u);
    }
    EXPECT_TRUE(h.replies(1).empty()) << "the client only waits";
    // Node 3's view change never comes: the others change the view; the request then runs once.
    h.settle(10, 100);
    std::size_t copies = 0;
    for (const auto& d : h.delivered(1)) {
        for (const auto& cmd : *d.batch) copies += (cmd.client == 1 && cmd.request == 1) ? 1u : 0u;
    }
    EXPECT_EQ(copies, 1u) << "every aborted attempt must not come back as another copy";
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(1)[0]), nullptr);
}

// Who holds (client, request) in a delivered transaction, and how often.
std::size_t copies_delivered(Harness& h, NodeId at, ClientId client, RequestId request) {
    std::size_t copies = 0;
    for (const auto& d : h.delivered(at)) {
        for (const auto& cmd : *d.batch) copies += (cmd.client == client && cmd.request == request) ? 1u : 0u;
    }
    return copies;
}

std::vector<const ClientResponse*> replies_to(Harness& h, NodeId at, ClientId client, RequestId request) {
    std::vector<const ClientResponse*> found;
    for (const auto& r : h.replies(at)) {
        if (r.client == client && r.request == request) found.push_back(&r);
    }
    return found;
}

// Node 1 coordinates a CAS that every other member PreCommits; its acks are lost and node 1 is cut off.
void precommit_then_cut_off_coordinator(Harness& h) {
    h.settle(10, 3);
    h.request(1, 7, 1, {cas("k1", std::nullopt, "first")});
    h.run([](const InFlight& m) { return !(is<Ack>(m) && m.to == 1); });
    ASSERT_EQ(h.node(1).coordinating(), 1u);
    h.partition({1});
}

TEST(ViewChange, R_IN_DOUBT_a_missed_commit_is_answered_from_the_snapshot_and_never_run_again) {
    Harness h(5, [](EngineConfig& c) {
        failure_detection(c);
        c.no_quorum_ms = 1u << 30;  // node 1 keeps its client waiting through the partition
    });
    precommit_then_cut_off_coordinator(h);
    h.settle(10, 60);  // 2..5 close epoch 1 without node 1: the record commits the PreCommitted CAS
    ASSERT_EQ(copies_delivered(h, 2, 7, 1), 1u);
    h.crash(5);  // and move on once more, so node 1 later learns only a later record: a gap
    h.settle(10, 60);
    ASSERT_GE(h.node(2).view().epoch, 3u);
    EXPECT_TRUE(h.replies(1).empty()) << "node 1 could not learn the outcome yet";
    h.heal();
    bool seen_in_doubt = false;
    for (int i = 0; i < 300 && h.node(1).node_status() != NodeStatus::Normal; ++i) {
        h.advance(10);
        h.run();
        seen_in_doubt = seen_in_doubt || h.node(1).in_doubt_requests() == 1;
    }
    ASSERT_EQ(h.node(1).node_status(), NodeStatus::Normal);
    EXPECT_TRUE(seen_in_doubt) << "node 1 installed a later view without the record that decided its transaction";
    h.settle(10, 30);
    const auto answers = replies_to(h, 1, 7, 1);
    ASSERT_EQ(answers.size(), 1u);
    const auto* ops = ops_reply(*answers[0]);
    ASSERT_NE(ops, nullptr) << "answered from the one execution in the log, not refused";
    ASSERT_EQ(ops->results.size(), 1u);
    EXPECT_TRUE(ops->results[0].ok) << "the result of the execution that committed";
    for (NodeId n : {1u, 2u, 3u, 4u}) EXPECT_LE(copies_delivered(h, n, 7, 1), 1u) << "run again at node " << n;
    EXPECT_EQ(h.node(1).in_doubt_requests(), 0u);
    expect_converged(h, {1, 2, 3, 4});
}

TEST(ViewChange, R_IN_DOUBT_a_retry_in_a_minority_is_answered_outcome_unknown_never_no_quorum) {
    Harness h(3, failure_detection);
    precommit_then_cut_off_coordinator(h);
    h.settle(10, 70);  // past no_quorum_ms: node 1 gives up on what it cannot learn
    auto answers = replies_to(h, 1, 7, 1);
    ASSERT_EQ(answers.size(), 1u);
    ASSERT_NE(error_reply(*answers[0]), nullptr);
    EXPECT_EQ(error_reply(*answers[0])->code, ErrorCode::TimeoutOutcomeUnknown) << error_reply(*answers[0])->detail;
    // The client retries the same request: it may have been applied, so it is no new request.
    h.request(1, 7, 1, {cas("k1", std::nullopt, "first")});
    answers = replies_to(h, 1, 7, 1);
    ASSERT_EQ(answers.size(), 2u);
    ASSERT_NE(error_reply(*answers[1]), nullptr);
    EXPECT_EQ(error_reply(*answers[1])->code, ErrorCode::TimeoutOutcomeUnknown) << error_reply(*answers[1])->detail;
    EXPECT_EQ(h.node(1).coordinating(), 1u) << "no second attempt";
    // A new request is refused at once.
    h.request(1, 7, 2, {set("k2", "v")});
    const auto fresh = replies_to(h, 1, 7, 2);
    ASSERT_EQ(fresh.size(), 1u);
    EXPECT_EQ(error_reply(*fresh[0])->code, ErrorCode::NoQuorum);
    EXPECT_NE(error_reply(*fresh[0])->detail.find("no majority of the cluster heard from for"), std::string::npos)
        << error_reply(*fresh[0])->detail;
    // Healed, the retry gets the one execution's result.
    h.heal();
    h.settle(10, 200);
    h.request(1, 7, 1, {cas("k1", std::nullopt, "first")});
    h.settle(10, 10);
    answers = replies_to(h, 1, 7, 1);
    ASSERT_EQ(answers.size(), 3u);
    ASSERT_NE(ops_reply(*answers[2]), nullptr);
    EXPECT_TRUE(ops_reply(*answers[2])->results[0].ok);
    for (NodeId n : {1u, 2u, 3u}) EXPECT_EQ(copies_delivered(h, n, 7, 1), 1u) << "node " << n;
    EXPECT_EQ(h.node(1).in_doubt_requests(), 0u);
    expect_converged(h, {1, 2, 3});
}

TEST(ViewChange, R_NO_QUORUM_a_cut_off_node_refuses_within_no_quorum_ms_even_mid_transaction) {
    Harness h(5, failure_detection);
    h.settle(10, 3);
    h.partition({1, 2});
    const std::uint64_t arrived = h.now();
    h.request(1, 9, 1, {set("k", "v")});  // arrives before node 1 notices: it goes into a transaction
    EXPECT_EQ(h.node(1).coordinating(), 1u);
    std::uint64_t answered = 0;
    for (int i = 0; i < 200 && answered == 0; ++i) {
        h.advance(5);
        h.run();
        if (!replies_to(h, 1, 9, 1).empty()) answered = h.now();
    }
    ASSERT_NE(answered, 0u);
    EXPECT_LE(answered - arrived, h.node(1).config().no_quorum_ms + 10);
    const auto* err = error_reply(*replies_to(h, 1, 9, 1)[0]);
    ASSERT_NE(err, nullptr);
    EXPECT_EQ(err->code, ErrorCode::NoQuorum) << err->detail;
    h.heal();
    h.settle(10, 200);
    expect_converged(h, {1, 2, 3, 4, 5});
    EXPECT_EQ(copies_delivered(h, 3, 9, 1), 0u) << "refused as not applied: it must not be in the log";
}

TEST(ViewChange, R_AMNESIA_restarted_node_answers_no_prepare) {
    Harness h(3, failure_detection);
    h.crash(2);
    h.restart(2, 55);
    PeerMessage prep{PeerHeader{kProtocolVersion, "test", 1, 1, 1, 1}, VcPrepare{Ballot{9, 1}, 2}};
    h.node(2).on_message(prep, h.now());
    const auto out = h.node(2).take_output();
    for (const auto& m : out.messages) EXPECT_FALSE(std::holds_alternative<VcPromise>(m.msg.body));
}

TEST(ViewChange, R_VC_RETRY_concurrent_view_changes_settle_on_one_view) {
    Harness h(5, failure_detection);
    h.settle(10, 3);
    h.crash(5);
    // Let several nodes suspect at once and race.
    h.settle(10, 120);
    const Epoch e = h.node(1).view().epoch;
    EXPECT_GE(e, 2u);
    expect_converged(h, {1, 2, 3, 4});
    EXPECT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2, 3, 4}));
}

TEST(ViewChange, R_NO_QUORUM_minority_refuses_with_a_named_error) {
    Harness h(5, failure_detection);
    h.settle(10, 3);
    h.partition({4, 5});
    h.settle(10, 100);
    h.request(4, 1, 1, {set("k", "v")});
    ASSERT_EQ(h.replies(4).size(), 1u);
    EXPECT_EQ(error_reply(h.replies(4)[0])->code, ErrorCode::NoQuorum);
    // The majority side goes on.
    h.request(1, 2, 1, {set("k", "w")});
    h.settle(10, 10);
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(1)[0]), nullptr);
    // Local reads on the minority still work, labelled with their position.
    ClientRequest lr{kProtocolVersion, "test", 3, 1, LocalGetRequest{"k"}};
    h.request(4, lr);
    ASSERT_EQ(h.replies(4).size(), 2u);
    EXPECT_NE(std::get_if<LocalGetReply>(&h.replies(4)[1].body), nullptr);
    h.heal();
    h.settle(10, 200);
    expect_converged(h, {1, 2, 3, 4, 5});
}

TEST(ViewChange, R_CATCH_UP_member_that_missed_newview_installs_it) {
    Harness h(3, [](EngineConfig& c) {
        failure_detection(c);
        if (c.self == 2) c.suspect_ms = 100000;  // node 1 proposes; node 2 only promises
    });
    h.settle(10, 3);
    h.crash(3);
    std::size_t dropped = 0;
    for (int i = 0; i < 40; ++i) {  // every NewView to node 2 is lost for a while
        h.advance(10);
        h.run([&](const InFlight& m) {
            const bool drop = is<NewView>(m) && m.to == 2;
            dropped += drop ? 1u : 0u;
            return !drop;
        });
    }
    EXPECT_GT(dropped, 0u);
    h.settle(10, 50);
    EXPECT_EQ(h.node(2).view().epoch, h.node(1).view().epoch);
    EXPECT_GE(h.node(2).view().epoch, 2u);
    expect_converged(h, {1, 2});
}

TEST(ViewChange, R_CATCH_UP_paused_member_left_out_rejoins_with_its_memory) {
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("a", "1")});
    h.settle(10, 3);
    h.pause(3);  // longer than suspect_ms: the others remove it
    h.settle(10, 50);
    ASSERT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2}));
    h.request(1, 1, 2, {set("b", "2")});
    h.settle(10, 5);
    h.resume(3);
    h.settle(10, 150);
    EXPECT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2, 3}));
    EXPECT_EQ(h.node(3).incarnation(), 1u) << "a pause is not a crash: same incarnation";
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(3).state().store().peek("b"), std::optional<std::string_view>("2"));
}

// Nodes 2 and 3 crash and restart (incarnations 21, 31): a majority of the
// three lost its memory, and every node comes to see it (R-TOTAL-LOSS).
void lose_majority_memory(Harness& h) {
    h.crash(2);
    h.crash(3);
    h.restart(2, 21);
    h.restart(3, 31);
    h.settle(10, 100);
}

TEST(ViewChange, R_TOTAL_LOSS_majority_amnesiac_needs_rebootstrap) {
    Harness h(3, failure_detection);
    h.settle(10, 3);
    lose_majority_memory(h);
    EXPECT_EQ(h.node(2).node_status(), NodeStatus::NeedsRebootstrap);
    EXPECT_EQ(h.node(3).node_status(), NodeStatus::NeedsRebootstrap);
    EXPECT_EQ(h.node(1).node_status(), NodeStatus::NeedsRebootstrap) << "the survivor sees it too";
    h.request(2, 1, 1, {set("k", "v")});
    ASSERT_FALSE(h.replies(2).empty());
    EXPECT_EQ(error_reply(h.replies(2).back())->code, ErrorCode::NeedsRebootstrap);
}

// Of four nodes, one restart leaves a majority (3) that re-adds it; two leave
// two, no majority of the living nor of the amnesiac: nobody can decide again.
TEST(ViewChange, R_TOTAL_LOSS_half_of_an_even_cluster_amnesiac_needs_rebootstrap) {
    Harness h(4, failure_detection);
    h.request(1, 1, 1, {set("k", "v")});
    h.settle(10, 3);
    h.crash(4);
    h.restart(4, 41);
    h.settle(10, 100);
    for (NodeId n : {1u, 2u, 3u, 4u}) ASSERT_EQ(h.node(n).node_status(), NodeStatus::Normal) << "node " << n;
    expect_converged(h, {1, 2, 3, 4});
    h.crash(3);
    h.crash(4);
    h.restart(3, 32);
    h.restart(4, 42);
    h.settle(10, 100);
    for (NodeId n : {1u, 2u, 3u, 4u}) {
        EXPECT_EQ(h.node(n).node_status(), NodeStatus::NeedsRebootstrap) << "node " << n;
    }
    ClientRequest rb{kProtocolVersion, "test", 5, 1, AdminRequest{AdminKind::Rebootstrap, {}}};
    h.request(1, rb);
    h.settle(10, 30);
    expect_converged(h, {1, 2, 3, 4});
    EXPECT_EQ(h.node(1).state().store().size(), 0u) << "a new, empty history";
}

// R-LOSS-EVIDENCE (swarm seed 2058): JoinReqs 200 ms apart, suspect_ms 40.
// Of four nodes, 3 and 4 restart half a JoinReq interval apart, so their
// amnesiac JoinReqs are out of phase. With a window of 2 x suspect_ms (80 ms)
// nodes 1 and 2, which must count both, never held two fresh at once: they
// stayed in VIEW_CHANGE, promised no rebootstrap, and the operator's
// rebootstrap lapsed with 2 of the 3 promises needed, again and again.
TEST(ViewChange, R_LOSS_EVIDENCE_out_of_phase_join_requests_are_fresh_together) {
    Harness h(4, [](EngineConfig& c) {
        failure_detection(c);
        c.heartbeat_ms = 10;
        c.suspect_ms = 40;
        c.join_retry_ms = 200;
    });
    h.settle(10, 5);
    for (NodeId n : {1u, 2u, 3u, 4u}) ASSERT_EQ(h.node(n).node_status(), NodeStatus::Normal) << "node " << n;
    h.crash(3);
    h.crash(4);
    h.restart(3, 32);
    h.settle(10, 10);  // 100 ms: half a JoinReq interval
    h.restart(4, 42);
    h.settle(10, 100);
    for (NodeId n : {1u, 2u}) {
        EXPECT_FALSE(h.node(n).amnesiac()) << "node " << n;
        EXPECT_EQ(h.node(n).node_status(), NodeStatus::NeedsRebootstrap)
            << "node " << n << " is " << to_string(h.node(n).node_status());
    }
    // The operator's procedure is then enough: one rebootstrap, sent to a node that kept its memory.
    ClientRequest rb{kProtocolVersion, "test", 5, 1, AdminRequest{AdminKind::Rebootstrap, {}}};
    h.request(1, rb);
    ASSERT_NE(std::get_if<AdminReply>(&h.replies(1).back().body), nullptr);
    h.settle(10, 30);
    expect_converged(h, {1, 2, 3, 4});
    EXPECT_GT(h.node(1).view().history, Epoch{1}) << "a new history";
}

TEST(ViewChange, R_TOTAL_LOSS_rebootstrap_starts_an_empty_history) {
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("old", "1")});
    h.settle(10, 3);
    // Refused while the cluster is healthy.
    ClientRequest rb{kProtocolVersion, "test", 5, 1, AdminRequest{AdminKind::Rebootstrap, {}}};
    h.request(1, rb);
    EXPECT_EQ(error_reply(h.replies(1).back())->code, ErrorCode::BadRequest);
    lose_majority_memory(h);
    ASSERT_EQ(h.node(3).node_status(), NodeStatus::NeedsRebootstrap);
    rb.request = 2;
    h.request(3, rb);
    ASSERT_NE(std::get_if<AdminReply>(&h.replies(3).back().body), nullptr);
    h.settle(10, 20);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(1).state().store().size(), 0u) << "the cache restarts empty";
    h.request(2, 1, 2, {set("k", "v")});
    h.settle(10, 10);
    EXPECT_NE(ops_reply(h.replies(2).back()), nullptr);
    expect_converged(h, {1, 2, 3});
}

// R-RB-PROMISE (sim finding part 2 §5): node 1, cut off, still holds the
// evidence that 2 and 3 lost their memory after they started a new history
// together. Its rebootstrap must not throw that live history away: 2 and 3
// serve it, so they promise nothing, the proposal lapses, and 1 joins them.
TEST(ViewChange, R_RB_PROMISE_a_rebootstrap_needs_a_majority_that_serves_no_history) {
    Harness h(3, failure_detection);
    h.settle(10, 3);
    lose_majority_memory(h);
    ASSERT_EQ(h.node(1).node_status(), NodeStatus::NeedsRebootstrap);
    h.partition({2, 3});
    ClientRequest rb{kProtocolVersion, "test", 5, 1, AdminRequest{AdminKind::Rebootstrap, {}}};
    h.request(2, rb);
    ASSERT_NE(std::get_if<AdminReply>(&h.replies(2).back().body), nullptr);
    h.settle(10, 5);
    ASSERT_EQ(h.node(2).node_status(), NodeStatus::Normal) << "3 promised: a majority";
    const Epoch live = h.node(2).view().epoch;
    h.request(2, 1, 1, {set("k", "v")});
    h.settle(10, 5);
    ASSERT_NE(ops_reply(h.replies(2).back()), nullptr);

    // 1 hears the live history's heartbeats (and nothing that would move it
    // there), so its proposal is above the live epoch: only the missing
    // promises can stop it.
    h.heal();
    h.advance(30);
    h.run([](const InFlight& m) { return std::holds_alternative<Heartbeat>(m.msg.body); });
    ASSERT_EQ(h.node(1).node_status(), NodeStatus::NeedsRebootstrap) << "its evidence is stale, not yet expired";
    rb.request = 2;
    h.request(1, rb);
    ASSERT_NE(std::get_if<AdminReply>(&h.replies(1).back().body), nullptr) << "proposed, not done";
    for (int i = 0; i < 3; ++i) {  // its prepares reach 2 and 3, which serve a history: no promise
        h.advance(10);
        h.run();
        for (NodeId n : {2u, 3u}) {  // a view change re-adding 1 is fine; a new history is not
            EXPECT_LT(h.node(n).view().epoch, live + (Epoch{1} << 20)) << "node " << n;
        }
    }
    h.settle(10, 100);
    expect_converged(h, {1, 2, 3});
    EXPECT_LT(h.node(1).view().epoch, live + (Epoch{1} << 20)) << "1 joined the live history, not a new one";
    EXPECT_EQ(h.node(1).state().store().peek("k"), std::optional<std::string_view>("v")) << "nothing was abandoned";
}

// R-HISTORY-ORDER (sim findings part 2 §6 and §8). History H1 (made by 3
// and 2) survives only as a record held by 3's next incarnation; 1 and 2's next
// incarnation start H2 without hearing of it, at a lower epoch. Ordered by
// epoch, H1's record would pull 1 and 2 into a history whose members all
// restarted; ordered by birth, H2 is newer (2 promised it at a later
// incarnation), so 1 and 2 stay, and 3 crosses into H2 and is added.
TEST(ViewChange, R_HISTORY_ORDER_a_newer_history_started_below_an_older_one_wins) {
    Harness h(3, failure_detection);
    h.settle(10, 3);
    lose_majority_memory(h);
    ClientRequest rb{kProtocolVersion, "test", 5, 1, AdminRequest{AdminKind::Rebootstrap, {}}};
    h.partition({1});
    h.request(3, rb);
    h.settle(10, 5);
    ASSERT_EQ(member_ids(h.node(2)), (std::vector<NodeId>{2, 3}));
    const Epoch h1 = h.node(2).view().epoch;
    h.crash(3);
    h.restart(3, 32);
    h.settle(10, 5);  // 2 pushes H1 to 3's new incarnation, which adopts it outside the view
    ASSERT_EQ(h.node(3).view().history, h1);
    ASSERT_EQ(h.node(3).node_status(), NodeStatus::Joining);
    ASSERT_TRUE(h.node(3).amnesiac()) << "H1 does not name 3's incarnation";
    h.crash(2);
    h.restart(2, 22);
    h.heal();
    h.partition({3});
    h.settle(10, 10);
    ASSERT_EQ(h.node(1).node_status(), NodeStatus::NeedsRebootstrap) << "1 heard 2 and 3 lose their memory";
    rb.request = 2;
    h.request(1, rb);
    h.settle(10, 5);
    ASSERT_EQ(h.node(1).node_status(), NodeStatus::Normal);
    const Epoch h2 = h.node(1).view().history;
    ASSERT_LT(h2, h1) << "the lanes put H2 above H1: pick other incarnations";
    h.request(1, 1, 1, {set("k", "v")});
    h.settle(10, 5);
    ASSERT_NE(ops_reply(h.replies(1).back()), nullptr);
    h.heal();
    for (int step = 0; step < 100; ++step) {
        h.settle(10, 1);
        for (NodeId n : {1u, 2u}) ASSERT_EQ(h.node(n).view().history, h2) << "node " << n << ", step " << step;
    }
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(3).view().history, h2);
    EXPECT_FALSE(h.node(3).amnesiac()) << "named by H2's view change";
    EXPECT_EQ(h.node(3).state().store().peek("k"), std::optional<std::string_view>("v")) << "H2's data, synced";
}

// R-TOTAL-LOSS, second kind of evidence: node 3 was left out of view 2 = {1.1,
// 2.1} of its own history, and then hears both members speak with later
// incarnations (they restarted and were named in views it has not heard of).
// It is not amnesiac, and nobody can add it: only a member proposes a view.
TEST(ViewChange, R_TOTAL_LOSS_a_view_whose_members_all_restarted_is_lost) {
    Harness h(3, failure_detection);
    h.settle(10, 3);
    Engine& n3 = h.node(3);
    EpochClosingRecord ecr;
    ecr.closes = 1;
    ecr.next = View{2, {{1, 1}, {2, 1}}, Timestamp{100, 0}, 1, n3.view().birth};
    n3.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 1, 1, 1, 1}, NewView{ecr}}, h.now());
    ASSERT_EQ(n3.node_status(), NodeStatus::Joining);
    ASSERT_FALSE(n3.amnesiac());
    n3.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 1, 12, 9, 1}, Heartbeat{}}, h.now());
    n3.on_tick(h.now());
    EXPECT_EQ(n3.node_status(), NodeStatus::Joining) << "one member is still the one named";
    n3.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 22, 9, 1}, Heartbeat{}}, h.now());
    n3.on_tick(h.now());
    ASSERT_EQ(n3.node_status(), NodeStatus::NeedsRebootstrap);
    (void)n3.take_output();
    h.request(3, 1, 1, {set("k", "v")});
    const ErrorReply* error = error_reply(h.replies(3).back());
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->code, ErrorCode::NeedsRebootstrap);
    EXPECT_NE(error->detail.find("every member of this node's view restarted"), std::string::npos) << error->detail;
}

// R-HISTORY-ORDER, the order itself: births decide, never epochs.
TEST(ViewChange, R_HISTORY_ORDER_births_decide_not_epochs) {
    auto view = [](Epoch history, std::vector<BirthStamp> birth) {
        View v;
        v.epoch = history + 7;
        v.history = history;
        v.birth = std::move(birth);
        return v;
    };
    const View boot = view(1, {{1, 1, 0}, {2, 1, 0}, {3, 1, 0}});
    const View a = view(9u << 20, {{2, 21, 1}, {3, 31, 1}});
    const View b = view(5u << 20, {{1, 1, 1}, {2, 22, 1}});  // 2 restarted since a: b is newer, though lower
    EXPECT_TRUE(history_newer(a, boot));
    EXPECT_TRUE(history_newer(b, a));
    EXPECT_FALSE(history_newer(a, b));
    EXPECT_TRUE(newer_record(b, a));
    EXPECT_FALSE(newer_record(a, b));
    // Same incarnation: the promise count orders them.
    const View c = view(4u << 20, {{1, 1, 2}, {3, 31, 1}});
    EXPECT_TRUE(history_newer(c, b)) << "1 promised c after b";
    EXPECT_FALSE(history_newer(b, c));
    // The first shared node that differs decides, the same way everywhere.
    const View d = view(6u << 20, {{1, 1, 3}, {2, 21, 0}});
    EXPECT_TRUE(history_newer(d, b));
    EXPECT_FALSE(history_newer(b, d));
    // No shared stamp differs: the history epoch.
    const View e = view(7u << 20, {{1, 1, 1}, {2, 22, 1}});
    EXPECT_TRUE(history_newer(e, b));
    EXPECT_FALSE(history_newer(b, e));
    // Within one history, epochs; a node in no history takes any.
    View later = b;
    later.epoch += 1;
    EXPECT_TRUE(newer_record(later, b));
    EXPECT_FALSE(newer_record(b, later));
    EXPECT_TRUE(newer_record(b, View{}));
    EXPECT_FALSE(newer_record(View{}, b));
}

// R-HISTORY, R-VC-PREPARE: a node that crosses into a newer history at a record
// that does not name it is amnesiac there; a node promises nothing in another
// history's instance and pushes its own record back instead.
TEST(ViewChange, R_HISTORY_a_node_crossing_unnamed_is_amnesiac_and_another_history_gets_no_promise) {
    Harness h(3, failure_detection);
    h.settle(10, 3);
    Engine& n1 = h.node(1);
    const Epoch other = Epoch{3} << 20;
    n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 1, other, other}, VcPrepare{Ballot{9, 2}, other + 1}},
                  h.now());
    Output out = n1.take_output();
    EXPECT_EQ(n1.node_status(), NodeStatus::Normal) << "no promise: the epoch is not frozen";
    for (const auto& [to, msg] : out.messages) EXPECT_FALSE(std::holds_alternative<VcPromise>(msg.body));

    EpochClosingRecord ecr;
    ecr.closes = 0;
    ecr.next = View{other, {{2, 1}, {3, 1}}, Timestamp{500, 0}, other, {{2, 1, 1}, {3, 1, 1}}};
    EpochClosingRecord regular = ecr;
    regular.closes = other;
    regular.next.epoch = other + 1;
    n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 1, other + 1, other, history_tag(regular.next)},
                              NewView{regular}},
                  h.now());
    (void)n1.take_output();
    EXPECT_EQ(n1.view().history, other);
    EXPECT_EQ(n1.node_status(), NodeStatus::Joining);
    EXPECT_TRUE(n1.amnesiac()) << "an earlier incarnation of it may have promised in that history";
    n1.on_message(
        PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 1, other + 1, other, history_tag(regular.next)},
                    VcPrepare{Ballot{10, 2}, other + 2}},
        h.now());
    out = n1.take_output();
    for (const auto& [to, msg] : out.messages) EXPECT_FALSE(std::holds_alternative<VcPromise>(msg.body));
    // An older history's record is refused, whatever its epoch.
    EpochClosingRecord old = regular;
    old.closes = other + 100;
    old.next.epoch = other + 101;
    old.next.history = other + 50;
    old.next.birth = {{2, 1, 0}, {3, 1, 0}};
    n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 3, 1, other + 101, other + 50, history_tag(old.next)},
                              NewView{old}},
                  h.now());
    EXPECT_EQ(n1.view().history, other);
}

// R-HISTORY-ORDER, R-EPOCH-FILTER, R-VC-ACCEPT: epochs of two histories may
// coincide, so nothing stamped with another history touches this node's epoch:
// no vote on its CanCommit, no acceptance of its record, even at our epoch.
TEST(ViewChange, R_HISTORY_ORDER_nothing_of_another_history_is_voted_or_accepted) {
    Harness h(3, failure_detection);
    Engine& n1 = h.node(1);
    const Epoch other = Epoch{3} << 20;
    auto from_other_history = [&](PeerBody body) {
        n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 1, 1, other}, std::move(body)}, h.now());
        return n1.take_output();
    };
    Output out = from_other_history(CanCommit{TxId{2, 1, seq_of(1, 1)}, Batch{Command{9, 1, {set("k", "v")}}}});
    for (const auto& m : out.messages) EXPECT_FALSE(std::holds_alternative<Vote>(m.msg.body));
    EXPECT_EQ(n1.undecided_count(), 0u);
    EpochClosingRecord ecr;
    ecr.closes = 1;  // our epoch, by coincidence
    ecr.next = View{2, {{1, 1}, {2, 1}}, Timestamp{100, 0}, other, {{1, 1, 1}, {2, 1, 1}}};
    out = from_other_history(VcAccept{Ballot{50, 2}, ecr});
    for (const auto& m : out.messages) EXPECT_FALSE(std::holds_alternative<VcAccepted>(m.msg.body));
    EXPECT_EQ(n1.node_status(), NodeStatus::Normal);
    // The same CanCommit from our own history is voted on: the filter is the history, nothing else.
    n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 1, 1, 1},
                              CanCommit{TxId{2, 1, seq_of(1, 1)}, Batch{Command{9, 1, {set("k", "v")}}}}},
                  h.now());
    out = n1.take_output();
    EXPECT_TRUE(std::any_of(out.messages.begin(), out.messages.end(),
                            [](const auto& m) { return std::holds_alternative<Vote>(m.msg.body); }));
}

// Node 1 kept its memory; 2 and 3 did not: it is NEEDS_REBOOTSTRAP, not amnesiac.
Engine& survivor_of_total_loss(Harness& h) {
    h.settle(10, 3);
    lose_majority_memory(h);
    Engine& n1 = h.node(1);
    EXPECT_EQ(n1.node_status(), NodeStatus::NeedsRebootstrap);
    EXPECT_FALSE(n1.amnesiac());
    return n1;
}

// R-RB-PROMISE, R-HISTORY-ORDER: a promise carries how many promises the node
// has given at its incarnation; a repeated prepare of the promise it holds gets
// the same count, a new proposal a higher one.
TEST(ViewChange, R_RB_PROMISE_a_promise_carries_the_count_of_promises_given) {
    Harness h(3, failure_detection);
    Engine& n1 = survivor_of_total_loss(h);
    (void)n1.take_output();
    auto promise_count = [&](NodeId from, Epoch epoch) -> std::optional<std::uint64_t> {
        n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", from, from * 10 + 1, 0, 0}, RbPrepare{epoch}},
                      h.now());
        for (const auto& m : n1.take_output().messages) {
            if (const auto* p = std::get_if<RbPromise>(&m.msg.body); p != nullptr && m.to == from) return p->count;
        }
        return std::nullopt;
    };
    const Epoch e = Epoch{5} << 20;
    EXPECT_EQ(promise_count(2, e), std::optional<std::uint64_t>(1));
    EXPECT_EQ(promise_count(2, e), std::optional<std::uint64_t>(1)) << "the same proposal again";
    EXPECT_EQ(promise_count(3, e + 4096), std::optional<std::uint64_t>(2)) << "a higher proposal while bound";
    EXPECT_EQ(promise_count(2, e), std::nullopt) << "below the promise it holds";
}

// R-HISTORY: a rebootstrap record that does not name a node's incarnation
// makes it amnesiac in the new history, even if it kept its memory of the old.
TEST(ViewChange, R_HISTORY_a_rebootstrap_record_that_does_not_name_a_node_makes_it_amnesiac) {
    Harness h(3, failure_detection);
    Engine& n1 = survivor_of_total_loss(h);
    EpochClosingRecord ecr;
    ecr.closes = 0;
    const Epoch e = Epoch{5} << 20;
    ecr.next = View{e, {{2, 21}, {3, 31}}, Timestamp{100, 0}, e, {{2, 21, 1}, {3, 31, 1}}};
    n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 21, e, e, history_tag(ecr.next)}, NewView{ecr}},
                  h.now());
    EXPECT_EQ(n1.view().history, e);
    EXPECT_EQ(n1.node_status(), NodeStatus::Joining);
    EXPECT_TRUE(n1.amnesiac());
}

// R-HISTORY (soak seed 57363): two rebootstraps whose lanes collide start two
// histories at one epoch, told apart by their births. Node 1 serves history A,
// started at e by 1 and 2; history B, started at e too by 2 (same incarnation,
// a later promise) and 3, is newer, but a NORMAL node keeps its view until it
// fails. B's traffic, even from an incarnation that is a member of A, stamped
// with A's epoch, gets no vote, no promise and none of A's snapshot; the same
// messages with A's identity get all three.
TEST(ViewChange, R_HISTORY_two_histories_started_at_one_epoch_are_told_apart_by_their_births) {
    Harness h(3, failure_detection);
    Engine& n1 = survivor_of_total_loss(h);
    const Epoch e = Epoch{5} << 20;
    const Incarnation i1 = n1.incarnation();
    EpochClosingRecord a;
    a.closes = 0;
    a.next = View{e, {{1, i1}, {2, 21}}, Timestamp{100, 0}, e, {{1, i1, 1}, {2, 21, 1}}};
    View b{e, {{2, 21}, {3, 31}}, Timestamp{100, 0}, e, {{2, 21, 2}, {3, 31, 1}}};
    ASSERT_TRUE(history_newer(b, a.next));
    ASSERT_NE(history_tag(a.next), history_tag(b));
    n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 21, e, e, history_tag(a.next)}, NewView{a}},
                  h.now());
    (void)n1.take_output();
    ASSERT_EQ(n1.view().history, e);
    ASSERT_EQ(n1.node_status(), NodeStatus::Normal);
    auto answers = [&](const View& of, PeerBody body) {
        n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 21, e, e, history_tag(of)}, std::move(body)},
                      h.now());
        std::vector<PeerBody> to_2;
        for (auto& m : n1.take_output().messages) {
            if (m.to == 2) to_2.push_back(std::move(m.msg.body));
        }
        return to_2;
    };
    auto any = [](const std::vector<PeerBody>& bodies, auto pred) { return std::any_of(bodies.begin(), bodies.end(), pred); };
    auto is_vote = [](const PeerBody& m) { return std::holds_alternative<Vote>(m); };
    auto is_promise = [](const PeerBody& m) { return std::holds_alternative<VcPromise>(m); };
    auto is_data = [](const PeerBody& m) {
        const auto* c = std::get_if<SnapshotChunk>(&m);
        return c != nullptr && c->total != 0;
    };
    const CanCommit cc{TxId{2, 21, seq_of(e, 1)}, Batch{Command{9, 1, {set("k", "v")}}}};
    const SnapshotRequest ask{e, 0, 1};
    EXPECT_FALSE(any(answers(b, cc), is_vote)) << "a CanCommit of B is not A's";
    EXPECT_FALSE(any(answers(b, VcPrepare{Ballot{9, 2}, e + 1}), is_promise)) << "B's instance is not A's";
    EXPECT_FALSE(any(answers(b, ask), is_data)) << "B's epoch e is not A's";
    EXPECT_EQ(n1.view().history, e);
    EXPECT_EQ(n1.node_status(), NodeStatus::Normal);
    EXPECT_TRUE(any(answers(a.next, cc), is_vote)) << "the same CanCommit of A is voted on";
    EXPECT_TRUE(any(answers(a.next, ask), is_data)) << "A's snapshot goes to A's nodes";
    EXPECT_TRUE(any(answers(a.next, VcPrepare{Ballot{9, 2}, e + 1}), is_promise)) << "A's own instance is promised";
}

// R-HISTORY (sim finding 2-7): node 1 holds a client's request in a transaction
// when a regular NewView with a gap arrives. Within its own history the request
// waits for the next view (R-REQUEUE); from another history it is answered
// TIMEOUT_OUTCOME_UNKNOWN, since the old history may have applied it.
TEST(ViewChange, R_HISTORY_a_view_of_another_history_abandons_waiting_clients) {
    for (const Epoch history : {Epoch{1}, Epoch{3u << 20}}) {
        SCOPED_TRACE("record of the history that started at epoch " + std::to_string(history));
        Harness h(3, failure_detection);
        h.request(1, 1, 1, {set("k", "v")});
        Engine& n1 = h.node(1);
        ASSERT_EQ(n1.waiting_clients(), 1u);
        ASSERT_EQ(n1.undecided_count(), 1u) << "the request is in a transaction of epoch 1";
        EpochClosingRecord ecr;
        ecr.closes = 4;  // node 1 missed epochs 2 to 4: a gap
        ecr.next = View{5, {{1, 1}, {2, 1}, {3, 1}}, Timestamp{500, 0}, history, {}};
        n1.on_message(PeerMessage{PeerHeader{kProtocolVersion, "test", 2, 1, 4, history}, NewView{ecr}}, h.now());
        const Output out = n1.take_output();
        EXPECT_EQ(n1.view().epoch, 5u);
        EXPECT_EQ(n1.view().history, history);
        EXPECT_EQ(n1.node_status(), NodeStatus::Syncing);
        if (history == 1) {
            EXPECT_TRUE(out.replies.empty());
            EXPECT_EQ(n1.waiting_clients(), 1u);
            EXPECT_EQ(n1.queued_requests(), 1u) << "R-REQUEUE: it runs in the next view";
        } else {
            ASSERT_EQ(out.replies.size(), 1u);
            const auto* error = std::get_if<ErrorReply>(&out.replies[0].body);
            ASSERT_NE(error, nullptr);
            EXPECT_EQ(error->code, ErrorCode::TimeoutOutcomeUnknown) << error->detail;
            EXPECT_EQ(n1.waiting_clients(), 0u);
            EXPECT_EQ(n1.queued_requests(), 0u);
        }
    }
}

// R-DATA-LOSS (sim finding 2-2): {1, 3} make a view without 2, then {2, 3} one
// without 1, so 3 is the only node holding the data while 2 waits for the
// snapshot. 3 crashes before it sends a chunk. Only one node lost its memory,
// yet the data is gone: 2 must say so, not wait forever.
TEST(ViewChange, R_DATA_LOSS_syncing_member_reports_needs_rebootstrap_when_every_holder_crashed) {
    Harness h(3, failure_detection);
    h.request(1, 1, 1, {set("a", "1")});
    h.settle(10, 3);
    h.partition({1, 3});
    h.settle(10, 60);
    ASSERT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 3}));
    h.request(1, 1, 2, {set("b", "2")});
    h.settle(10, 5);
    h.heal();
    h.partition({2, 3});
    const auto no_chunks_from_3 = [](const InFlight& m) {
        const auto* c = std::get_if<SnapshotChunk>(&m.msg.body);
        return !(m.from == 3 && c != nullptr && c->total != 0);
    };
    for (int i = 0; i < 60 && h.node(2).node_status() != NodeStatus::Syncing; ++i) {
        h.advance(10);
        h.run(no_chunks_from_3);
    }
    ASSERT_EQ(h.node(2).node_status(), NodeStatus::Syncing) << "2 is a member of the new view without the data";
    // 1 is one epoch behind with full data: it could still apply the record and
    // serve the snapshot. One more view change of {2, 3} puts it out of reach.
    h.pause(2);
    for (int i = 0; i < 30; ++i) {
        h.advance(10);
        h.run(no_chunks_from_3);
    }
    h.resume(2);
    const Epoch epoch_of_2 = h.node(2).view().epoch;
    for (int i = 0; i < 60 && !(h.node(2).view().epoch > epoch_of_2 && h.node(3).node_status() == NodeStatus::Normal);
         ++i) {
        h.advance(10);
        h.run(no_chunks_from_3);
    }
    ASSERT_GE(h.node(3).view().epoch, h.node(1).view().epoch + 2);
    ASSERT_EQ(h.node(2).node_status(), NodeStatus::Syncing);
    ASSERT_EQ(h.node(3).node_status(), NodeStatus::Normal);
    h.crash(3);
    h.heal();
    h.restart(3, 31);
    for (int i = 0; i < 100; ++i) {
        h.advance(10);
        h.run(no_chunks_from_3);
    }
    EXPECT_EQ(h.node(2).node_status(), NodeStatus::NeedsRebootstrap);
    EXPECT_NE(h.node(2).status().why_not_ready.find("lost"), std::string::npos) << h.node(2).status().why_not_ready;
    EXPECT_NE(h.node(3).node_status(), NodeStatus::NeedsRebootstrap) << "one amnesiac node is no majority";
    h.request(2, 1, 3, {set("k", "v")});
    ASSERT_NE(error_reply(h.replies(2).back()), nullptr);
    EXPECT_EQ(error_reply(h.replies(2).back())->code, ErrorCode::NeedsRebootstrap);

    // The operator's way out: a new, empty history that every node ends up in.
    ClientRequest rb{kProtocolVersion, "test", 5, 1, AdminRequest{AdminKind::Rebootstrap, {}}};
    h.request(2, rb);
    ASSERT_NE(std::get_if<AdminReply>(&h.replies(2).back().body), nullptr) << error_reply(h.replies(2).back())->detail;
    h.settle(10, 150);
    EXPECT_GE(h.node(2).view().epoch, Epoch{1} << 21) << "far above every epoch of the old history";
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(1).state().store().peek("a"), std::nullopt) << "the cache restarted empty";
    h.request(1, 1, 4, {set("k", "v")});
    h.settle(10, 10);
    EXPECT_NE(ops_reply(h.replies(1).back()), nullptr);
    expect_converged(h, {1, 2, 3});
}

bool is_data_chunk(const InFlight& m) {
    const auto* c = std::get_if<SnapshotChunk>(&m.msg.body);
    return c != nullptr && c->total != 0;
}

// Nodes 2 and then 3 restart amnesiac and get no data: all three are members,
// 1 is the only holder and both others are SYNCING in its epoch.
void make_1_the_only_holder(Harness& h) {
    for (RequestId r = 1; r <= 8; ++r) h.request(1, 1, r, {set("k" + std::to_string(r), std::string(30, 'v'))});
    h.settle(10, 5);
    const auto no_data = [](const InFlight& m) { return !is_data_chunk(m); };
    h.crash(2);
    h.settle(10, 50);
    h.restart(2, 20);
    for (int i = 0; i < 100 && member_ids(h.node(1)).size() < 3; ++i) {
        h.advance(10);
        h.run(no_data);
    }
    ASSERT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2, 3}));
    h.crash(3);
    for (int i = 0; i < 50; ++i) {
        h.advance(10);
        h.run(no_data);
    }
    h.restart(3, 30);
    for (int i = 0; i < 200 && !(member_ids(h.node(1)).size() == 3 && h.node(3).node_status() == NodeStatus::Syncing &&
                                  h.node(2).view().epoch == h.node(1).view().epoch);
         ++i) {
        h.advance(10);
        h.run(no_data);
    }
    ASSERT_EQ(member_ids(h.node(1)), (std::vector<NodeId>{1, 2, 3}));
    ASSERT_EQ(h.node(1).node_status(), NodeStatus::Normal);
    ASSERT_EQ(h.node(2).node_status(), NodeStatus::Syncing);
    ASSERT_EQ(h.node(3).node_status(), NodeStatus::Syncing);
    ASSERT_EQ(h.node(3).view().epoch, h.node(1).view().epoch);
}

// After the data 2 waited for has landed: 3 fetches it from 2, nothing lost.
void expect_3_syncs_from_2(Harness& h) {
    for (int i = 0; i < 200 && h.node(3).node_status() != NodeStatus::Normal; ++i) {
        h.advance(10);
        h.run();
        ASSERT_NE(h.node(3).node_status(), NodeStatus::NeedsRebootstrap) << "at step " << i;
    }
    EXPECT_EQ(h.node(3).node_status(), NodeStatus::Normal);
    h.settle(10, 100);
    expect_converged(h, {1, 2, 3});
    EXPECT_EQ(h.node(1).state().store().peek("k8"), std::optional<std::string>(std::string(30, 'v')));
}

// Soak seed 3067860 of issue 17: node 2 waits on node 1, the only holder, for
// the first chunk, which is on its way; 1 crashes and comes back amnesiac; the
// chunks land. A "none" from 2 while it waited was false moments later, and node
// 3, taking it with 1's amnesiac JoinReq as proof of loss, reported data lost that
// 2 then held.
TEST(ViewChange, R_DATA_LOSS_a_node_waiting_on_its_donor_answers_no_none) {
    Harness h(3, failure_detection);
    make_1_the_only_holder(h);
    if (::testing::Test::HasFatalFailure()) return;
    // 1's chunks to 2 are held up (those answering 2's latest request); 3's
    // requests to 1 are lost, so 3 turns to 2, and asks it soon after 2 asked 1.
    std::vector<InFlight> held;
    std::uint64_t ask_2_to_1 = 0;
    std::uint64_t asked_at = 0;
    bool asked_2_while_it_waits = false;
    const auto hold = [&](const InFlight& m) {
        if (const auto* r = std::get_if<SnapshotRequest>(&m.msg.body); r != nullptr && m.from == 2 && m.to == 1) {
            ask_2_to_1 = r->ask;
            asked_at = h.now();
            held.clear();
        }
        if (const auto* c = std::get_if<SnapshotChunk>(&m.msg.body); c != nullptr && c->total != 0 && m.from == 1) {
            if (m.to == 2 && c->ask == ask_2_to_1) held.push_back(m);
            return false;
        }
        if (is<SnapshotRequest>(m) && m.from == 3 && m.to == 1) return false;
        if (is<SnapshotRequest>(m) && m.from == 3 && m.to == 2 && !held.empty() && h.now() - asked_at <= 30) {
            asked_2_while_it_waits = true;
        }
        return true;
    };
    h.pause(3);  // out of step with 2, whose timers ran in step with 3's so far
    for (int i = 0; i < 400 && !asked_2_while_it_waits; ++i) {
        if (i == 25) h.resume(3);
        h.advance(5);
        h.run(hold);
    }
    ASSERT_TRUE(asked_2_while_it_waits);
    // The holder crashes and comes back amnesiac before its chunks land; 3 hears
    // its JoinReq (a sign of its amnesia) and asks it, and it answers "none".
    h.crash(1);
    h.advance(5);
    h.restart(1, 10);
    for (int i = 0; i < 6; ++i) {
        h.advance(5);
        h.run([](const InFlight& m) { return !is_data_chunk(m); });
        ASSERT_NE(h.node(3).node_status(), NodeStatus::NeedsRebootstrap)
            << "3 reported the data lost while 2 was receiving it, at step " << i;
    }
    ASSERT_EQ(h.node(2).node_status(), NodeStatus::Syncing);
    for (auto& m : held) h.inflight().push_back(m);
    h.run();
    EXPECT_EQ(h.node(2).node_status(), NodeStatus::Normal) << "2 took the chunks it waited for";
    expect_3_syncs_from_2(h);
}

void two_chunks_3_asks_often(EngineConfig& c) {
    failure_detection(c);
    c.snapshot_chunk_bytes = 256;  // two chunks, one per window
    c.snapshot_window = 1;
    if (c.self == 3) c.join_retry_ms = 60;  // 3 asks around twice while 2 waits
}

// 2 has the first of two chunks from 1, the only holder, and asked for the last,
// which is held up; then 1 crashes and comes back amnesiac, and the link from 2
// to 1 clogs, so 2 hears nothing more from its donor. 3 gets nothing from 1.
struct LastChunkHeldUp {
    explicit LastChunkHeldUp(Harness& harness) : h(harness) {}
    Harness& h;
    std::vector<InFlight> held;
    std::uint64_t asked_at = 0;  // when 2 asked for the last chunk
    bool crashed = false;

    bool keep(const InFlight& m) {
        if (crashed && is<SnapshotRequest>(m) && m.from == 2 && m.to == 1) return false;
        if (const auto* r = std::get_if<SnapshotRequest>(&m.msg.body);
            r != nullptr && m.from == 2 && m.to == 1 && r->from_chunk > 0 && asked_at == 0) {
            asked_at = h.now();
        }
        if (const auto* c = std::get_if<SnapshotChunk>(&m.msg.body); c != nullptr && c->total != 0 && m.from == 1) {
            if (m.to == 2 && c->index >= 1) {
                held.push_back(m);
                return false;
            }
            return m.to == 2;
        }
        return true;
    }
    void step() {
        h.advance(5);
        h.run([this](const InFlight& m) { return keep(m); });
    }
    void start() {
        make_1_the_only_holder(h);
        if (::testing::Test::HasFatalFailure()) return;
        for (int i = 0; i < 400 && held.empty(); ++i) step();
        ASSERT_EQ(held.size(), 1u) << "2 asked 1 for its last chunk";
        ASSERT_EQ(std::get<SnapshotChunk>(held[0].msg.body).total, 2u);
        h.crash(1);
        crashed = true;
        h.advance(5);
        h.restart(1, 10);
    }
    void release() {
        for (auto& m : held) h.inflight().push_back(m);
        h.run();
    }
};

// The same wait, mid-transfer and long: 2 keeps waiting (it made progress, so
// one silent interval does not make it give up) while 3 asks everyone twice.
// Every "none" from 2 in that time would be false, and two of them make a double collect.
TEST(ViewChange, R_DATA_LOSS_a_node_mid_transfer_answers_no_none_however_long_it_waits) {
    Harness h(3, two_chunks_3_asks_often);
    LastChunkHeldUp net(h);
    net.start();
    if (::testing::Test::HasFatalFailure()) return;
    while (h.now() - net.asked_at < 190) {  // 2 gives up after two silent retry intervals
        net.step();
        ASSERT_NE(h.node(3).node_status(), NodeStatus::NeedsRebootstrap)
            << "3 reported the data lost while 2 was receiving it, " << h.now() - net.asked_at << " ms after 2 asked";
    }
    ASSERT_EQ(h.node(2).node_status(), NodeStatus::Syncing);
    net.release();
    EXPECT_EQ(h.node(2).node_status(), NodeStatus::Normal) << "2 took the chunk it waited for";
    expect_3_syncs_from_2(h);
}

// Past the wait: 2 gives up on 1 and says "none" from then on; 3's double
// collect finds the data lost. The chunk that lands afterwards is the last word
// of an incarnation that crashed: 2 must not take it, or it would hold the data
// that 3 has just reported lost (and the operator's rebootstrap would abandon it).
TEST(ViewChange, R_DATA_LOSS_a_node_takes_no_chunk_from_a_donor_it_gave_up_on) {
    Harness h(3, two_chunks_3_asks_often);
    LastChunkHeldUp net(h);
    net.start();
    if (::testing::Test::HasFatalFailure()) return;
    for (int i = 0; i < 200 && h.node(3).node_status() != NodeStatus::NeedsRebootstrap; ++i) net.step();
    ASSERT_EQ(h.node(3).node_status(), NodeStatus::NeedsRebootstrap) << "nobody holds the data any more";
    EXPECT_NE(h.node(3).status().why_not_ready.find("lost"), std::string::npos) << h.node(3).status().why_not_ready;
    net.release();
    EXPECT_NE(h.node(2).node_status(), NodeStatus::Normal) << "2 took a chunk from a donor it had given up on";
    EXPECT_EQ(h.node(2).state().log_length(), 0u);
}

}  // namespace
}  // namespace tricache::coordinator::testing
