#include "checker/checks.hpp"

#include <gtest/gtest.h>

#include "checker/replay.hpp"
#include "tests/checker/sequential_run.hpp"

namespace tricache::checker {
namespace {

using testing::build_history;
using testing::cmd;
using testing::SequentialRun;

const Limits kRoomy{100, 100'000};

void expect_violation(const CheckResult& r, const std::string& property, const std::string& needle) {
    ASSERT_TRUE(r.has_value()) << "expected a " << property << " violation";
    EXPECT_EQ(r->property, property) << r->detail;
    EXPECT_NE(r->detail.find(needle), std::string::npos) << r->detail;
}

// Two clients writing, reading and swapping a few keys, with one view change.
SequentialRun busy_run(Limits limits = kRoomy) {
    SequentialRun s(limits);
    s.commit({cmd(1, 1, {Op::set("a", "1")}), cmd(2, 1, {Op::set("b", "2")})});
    s.commit({cmd(1, 2, {Op::get("a"), Op::cas("b", "2", "3")})});
    s.local_read(2, "b");
    s.commit({cmd(2, 2, {Op::del("a"), Op::get("b")})});
    s.remove(3);
    s.commit({cmd(1, 3, {Op::cas("a", std::nullopt, "4")}), cmd(2, 3, {Op::get("zz")})});
    s.rejoin(3);
    s.commit({cmd(1, 4, {Op::set("c", "5")})});
    return s;
}

// The index in events of the last Complete for (client, request).
std::size_t complete_of(const std::vector<testing::Event>& events, std::uint64_t client, std::uint64_t request) {
    for (std::size_t i = events.size(); i-- > 0;) {
        const auto& e = events[i];
        if (e.kind == testing::Event::Kind::Complete && e.complete.client == client && e.complete.request == request) {
            return i;
        }
    }
    ADD_FAILURE() << "no completion for " << client << "/" << request;
    return 0;
}

TEST(CheckRun, BusyFaultFreeRunPasses) {
    const SequentialRun s = busy_run();
    LinearizabilityStats st;
    EXPECT_EQ(check_run(s.record(), &st), std::nullopt);
    EXPECT_EQ(st.commands_in_log, 7u);
    EXPECT_EQ(st.ok_operations, 7u);
    EXPECT_EQ(st.local_reads, 1u);
    EXPECT_EQ(st.stale_local_reads, 0u);
}

TEST(CheckRun, SnapshotThatDoesNotMatchThePrefixFails) {
    SequentialRun s = busy_run();
    RunRecord r = s.record();
    NodeLog& joined = r.logs.back();
    ASSERT_TRUE(joined.snapshot.has_value());
    ASSERT_GE(joined.snapshot->size(), 2u);
    std::swap((*joined.snapshot)[0], (*joined.snapshot)[1]);
    expect_violation(check_run(r), "P3 total order", "installed a snapshot at index 4");
}

TEST(CheckRun, MalformedHistoryComesFirst) {
    SequentialRun s = busy_run();
    s.events.push_back(Complete{1000, 77, 1, Outcome::Ok, {}});
    expect_violation(check_run(s.record()), "H well-formed", "never invoked");
}

// ---- P5 / P6 ----

TEST(Convergence, DivergentFinalStoresFail) {
    RunRecord r = busy_run().record();
    r.finals[1].contents[0].second = "other";
    expect_violation(check_convergence(r.finals), "P5 convergence", "position 0");
    expect_violation(check_run(r), "P5 convergence", "node 2's store differs");
}

TEST(Convergence, EvictionOrderDifferenceFails) {
    RunRecord r = busy_run().record();
    ASSERT_GE(r.finals[2].contents.size(), 2u);
    std::swap(r.finals[2].contents[0], r.finals[2].contents[1]);
    expect_violation(check_convergence(r.finals), "P5 convergence", "position 0 (MRU=0)");
}

TEST(Convergence, AgreeingStoresThatDifferFromTheReplayFail) {
    // Limits that force eviction: the reference evicts b; suppose every node evicted a instead.
    SequentialRun s(Limits{2, 100'000});
    s.commit({cmd(1, 1, {Op::set("a", "1")})});
    s.commit({cmd(1, 2, {Op::set("b", "2")})});
    s.commit({cmd(1, 3, {Op::get("a")})});
    s.commit({cmd(1, 4, {Op::set("c", "3")})});
    RunRecord r = s.record();
    ASSERT_EQ(r.finals[0].contents, (Contents{{"c", "3"}, {"a", "1"}}));
    for (auto& f : r.finals) f.contents = Contents{{"c", "3"}, {"b", "2"}};
    EXPECT_EQ(check_convergence(r.finals), std::nullopt);
    const auto g = build_global_log(r.logs).log;
    expect_violation(check_convergence(r.finals, g, r.limits), "P6 no acknowledged write lost", "position 1");
    expect_violation(check_run(r), "P6 no acknowledged write lost", "replaying G");
}

TEST(Convergence, DigestLengthAndEpochMismatchesFail) {
    RunRecord r = busy_run().record();
    auto finals = r.finals;
    finals[1].digest += 1;
    expect_violation(check_convergence(finals), "P5 convergence", "digests");
    finals = r.finals;
    finals[2].log_length -= 1;
    expect_violation(check_convergence(finals), "P5 convergence", "delivered");
    finals = r.finals;
    finals[0].epoch += 1;
    expect_violation(check_convergence(finals), "P5 convergence", "epoch");
    for (auto& f : r.finals) f.log_length += 1;
    expect_violation(check_run(r), "P5 convergence", "but G holds 5");
}

TEST(AckedWrites, LostAcknowledgedWriteFails) {
    SequentialRun s = busy_run();
    // Drop the last transaction (client 1's SET c) from every log.
    for (NodeLog& l : s.logs) l.entries.pop_back();
    RunRecord r = s.record();
    const auto g = build_global_log(r.logs).log;
    expect_violation(check_acknowledged_in_log(r.history, g), "P6 no acknowledged write lost",
                     "client 1 request 4");
    expect_violation(check_run(r), "P6 no acknowledged write lost", "SET \"c\" \"5\"");
}

// ---- P7 ----

TEST(Linearizable, ReorderedRealTimePairFails) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    s.commit({cmd(2, 1, {Op::set("y", "1")})});
    auto g = s.global();
    std::swap(g.entries[0].commands, g.entries[1].commands);
    expect_violation(check_linearizable(build_history(s.events), g, kRoomy), "P7 linearizability",
                     "yet G orders it later");
}

TEST(Linearizable, ConcurrentOperationsMayGoEitherWay) {
    History h;
    (void)h.record_invoke(Invoke{1, 1, 1, 1, {Op::set("x", "1")}});
    (void)h.record_invoke(Invoke{2, 2, 1, 2, {Op::set("y", "2")}});
    (void)h.record_complete(Complete{5, 1, 1, Outcome::Ok, {{true, std::nullopt}}});
    (void)h.record_complete(Complete{6, 2, 1, Outcome::Ok, {{true, std::nullopt}}});
    GlobalLog g{0,
                {LogEntry{TxKey{2, 1, 1}, Stamp{1, 2}, 1, {Command{2, 1, {Op::set("y", "2")}}}},
                 LogEntry{TxKey{1, 1, 1}, Stamp{2, 1}, 1, {Command{1, 1, {Op::set("x", "1")}}}}}};
    EXPECT_EQ(check_linearizable(h, g, kRoomy), std::nullopt);
}

TEST(Linearizable, WrongGetResultFails) {
    SequentialRun s = busy_run();
    auto& c = s.events[complete_of(s.events, 1, 2)].complete;
    ASSERT_EQ(c.results[0], (OpResult{true, "1"}));
    c.results[0].value = "stale";
    expect_violation(check_run(s.record()), "P7 linearizability", "returned [ok \"stale\", ok]");
}

TEST(Linearizable, WrongCasResultFails) {
    SequentialRun s = busy_run();
    auto& c = s.events[complete_of(s.events, 1, 3)].complete;
    ASSERT_EQ(c.results[0], (OpResult{true, std::nullopt}));
    c.results[0] = OpResult{false, "1"};
    expect_violation(check_run(s.record()), "P7 linearizability", "replaying G gives [ok]");
}

TEST(Linearizable, FailedOperationPresentInGFails) {
    SequentialRun s = busy_run();
    auto& c = s.events[complete_of(s.events, 2, 2)].complete;
    c.outcome = Outcome::Fail;
    expect_violation(check_run(s.record()), "P7 linearizability", "reported Fail");
}

TEST(Linearizable, FailedOperationAbsentFromGPasses) {
    SequentialRun s = busy_run();
    s.fail(cmd(1, 9, {Op::set("a", "never")}));
    EXPECT_EQ(check_run(s.record()), std::nullopt);
}

TEST(Linearizable, UnknownOutcomeMayOrMayNotApply) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})}, {0});  // applied, client saw a timeout
    s.events.push_back(Invoke{s.now(), 2, 1, 1, {Op::set("x", "2")}});
    s.events.push_back(Complete{s.now() + 1, 2, 1, Outcome::Info, {}});  // never applied
    s.advance(2);
    s.commit({cmd(3, 1, {Op::get("x")})});
    LinearizabilityStats st;
    EXPECT_EQ(check_run(s.record(), &st), std::nullopt);
    EXPECT_EQ(st.info_in_log, 1u);
    EXPECT_EQ(st.info_absent, 1u);
}

TEST(Linearizable, UnknownOutcomeInGMustRespectEarlierAcks) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    s.commit({cmd(2, 1, {Op::set("y", "1")})}, {0});
    auto g = s.global();
    std::swap(g.entries[0].commands, g.entries[1].commands);
    expect_violation(check_linearizable(build_history(s.events), g, kRoomy), "P7 linearizability",
                     "client 1 request 1");
}

TEST(Linearizable, NeverInvokedCommandFails) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    auto g = s.global();
    g.entries[0].commands.push_back(cmd(5, 5, {Op::del("x")}));
    expect_violation(check_linearizable(build_history(s.events), g, kRoomy), "P7 linearizability",
                     "never invoked");
}

TEST(Linearizable, LoggedOpsDifferingFromInvokedFails) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    auto g = s.global();
    g.entries[0].commands[0].ops[0].value = "2";
    expect_violation(check_linearizable(build_history(s.events), g, kRoomy), "P7 linearizability",
                     "was invoked as [SET \"x\" \"1\"] but G holds [SET \"x\" \"2\"]");
}

TEST(Linearizable, MissingOkReadFails) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    s.commit({cmd(1, 2, {Op::get("x")})});
    auto g = s.global();
    g.entries.pop_back();
    expect_violation(check_linearizable(build_history(s.events), g, kRoomy), "P7 linearizability",
                     "is not in G");
}

TEST(Linearizable, RetryAbsorbedByTheRetryTablePasses) {
    SequentialRun s(kRoomy);
    const Command c = cmd(1, 1, {Op::set("x", "1"), Op::get("x")});
    s.commit({c}, {0});  // applied; the client timed out
    s.commit({cmd(2, 1, {Op::set("x", "2")})});
    const auto retried = s.commit({c});  // the retry is delivered again and absorbed
    EXPECT_EQ(retried[0], (std::vector<OpResult>{{true, std::nullopt}, {true, "1"}}));
    LinearizabilityStats st;
    EXPECT_EQ(check_run(s.record(), &st), std::nullopt);
    EXPECT_EQ(st.duplicates, 1u);
    EXPECT_EQ(s.model().peek("x"), "2");
}

TEST(Linearizable, RetryAnsweredFromAReexecutionFails) {
    SequentialRun s(kRoomy);
    const Command c = cmd(1, 1, {Op::get("x")});
    s.commit({cmd(2, 1, {Op::set("x", "1")})});
    s.commit({c}, {0});
    s.commit({cmd(2, 2, {Op::set("x", "2")})});
    s.commit({c});
    auto& done = s.events[complete_of(s.events, 1, 1)].complete;
    ASSERT_EQ(done.outcome, Outcome::Ok);
    done.results = {{true, "2"}};  // what a second execution would have answered
    expect_violation(check_run(s.record()), "P7 linearizability", "returned [ok \"2\"]");
}

TEST(Linearizable, TwoOkRepliesWithDifferentResultsFail) {
    History h;
    (void)h.record_invoke(Invoke{1, 1, 1, 1, {Op::get("x")}});
    (void)h.record_invoke(Invoke{2, 1, 1, 1, {Op::get("x")}});
    (void)h.record_complete(Complete{3, 1, 1, Outcome::Ok, {{false, std::nullopt}}});
    (void)h.record_complete(Complete{4, 1, 1, Outcome::Ok, {{true, "1"}}});
    GlobalLog g{0, {LogEntry{TxKey{1, 1, 1}, Stamp{1, 1}, 1, {Command{1, 1, {Op::get("x")}}}}}};
    expect_violation(check_linearizable(h, g, kRoomy), "P7 linearizability", "acknowledged twice");
}

TEST(Linearizable, ReexecutionBeyondTheRetryWindowFails) {
    Limits tiny = kRoomy;
    tiny.retry_window = 1;
    SequentialRun s(tiny);
    const Command c = cmd(1, 1, {Op::set("x", "1")});
    s.commit({c}, {0});
    s.commit({cmd(1, 2, {Op::set("y", "1")})});
    s.commit({c});  // request 1 left the window: applied again
    expect_violation(check_run(s.record()), "P7 linearizability", "took effect twice");
}

TEST(Linearizable, GNotStartingAtZeroCannotBeReplayed) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    GlobalLog g{3, s.g};
    expect_violation(check_linearizable(build_history(s.events), g, kRoomy), "P7 linearizability",
                     "cannot be replayed");
}

// ---- local reads ----

TEST(LocalReads, StaleButRealPrefixPassesAndIsMeasured) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    s.commit({cmd(1, 2, {Op::set("x", "2")})});
    s.commit({cmd(1, 3, {Op::set("x", "3")})});
    s.local_read(2, "x", 1);  // sees "1": two acknowledged transactions behind
    s.local_read(3, "x", 0);  // sees nothing at all
    s.local_read(1, "x");     // fresh
    LinearizabilityStats st;
    EXPECT_EQ(check_run(s.record(), &st), std::nullopt);
    EXPECT_EQ(st.local_reads, 3u);
    EXPECT_EQ(st.stale_local_reads, 2u);
    EXPECT_EQ(st.max_local_read_lag, 3u);
}

TEST(LocalReads, ValueNeverPresentAtThatPrefixFails) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    s.commit({cmd(1, 2, {Op::set("x", "2")})});
    s.local_read(2, "x", 1);
    auto& read = s.events.back().read;
    read.value = "2";  // present later, but not after the first transaction
    expect_violation(check_run(s.record()), "P7 local read", "returned \"2\" but the state after G[0,1) holds \"1\"");
}

TEST(LocalReads, FoundWhenAbsentFails) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    s.local_read(2, "x", 0);
    auto& read = s.events.back().read;
    read.found = true;
    read.value = "1";
    expect_violation(check_run(s.record()), "P7 local read", "holds <absent>");
}

TEST(LocalReads, PrefixBeyondGFails) {
    SequentialRun s(kRoomy);
    s.commit({cmd(1, 1, {Op::set("x", "1")})});
    s.local_read(2, "x");
    s.events.back().read.delivered = 5;
    expect_violation(check_run(s.record()), "P7 local read", "G holds only 1");
}

// ---- replay ----

TEST(Replay, AnswersProbesAtEveryPrefix) {
    SequentialRun s(Limits{2, 100'000});
    s.commit({cmd(1, 1, {Op::set("a", "1")})});
    s.commit({cmd(1, 2, {Op::set("b", "2")})});
    s.commit({cmd(1, 3, {Op::set("c", "3")})});
    const std::vector<KeyProbe> probes{{3, "a"}, {0, "a"}, {1, "a"}, {9, "a"}, {3, "c"}};
    const std::vector<std::uint64_t> points{2, 0, 3};
    const auto r = Replay::run(s.global(), Limits{2, 100'000}, probes, points);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->key_answers()[0].value, std::nullopt);  // evicted by c
    EXPECT_EQ(r->key_answers()[1].value, std::nullopt);
    EXPECT_EQ(r->key_answers()[2].value, "1");
    EXPECT_FALSE(r->key_answers()[3].reached);
    EXPECT_EQ(r->key_answers()[4].value, "3");
    EXPECT_EQ(r->contents_answers()[0], (Contents{{"b", "2"}, {"a", "1"}}));
    EXPECT_EQ(r->contents_answers()[1], Contents{});
    EXPECT_EQ(r->contents_answers()[2], r->final_contents());
    EXPECT_EQ(r->commands().size(), 3u);
}

}  // namespace
}  // namespace tricache::checker
