// One scenario per rule of spec/PROTOCOL.md, named after it.
#include <gtest/gtest.h>

#include "tests/coordinator/harness.hpp"

namespace tricache::coordinator::testing {
namespace {

using namespace tricache::protocol;



TEST(Rules, R_ADMIT_CLUSTER_wrong_cluster_id_is_refused) {
    Harness h(3);
    ClientRequest r{kProtocolVersion, "other", 1, 1, OpsRequest{{set("k", "v")}}};
    h.request(1, r);
    ASSERT_EQ(h.replies(1).size(), 1u);
    ASSERT_NE(error_reply(h.replies(1)[0]), nullptr);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::WrongCluster);
    EXPECT_TRUE(h.inflight().empty());
}

TEST(Rules, R_ADMIT_SHAPE_empty_request_and_empty_key_are_bad_requests) {
    Harness h(3);
    h.request(1, 1, 1, {});
    h.request(1, 1, 2, {set("", "v")});
    ASSERT_EQ(h.replies(1).size(), 2u);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::BadRequest);
    EXPECT_EQ(error_reply(h.replies(1)[1])->code, ErrorCode::BadRequest);
}

TEST(Rules, R_ADMIT_SIZE_oversize_key_value_or_entry_is_too_large) {
    Harness h(3, [](EngineConfig& c) {
        c.max_key_bytes = 8;
        c.max_value_bytes = 4000;
        c.store_limits = {8, 1000};
    });
    h.request(1, 1, 1, {set(std::string(9, 'k'), "v")});
    h.request(1, 1, 2, {set("k", std::string(4001, 'v'))});
    h.request(1, 1, 3, {set("k", std::string(1000, 'v'))});  // fits max_value but not the store
    ASSERT_EQ(h.replies(1).size(), 3u);
    for (const auto& r : h.replies(1)) EXPECT_EQ(error_reply(r)->code, ErrorCode::TooLarge);
    EXPECT_TRUE(h.inflight().empty());
}

TEST(Rules, R_ADMIT_OVERLOAD_full_queue_refuses) {
    Harness h(3, [](EngineConfig& c) {
        c.max_in_flight = 1;
        c.max_batch_commands = 1;
        c.max_queued_requests = 1;
    });
    h.request(1, 1, 1, {set("a", "1")});  // in flight
    h.request(1, 2, 1, {set("b", "1")});  // queued
    h.request(1, 3, 1, {set("c", "1")});  // refused
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_EQ(h.replies(1)[0].client, 3u);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::Overloaded);
    h.run();
    EXPECT_EQ(h.replies(1).size(), 3u);
}

TEST(Rules, R_ADMIT_RETRY_applied_request_answered_from_table_without_a_round) {
    Harness h(3);
    h.request(1, 7, 1, {set("k", "v1")});
    h.run();
    ASSERT_EQ(h.replies(1).size(), 1u);
    h.request(2, 7, 1, {set("k", "v1")});  // a retry at another node
    ASSERT_EQ(h.replies(2).size(), 1u);
    EXPECT_EQ(h.replies(2)[0].body, h.replies(1)[0].body);
    EXPECT_TRUE(h.inflight().empty()) << "a retry of an applied request must not start a transaction";
}

TEST(Rules, R_ADMIT_RETRY_duplicate_while_in_flight_is_not_queued_twice) {
    Harness h(3);
    h.request(1, 7, 1, {set("k", "v1")});
    h.request(1, 7, 1, {set("k", "v1")});
    EXPECT_EQ(h.node(1).coordinating(), 1u);
    h.run();
    EXPECT_EQ(h.replies(1).size(), 1u);
    EXPECT_EQ(h.node(1).state().log_length(), 1u);
}

TEST(Rules, R_LOCAL_READ_does_not_change_recency_and_reports_position) {
    Harness h(3);
    h.request(1, 1, 1, {set("a", "1"), set("b", "2")});
    h.run();
    const auto digest = h.node(2).state().store().digest();
    ClientRequest r{kProtocolVersion, "test", 9, 1, LocalGetRequest{"a"}};
    h.request(2, r);
    ASSERT_EQ(h.replies(2).size(), 1u);
    const auto* lg = std::get_if<LocalGetReply>(&h.replies(2)[0].body);
    ASSERT_NE(lg, nullptr);
    EXPECT_TRUE(lg->found);
    EXPECT_EQ(lg->value, "1");
    EXPECT_EQ(lg->delivered, 1u);
    EXPECT_EQ(h.node(2).state().store().digest(), digest);
    EXPECT_TRUE(h.inflight().empty());
}

TEST(Rules, R_BATCH_requests_arriving_during_a_full_window_share_one_transaction) {
    Harness h(3, [](EngineConfig& c) { c.max_in_flight = 1; });
    h.request(1, 1, 1, {set("a", "1")});
    h.request(1, 2, 1, {set("b", "1")});
    h.request(1, 3, 1, {set("c", "1")});
    h.run();
    ASSERT_EQ(h.delivered(1).size(), 2u);
    EXPECT_EQ(h.delivered(1)[0].batch->size(), 1u);
    EXPECT_EQ(h.delivered(1)[1].batch->size(), 2u);
    EXPECT_EQ(h.replies(1).size(), 3u);
}

TEST(Rules, R_BATCH_BURST_requests_of_one_burst_share_one_transaction) {
    Harness h(3);  // the window is open: without the burst, the first request would go alone
    h.node(1).begin_burst();
    for (ClientId c = 1; c <= 3; ++c) h.request(1, c, 1, {set("k" + std::to_string(c), "v")});
    EXPECT_EQ(h.node(1).coordinating(), 0u) << "a transaction started inside the burst";
    EXPECT_EQ(h.node(1).queued_requests(), 3u);
    h.node(1).end_burst(h.now());
    h.advance(0);  // collects node 1's output
    EXPECT_EQ(h.node(1).coordinating(), 1u);
    h.run();
    ASSERT_EQ(h.delivered(1).size(), 1u);
    EXPECT_EQ(h.delivered(1)[0].batch->size(), 3u);
    EXPECT_EQ(h.replies(1).size(), 3u);
}

TEST(Rules, R_BATCH_window_bounds_transactions_in_flight) {
    Harness h(3, [](EngineConfig& c) {
        c.max_in_flight = 2;
        c.max_batch_commands = 1;
    });
    for (ClientId c = 1; c <= 5; ++c) h.request(1, c, 1, {set("k" + std::to_string(c), "v")});
    EXPECT_EQ(h.node(1).coordinating(), 2u);
    EXPECT_EQ(h.node(1).queued_requests(), 3u);
    h.run();
    EXPECT_EQ(h.replies(1).size(), 5u);
}

TEST(Rules, R_CANCOMMIT_goes_to_every_other_member) {
    Harness h(5);
    h.request(3, 1, 1, {set("k", "v")});
    std::set<NodeId> to;
    for (const auto& m : h.inflight()) {
        ASSERT_TRUE(is<CanCommit>(m));
        to.insert(m.to);
    }
    EXPECT_EQ(to, (std::set<NodeId>{1, 2, 4, 5}));
}

TEST(Rules, R_VOTE_YES_proposal_is_above_the_voters_clock) {
    Harness h(3);
    h.request(1, 1, 1, {set("k", "v")});
    const auto clock_before = h.node(2).clock();
    h.run([](const InFlight& m) { return is<CanCommit>(m) && m.to == 2; }, 1);
    ASSERT_EQ(h.count_inflight<Vote>(), 1u);
    const auto& v = std::get<Vote>(h.inflight().back().msg.body);
    EXPECT_TRUE(v.yes);
    EXPECT_GT(v.proposed.counter, clock_before);
    EXPECT_EQ(v.proposed.node, 2u);
    EXPECT_EQ(h.node(2).undecided_count(), 1u);
}

TEST(Rules, R_VOTE_NO_overloaded_participant_aborts_and_client_gets_named_error) {
    Harness h(3, [](EngineConfig& c) {
        if (c.self == 2) c.max_undecided = 0;
    });
    h.request(1, 1, 1, {set("k", "v")});
    h.run();
    ASSERT_EQ(h.replies(1).size(), 1u);
    ASSERT_NE(error_reply(h.replies(1)[0]), nullptr);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::Overloaded);
    for (NodeId n = 1; n <= 3; ++n) {
        EXPECT_EQ(h.node(n).state().log_length(), 0u);
        EXPECT_EQ(h.node(n).undecided_count(), 0u);
    }
}

TEST(Rules, R_VOTE_NO_wrong_epoch) {
    Harness h(3);
    PeerMessage m{PeerHeader{kProtocolVersion, "test", 1, 1, 7, 1}, CanCommit{TxId{1, 1, seq_of(7, 1)}, {}}};
    h.node(2).on_message(m, h.now());
    auto out = h.node(2).take_output();
    ASSERT_EQ(out.messages.size(), 1u);
    const auto& v = std::get<Vote>(out.messages[0].msg.body);
    EXPECT_FALSE(v.yes);
    EXPECT_EQ(v.reason, VoteNoReason::WrongEpoch);
}

TEST(Rules, R_VOTE_ONCE_repeated_cancommit_gets_the_same_vote) {
    Harness h(3);
    h.request(1, 1, 1, {set("k", "v")});
    InFlight cc = h.inflight().front();
    ASSERT_TRUE(is<CanCommit>(cc));
    h.node(cc.to).on_message(cc.msg, h.now());
    h.node(cc.to).on_message(cc.msg, h.now() + 50);
    auto out = h.node(cc.to).take_output();
    ASSERT_EQ(out.messages.size(), 2u);
    EXPECT_EQ(out.messages[0].msg.body, out.messages[1].msg.body);
    EXPECT_EQ(h.node(cc.to).undecided_count(), 1u);
}

TEST(Rules, R_PRECOMMIT_final_timestamp_is_the_maximum_proposal) {
    Harness h(3);
    h.node(3).on_tick(h.now() + 100000);  // node 3's clock runs ahead: its proposal is the largest
    h.node(3).take_output();
    h.request(1, 1, 1, {set("k", "v")});
    std::vector<Timestamp> proposals;
    std::optional<Timestamp> f;
    h.run([&](const InFlight& m) {
        if (is<Vote>(m)) proposals.push_back(std::get<Vote>(m.msg.body).proposed);
        if (is<PreCommit>(m)) f = std::get<PreCommit>(m.msg.body).final_ts;
        return true;
    });
    ASSERT_TRUE(f.has_value());
    ASSERT_EQ(proposals.size(), 2u);
    EXPECT_EQ(*f, std::max(proposals[0], proposals[1]));
    EXPECT_EQ(f->node, 3u);
    EXPECT_EQ(h.delivered(2).at(0).final_ts, *f);
}

TEST(Rules, R_ABORT_EARLY_a_no_vote_sends_doabort_to_every_member) {
    Harness h(3, [](EngineConfig& c) {
        if (c.self == 3) c.max_undecided = 0;
    });
    h.request(1, 1, 1, {set("k", "v")});
    std::set<NodeId> aborted_at;
    h.run([&](const InFlight& m) {
        if (is<DoAbort>(m)) aborted_at.insert(m.to);
        EXPECT_FALSE(is<PreCommit>(m));
        return true;
    });
    EXPECT_EQ(aborted_at, (std::set<NodeId>{2, 3}));
    EXPECT_EQ(h.node(2).undecided_count(), 0u);
}

TEST(Rules, R_PC_ACCEPT_precommit_from_another_epoch_is_nacked) {
    Harness h(3);
    h.request(1, 1, 1, {set("k", "v")});
    h.run([](const InFlight& m) { return !is<PreCommit>(m); });
    PeerMessage pc{PeerHeader{kProtocolVersion, "test", 1, 1, 2, 1},
                   PreCommit{TxId{1, 1, seq_of(1, 1)}, kOriginalBallot, {5, 1}}};
    h.node(2).on_message(pc, h.now());
    auto out = h.node(2).take_output();
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<Nack>(out.messages[0].msg.body));
}

TEST(Rules, R_DOCOMMIT_every_member_delivers_after_all_acks) {
    Harness h(5);
    h.request(2, 1, 1, {set("k", "v")});
    h.run();
    for (NodeId n = 1; n <= 5; ++n) {
        ASSERT_EQ(h.delivered(n).size(), 1u) << "node " << n;
        EXPECT_EQ(h.node(n).state().store().peek("k"), std::optional<std::string_view>("v"));
    }
    ASSERT_EQ(h.replies(2).size(), 1u);
    EXPECT_TRUE(ops_reply(h.replies(2)[0])->results[0].ok);
}

// The coordinator and one participant of three are PC and acked: a majority,
// but not every member. Nothing commits until the third acks.
TEST(Rules, R_DOCOMMIT_a_majority_of_acks_commits_nothing) {
    Harness h(3);
    h.request(1, 1, 1, {set("k", "v")});
    std::deque<InFlight> held;  // node 3's PreCommit
    h.run([&](const InFlight& m) {
        if (!is<PreCommit>(m) || m.to != 3) return true;
        held.push_back(m);
        return false;
    });
    EXPECT_EQ(h.count_inflight<DoCommit>(), 0u);
    for (NodeId n = 1; n <= 3; ++n) EXPECT_TRUE(h.delivered(n).empty()) << "node " << n;
    EXPECT_TRUE(h.replies(1).empty());
    for (auto& m : held) h.inflight().push_back(std::move(m));  // the last ack completes it
    h.run();
    for (NodeId n = 1; n <= 3; ++n) EXPECT_EQ(h.delivered(n).size(), 1u) << "node " << n;
    ASSERT_EQ(h.replies(1).size(), 1u);
}

TEST(Rules, R_CLOCK_learning_a_final_timestamp_raises_the_clock) {
    Harness h(3);
    h.node(3).on_tick(h.now() + 5000000);
    h.node(3).take_output();
    h.request(1, 1, 1, {set("k", "v")});
    h.run();
    const auto f = h.delivered(2).at(0).final_ts;
    EXPECT_EQ(f.node, 3u);
    EXPECT_GE(h.node(2).clock(), f.counter);
    EXPECT_GE(h.node(1).clock(), f.counter);
}

TEST(Rules, R_DELIVER_waits_for_a_smaller_undecided_transaction) {
    Harness h(3);
    // t1 from node 1: node 2 votes, then the rest of t1 is held back.
    h.request(1, 1, 1, {set("a", "1")});
    h.run([](const InFlight& m) { return is<CanCommit>(m) || (is<Vote>(m) && m.from == 2); }, 2);
    ASSERT_EQ(h.node(2).undecided_count(), 1u);
    std::deque<InFlight> held;
    std::swap(held, h.inflight());
    // t2 from node 3 commits fully: its f is above node 2's proposal for t1.
    h.request(3, 2, 1, {set("b", "2")});
    h.run();
    EXPECT_EQ(h.delivered(3).size(), 0u) << "node 3 voted on t1 first, so t1 is undecided there with a smaller key";
    EXPECT_EQ(h.delivered(2).size(), 0u) << "node 2 holds t1 undecided with a smaller key";
    std::swap(held, h.inflight());
    h.run();
    h.settle();
    for (NodeId n = 1; n <= 3; ++n) {
        ASSERT_EQ(h.delivered(n).size(), 2u) << "node " << n;
        EXPECT_EQ(h.delivered(n)[0].tx, (TxId{1, 1, seq_of(1, 1)}));
    }
}

TEST(Rules, R_REPLY_AFTER_DELIVERY_no_answer_while_delivery_is_blocked) {
    Harness h(3);
    h.request(1, 1, 1, {set("a", "1")});
    h.run([](const InFlight& m) { return is<CanCommit>(m) || (is<Vote>(m) && m.from == 3); }, 2);
    std::deque<InFlight> held;
    std::swap(held, h.inflight());
    h.request(3, 2, 1, {set("b", "2")});
    h.run();
    EXPECT_TRUE(h.replies(3).empty()) << "t2 is committed but not deliverable at its coordinator";
    std::swap(held, h.inflight());
    h.settle();
    EXPECT_EQ(h.replies(3).size(), 1u);
    EXPECT_EQ(h.replies(1).size(), 1u);
}

TEST(Rules, R_APPLY_cas_and_multi_op_semantics) {
    Harness h(3);
    h.request(1, 1, 1, {cas("k", std::nullopt, "v1"), cas("k", std::nullopt, "v2"), cas("k", "v1", "v3"),
                        get("k"), del("k"), del("k"), get("k")});
    h.run();
    ASSERT_EQ(h.replies(1).size(), 1u);
    const auto& r = ops_reply(h.replies(1)[0])->results;
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[0], (OpResult{true, std::nullopt}));
    EXPECT_EQ(r[1], (OpResult{false, std::string("v1")}));
    EXPECT_EQ(r[2], (OpResult{true, std::nullopt}));
    EXPECT_EQ(r[3], (OpResult{true, std::string("v3")}));
    EXPECT_EQ(r[4], (OpResult{true, std::nullopt}));
    EXPECT_EQ(r[5], (OpResult{false, std::nullopt}));
    EXPECT_EQ(r[6], (OpResult{false, std::nullopt}));
}

TEST(Rules, R_APPLY_redis_ops_and_a_failed_require_skips_the_rest_of_its_command) {
    Harness h(3);
    h.request(1, 1, 1, {set("a", "1"), protocol::Incr{"a", 41}, protocol::Append{"a", "0"}, protocol::Exists{"a"},
                        protocol::Require{"a", false}, set("b", "never"), protocol::Incr{"a", 1}});
    h.settle();
    h.request(2, 1, 2, {protocol::Require{"b", false}, set("b", "2"), protocol::Count{}, protocol::Clear{},
                        protocol::Count{}});
    h.settle();
    const auto& r = ops_reply(h.replies(1)[0])->results;
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[1], (OpResult{true, std::string("42")}));
    EXPECT_EQ(r[2], (OpResult{true, std::string("3")}));  // "420"
    EXPECT_EQ(r[3], (OpResult{true, std::nullopt}));
    EXPECT_EQ(r[4], (OpResult{false, std::nullopt}));     // a exists: the rest is skipped
    EXPECT_EQ(r[5], (OpResult{false, std::nullopt}));
    EXPECT_EQ(r[6], (OpResult{false, std::nullopt}));
    const auto& r2 = ops_reply(h.replies(2)[0])->results;
    ASSERT_EQ(r2.size(), 5u);
    EXPECT_EQ(r2[0], (OpResult{true, std::nullopt}));
    EXPECT_EQ(r2[2], (OpResult{true, std::string("2")}));
    EXPECT_EQ(r2[3], (OpResult{true, std::string("2")}));
    EXPECT_EQ(r2[4], (OpResult{true, std::string("0")}));
    for (NodeId n = 1; n <= 3; ++n) EXPECT_EQ(h.node(n).state().store().size(), 0u);
}

TEST(Rules, R_APPLY_get_and_failed_cas_refresh_recency_so_eviction_follows) {
    Harness h(3, [](EngineConfig& c) { c.store_limits = {2, 100000}; });
    h.request(1, 1, 1, {set("a", "1"), set("b", "2"), get("a"), set("c", "3")});  // b is LRU when c arrives
    h.request(1, 1, 2, {cas("a", "zzz", "x"), set("d", "4")});                     // failed CAS touches a: c goes
    h.settle();
    for (NodeId n = 1; n <= 3; ++n) {
        const auto snap = h.node(n).state().store().snapshot_mru_first();
        ASSERT_EQ(snap.size(), 2u);
        EXPECT_EQ(snap[0].first, "d");
        EXPECT_EQ(snap[1].first, "a");
    }
}

TEST(Rules, R_RETRY_TABLE_same_request_in_two_transactions_applies_once) {
    Harness h(3);
    h.request(1, 5, 1, {set("k", "first")});
    h.request(2, 5, 1, {set("k", "first")});  // the client retried at node 2 before node 1 answered
    h.request(3, 6, 1, {set("k", "other")});
    h.settle();
    // Whichever copy is delivered second must not overwrite what was applied in between.
    std::size_t applied_copies = 0;
    for (const auto& d : h.delivered(1)) {
        for (const auto& cmd : *d.batch) applied_copies += cmd.client == 5 ? 1u : 0u;
    }
    EXPECT_EQ(applied_copies, 2u);
    const auto& log = h.delivered(1);
    ASSERT_EQ(log.size(), 3u);
    std::string expected;
    bool seen5 = false;
    for (const auto& d : log) {
        const auto& cmd = d.batch->at(0);
        if (cmd.client == 5 && !seen5) {
            expected = "first";
            seen5 = true;
        } else if (cmd.client == 6) {
            expected = "other";
        }
    }
    EXPECT_EQ(h.node(1).state().store().peek("k"), std::optional<std::string_view>(expected));
    EXPECT_EQ(h.replies(1).at(0).body, h.replies(2).at(0).body);
}

TEST(Rules, R_IDEMPOTENT_duplicated_messages_change_nothing) {
    Harness h(3);
    h.request(1, 1, 1, {set("k", "v")});
    std::size_t steps = 0;
    while (!h.inflight().empty() && steps++ < 1000) {
        InFlight m = h.inflight().front();
        h.inflight().push_back(m);  // every message arrives twice
        h.run({}, 1);
    }
    h.settle();
    for (NodeId n = 1; n <= 3; ++n) EXPECT_EQ(h.node(n).state().log_length(), 1u);
    EXPECT_EQ(h.replies(1).size(), 1u);
}

TEST(Rules, R_RESEND_lost_cancommit_is_sent_again) {
    Harness h(3);
    h.request(1, 1, 1, {set("k", "v")});
    h.run([](const InFlight& m) { return !(is<CanCommit>(m) && m.to == 3); });
    EXPECT_EQ(h.delivered(1).size(), 0u);
    h.advance(h.node(1).config().resend_ms);
    EXPECT_GE(h.count_inflight<CanCommit>(), 1u);
    h.run();
    EXPECT_EQ(h.delivered(3).size(), 1u);
}

TEST(Rules, R_DECISION_RESEND_abort_reaches_a_member_that_never_saw_the_transaction) {
    Harness h(3, [](EngineConfig& c) {
        if (c.self == 2) c.max_undecided = 0;
    });
    h.request(1, 1, 1, {set("k", "v")});
    // Node 3 never sees t: its CanCommit and every DoAbort to it are lost.
    h.run([](const InFlight& m) { return m.to != 3; });
    EXPECT_EQ(h.node(1).coordinating(), 1u) << "the coordinator keeps the decision for node 3";
    h.settle();
    EXPECT_EQ(h.node(1).coordinating(), 0u) << "node 3 learned the abort, so the tombstone went";
    EXPECT_EQ(h.node(3).known_transactions(), 0u);
}

TEST(Rules, R_TOMBSTONE_decided_transactions_are_forgotten_once_everyone_knows) {
    Harness h(3);
    for (RequestId r = 1; r <= 5; ++r) h.request(static_cast<NodeId>(r % 3 + 1), 1, r, {set("k", "v")});
    h.settle();
    for (NodeId n = 1; n <= 3; ++n) {
        EXPECT_EQ(h.node(n).known_transactions(), 0u) << "node " << n;
        EXPECT_EQ(h.node(n).coordinating(), 0u);
        EXPECT_EQ(h.node(n).state().log_length(), 5u);
    }
}

TEST(Rules, R_STALE_late_cancommit_after_forgetting_is_ignored) {
    Harness h(3);
    h.request(1, 1, 1, {set("k", "v")});
    InFlight copy = h.inflight().front();
    ASSERT_TRUE(is<CanCommit>(copy));
    h.settle();
    ASSERT_EQ(h.node(copy.to).known_transactions(), 0u);
    h.node(copy.to).on_message(copy.msg, h.now());
    auto out = h.node(copy.to).take_output();
    EXPECT_TRUE(out.messages.empty());
    EXPECT_EQ(h.node(copy.to).undecided_count(), 0u);
}

TEST(Rules, R_DECISION_QUERY_stuck_member_learns_the_outcome_from_a_peer) {
    Harness h(3, [](EngineConfig& c) { c.resend_ms = 1000000; });  // the coordinator never resends
    h.request(1, 1, 1, {set("k", "v")});
    h.run([](const InFlight& m) { return !(is<DoCommit>(m) && m.to == 3); });
    EXPECT_EQ(h.node(3).undecided_count(), 1u);
    h.advance(h.node(3).config().query_ms);
    EXPECT_GE(h.count_inflight<DecisionQuery>(), 1u);
    h.run();
    EXPECT_EQ(h.node(3).undecided_count(), 0u);
    EXPECT_EQ(h.node(3).state().log_length(), 1u);
}

TEST(Rules, R_EPOCH_FILTER_message_from_an_unknown_incarnation_is_dropped) {
    Harness h(3);
    PeerMessage m{PeerHeader{kProtocolVersion, "test", 1, 99, 1, 1}, CanCommit{TxId{1, 99, seq_of(1, 1)}, {}}};
    h.node(2).on_message(m, h.now());
    EXPECT_TRUE(h.node(2).take_output().messages.empty());
    EXPECT_EQ(h.node(2).known_transactions(), 0u);
}

TEST(Rules, R_CLIENT_TIMEOUT_unanswered_request_gets_outcome_unknown) {
    Harness h(3, [](EngineConfig& c) { c.client_timeout_ms = 500; });
    h.request(1, 1, 1, {set("k", "v")});
    h.run([](const InFlight& m) { return m.to != 3 && m.from != 3; });  // node 3 is silent
    h.advance(499);
    EXPECT_TRUE(h.replies(1).empty());
    h.advance(1);
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::TimeoutOutcomeUnknown);
    // The transaction goes on; a retry returns the real result once applied.
    h.inflight().clear();
    h.settle();
    h.request(2, 1, 1, {set("k", "v")});
    ASSERT_EQ(h.replies(2).size(), 1u);
    EXPECT_NE(ops_reply(h.replies(2)[0]), nullptr);
}

// take_output(Output&) hands out exactly what take_output() would, and drops
// whatever the caller's Output held before.
TEST(Rules, take_output_into_a_reused_output_matches_take_output) {
    EngineConfig c = Harness::base_config(1, 3);
    Engine a = Engine::bootstrap(c);
    Engine b = Engine::bootstrap(c);
    Output reused;
    reused.messages.push_back({9, PeerMessage{}});
    reused.replies.push_back(ClientResponse{});
    reused.journal.push_back(VotedEvent{});
    for (RequestId r = 1; r <= 3; ++r) {
        const ClientRequest req{kProtocolVersion, c.cluster_id, 7, r, OpsRequest{{set("k" + std::to_string(r), "v")}}};
        a.on_client_request(req, 10 * r);
        b.on_client_request(req, 10 * r);
        a.on_tick(10 * r + 50);  // resends: more messages than the first call
        b.on_tick(10 * r + 50);
        const Output expected = a.take_output();
        b.take_output(reused);
        ASSERT_FALSE(expected.messages.empty());
        EXPECT_EQ(reused.messages.size(), expected.messages.size());
        for (std::size_t i = 0; i < expected.messages.size() && i < reused.messages.size(); ++i) {
            EXPECT_EQ(reused.messages[i].to, expected.messages[i].to);
            EXPECT_EQ(reused.messages[i].msg, expected.messages[i].msg);
        }
        EXPECT_EQ(reused.replies.size(), expected.replies.size());
        EXPECT_EQ(reused.delivered.size(), expected.delivered.size());
        EXPECT_EQ(reused.journal.size(), expected.journal.size());
    }
    b.take_output(reused);  // nothing new since the last call
    EXPECT_TRUE(reused.empty());
}


// R-TTL: three coordinators whose wall clocks disagree by 5 s each way. Whether k
// has expired is decided by the stamps in the order, so every replica gives the
// same answer to the same transaction and ends with the same state and digest.
EngineConfig skewed_clocks(EngineConfig& c) {
    const std::int64_t offsets[] = {10000, 5000, 15000};  // node 2 lags node 1 by 5 s, node 3 leads it by 5 s
    c.wall_offset_ms = offsets[c.self - 1];
    c.purge_interval_ms = 0;  // this scenario watches expiry on access alone
    return c;
}

std::optional<bool> found(const ClientResponse& r) {
    const auto* ops = ops_reply(r);
    if (ops == nullptr || ops->results.empty()) return std::nullopt;
    return ops->results.front().ok;
}

TEST(Rules, R_TTL_CLOCK_expiry_is_decided_by_the_stamps_not_by_each_replica_clock) {
    Harness h(3, [](EngineConfig& c) { skewed_clocks(c); });
    // Node 3 (wall = now + 15 s) sets k with a 10 s TTL at now = 1 s: it expires at 26 s, on every replica.
    h.request(3, 1, 1, {Set{"k", "v", {ExpiryKind::After, 10000}}});
    h.run();
    for (NodeId n : {1u, 2u, 3u}) EXPECT_EQ(h.node(n).state().expiries().of("k"), 26000u) << "node " << n;

    // At now = 20 s node 1's clock (30 s) is past the expiry, node 2's (25 s) is not. A read
    // node 2 coordinates is stamped 25 s: k is there, for every replica alike.
    for (int step = 0; step < 190; ++step) {  // heartbeats flow: nobody lacks a majority (R-NO-QUORUM)
        h.advance(100);
        h.run();
    }
    h.request(2, 2, 1, {get("k")});
    h.run();
    ASSERT_EQ(h.replies(2).size(), 1u);
    EXPECT_EQ(found(h.replies(2)[0]), true);
    for (NodeId n : {1u, 2u, 3u}) EXPECT_TRUE(h.node(n).state().store().peek("k")) << "node " << n;

    // A read node 1 coordinates is stamped 30 s: k has expired, and is removed everywhere.
    h.request(1, 3, 1, {Exists{"k"}});
    h.run();
    ASSERT_EQ(h.replies(1).size(), 1u);
    EXPECT_EQ(found(h.replies(1)[0]), false);
    for (NodeId n : {1u, 2u, 3u}) {
        EXPECT_FALSE(h.node(n).state().store().peek("k")) << "node " << n;
        EXPECT_EQ(h.node(n).state().apply_clock_ms(), 30000u) << "node " << n;
    }

    // Node 2's next read is stamped 25 s again, but the apply clock never goes back: k stays expired.
    h.request(2, 2, 2, {get("k")});
    h.run();
    ASSERT_EQ(h.replies(2).size(), 2u);
    EXPECT_EQ(found(h.replies(2)[1]), false);
    expect_converged(h, {1, 2, 3});
}

TEST(Rules, R_TTL_STAMP_every_command_carries_its_coordinators_clock_into_the_order) {
    Harness h(3, [](EngineConfig& c) { skewed_clocks(c); });
    h.request(2, 1, 1, {set("a", "1")});
    h.request(3, 2, 1, {set("b", "2")});
    h.run();
    for (NodeId n : {1u, 2u, 3u}) {
        ASSERT_EQ(h.delivered(n).size(), 2u);
        std::set<std::uint64_t> stamps;
        for (const auto& d : h.delivered(n)) stamps.insert(d.batch->front().stamp_ms);
        EXPECT_EQ(stamps, (std::set<std::uint64_t>{6000, 16000})) << "node " << n;
    }
}

TEST(Rules, R_TTL_PURGE_the_lowest_member_purges_expired_keys_nobody_reads) {
    Harness h(3, [](EngineConfig& c) {
        c.purge_interval_ms = 1000;
        c.store_limits = {64, 1u << 20};
    });
    std::vector<Op> sets;
    for (int i = 0; i < 10; ++i) sets.push_back(Set{"k" + std::to_string(i), "v", {ExpiryKind::After, 100 + 10 * i}});
    sets.push_back(set("stays", "v"));
    h.request(2, 1, 1, sets);
    h.run();
    ASSERT_EQ(h.replies(2).size(), 1u);
    for (int step = 0; step < 30; ++step) {  // 3 s: the keys expire within 0.2 s
        h.advance(100);
        h.run();
    }
    std::size_t purges = 0;
    for (const auto& d : h.delivered(1)) purges += d.batch->front().client == kPurgeClient ? 1u : 0u;
    EXPECT_GE(purges, 1u);
    EXPECT_LE(purges, 4u);  // at most one per purge interval (3 s: at most 4)
    for (NodeId n : {1u, 2u, 3u}) {
        EXPECT_EQ(h.node(n).state().store().size(), 1u) << "node " << n;
        EXPECT_TRUE(h.node(n).state().expiries().empty()) << "node " << n;
        EXPECT_EQ(h.replies(n).size(), n == 2 ? 1u : 0u) << "a purge is answered to nobody";
    }
    // Only node 1, the lowest member, coordinates purges.
    for (const auto& d : h.delivered(1)) {
        if (d.batch->front().client == kPurgeClient) {
            EXPECT_EQ(d.tx.coordinator, 1u);
        }
    }
    expect_converged(h, {1, 2, 3});
    // The purge client id is the engine's own.
    h.request(1, kPurgeClient, 1, {get("stays")});
    ASSERT_EQ(h.replies(1).size(), 1u);
    ASSERT_NE(error_reply(h.replies(1)[0]), nullptr);
    EXPECT_EQ(error_reply(h.replies(1)[0])->code, ErrorCode::BadRequest);
}

}  // namespace
}  // namespace tricache::coordinator::testing
