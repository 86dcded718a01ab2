// The engine's lookup structures against plain references: FlatMap against
// std::map under random operations, the retry table's window, eviction-free
// export/import order and miss path, and Hasher's word-at-a-time string path
// against the byte-at-a-time definition.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "coordinator/flat_map.hpp"
#include "coordinator/hash.hpp"
#include "coordinator/state_machine.hpp"

namespace {

using tricache::coordinator::FlatMap;
using tricache::coordinator::Hasher;
using tricache::coordinator::RetryTable;
using tricache::protocol::OpResult;

struct GoodHash {
    std::size_t operator()(std::uint64_t k) const { return static_cast<std::size_t>(tricache::coordinator::mix64(k)); }
};
struct CollidingHash {  // long probe runs that wrap around the table
    std::size_t operator()(std::uint64_t k) const { return static_cast<std::size_t>(k % 3) + 13; }
};

template <class H>
void random_ops_match_std_map(unsigned seed) {
    FlatMap<std::uint64_t, std::uint64_t, H> flat;
    std::map<std::uint64_t, std::uint64_t> ref;
    std::mt19937_64 rng(seed);
    for (std::uint64_t i = 0; i < 50000; ++i) {
        const std::uint64_t k = rng() % 300;
        switch (rng() % 4) {
            case 0:
                flat[k] = i;
                ref[k] = i;
                break;
            case 1: ASSERT_EQ(flat.erase(k), ref.erase(k)) << "step " << i; break;
            case 2: {  // insert-if-absent keeps an existing value
                const auto [it, inserted] = flat.try_emplace(k);
                const auto [jt, ref_inserted] = ref.try_emplace(k);
                ASSERT_EQ(inserted, ref_inserted) << "step " << i;
                ASSERT_EQ(it->first, k);
                ASSERT_EQ(it->second, jt->second) << "step " << i;
                break;
            }
            default: {
                const auto it = flat.find(k);
                const auto jt = ref.find(k);
                ASSERT_EQ(it == flat.end(), jt == ref.end()) << "step " << i;
                if (jt != ref.end()) {
                    ASSERT_EQ(it->second, jt->second);
                }
            }
        }
        ASSERT_EQ(flat.size(), ref.size());
        if (i % 997 == 0) {
            std::map<std::uint64_t, std::uint64_t> walked;
            for (const auto& [key, value] : flat) walked.emplace(key, value);
            ASSERT_EQ(walked, ref) << "step " << i;
        }
    }
}

TEST(FlatMap, MatchesStdMapUnderRandomOperations) { random_ops_match_std_map<GoodHash>(1); }
TEST(FlatMap, MatchesStdMapWithCollidingHashes) { random_ops_match_std_map<CollidingHash>(2); }

std::vector<OpResult> result(std::uint64_t n) { return {OpResult{true, "v" + std::to_string(n)}}; }

TEST(RetryTable, KeepsTheLastWindowOfRequestsPerClient) {
    RetryTable t;
    const std::uint64_t n = RetryTable::kWindow + 10;
    for (std::uint64_t r = 1; r <= n; ++r) t.record(7, r, result(r), r);
    for (std::uint64_t r = 1; r <= n; ++r) {
        const auto* found = t.find(7, r);
        if (r <= n - RetryTable::kWindow) {
            EXPECT_EQ(found, nullptr) << "request " << r << " should have left the window";
        } else {
            ASSERT_NE(found, nullptr) << "request " << r;
            EXPECT_EQ(found->to_vector(), result(r));
        }
    }
    EXPECT_EQ(t.find(7, n + 1), nullptr);
    EXPECT_EQ(t.find(8, 1), nullptr);
    // A request id below the largest seen is still looked up (a late retry).
    t.record(9, 50, result(50), n + 1);
    t.record(9, 3, result(3), n + 2);
    ASSERT_NE(t.find(9, 3), nullptr);
    EXPECT_EQ(t.find(9, 3)->to_vector(), result(3));
    EXPECT_EQ(t.find(9, 4), nullptr);
}

TEST(RetryTable, ExportIsByLastIndexThenClientAndImportRoundTrips) {
    RetryTable t;
    t.record(5, 1, result(1), 1);
    t.record(3, 1, result(2), 2);
    t.record(4, 1, result(3), 2);
    t.record(5, 2, result(4), 3);
    const auto entries = t.export_entries();
    std::vector<std::pair<std::uint64_t, std::uint64_t>> order;
    for (const auto& e : entries) order.emplace_back(e.client, e.request);
    const std::vector<std::pair<std::uint64_t, std::uint64_t>> expected{{3, 1}, {4, 1}, {5, 1}, {5, 2}};
    EXPECT_EQ(order, expected);
    RetryTable back;
    back.import_entries(entries);
    EXPECT_EQ(back.export_entries(), entries);
    EXPECT_EQ(back.clients(), 3u);
}

TEST(Hasher, WordAtATimeStringsEqualTheByteDefinition) {
    std::mt19937_64 rng(3);
    for (int i = 0; i < 5000; ++i) {
        std::string s(rng() % 40, '\0');
        for (auto& c : s) c = static_cast<char>(rng());
        Hasher fast;
        fast.add(s);
        Hasher slow;
        slow.add(static_cast<std::uint64_t>(s.size()));
        std::uint64_t acc = 0;
        unsigned n = 0;
        for (char ch : s) {
            acc = (acc << 8) | static_cast<unsigned char>(ch);
            if (++n == 8) {
                slow.add(acc);
                acc = 0;
                n = 0;
            }
        }
        if (n != 0) slow.add(acc);
        ASSERT_EQ(fast.value(), slow.value()) << "length " << s.size();
    }
}

}  // namespace
