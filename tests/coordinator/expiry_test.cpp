// R-TTL at the replicated state machine: expiry is judged against the apply
// clock (the largest command stamp applied), never a clock of the replica, so
// two replicas applying the same commands agree whatever time it is for them.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "coordinator/state_machine.hpp"
#include "protocol/codec.hpp"

namespace tricache::coordinator {
namespace {

using namespace tricache::protocol;

class Replica {
public:
    explicit Replica(store::Limits limits = {16, 1u << 20}) : state(limits) {}

    // Applies one command stamped `stamp_ms`; returns its results.
    std::vector<OpResult> run(std::uint64_t stamp_ms, std::vector<Op> ops, ClientId client = 7) {
        ++seq_;
        std::vector<OpResult> got;
        const Command cmd{client, seq_, std::move(ops), stamp_ms};
        state.apply(TxId{1, 1, seq_}, Timestamp{seq_, 1}, Batch{cmd},
                    [&](std::size_t, const std::vector<OpResult>& r) { got = r; });
        return got;
    }
    OpResult one(std::uint64_t stamp_ms, Op op) { return run(stamp_ms, {std::move(op)}).at(0); }

    ReplicatedState state;

private:
    std::uint64_t seq_ = 0;
};

Expiry after(std::int64_t ms) { return {ExpiryKind::After, ms}; }
Expiry at(std::int64_t ms) { return {ExpiryKind::At, ms}; }

TEST(Expiry, RelativeTtlResolvesAgainstTheApplyClockAndExpiresAtIt) {
    Replica r;
    EXPECT_TRUE(r.one(1000, Set{"k", "v", after(500)}).ok);
    EXPECT_EQ(r.state.expiries().of("k"), 1500u);
    EXPECT_EQ(r.one(1200, Ttl{"k"}).value, "300");
    EXPECT_EQ(r.one(1499, Get{"k"}).value, "v");
    EXPECT_FALSE(r.one(1500, Get{"k"}).ok);  // expired at t <= A, and removed on access
    EXPECT_EQ(r.state.store().size(), 0u);
    EXPECT_TRUE(r.state.expiries().empty());
    EXPECT_EQ(r.state.expired_removed(), 1u);
}

TEST(Expiry, TheApplyClockNeverGoesBackSoAnExpiredEntryNeverReappears) {
    Replica r;
    r.one(1000, Set{"k", "v", at(2000)});
    r.one(2500, Exists{"other"});  // a coordinator whose clock runs ahead
    EXPECT_EQ(r.state.apply_clock_ms(), 2500u);
    EXPECT_FALSE(r.one(1100, Get{"k"}).ok);  // one whose clock lags: still expired
    EXPECT_EQ(r.state.apply_clock_ms(), 2500u);
    // A lagging coordinator's relative TTL counts from the apply clock, not its own stamp.
    r.one(1200, Set{"n", "v", after(100)});
    EXPECT_EQ(r.state.expiries().of("n"), 2600u);
}

TEST(Expiry, SetClearsOrKeepsTheExpiryIncrAndAppendKeepIt) {
    Replica r;
    r.one(100, Set{"k", "1", after(1000)});
    r.one(100, Incr{"k", 2});
    r.one(100, Append{"k", "0"});
    EXPECT_EQ(r.state.expiries().of("k"), 1100u);
    r.one(100, Set{"k", "x", {ExpiryKind::Keep, 0}});
    EXPECT_EQ(r.state.expiries().of("k"), 1100u);
    r.one(100, Set{"k", "y"});
    EXPECT_FALSE(r.state.expiries().of("k"));
    EXPECT_EQ(r.one(100, Ttl{"k"}).value, "-1");
    r.one(100, Expire{"k", after(50), ExpireCond::Always});
    r.one(100, Cas{"k", "y", "z"});  // a new value, as SET
    EXPECT_FALSE(r.state.expiries().of("k"));
    EXPECT_FALSE(r.one(100, Ttl{"absent"}).ok);
}

TEST(Expiry, ExpireConditionsFollowRedis) {
    Replica r;
    r.one(100, Set{"k", "v"});
    EXPECT_FALSE(r.one(100, Expire{"k", after(100), ExpireCond::Xx}).ok);
    EXPECT_FALSE(r.one(100, Expire{"k", after(100), ExpireCond::Gt}).ok);    // no expiry is infinite
    EXPECT_FALSE(r.one(100, Expire{"k", after(100), ExpireCond::XxLt}).ok);
    EXPECT_TRUE(r.one(100, Expire{"k", after(100), ExpireCond::Lt}).ok);
    EXPECT_FALSE(r.one(100, Expire{"k", after(500), ExpireCond::Nx}).ok);
    EXPECT_TRUE(r.one(100, Expire{"k", after(500), ExpireCond::Gt}).ok);
    EXPECT_FALSE(r.one(100, Expire{"k", after(400), ExpireCond::Gt}).ok);
    EXPECT_TRUE(r.one(100, Expire{"k", after(400), ExpireCond::XxLt}).ok);
    EXPECT_EQ(r.state.expiries().of("k"), 500u);
    EXPECT_FALSE(r.one(100, Expire{"absent", after(400), ExpireCond::Always}).ok);
    // A time already past removes the key, and counts as done.
    EXPECT_TRUE(r.one(100, Expire{"k", after(0), ExpireCond::Always}).ok);
    EXPECT_FALSE(r.one(100, Exists{"k"}).ok);
    r.one(100, Set{"p", "v", at(50)});  // SET with a past absolute time: OK, and gone
    EXPECT_FALSE(r.one(100, Exists{"p"}).ok);
    EXPECT_EQ(r.state.store().size(), 0u);
}

TEST(Expiry, PersistRemovesTheExpiry) {
    Replica r;
    r.one(100, Set{"k", "v", after(100)});
    EXPECT_TRUE(r.one(100, Persist{"k"}).ok);
    EXPECT_FALSE(r.one(100, Persist{"k"}).ok);
    EXPECT_EQ(r.one(10000, Get{"k"}).value, "v");
}

TEST(Expiry, CountScanAndLocalReadsLeaveExpiredEntriesOut) {
    Replica r;
    r.run(100, {Set{"a", "1", after(10)}, Set{"b", "2"}, Set{"c", "3", after(1000)}});
    EXPECT_TRUE(r.state.peek("a"));
    r.one(200, Exists{"zz"});  // the clock passes a's expiry; a is still held
    EXPECT_EQ(r.state.store().size(), 3u);
    EXPECT_FALSE(r.state.peek("a"));
    EXPECT_EQ(r.one(200, Count{}).value, "2");
    std::uint64_t next = 0;
    std::vector<std::string> keys;
    ASSERT_TRUE(decode_scan_page(*r.one(200, Scan{0, 100}).value, next, keys));
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, (std::vector<std::string>{"b", "c"}));
}

TEST(Expiry, PurgeRemovesExpiredEntriesEarliestFirstUpToItsMax) {
    Replica r;
    r.run(100, {Set{"a", "1", at(150)}, Set{"b", "2", at(120)}, Set{"c", "3", at(130)}, Set{"d", "4", at(900)}});
    EXPECT_EQ(r.state.expiries().earliest(), 120u);
    const auto first = r.run(500, {Purge{2}}, kPurgeClient).at(0);
    EXPECT_EQ(first.value, "2");
    EXPECT_FALSE(r.state.store().peek("b"));
    EXPECT_FALSE(r.state.store().peek("c"));
    EXPECT_TRUE(r.state.store().peek("a"));
    EXPECT_EQ(r.run(500, {Purge{10}}, kPurgeClient).at(0).value, "1");
    EXPECT_EQ(r.state.store().size(), 1u);
    EXPECT_EQ(r.state.retries().find(kPurgeClient, 1), nullptr);  // purges are never recorded
}

TEST(Expiry, EvictionTakesTheExpiryWithTheEntry) {
    Replica r(store::Limits{2, 1u << 20});
    r.one(100, Set{"a", "1", after(1000)});
    r.one(100, Set{"b", "2"});
    r.one(100, Set{"c", "3"});  // evicts a
    EXPECT_FALSE(r.state.store().peek("a"));
    EXPECT_TRUE(r.state.expiries().empty());
    r.one(100, Set{"a", "again"});
    EXPECT_EQ(r.one(5000, Get{"a"}).value, "again");
}

TEST(Expiry, TwoReplicasAgreeAndTheDigestCoversExpiriesAndTheClock) {
    Replica x;
    Replica y;
    for (Replica* r : {&x, &y}) {
        r->one(100, Set{"k", "v", after(100)});
        r->one(150, Get{"k"});
    }
    EXPECT_EQ(x.state.digest(), y.state.digest());
    Replica z;
    z.one(100, Set{"k", "v", after(101)});  // same contents, other expiry
    z.one(150, Get{"k"});
    EXPECT_EQ(z.state.store().digest(), x.state.store().digest());
    EXPECT_NE(z.state.digest(), x.state.digest());
    Replica w;
    w.one(100, Set{"k", "v", after(100)});
    w.one(151, Get{"k"});  // same contents and expiry, another apply clock
    EXPECT_NE(w.state.digest(), x.state.digest());
}

TEST(Expiry, SnapshotCarriesTheClockAndEveryExpiryThroughTheCodec) {
    Replica r;
    r.run(100, {Set{"a", "1", after(100)}, Set{"b", "2"}, Set{"c", "3", at(5000)}});
    const Snapshot snap = r.state.snapshot(3, Timestamp{1, 1});
    EXPECT_EQ(snap.apply_clock_ms, 100u);
    EXPECT_EQ(snap.expiries, (std::vector<std::pair<std::string, std::uint64_t>>{{"a", 200}, {"c", 5000}}));
    const auto decoded = decode_snapshot(encode(snap), CodecLimits{});
    ASSERT_TRUE(decoded);
    auto restored = ReplicatedState::restore(decoded.value());
    ASSERT_TRUE(restored);
    EXPECT_EQ(restored->digest(), r.state.digest());
    EXPECT_EQ(restored->apply_clock_ms(), 100u);
    // An expiry for a key the snapshot does not hold is refused.
    Snapshot bad = snap;
    bad.expiries.emplace_back("zz", 1);
    EXPECT_FALSE(ReplicatedState::restore(bad));
}

TEST(Expiry, TheStampIsPartOfTheTransactionHash) {
    const Batch a{Command{1, 1, {Get{"k"}}, 100}};
    const Batch b{Command{1, 1, {Get{"k"}}, 101}};
    EXPECT_NE(hash_transaction(TxId{1, 1, 1}, Timestamp{1, 1}, a), hash_transaction(TxId{1, 1, 1}, Timestamp{1, 1}, b));
}

}  // namespace
}  // namespace tricache::coordinator
