// One test per rule of the store's contract, plus the corners (aliasing views,
// empty strings, copies, table growth) that a random model test reaches rarely.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "store/hash.hpp"
#include "store/lru_store.hpp"

namespace tricache::store {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

constexpr Limits kRoomy{100, 100000};

// Asserts what must hold after any operation: internal consistency and the
// O(1) digest agreeing with the from-scratch one.
void expect_consistent(const LruStore& s) {
    EXPECT_TRUE(s.check_invariants());
    EXPECT_EQ(s.digest(), digest_of(s.snapshot_mru_first()));
}

LruStore filled(Limits limits, const Entries& lru_first) {
    LruStore s(limits);
    for (const auto& [k, v] : lru_first) {
        EXPECT_EQ(s.put(k, v).outcome, PutOutcome::Stored);
    }
    return s;
}

TEST(LruStoreUnit, EntryChargeIsKeyPlusValuePlusOverhead) {
    EXPECT_EQ(entry_charge("", ""), 48u);
    EXPECT_EQ(entry_charge("abc", "hello"), 3u + 5u + 48u);
    EXPECT_EQ(kEntryOverheadBytes, 48u);
}

TEST(LruStoreUnit, EmptyStore) {
    LruStore s(kRoomy);
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.bytes(), 0u);
    EXPECT_EQ(s.evictions(), 0u);
    EXPECT_EQ(s.limits().max_entries, 100u);
    EXPECT_EQ(s.limits().max_bytes, 100000u);
    EXPECT_FALSE(s.get("a").has_value());
    EXPECT_FALSE(s.peek("a").has_value());
    EXPECT_FALSE(s.touch("a"));
    EXPECT_FALSE(s.erase("a"));
    EXPECT_TRUE(s.snapshot_mru_first().empty());
    EXPECT_EQ(s.digest(), digest_of({}));
    expect_consistent(s);
}

TEST(LruStoreUnit, PutMakesMruAndGetReturnsValue) {
    LruStore s = filled(kRoomy, {{"a", "1"}, {"b", "22"}, {"c", "333"}});
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"c", "333"}, {"b", "22"}, {"a", "1"}}));
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(s.bytes(), 6u + 3u + 3u * 48u);
    ASSERT_TRUE(s.get("b").has_value());
    EXPECT_EQ(*s.get("b"), "22");
    expect_consistent(s);
}

TEST(LruStoreUnit, GetMovesToMru) {
    LruStore s = filled(kRoomy, {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    EXPECT_EQ(*s.get("a"), "1");
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"a", "1"}, {"c", "3"}, {"b", "2"}}));
    EXPECT_EQ(*s.get("c"), "3");  // a middle entry
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"c", "3"}, {"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(*s.get("c"), "3");  // already MRU: no change
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"c", "3"}, {"a", "1"}, {"b", "2"}}));
    expect_consistent(s);
}

TEST(LruStoreUnit, GetOfAbsentKeyChangesNothing) {
    LruStore s = filled(kRoomy, {{"a", "1"}, {"b", "2"}});
    const auto before = s.snapshot_mru_first();
    const auto digest = s.digest();
    EXPECT_FALSE(s.get("zz").has_value());
    EXPECT_FALSE(s.touch("zz"));
    EXPECT_EQ(s.snapshot_mru_first(), before);
    EXPECT_EQ(s.digest(), digest);
}

TEST(LruStoreUnit, PeekDoesNotChangeRecency) {
    LruStore s = filled(kRoomy, {{"a", "1"}, {"b", "2"}});
    const auto digest = s.digest();
    EXPECT_EQ(*s.peek("a"), "1");
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"b", "2"}, {"a", "1"}}));
    EXPECT_EQ(s.digest(), digest);
}

TEST(LruStoreUnit, TouchMovesToMru) {
    LruStore s = filled(kRoomy, {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    EXPECT_TRUE(s.touch("a"));
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"a", "1"}, {"c", "3"}, {"b", "2"}}));
    expect_consistent(s);
}

TEST(LruStoreUnit, TooLargeLeavesStoreUnchanged) {
    const Limits limits{10, 48 + 10};
    LruStore s(limits);
    EXPECT_EQ(s.put("k", std::string(9, 'x')).outcome, PutOutcome::Stored);  // exactly max_bytes
    EXPECT_EQ(s.bytes(), 58u);
    ASSERT_TRUE(s.check_invariants());
    EXPECT_EQ(s.put("j", "").outcome, PutOutcome::Stored);  // evicts k by bytes
    const auto before = s.snapshot_mru_first();
    const auto digest = s.digest();
    const PutResult r = s.put("k", std::string(10, 'x'));  // one byte over, key not present
    EXPECT_EQ(r.outcome, PutOutcome::TooLarge);
    EXPECT_EQ(r.evicted, 0u);
    EXPECT_EQ(s.snapshot_mru_first(), before);
    EXPECT_EQ(s.digest(), digest);
    EXPECT_EQ(s.evictions(), 1u);
}

TEST(LruStoreUnit, TooLargeOverwriteKeepsOldEntryAndItsRecency) {
    LruStore s = filled({10, 200}, {{"a", "1"}, {"b", "2"}});
    const auto before = s.snapshot_mru_first();
    const auto digest = s.digest();
    const PutResult r = s.put("a", std::string(200, 'y'));
    EXPECT_EQ(r.outcome, PutOutcome::TooLarge);
    EXPECT_EQ(*s.peek("a"), "1");
    EXPECT_EQ(s.snapshot_mru_first(), before);  // a is still LRU
    EXPECT_EQ(s.digest(), digest);
    EXPECT_EQ(s.bytes(), 2u * 49u + 2u);
}

TEST(LruStoreUnit, OverwriteUpdatesValueBytesAndRecency) {
    LruStore s = filled(kRoomy, {{"a", "1111"}, {"b", "2"}});
    const std::uint64_t bytes = s.bytes();
    PutResult r = s.put("a", "11");
    EXPECT_EQ(r.outcome, PutOutcome::Stored);
    EXPECT_EQ(r.evicted, 0u);
    EXPECT_EQ(s.size(), 2u);
    EXPECT_EQ(s.bytes(), bytes - 2u);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"a", "11"}, {"b", "2"}}));
    expect_consistent(s);
    r = s.put("b", "bbbbbb");
    EXPECT_EQ(s.bytes(), bytes - 2u + 5u);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"b", "bbbbbb"}, {"a", "11"}}));
    r = s.put("b", "cccccc");  // same length: rewritten in place
    EXPECT_EQ(s.bytes(), bytes - 2u + 5u);
    EXPECT_EQ(*s.peek("b"), "cccccc");
    expect_consistent(s);
}

TEST(LruStoreUnit, OverwriteWithSameValueStillMovesToMru) {
    LruStore s = filled(kRoomy, {{"a", "1"}, {"b", "2"}});
    s.put("a", "1");
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"a", "1"}, {"b", "2"}}));
    expect_consistent(s);
}

TEST(LruStoreUnit, EvictionByCountRemovesLru) {
    LruStore s = filled({3, 100000}, {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    EXPECT_TRUE(s.touch("a"));  // b is now LRU
    const PutResult r = s.put("d", "4");
    EXPECT_EQ(r.outcome, PutOutcome::Stored);
    EXPECT_EQ(r.evicted, 1u);
    EXPECT_EQ(s.evictions(), 1u);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"d", "4"}, {"a", "1"}, {"c", "3"}}));
    expect_consistent(s);
}

TEST(LruStoreUnit, OverwriteNeverEvictsByCount) {
    LruStore s = filled({2, 100000}, {{"a", "1"}, {"b", "2"}});
    EXPECT_EQ(s.put("a", "9").evicted, 0u);
    EXPECT_EQ(s.size(), 2u);
}

TEST(LruStoreUnit, EvictionByBytesCanRemoveSeveral) {
    // Each small entry costs 50; a big one costs 48 + 1 + 100 = 149.
    LruStore s = filled({10, 200}, {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}});
    EXPECT_EQ(s.size(), 4u);
    const PutResult r = s.put("e", std::string(100, 'e'));
    EXPECT_EQ(r.outcome, PutOutcome::Stored);
    EXPECT_EQ(r.evicted, 3u);  // 4*50 + 149 = 349 -> drop a, b, c -> 199
    EXPECT_EQ(s.evictions(), 3u);
    EXPECT_EQ(s.bytes(), 199u);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"e", std::string(100, 'e')}, {"d", "4"}}));
    expect_consistent(s);
}

TEST(LruStoreUnit, OverwriteGrowingValueEvictsOthersNotItself) {
    LruStore s = filled({10, 200}, {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    const PutResult r = s.put("a", std::string(140, 'a'));  // 189 bytes: everyone else must go
    EXPECT_EQ(r.evicted, 2u);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"a", std::string(140, 'a')}}));
    EXPECT_EQ(s.bytes(), 189u);
    expect_consistent(s);
}

TEST(LruStoreUnit, EntryFillingAllBytesEvictsEverythingElse) {
    LruStore s = filled({10, 100}, {{"a", "1"}});
    const PutResult r = s.put("b", std::string(51, 'b'));  // 100 exactly
    EXPECT_EQ(r.evicted, 1u);
    EXPECT_EQ(s.size(), 1u);
    EXPECT_EQ(s.bytes(), 100u);
}

TEST(LruStoreUnit, SingleEntryStore) {
    LruStore s({1, 1000});
    EXPECT_EQ(s.put("a", "1").evicted, 0u);
    EXPECT_EQ(s.put("b", "2").evicted, 1u);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"b", "2"}}));
    EXPECT_EQ(s.put("b", "3").evicted, 0u);
    EXPECT_EQ(s.evictions(), 1u);
    expect_consistent(s);
}

TEST(LruStoreUnit, EraseMruLruAndMiddle) {
    const Entries lru_first{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}};
    LruStore s = filled(kRoomy, lru_first);
    const std::uint64_t bytes = s.bytes();
    EXPECT_TRUE(s.erase("e"));  // MRU
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"d", "4"}, {"c", "3"}, {"b", "2"}, {"a", "1"}}));
    expect_consistent(s);
    EXPECT_TRUE(s.erase("a"));  // LRU
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"d", "4"}, {"c", "3"}, {"b", "2"}}));
    expect_consistent(s);
    EXPECT_TRUE(s.erase("c"));  // middle
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"d", "4"}, {"b", "2"}}));
    expect_consistent(s);
    EXPECT_FALSE(s.erase("c"));
    EXPECT_EQ(s.size(), 2u);
    EXPECT_EQ(s.bytes(), bytes - 3u * 50u);
    EXPECT_EQ(s.evictions(), 0u);  // erase is not eviction
    EXPECT_TRUE(s.erase("d"));
    EXPECT_TRUE(s.erase("b"));
    EXPECT_EQ(s.digest(), digest_of({}));
    expect_consistent(s);
    s.put("z", "26");  // slots are reused after erase
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"z", "26"}}));
    expect_consistent(s);
}

TEST(LruStoreUnit, EmptyKeyAndEmptyValue) {
    LruStore s(kRoomy);
    EXPECT_EQ(s.put("", "").outcome, PutOutcome::Stored);
    EXPECT_EQ(s.put("k", "").outcome, PutOutcome::Stored);
    EXPECT_EQ(s.put("", "v").outcome, PutOutcome::Stored);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"", "v"}, {"k", ""}}));
    EXPECT_EQ(s.bytes(), 49u + 49u);
    EXPECT_EQ(s.put("", "").outcome, PutOutcome::Stored);
    EXPECT_EQ(*s.peek(""), "");
    expect_consistent(s);
    EXPECT_TRUE(s.erase(""));
    expect_consistent(s);
}

TEST(LruStoreUnit, KeysWithEmbeddedZerosAreDistinct) {
    LruStore s(kRoomy);
    s.put(std::string("a\0b", 3), "1");
    s.put(std::string("a\0c", 3), "2");
    s.put("a", "3");
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(*s.peek(std::string("a\0b", 3)), "1");
    expect_consistent(s);
}

TEST(LruStoreUnit, PutMayTakeItsValueFromTheStoreItself) {
    LruStore s = filled({2, 100000}, {{"a", "alpha"}, {"b", "beta"}});
    // Same key, same length: the view overlaps the bytes being rewritten.
    s.put("a", *s.peek("a"));
    EXPECT_EQ(*s.peek("a"), "alpha");
    // Value from an entry this very put evicts (b is LRU after a's put).
    const PutResult r = s.put("c", *s.peek("b"));
    EXPECT_EQ(r.evicted, 1u);
    EXPECT_EQ(s.snapshot_mru_first(), (Entries{{"c", "beta"}, {"a", "alpha"}}));
    // Key and value views into the store, with a length change.
    std::string_view key_in_store;
    s.for_each_mru_first([&key_in_store](std::string_view k, std::string_view) {
        if (k == "a") {
            key_in_store = k;
        }
    });
    s.put(key_in_store, s.peek("c")->substr(1));
    EXPECT_EQ(*s.peek("a"), "eta");
    expect_consistent(s);
}

TEST(LruStoreUnit, ForEachVisitsMruFirst) {
    LruStore s = filled(kRoomy, {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    std::string seen;
    s.for_each_mru_first([&seen](std::string_view k, std::string_view v) {
        seen.append(k);
        seen.append(v);
    });
    EXPECT_EQ(seen, "c3b2a1");
}

TEST(LruStoreUnit, DigestIsOrderAndValueSensitive) {
    const LruStore ab = filled(kRoomy, {{"a", "1"}, {"b", "2"}});
    const LruStore ba = filled(kRoomy, {{"b", "2"}, {"a", "1"}});
    const LruStore ab2 = filled(kRoomy, {{"a", "1"}, {"b", "3"}});
    const LruStore ab_again = filled(kRoomy, {{"a", "1"}, {"b", "2"}});
    const LruStore a = filled(kRoomy, {{"a", "1"}});
    EXPECT_NE(ab.digest(), ba.digest());
    EXPECT_NE(ab.digest(), ab2.digest());
    EXPECT_NE(ab.digest(), a.digest());
    EXPECT_NE(a.digest(), LruStore(kRoomy).digest());
    EXPECT_EQ(ab.digest(), ab_again.digest());
    // Swapping which string is the key and which the value must matter too.
    EXPECT_NE(filled(kRoomy, {{"x", "y"}}).digest(), filled(kRoomy, {{"y", "x"}}).digest());
}

TEST(LruStoreUnit, SameStateReachedDifferentWaysHasSameDigest) {
    LruStore one = filled(kRoomy, {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    one.erase("b");
    one.get("a");
    LruStore two = filled(kRoomy, {{"c", "0"}, {"x", "x"}});
    two.put("a", "1");
    two.put("c", "3");
    two.touch("a");
    two.erase("x");
    EXPECT_EQ(one.snapshot_mru_first(), two.snapshot_mru_first());
    EXPECT_EQ(one.digest(), two.digest());
}

// The digest is compared between processes and releases: these values must
// never change. If this test fails, the hash or digest formula changed.
TEST(LruStoreUnit, DigestAndHashArePinned) {
    EXPECT_EQ(hash_bytes("", 0), 0xd4d8cd3a09f058f6ull);
    EXPECT_EQ(hash_bytes("tricache", 0), 0x32e53c8267c73dd5ull);
    EXPECT_EQ(hash_bytes("a key longer than sixteen bytes, to use the loop", 7), 0xbc1b7bcafb351e28ull);
    EXPECT_EQ(digest_of({}), 0xa3d705e7879675f8ull);
    EXPECT_EQ(digest_of({{"b", "2"}, {"a", "1"}}), 0xa557aeea7198ff0bull);
}

TEST(LruStoreUnit, HashCoversEveryByte) {
    // Flip each byte of strings of every tail length; the hash must change.
    for (std::size_t len = 1; len <= 40; ++len) {
        std::string s(len, 'q');
        const std::uint64_t base = hash_bytes(s, 1);
        for (std::size_t i = 0; i < len; ++i) {
            std::string t = s;
            t[i] = 'r';
            EXPECT_NE(hash_bytes(t, 1), base) << "len " << len << " byte " << i;
        }
        EXPECT_NE(hash_bytes(s, 2), base);
    }
}

TEST(LruStoreUnit, RestoreRoundTrips) {
    LruStore s = filled({5, 1000}, {{"a", "1"}, {"b", "22"}, {"c", "333"}});
    s.get("a");
    const auto snap = s.snapshot_mru_first();
    std::optional<LruStore> r = LruStore::restore(s.limits(), snap);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->snapshot_mru_first(), snap);
    EXPECT_EQ(r->digest(), s.digest());
    EXPECT_EQ(r->bytes(), s.bytes());
    EXPECT_EQ(r->size(), s.size());
    EXPECT_EQ(r->evictions(), 0u);
    EXPECT_TRUE(r->check_invariants());
    EXPECT_TRUE(LruStore::restore({1, 1}, {}).has_value());
}

TEST(LruStoreUnit, RestoreRejectsDuplicates) {
    EXPECT_FALSE(LruStore::restore(kRoomy, {{"a", "1"}, {"b", "2"}, {"a", "1"}}).has_value());
    EXPECT_FALSE(LruStore::restore(kRoomy, {{"a", "1"}, {"a", "2"}}).has_value());
}

TEST(LruStoreUnit, RestoreRejectsOverLimitInput) {
    const Entries three{{"a", "1"}, {"b", "2"}, {"c", "3"}};  // 150 bytes
    EXPECT_FALSE(LruStore::restore({2, 1000}, three).has_value());
    EXPECT_TRUE(LruStore::restore({3, 1000}, three).has_value());
    EXPECT_FALSE(LruStore::restore({10, 149}, three).has_value());
    EXPECT_TRUE(LruStore::restore({10, 150}, three).has_value());
    EXPECT_FALSE(LruStore::restore({10, 40}, {{"a", "1"}}).has_value());
}

TEST(LruStoreUnit, RestoreRejectsInvalidLimits) {
    EXPECT_FALSE(LruStore::restore({0, 100}, {}).has_value());
    EXPECT_FALSE(LruStore::restore({1, 0}, {}).has_value());
    EXPECT_FALSE(limits_valid({0, 1}));
    EXPECT_TRUE(limits_valid({1, 1}));
}

TEST(LruStoreUnit, CopyIsDeepAndBehavesIdentically) {
    LruStore s = filled({3, 1000}, {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    s.erase("b");  // leaves a free slot, which the copy must reuse the same way
    LruStore c = s;
    EXPECT_EQ(c.digest(), s.digest());
    EXPECT_TRUE(c.check_invariants());
    EXPECT_EQ(c.put("d", "4").evicted, s.put("d", "4").evicted);
    EXPECT_EQ(c.put("e", "5").evicted, s.put("e", "5").evicted);
    EXPECT_EQ(c.snapshot_mru_first(), s.snapshot_mru_first());
    c.put("a", "changed");
    EXPECT_NE(*c.peek("a"), *s.peek("a"));
    s = c;
    EXPECT_EQ(s.snapshot_mru_first(), c.snapshot_mru_first());
    EXPECT_TRUE(s.check_invariants());
}

TEST(LruStoreUnit, MoveLeavesAUsableEmptyStore) {
    LruStore s = filled({3, 1000}, {{"a", "1"}, {"b", "2"}});
    const auto digest = s.digest();
    LruStore m = std::move(s);
    EXPECT_EQ(m.digest(), digest);
    EXPECT_TRUE(m.check_invariants());
    // Reusing a moved-from object is legal C++; the store stays well formed.
    EXPECT_EQ(s.size(), 0u);  // NOLINT(bugprone-use-after-move)
    EXPECT_FALSE(s.get("a").has_value());
    EXPECT_EQ(s.put("x", "1").outcome, PutOutcome::Stored);
    EXPECT_TRUE(s.check_invariants());
    m = std::move(s);
    EXPECT_EQ(m.snapshot_mru_first(), (Entries{{"x", "1"}}));
}

TEST(LruStoreUnit, ManyKeysGrowTheTableAndSurviveErasure) {
    // Thousands of keys force table growth and long probe runs, and erasing
    // every third key exercises backward-shift deletion across them.
    LruStore s({5000, 100000000});
    for (int i = 0; i < 5000; ++i) {
        s.put("key" + std::to_string(i), std::to_string(i));
    }
    ASSERT_TRUE(s.check_invariants());
    for (int i = 0; i < 5000; i += 3) {
        ASSERT_TRUE(s.erase("key" + std::to_string(i)));
    }
    ASSERT_TRUE(s.check_invariants());
    for (int i = 0; i < 5000; ++i) {
        const auto v = s.peek("key" + std::to_string(i));
        ASSERT_EQ(v.has_value(), i % 3 != 0) << i;
        if (v) {
            EXPECT_EQ(*v, std::to_string(i));
        }
    }
    for (int i = 0; i < 6000; ++i) {
        s.put("new" + std::to_string(i), "v");
    }
    EXPECT_EQ(s.size(), 5000u);
    EXPECT_EQ(s.evictions(), 6000u - (5000u - 3333u));
    ASSERT_TRUE(s.check_invariants());
}

}  // namespace
}  // namespace tricache::store

namespace tricache::store {
namespace {

TEST(LruStoreUnit, ClearEmptiesTheStoreAndKeepsItsEvictionCount) {
    LruStore s(Limits{2, 100000});
    s.put("a", "1");
    s.put("b", "2");
    s.put("c", "3");  // evicts a
    ASSERT_EQ(s.evictions(), 1u);
    EXPECT_EQ(s.clear(), 2u);
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.bytes(), 0u);
    EXPECT_EQ(s.evictions(), 1u);
    EXPECT_EQ(s.digest(), LruStore(Limits{2, 100000}).digest());
    EXPECT_FALSE(s.peek("b"));
    EXPECT_TRUE(s.check_invariants());
    s.put("d", "4");
    EXPECT_EQ(s.snapshot_mru_first(), (std::vector<std::pair<std::string, std::string>>{{"d", "4"}}));
    EXPECT_EQ(s.digest(), digest_of(s.snapshot_mru_first()));
    EXPECT_EQ(s.clear(), 1u);
    EXPECT_EQ(s.clear(), 0u);
}

}  // namespace
}  // namespace tricache::store
