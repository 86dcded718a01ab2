// The operations behind the Redis endpoint (INCR, APPEND, EXISTS, REQUIRE,
// COUNT, SCAN, CLEAR, with GET/SET/DEL/CAS mixed in): the replicated state
// machine and the checker's independent reference LRU agree on every result
// and on the final contents, in recency order, for random command sequences.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <limits>
#include <map>

#include "checker/reference_lru.hpp"
#include "coordinator/state_machine.hpp"
#include "sim/convert.hpp"

namespace tricache::sim {
namespace {

using namespace tricache::protocol;

rc::Gen<std::string> small_key() { return rc::gen::element<std::string>("a", "b", "c", "d", "e", "f"); }

rc::Gen<std::string> some_value() {
    return rc::gen::oneOf(rc::gen::element<std::string>("0", "1", "-1", "42", "9223372036854775807",
                                                        "-9223372036854775808", "01", "-0", "x", "", "12a"),
                          rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 3), [](std::size_t n) {
                              return rc::gen::container<std::string>(n, rc::gen::element<char>('a', '1', '0', '-'));
                          }),
                          rc::gen::map(rc::gen::inRange<std::size_t>(0, 120), [](std::size_t n) {
                              return std::string(n, 'v');
                          }));
}

// Times around the stamps drawn below (0..2000 ms), so that entries expire mid-run.
rc::Gen<Expiry> any_expiry() {
    return rc::gen::oneOf(rc::gen::just(Expiry{}), rc::gen::just(Expiry{ExpiryKind::Keep, 0}),
                          rc::gen::construct<Expiry>(rc::gen::element(ExpiryKind::At, ExpiryKind::After),
                                                     rc::gen::inRange<std::int64_t>(-50, 2500)));
}

rc::Gen<Op> ttl_op() {
    return rc::gen::oneOf(
        rc::gen::construct<Op>(rc::gen::construct<Set>(small_key(), some_value(), any_expiry())),
        rc::gen::construct<Op>(rc::gen::construct<Expire>(
            small_key(), any_expiry(),
            rc::gen::element(ExpireCond::Always, ExpireCond::Nx, ExpireCond::Xx, ExpireCond::Gt, ExpireCond::Lt,
                             ExpireCond::XxLt))),
        rc::gen::construct<Op>(rc::gen::construct<Persist>(small_key())),
        rc::gen::construct<Op>(rc::gen::construct<Ttl>(small_key())),
        rc::gen::construct<Op>(rc::gen::construct<Purge>(rc::gen::inRange<std::uint32_t>(0, 4))));
}

rc::Gen<Op> any_op() {
    return rc::gen::oneOf(
        ttl_op(), ttl_op(),
        rc::gen::construct<Op>(rc::gen::construct<Get>(small_key())),
        rc::gen::construct<Op>(rc::gen::construct<Set>(small_key(), some_value())),
        rc::gen::construct<Op>(rc::gen::construct<Del>(small_key())),
        rc::gen::construct<Op>(rc::gen::construct<Incr>(
            small_key(), rc::gen::oneOf(rc::gen::element<std::int64_t>(1, -1, 5, std::numeric_limits<std::int64_t>::max(),
                                                                       std::numeric_limits<std::int64_t>::min()),
                                        rc::gen::arbitrary<std::int64_t>()))),
        rc::gen::construct<Op>(rc::gen::construct<Append>(small_key(), some_value())),
        rc::gen::construct<Op>(rc::gen::construct<Exists>(small_key())),
        rc::gen::construct<Op>(rc::gen::construct<Require>(small_key(), rc::gen::arbitrary<bool>())),
        rc::gen::just(Op{Count{}}),
        rc::gen::construct<Op>(rc::gen::construct<Scan>(
            rc::gen::oneOf(rc::gen::just<std::uint64_t>(0), rc::gen::arbitrary<std::uint64_t>(),
                           rc::gen::map(small_key(), [](const std::string& k) { return scan_hash(k); })),
            rc::gen::inRange<std::uint32_t>(0, 5))),
        rc::gen::construct<Op>(rc::gen::just(Clear{})));
}

RC_GTEST_PROP(RedisOps, StateMachineAgreesWithTheReferenceLru, ()) {
    const store::Limits limits{*rc::gen::inRange<std::uint64_t>(1, 6), *rc::gen::inRange<std::uint64_t>(60, 400)};
    coordinator::ReplicatedState state(limits);
    checker::ReferenceLru model(checker::Limits{limits.max_entries, limits.max_bytes, 64});
    const auto commands = *rc::gen::container<std::vector<std::vector<Op>>>(
        rc::gen::mapcat(rc::gen::inRange<std::size_t>(1, 5),
                        [](std::size_t n) { return rc::gen::container<std::vector<Op>>(n, any_op()); }));
    std::uint64_t seq = 0;
    for (const auto& ops : commands) {
        ++seq;
        // Coordinators' clocks disagree: stamps jump back and forth (R-TTL-CLOCK keeps the maximum).
        const std::uint64_t stamp = *rc::gen::inRange<std::uint64_t>(0, 2000);
        const bool purge = *rc::gen::inRange(0, 8) == 0;  // now and then the engine's own purge
        const Command cmd{purge ? kPurgeClient : 7, seq, purge ? std::vector<Op>{Purge{3}} : ops, stamp};
        std::vector<OpResult> got;
        state.apply(TxId{1, 1, seq}, Timestamp{seq, 1}, Batch{cmd},
                    [&](std::size_t, const std::vector<OpResult>& r) { got = r; });
        const auto want = model.apply_command(to_checker(cmd));
        RC_ASSERT(to_checker(got) == want.results);
        const auto contents = state.store().snapshot_mru_first();
        RC_ASSERT(contents == model.contents_mru_first());
        RC_ASSERT(state.store().digest() == store::digest_of(contents));
        RC_ASSERT(state.store().check_invariants());
        RC_ASSERT(state.apply_clock_ms() == model.apply_clock());
        const auto rows = state.expiries().rows_by_key();
        const std::map<std::string, std::uint64_t> expiries(rows.begin(), rows.end());
        RC_ASSERT(expiries == model.expiries());
    }
}

// A full walk of SCAN pages visits every key once, whatever the page size.
RC_GTEST_PROP(RedisOps, ScanPagesCoverEveryKeyOnce, ()) {
    coordinator::ReplicatedState state(store::Limits{1000, 1u << 20});
    const auto keys = *rc::gen::container<std::set<std::string>>(
        rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::arbitrary<char>())));
    std::vector<Op> sets;
    for (const auto& k : keys) sets.emplace_back(Set{k, "v"});
    std::uint64_t seq = 1;
    state.apply(TxId{1, 1, seq}, Timestamp{seq, 1}, Batch{Command{7, seq, sets}},
                [](std::size_t, const std::vector<OpResult>&) {});
    const auto count = *rc::gen::inRange<std::uint32_t>(1, 9);
    std::uint64_t cursor = 0;
    std::multiset<std::string> seen;
    for (int page = 0; page < 10000; ++page) {
        ++seq;
        std::uint64_t next = 0;
        std::vector<std::string> got;
        state.apply(TxId{1, 1, seq}, Timestamp{seq, 1}, Batch{Command{7, seq, {Scan{cursor, count}}}},
                    [&](std::size_t, const std::vector<OpResult>& r) {
                        RC_ASSERT(r.at(0).ok && r.at(0).value && decode_scan_page(*r.at(0).value, next, got));
                    });
        RC_ASSERT(got.size() <= count);
        seen.insert(got.begin(), got.end());
        if (next == 0) break;
        RC_ASSERT(next > cursor);
        cursor = next;
    }
    RC_ASSERT(std::set<std::string>(seen.begin(), seen.end()) == keys);
    RC_ASSERT(seen.size() == keys.size());
}

}  // namespace
}  // namespace tricache::sim
