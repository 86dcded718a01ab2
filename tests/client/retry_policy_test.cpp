// The client's retry policy alone (client/retry_policy.hpp): backoff growth,
// jitter bounds and cap; and the ledger's rule that a refusal is reported only
// when every server refused and no attempt may have been applied.
#include "client/retry_policy.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

namespace tricache::client {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;

Error err(ErrorCode code, std::string detail = "x") { return Error{code, std::move(detail)}; }

TEST(Backoff, CeilingDoublesFromInitialUpToTheCapAndEveryPauseIsWithinHalfToFullCeiling) {
    Backoff b({50ms, 500ms}, 7);
    const std::vector<long> ceilings{50, 100, 200, 400, 500, 500, 500};
    for (long c : ceilings) {
        EXPECT_EQ(b.ceiling().count(), c);
        const auto p = b.next();
        EXPECT_GE(p.count(), (c + 1) / 2) << "ceiling " << c;
        EXPECT_LE(p.count(), c) << "ceiling " << c;
    }
}

TEST(Backoff, JitterSpreadsOverTheWholeRangeAndNeverPassesTheCap) {
    Backoff b({500ms, 500ms}, 1);  // every pause at the cap: only the jitter varies
    std::set<long> seen;
    long low = 1000, high = 0;
    for (int i = 0; i < 2000; ++i) {
        const long p = b.next().count();
        ASSERT_GE(p, 250);
        ASSERT_LE(p, 500);
        seen.insert(p);
        low = std::min(low, p);
        high = std::max(high, p);
    }
    EXPECT_LT(low, 260);   // reaches near the bottom ...
    EXPECT_GT(high, 490);  // ... and near the top of [250, 500]
    EXPECT_GT(seen.size(), 150u);  // not a handful of values
}

TEST(Backoff, SameSeedSamePausesOtherSeedOtherPauses) {
    Backoff a({20ms, 500ms}, 42), b({20ms, 500ms}, 42), c({20ms, 500ms}, 43);
    std::vector<long> pa, pb, pc;
    for (int i = 0; i < 20; ++i) {
        pa.push_back(a.next().count());
        pb.push_back(b.next().count());
        pc.push_back(c.next().count());
    }
    EXPECT_EQ(pa, pb);
    EXPECT_NE(pa, pc);
}

TEST(Backoff, AOneMillisecondCeilingStillPausesOneMillisecond) {
    Backoff b({1ms, 1ms}, 3);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(b.next(), 1ms);
}

TEST(Backoff, ConfigErrors) {
    EXPECT_FALSE(backoff_config_error({50ms, 500ms}));
    EXPECT_FALSE(backoff_config_error({500ms, 500ms}));
    EXPECT_TRUE(backoff_config_error({0ms, 500ms}));
    EXPECT_TRUE(backoff_config_error({50ms, 0ms}));
    EXPECT_TRUE(backoff_config_error({-1ms, 500ms}));
    EXPECT_TRUE(backoff_config_error({600ms, 500ms}));
}

TEST(Classify, EveryClientErrorHasItsKind) {
    EXPECT_EQ(classify(ErrorCode::NoQuorum), ReplyKind::Refused);
    EXPECT_EQ(classify(ErrorCode::NotReady), ReplyKind::Refused);
    EXPECT_EQ(classify(ErrorCode::Overloaded), ReplyKind::Transient);
    EXPECT_EQ(classify(ErrorCode::Aborted), ReplyKind::Transient);
    EXPECT_EQ(classify(ErrorCode::TimeoutOutcomeUnknown), ReplyKind::Unknown);
    for (auto c : {ErrorCode::BadRequest, ErrorCode::TooLarge, ErrorCode::WrongCluster, ErrorCode::NeedsRebootstrap,
                   ErrorCode::Truncated, ErrorCode::Malformed, ErrorCode::UnsupportedVersion}) {
        EXPECT_EQ(classify(c), ReplyKind::Final) << protocol::error_name(c);
    }
}

TEST(AttemptLedger, EveryServerRefusedAndNothingMaybeAppliedReturnsTheRefusalAfterOneRound) {
    AttemptLedger l({"a", "b"});
    l.on_send(0, true);
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::NotReady, "syncing")));
    EXPECT_FALSE(l.after_round({0, 1})) << "b has not been tried yet";
    l.on_send(1, true);
    EXPECT_FALSE(l.on_error(1, err(ErrorCode::NoQuorum, "no majority; never sent, not applied")));
    EXPECT_FALSE(l.maybe_applied());
    auto stop = l.after_round({0, 1});
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->code, ErrorCode::NoQuorum);  // NO_QUORUM tells more than NOT_READY
    EXPECT_NE(stop->detail.find("never sent, not applied"), std::string::npos) << stop->detail;
    EXPECT_NE(stop->detail.find("2 attempt(s) at a, b"), std::string::npos) << stop->detail;
    EXPECT_EQ(l.attempts(), 2u);
}

TEST(AttemptLedger, OneServerRefusedIsEnoughForAOneServerCall) {
    AttemptLedger l({"a"});
    l.on_send(0, true);
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::NoQuorum)));
    auto stop = l.after_round({0});
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->code, ErrorCode::NoQuorum);
}

TEST(AttemptLedger, AnUnansweredAttemptElsewhereMeansNoRefusalEvenIfTheOtherServerRefused) {
    AttemptLedger l({"a", "b"});
    l.on_send(0, true);  // a never answers
    l.on_send(1, true);
    EXPECT_FALSE(l.on_error(1, err(ErrorCode::NoQuorum, "never sent, not applied")));
    EXPECT_TRUE(l.maybe_applied());
    EXPECT_TRUE(l.outstanding(0));
    EXPECT_FALSE(l.after_round({0, 1}));
    const Error e = l.at_deadline(3000ms);
    EXPECT_EQ(e.code, ErrorCode::TimeoutOutcomeUnknown);
    EXPECT_NE(e.detail.find("unanswered"), std::string::npos) << e.detail;
}

TEST(AttemptLedger, ALateRefusalOfTheUnansweredAttemptSettlesIt) {
    AttemptLedger l({"a", "b"});
    l.on_send(0, true);
    l.on_send(1, true);
    EXPECT_FALSE(l.on_error(1, err(ErrorCode::NoQuorum)));
    EXPECT_FALSE(l.after_round({0, 1}));
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::NoQuorum)));  // a's answer arrives late
    EXPECT_FALSE(l.maybe_applied());
    ASSERT_TRUE(l.after_round({0, 1}));
}

TEST(AttemptLedger, ATimeoutOutcomeUnknownAnswerIsNeverForgottenByALaterRefusal) {
    AttemptLedger l({"a"});
    l.on_send(0, true);
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::TimeoutOutcomeUnknown)));
    l.on_send(0, true);
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::NoQuorum, "never sent, not applied")));
    EXPECT_FALSE(l.outstanding(0));
    EXPECT_TRUE(l.maybe_applied());
    EXPECT_FALSE(l.after_round({0}));
    const Error e = l.at_deadline(12000ms);
    EXPECT_EQ(e.code, ErrorCode::TimeoutOutcomeUnknown);
    EXPECT_NE(e.detail.find("answered TIMEOUT_OUTCOME_UNKNOWN"), std::string::npos) << e.detail;
}

TEST(AttemptLedger, OneRefusalForTwoCopiesSentToTheSameNodeLeavesOneCopyUnanswered) {
    // A node holding a request answers a second copy of it not at all; the one
    // refusal cannot tell which copy it answers, so one may still apply.
    AttemptLedger l({"a"});
    l.on_send(0, true);
    l.on_send(0, true);
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::NoQuorum)));
    EXPECT_TRUE(l.outstanding(0));
    EXPECT_FALSE(l.after_round({0}));
    EXPECT_EQ(l.at_deadline(1000ms).code, ErrorCode::TimeoutOutcomeUnknown);
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::NoQuorum)));  // the second answer settles it
    EXPECT_TRUE(l.after_round({0}));
}

TEST(AttemptLedger, AFinalErrorIsReturnedAtOnceOnlyWhenNothingMayHaveApplied) {
    AttemptLedger clean({"a"});
    clean.on_send(0, true);
    auto now = clean.on_error(0, err(ErrorCode::WrongCluster, "other"));
    ASSERT_TRUE(now);
    EXPECT_EQ(now->code, ErrorCode::WrongCluster);

    AttemptLedger l({"a", "b"});
    l.on_send(0, true);  // unanswered
    l.on_send(1, true);
    EXPECT_FALSE(l.on_error(1, err(ErrorCode::NeedsRebootstrap)));
    EXPECT_FALSE(l.worth_trying(1));
    EXPECT_TRUE(l.worth_trying(0));
    EXPECT_FALSE(l.after_round({0, 1}));
    // a says the same: nobody is left to ask, and a's first copy may still apply
    l.on_send(0, true);
    EXPECT_FALSE(l.on_error(0, err(ErrorCode::NeedsRebootstrap)));
    auto stop = l.after_round({0, 1});
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->code, ErrorCode::TimeoutOutcomeUnknown);
}

TEST(AttemptLedger, TransientAnswersUntilTheDeadlineReturnTheLastOne) {
    AttemptLedger l({"a"});
    for (int i = 0; i < 3; ++i) {
        l.on_send(0, true);
        EXPECT_FALSE(l.on_error(0, err(ErrorCode::Overloaded, "queue full")));
        EXPECT_FALSE(l.after_round({0})) << "overloaded is worth another try";
    }
    const Error e = l.at_deadline(500ms);
    EXPECT_EQ(e.code, ErrorCode::Overloaded);
    EXPECT_NE(e.detail.find("3 attempt(s) at a"), std::string::npos) << e.detail;
}

TEST(AttemptLedger, NothingEverQueuedIsNotAppliedAndSaysSo) {
    AttemptLedger l({"a", "b"});
    l.on_send(0, false);
    l.on_send(1, false);
    EXPECT_FALSE(l.maybe_applied());
    EXPECT_EQ(l.attempts(), 2u);
    EXPECT_FALSE(l.after_round({0, 1}));
    const Error e = l.at_deadline(100ms);
    EXPECT_EQ(e.code, ErrorCode::Overloaded);
    EXPECT_NE(e.detail.find("never sent"), std::string::npos) << e.detail;
}

// Random histories of sends and replies: whenever some copy was sent and not
// answered, or some answer was TIMEOUT_OUTCOME_UNKNOWN, no answer the ledger
// gives is a definite error (only TIMEOUT_OUTCOME_UNKNOWN or "keep going").
RC_GTEST_PROP(AttemptLedgerProperty, AnythingThatMayHaveAppliedIsNeverReportedAsADefiniteError, ()) {
    const auto n = *rc::gen::inRange<std::size_t>(1, 4);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < n; ++i) names.push_back("s" + std::to_string(i));
    AttemptLedger l(names);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < n; ++i) order.push_back(i);
    std::vector<std::size_t> sent(n, 0), answered(n, 0);
    bool unknown = false;
    const std::vector<ErrorCode> codes{ErrorCode::NoQuorum,   ErrorCode::NotReady,  ErrorCode::Overloaded,
                                       ErrorCode::Aborted,    ErrorCode::BadRequest, ErrorCode::TimeoutOutcomeUnknown,
                                       ErrorCode::WrongCluster};
    const auto steps = *rc::gen::inRange(1, 30);
    for (int step = 0; step < steps; ++step) {
        const auto s = *rc::gen::inRange<std::size_t>(0, n);
        const auto what = *rc::gen::inRange(0, 3);
        std::optional<Error> stop;
        if (what == 0 || sent[s] == answered[s]) {
            const bool queued = *rc::gen::inRange(0, 5) != 0;
            l.on_send(s, queued);
            if (queued) ++sent[s];
        } else {
            const auto code = *rc::gen::elementOf(codes);
            ++answered[s];
            if (code == ErrorCode::TimeoutOutcomeUnknown) unknown = true;
            stop = l.on_error(s, err(code));
        }
        bool maybe = unknown;
        for (std::size_t i = 0; i < n; ++i) maybe = maybe || answered[i] < sent[i];
        RC_ASSERT(l.maybe_applied() == maybe);
        auto round = l.after_round(order);
        for (const auto& e : {stop, round, std::optional<Error>(l.at_deadline(1000ms))}) {
            if (maybe && e) RC_ASSERT(e->code == ErrorCode::TimeoutOutcomeUnknown);
            if (!maybe && e) RC_ASSERT(e->code != ErrorCode::TimeoutOutcomeUnknown);
        }
        if (stop) break;  // the call would return here
    }
}

}  // namespace
}  // namespace tricache::client
