// Model test: LruStore against a deliberately naive reference (a vector in
// recency order, linear scans) over random operation sequences. The generated
// value is the whole scenario, so a failure shrinks to a short op list.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "store/lru_store.hpp"

namespace tricache::store {

void showValue(const Limits& limits, std::ostream& os);

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------- reference

// The contract restated as plainly as possible; it shares no code with the
// store (not even entry_charge).
class RefLru {
public:
    explicit RefLru(Limits limits) : limits_(limits) {}

    const Entries& mru_first() const { return order_; }
    std::uint64_t evictions() const { return evictions_; }

    // What the run exercised, so the test can report its coverage.
    struct Seen {
        bool count_eviction = false;
        bool byte_eviction = false;
        bool multi_eviction = false;
        bool too_large = false;
        bool overwrite = false;
    };
    const Seen& seen() const { return seen_; }

    std::uint64_t bytes() const {
        std::uint64_t total = 0;
        for (const auto& [k, v] : order_) {
            total += k.size() + v.size() + 48;
        }
        return total;
    }

    std::optional<std::string> get(const std::string& key) {
        const auto it = find(key);
        if (it == order_.end()) {
            return std::nullopt;
        }
        std::rotate(order_.begin(), it, it + 1);
        return order_.front().second;
    }

    std::optional<std::string> peek(const std::string& key) const {
        const auto it = std::find_if(order_.begin(), order_.end(), [&](const auto& e) { return e.first == key; });
        if (it == order_.end()) {
            return std::nullopt;
        }
        return it->second;
    }

    bool touch(const std::string& key) { return get(key).has_value(); }

    PutResult put(const std::string& key, const std::string& value) {
        if (key.size() + value.size() + 48 > limits_.max_bytes) {
            seen_.too_large = true;
            return {PutOutcome::TooLarge, 0};
        }
        seen_.overwrite |= erase(key);
        order_.insert(order_.begin(), {key, value});
        std::uint64_t evicted = 0;
        while (order_.size() > limits_.max_entries || bytes() > limits_.max_bytes) {
            (order_.size() > limits_.max_entries ? seen_.count_eviction : seen_.byte_eviction) = true;
            order_.pop_back();
            ++evicted;
        }
        seen_.multi_eviction |= evicted > 1;
        evictions_ += evicted;
        return {PutOutcome::Stored, evicted};
    }

    bool erase(const std::string& key) {
        const auto it = find(key);
        if (it == order_.end()) {
            return false;
        }
        order_.erase(it);
        return true;
    }

private:
    Entries::iterator find(const std::string& key) {
        return std::find_if(order_.begin(), order_.end(), [&](const auto& e) { return e.first == key; });
    }

    Limits limits_;
    Entries order_;
    std::uint64_t evictions_ = 0;
    Seen seen_;
};

// ---------------------------------------------------------------- scenarios

enum class OpKind : std::uint8_t { Get, Peek, Touch, Put, Erase };

struct Op {
    OpKind kind = OpKind::Get;
    std::string key;
    std::string value;  // Put only
};

struct Scenario {
    Limits limits;
    std::vector<Op> ops;
};

void showValue(const Op& op, std::ostream& os) {
    static constexpr const char* kNames[] = {"get", "peek", "touch", "put", "erase"};
    os << kNames[static_cast<int>(op.kind)] << "(\"" << op.key << "\"";
    if (op.kind == OpKind::Put) {
        os << ", \"" << op.value << "\"";
    }
    os << ")";
}

void showValue(const Scenario& s, std::ostream& os) {
    os << "limits{max_entries=" << s.limits.max_entries << ", max_bytes=" << s.limits.max_bytes << "} ops:";
    for (const Op& op : s.ops) {
        os << "\n  ";
        showValue(op, os);
    }
}

// Keys of different lengths, so byte accounting depends on which key is hit.
rc::Gen<std::string> small_key() { return rc::gen::elementOf(std::vector<std::string>{"a", "bb", "c", "ddd", "eeee", "f"}); }

rc::Gen<std::string> wide_key() {
    return rc::gen::map(rc::gen::inRange(0, 300), [](int i) { return "k" + std::to_string(i); });
}

// Runs of one letter, 0..40 long: lengths vary a lot, contents sometimes repeat.
rc::Gen<std::string> value() {
    return rc::gen::map(rc::gen::pair(rc::gen::inRange<std::size_t>(0, 41), rc::gen::inRange('x', '{')),
                        [](const std::pair<std::size_t, char>& p) { return std::string(p.first, p.second); });
}

rc::Gen<Op> op(rc::Gen<std::string> key) {
    const auto kind = rc::gen::weightedElement<OpKind>(
        {{5, OpKind::Put}, {3, OpKind::Get}, {1, OpKind::Peek}, {1, OpKind::Touch}, {2, OpKind::Erase}});
    return rc::gen::apply(
        [](OpKind k, std::string key_, std::string value_) {
            return Op{k, std::move(key_), k == OpKind::Put ? std::move(value_) : std::string()};
        },
        kind, std::move(key), value());
}

// Small limits: max_entries 1..8 and max_bytes from below one entry's charge
// (everything TooLarge) to about five entries, so byte evictions are common.
rc::Gen<Limits> small_limits() {
    return rc::gen::apply([](std::uint64_t n, std::uint64_t b) { return Limits{n, b}; },
                          rc::gen::inRange<std::uint64_t>(1, 9), rc::gen::inRange<std::uint64_t>(40, 320));
}

rc::Gen<Scenario> scenario(rc::Gen<Limits> limits, rc::Gen<std::string> key, double length_scale) {
    return rc::gen::apply([](Limits l, std::vector<Op> ops) { return Scenario{l, std::move(ops)}; },
                          std::move(limits),
                          rc::gen::scale(length_scale, rc::gen::container<std::vector<Op>>(op(std::move(key)))));
}

// ---------------------------------------------------------------- checks

// Applies one op to the store and returns a comparable rendering of its result.
std::string run(LruStore& store, const Op& o) {
    switch (o.kind) {
        case OpKind::Get: {
            const auto v = store.get(o.key);
            return v ? "hit:" + std::string(*v) : "miss";
        }
        case OpKind::Peek: {
            const auto v = store.peek(o.key);
            return v ? "hit:" + std::string(*v) : "miss";
        }
        case OpKind::Touch: return store.touch(o.key) ? "touched" : "absent";
        case OpKind::Put: {
            const PutResult r = store.put(o.key, o.value);
            return (r.outcome == PutOutcome::Stored ? "stored/" : "too-large/") + std::to_string(r.evicted);
        }
        case OpKind::Erase: return store.erase(o.key) ? "erased" : "absent";
    }
    return "unreachable";
}

std::string run(RefLru& ref, const Op& o) {
    switch (o.kind) {
        case OpKind::Get: {
            const auto v = ref.get(o.key);
            return v ? "hit:" + *v : "miss";
        }
        case OpKind::Peek: {
            const auto v = ref.peek(o.key);
            return v ? "hit:" + *v : "miss";
        }
        case OpKind::Touch: return ref.touch(o.key) ? "touched" : "absent";
        case OpKind::Put: {
            const PutResult r = ref.put(o.key, o.value);
            return (r.outcome == PutOutcome::Stored ? "stored/" : "too-large/") + std::to_string(r.evicted);
        }
        case OpKind::Erase: return ref.erase(o.key) ? "erased" : "absent";
    }
    return "unreachable";
}

void assert_matches(const LruStore& store, const RefLru& ref) {
    RC_ASSERT(store.snapshot_mru_first() == ref.mru_first());
    RC_ASSERT(store.size() == ref.mru_first().size());
    RC_ASSERT(store.bytes() == ref.bytes());
    RC_ASSERT(store.evictions() == ref.evictions());
    RC_ASSERT(store.digest() == digest_of(ref.mru_first()));
    RC_ASSERT(store.check_invariants());
}

void check_against_reference(const Scenario& s) {
    LruStore store(s.limits);
    RefLru ref(s.limits);
    for (const Op& o : s.ops) {
        RC_ASSERT(run(store, o) == run(ref, o));
        assert_matches(store, ref);
    }
    RC_CLASSIFY(ref.seen().count_eviction, "count eviction");
    RC_CLASSIFY(ref.seen().byte_eviction, "byte eviction");
    RC_CLASSIFY(ref.seen().multi_eviction, "several evicted by one put");
    RC_CLASSIFY(ref.seen().too_large, "too large");
    RC_CLASSIFY(ref.seen().overwrite, "overwrite");
}

LruStore run_all(const Scenario& s) {
    LruStore store(s.limits);
    for (const Op& o : s.ops) {
        run(store, o);
    }
    return store;
}

// ---------------------------------------------------------------- properties

RC_GTEST_PROP(LruStoreProperty, MatchesReferenceWithSmallLimits, ()) {
    check_against_reference(*scenario(small_limits(), small_key(), 2.0));
}

// Hundreds of keys and entries: table growth, long probe runs and
// backward-shift deletion get exercised, still checked after every op.
RC_GTEST_PROP(LruStoreProperty, MatchesReferenceWithManyKeys, ()) {
    const auto limits = rc::gen::apply([](std::uint64_t n, std::uint64_t b) { return Limits{n, b}; },
                                       rc::gen::inRange<std::uint64_t>(1, 200),
                                       rc::gen::inRange<std::uint64_t>(40, 12000));
    check_against_reference(*scenario(limits, wide_key(), 8.0));
}

RC_GTEST_PROP(LruStoreProperty, DigestsAgreeExactlyWhenStatesAgree, ()) {
    const Limits limits = *small_limits();
    const Scenario a = *scenario(rc::gen::just(limits), small_key(), 0.3);
    const Scenario b = *scenario(rc::gen::just(limits), small_key(), 0.3);
    const LruStore sa = run_all(a);
    const LruStore sb = run_all(b);
    const bool same_state = sa.snapshot_mru_first() == sb.snapshot_mru_first();
    RC_CLASSIFY(same_state, "same state");
    RC_ASSERT(same_state == (sa.digest() == sb.digest()));
}

// Every kind of single edit to a state (reorder, value, key, membership)
// must change the digest.
// The state comes either from an op sequence or straight from distinct keys
// (restore), which reaches long lists more often.
RC_GTEST_PROP(LruStoreProperty, AnyEditOfTheStateChangesTheDigest, ()) {
    const bool from_ops = *rc::gen::arbitrary<bool>();
    std::optional<LruStore> built;
    if (from_ops) {
        built = run_all(*scenario(rc::gen::just(Limits{8, 100000}), small_key(), 1.0));
    } else {
        std::vector<int> ids = *rc::gen::unique<std::vector<int>>(rc::gen::inRange(0, 20));
        ids.resize(std::min<std::size_t>(ids.size(), 8));
        Entries entries;
        for (const int id : ids) {
            entries.emplace_back("k" + std::to_string(id), *value());
        }
        built = LruStore::restore(Limits{8, 100000}, entries);
        RC_ASSERT(built.has_value());
    }
    const LruStore& store = *built;
    Entries edited = store.snapshot_mru_first();
    const std::size_t n = edited.size();
    enum Edit { Swap, MoveToFront, ChangeValue, Drop, AddNew, RenameKey };
    std::vector<Edit> possible{AddNew};
    if (n >= 1) {
        possible.insert(possible.end(), {ChangeValue, Drop, RenameKey});
    }
    if (n >= 2) {
        possible.insert(possible.end(), {Swap, MoveToFront});
    }
    const Edit edit = *rc::gen::elementOf(possible);
    static constexpr const char* kEditNames[] = {"swap", "move to front", "change value", "drop", "add", "rename"};
    RC_TAG(kEditNames[edit]);
    const auto index = [n](std::size_t from) { return *rc::gen::inRange<std::size_t>(from, n); };
    switch (edit) {
        case Swap: {
            const std::size_t i = index(0);
            std::size_t j = index(0);
            if (j == i) {
                j = (i + 1) % n;
            }
            std::swap(edited[i], edited[j]);
            break;
        }
        case MoveToFront: {
            const std::size_t i = index(1);
            std::rotate(edited.begin(), edited.begin() + static_cast<std::ptrdiff_t>(i),
                        edited.begin() + static_cast<std::ptrdiff_t>(i) + 1);
            break;
        }
        case ChangeValue: edited[index(0)].second += '!'; break;
        case Drop: edited.erase(edited.begin() + static_cast<std::ptrdiff_t>(index(0))); break;
        case AddNew: {
            const std::size_t i = *rc::gen::inRange<std::size_t>(0, n + 1);
            edited.insert(edited.begin() + static_cast<std::ptrdiff_t>(i), {"fresh-key", *value()});
            break;
        }
        case RenameKey: edited[index(0)].first = "renamed-key"; break;
    }
    RC_ASSERT(edited != store.snapshot_mru_first());
    RC_ASSERT(digest_of(edited) != store.digest());
    const auto restored = LruStore::restore(Limits{10, 100000}, edited);
    RC_ASSERT(restored.has_value());
    RC_ASSERT(restored->digest() == digest_of(edited));
}

// A restored store and a copy are indistinguishable from the original, now
// and under any further operations.
RC_GTEST_PROP(LruStoreProperty, RestoreAndCopyBehaveLikeTheOriginal, ()) {
    const Scenario prefix = *scenario(small_limits(), small_key(), 1.0);
    const std::vector<Op> suffix = *rc::gen::container<std::vector<Op>>(op(small_key()));
    LruStore original = run_all(prefix);
    const std::uint64_t evictions_before = original.evictions();
    std::optional<LruStore> restored = LruStore::restore(prefix.limits, original.snapshot_mru_first());
    RC_ASSERT(restored.has_value());
    LruStore copy = original;
    for (const LruStore* other : {&*restored, &copy}) {
        RC_ASSERT(other->snapshot_mru_first() == original.snapshot_mru_first());
        RC_ASSERT(other->digest() == original.digest());
        RC_ASSERT(other->bytes() == original.bytes());
        RC_ASSERT(other->check_invariants());
    }
    for (const Op& o : suffix) {
        const std::string expected = run(original, o);
        RC_ASSERT(run(*restored, o) == expected);
        RC_ASSERT(run(copy, o) == expected);
        for (const LruStore* other : {&*restored, &copy}) {
            RC_ASSERT(other->snapshot_mru_first() == original.snapshot_mru_first());
            RC_ASSERT(other->digest() == original.digest());
            RC_ASSERT(other->bytes() == original.bytes());
        }
    }
    RC_ASSERT(restored->evictions() == original.evictions() - evictions_before);
    RC_ASSERT(copy.evictions() == original.evictions());
}

// The digest folds list changes in only when it is read. Reading it after
// runs of any length (slots freed and reused in between, invariants checked
// before and after the fold, copies and moves taken with changes still
// unfolded) must give what digest_of gives for the contents at that moment.
RC_GTEST_PROP(LruStoreProperty, DigestReadAtAnyMomentMatchesTheContents, ()) {
    const auto limits = rc::gen::apply([](std::uint64_t n, std::uint64_t b) { return Limits{n, b}; },
                                       rc::gen::inRange<std::uint64_t>(1, 80),
                                       rc::gen::inRange<std::uint64_t>(40, 4000));
    const Scenario s = *scenario(limits, wide_key(), 4.0);
    const std::vector<int> reads = *rc::gen::container<std::vector<int>>(
        s.ops.size(), rc::gen::weightedElement<int>({{12, 0}, {1, 1}, {1, 2}, {1, 3}}));
    LruStore store(s.limits);
    RefLru ref(s.limits);
    for (std::size_t i = 0; i < s.ops.size(); ++i) {
        RC_ASSERT(run(store, s.ops[i]) == run(ref, s.ops[i]));
        switch (reads[i]) {
            case 1:  // read: the fold happens here
                RC_ASSERT(store.check_invariants());
                RC_ASSERT(store.digest() == digest_of(ref.mru_first()));
                RC_ASSERT(store.check_invariants());
                break;
            case 2: {  // a copy made with changes unfolded folds the same way
                const LruStore copy = store;
                RC_ASSERT(copy.check_invariants());
                RC_ASSERT(copy.digest() == digest_of(ref.mru_first()));
                break;
            }
            case 3: {  // so does a moved store, and the moved-from one is empty
                LruStore moved = std::move(store);
                RC_ASSERT(moved.digest() == digest_of(ref.mru_first()));
                store = std::move(moved);
                break;
            }
            default: break;
        }
    }
    RC_ASSERT(store.check_invariants());
    RC_ASSERT(store.digest() == digest_of(ref.mru_first()));
}

RC_GTEST_PROP(LruStoreProperty, RestoreAcceptsExactlyTheValidSnapshots, ()) {
    const Limits limits = *small_limits();
    const Entries entries =
        *rc::gen::scale(0.08, rc::gen::container<Entries>(rc::gen::pair(small_key(), value())));
    std::vector<std::string> keys;
    std::uint64_t bytes = 0;
    for (const auto& [k, v] : entries) {
        keys.push_back(k);
        bytes += k.size() + v.size() + 48;
    }
    std::sort(keys.begin(), keys.end());
    const bool duplicates = std::adjacent_find(keys.begin(), keys.end()) != keys.end();
    const bool valid = !duplicates && entries.size() <= limits.max_entries && bytes <= limits.max_bytes;
    RC_CLASSIFY(valid, "valid");
    const auto restored = LruStore::restore(limits, entries);
    RC_ASSERT(restored.has_value() == valid);
    if (restored) {
        RC_ASSERT(restored->snapshot_mru_first() == entries);
        RC_ASSERT(restored->digest() == digest_of(entries));
        RC_ASSERT(restored->bytes() == bytes);
        RC_ASSERT(restored->check_invariants());
    }
}

}  // namespace

// Found by rapidcheck through argument-dependent lookup, so it lives in the
// namespace of Limits; only this test binary defines it.
void showValue(const Limits& limits, std::ostream& os) {
    os << "Limits{max_entries=" << limits.max_entries << ", max_bytes=" << limits.max_bytes << "}";
}

}  // namespace tricache::store
