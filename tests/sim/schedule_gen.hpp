// rapidcheck generators for simulator schedules, and the check driver the
// properties share. The generated value is the schedule itself (never a bare
// seed), so shrinking removes and simplifies steps.
#pragma once

#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <ostream>
#include <string>
#include <vector>

#include "sim/schedule.hpp"

namespace tricache::sim::testing {

struct Schedule {
    std::uint32_t nodes = 3;
    std::uint64_t seed = 0;  // skews and codec choices
    std::vector<Step> steps;
    bool total_loss = false;  // a total-failure scenario: crashes are not limited
};

inline void showValue(const Schedule& s, std::ostream& os) {
    os << "\n# nodes=" << s.nodes << " seed=" << s.seed << (s.total_loss ? " total-loss" : "") << " ("
       << s.steps.size() << " steps)\n";
    for (const Step& step : s.steps) os << describe(step) << "\n";
}

// TRICACHE_SIM_CHECKER_ONLY=1 turns the simulator's own engine monitors off,
// so that only the checker's properties judge (mutation experiments).
inline ClusterOptions property_options(std::uint32_t nodes, std::uint64_t seed, bool total_loss = false) {
    ClusterOptions o = scripted_options(nodes, seed);
    o.allow_total_loss = total_loss;
    const char* only = std::getenv("TRICACHE_SIM_CHECKER_ONLY");
    o.engine_monitors = only == nullptr || *only == '\0' || std::strcmp(only, "0") == 0;
    return o;
}

inline rc::Gen<std::string> gen_key() { return rc::gen::element<std::string>("k0", "k1", "k2", "k3"); }

// Few distinct values, so CAS expectations match often; some long ones, so the
// byte limit evicts.
inline rc::Gen<std::string> gen_value() {
    return rc::gen::map(rc::gen::pair(rc::gen::element<std::size_t>(0, 1, 2, 3, 40, 90), rc::gen::inRange(0, 3)),
                        [](const std::pair<std::size_t, int>& p) {
                            return std::string(p.first, static_cast<char>('a' + p.second));
                        });
}

inline rc::Gen<protocol::Op> gen_op() {
    using namespace rc;
    return gen::weightedOneOf<protocol::Op>({
        {3, gen::map(gen_key(), [](std::string k) { return protocol::Op{protocol::Get{std::move(k)}}; })},
        {4, gen::map(gen::pair(gen_key(), gen_value()),
                     [](std::pair<std::string, std::string> kv) {
                         return protocol::Op{protocol::Set{std::move(kv.first), std::move(kv.second)}};
                     })},
        {1, gen::map(gen_key(), [](std::string k) { return protocol::Op{protocol::Del{std::move(k)}}; })},
        {2, gen::map(gen::tuple(gen_key(), gen::maybe(gen_value()), gen_value()),
                     [](std::tuple<std::string, Maybe<std::string>, std::string> t) {
                         auto& [k, e, v] = t;
                         std::optional<std::string> expected;
                         if (e) expected = *e;
                         return protocol::Op{protocol::Cas{std::move(k), std::move(expected), std::move(v)}};
                     })},
    });
}

inline rc::Gen<protocol::ClientRequestBody> gen_body() {
    using namespace rc;
    return gen::weightedOneOf<protocol::ClientRequestBody>({
        {8, gen::map(gen_op(), [](protocol::Op op) { return protocol::ClientRequestBody{protocol::OpsRequest{{op}}}; })},
        {2, gen::map(gen::mapcat(gen::inRange<std::size_t>(2, 5),
                                 [](std::size_t n) { return gen::container<std::vector<protocol::Op>>(n, gen_op()); }),
                     [](std::vector<protocol::Op> ops) {
                         return protocol::ClientRequestBody{protocol::OpsRequest{std::move(ops)}};
                     })},
        {2, gen::map(gen_key(), [](std::string k) {
             return protocol::ClientRequestBody{protocol::LocalGetRequest{std::move(k)}};
         })},
    });
}

// total_loss: a total-failure scenario. Crashes are not limited and come
// more often, and the operator's rebootstrap is one of the steps (finish()
// also plays the operator for a node that still needs it at the end).
inline rc::Gen<Step> gen_step(std::uint32_t nodes, std::uint32_t clients, bool total_loss = false) {
    using namespace rc;
    const auto n = static_cast<int>(nodes);
    auto link_step = [n](StepKind kind) {
        return gen::map(gen::tuple(gen::inRange(1, n + 1), gen::inRange(1, n), gen::inRange(0, 4)),
                        [kind, n](std::tuple<int, int, int> t) {
                            const auto [from, offset, k] = t;
                            Step s;
                            s.kind = kind;
                            s.node = static_cast<NodeId>(from);
                            s.to = static_cast<NodeId>((from - 1 + offset) % n + 1);
                            s.k = static_cast<std::uint64_t>(k);
                            return s;
                        });
    };
    auto node_step = [n](StepKind kind, int min_ms, int max_ms) {
        return gen::map(gen::pair(gen::inRange(1, n + 1), gen::inRange(min_ms, max_ms + 1)),
                        [kind](std::pair<int, int> p) {
                            Step s;
                            s.kind = kind;
                            s.node = static_cast<NodeId>(p.first);
                            s.k = static_cast<std::uint64_t>(p.second);
                            return s;
                        });
    };
    const auto c = static_cast<int>(clients);
    auto client_step = gen::map(
        gen::tuple(gen::inRange(1, n + 1), gen::inRange(0, c), gen_body(), gen::weightedElement<bool>({{50, false}, {1, true}})),
        [](std::tuple<int, int, protocol::ClientRequestBody, bool> t) {
            auto& [node, slot, body, wrong] = t;
            Step s;
            s.kind = StepKind::Client;
            s.node = static_cast<NodeId>(node);
            s.slot = static_cast<std::uint32_t>(slot);
            s.body = std::move(body);
            s.wrong_cluster = wrong;
            return s;
        });
    auto retry_step = gen::map(gen::pair(gen::inRange(1, n + 1), gen::inRange(0, c)), [](std::pair<int, int> p) {
        Step s;
        s.kind = StepKind::Retry;
        s.node = static_cast<NodeId>(p.first);
        s.slot = static_cast<std::uint32_t>(p.second);
        return s;
    });
    auto advance_step = gen::map(gen::inRange(1, 201), [](int ms) {
        Step s;
        s.kind = StepKind::Advance;
        s.k = static_cast<std::uint64_t>(ms);
        return s;
    });
    auto long_advance_step = gen::map(gen::inRange(300, 901), [](int ms) {
        Step s;
        s.kind = StepKind::Advance;
        s.k = static_cast<std::uint64_t>(ms);
        return s;
    });
    // Every node gets a group in [0, 3); shrinks towards one group (no split).
    auto partition_step = gen::map(gen::container<std::vector<int>>(nodes, gen::inRange(0, 3)),
                                   [](const std::vector<int>& group_of) {
                                       Step s;
                                       s.kind = StepKind::Partition;
                                       for (int g = 0; g < 3; ++g) {
                                           std::vector<NodeId> members;
                                           for (std::size_t i = 0; i < group_of.size(); ++i) {
                                               if (group_of[i] == g) members.push_back(static_cast<NodeId>(i + 1));
                                           }
                                           if (!members.empty()) s.groups.push_back(std::move(members));
                                       }
                                       return s;
                                   });
    auto bridge_step = gen::map(gen::tuple(gen::inRange(1, n + 1), gen::inRange(1, n), gen::inRange(1, n)),
                                [n](std::tuple<int, int, int> t) {
                                    const auto [a, off1, off2] = t;
                                    const int b = (a - 1 + off1) % n + 1;
                                    int third = (a - 1 + off2) % n + 1;
                                    if (third == b) third = (b % n) + 1 == a ? (a % n) + 1 : (b % n) + 1;
                                    Step s;
                                    s.kind = StepKind::Bridge;
                                    s.groups = {{static_cast<NodeId>(a), static_cast<NodeId>(b), static_cast<NodeId>(third)}};
                                    return s;
                                });
    Step heal;
    heal.kind = StepKind::Heal;
    // Deliveries scale with the number of links, or ticks (each one a round
    // of heartbeats and resends to every peer) outpace them on big clusters.
    const auto deliver_weight = static_cast<std::size_t>(10 * n * (n - 1));
    Step drain;
    drain.kind = StepKind::Drain;
    std::vector<std::pair<std::size_t, Gen<Step>>> choices = {
        {2, gen::just(drain)},
        {deliver_weight, link_step(StepKind::Deliver)},
        {10, client_step},
        {2, retry_step},
        {6, node_step(StepKind::Tick, 1, 200)},
        {4, advance_step},
        {3, link_step(StepKind::Drop)},
        {3, link_step(StepKind::Duplicate)},
        {1, node_step(StepKind::Pause, 0, 0)},
        {2, node_step(StepKind::Resume, 0, 0)},
        // The failure model: topology, crashes with amnesia (the cluster
        // refuses a crash that would leave a majority without memory, so a
        // shrunk schedule keeps the constraint), and waits longer than the
        // failure detector's timeout so that view changes happen.
        {2, partition_step},
        {1, gen::map(link_step(StepKind::Cut), [](Step s) { s.k = 0; return s; })},
        {1, bridge_step},
        {2, gen::just(heal)},
        {2, node_step(StepKind::Crash, 0, 0)},
        {3, node_step(StepKind::Restart, 0, 0)},
        {2, long_advance_step},
    };
    if (total_loss) {
        choices.push_back({3, node_step(StepKind::Crash, 0, 0)});
        choices.push_back({1, node_step(StepKind::Rebootstrap, 0, 0)});
    }
    // The kind is picked by weight but shrinks towards the first choice, so
    // any step of a failing schedule may turn into a drain: shrunk schedules
    // then say "drain" where a run of single deliveries did not matter.
    std::vector<std::size_t> weights;
    for (const auto& choice : choices) weights.push_back(choice.first);
    const Gen<std::size_t> kind([weights](const Random& random, int) {
        std::size_t total = 0;
        for (auto w : weights) total += w;
        std::size_t pick = static_cast<std::size_t>(Random(random).next() % total);
        std::size_t i = 0;
        while (pick >= weights[i]) pick -= weights[i++];
        return shrinkable::shrinkRecur(i, [](std::size_t x) { return shrink::towards<std::size_t>(x, 0); });
    });
    return gen::mapcat(kind, [choices](std::size_t i) { return choices[i].second; });
}

inline rc::Gen<Schedule> gen_schedule(std::uint32_t nodes, std::uint32_t clients, double length_scale,
                                      bool total_loss = false) {
    using namespace rc;
    return gen::map(
        gen::pair(gen::inRange<std::uint64_t>(0, 1000),
                  gen::scale(length_scale, gen::container<std::vector<Step>>(gen_step(nodes, clients, total_loss)))),
        [nodes, total_loss](std::pair<std::uint64_t, std::vector<Step>> p) {
            return Schedule{nodes, p.first, std::move(p.second), total_loss};
        });
}

// How many times longer soak runs are (TRICACHE_SOAK=1 -> 20x).
inline int soak_factor() {
    const char* soak = std::getenv("TRICACHE_SOAK");
    return soak != nullptr && std::strcmp(soak, "0") != 0 && *soak != '\0' ? 20 : 1;
}

// The sanitizer pass hunts memory and undefined-behaviour errors, which the
// first few hundred schedules reach; breadth is the release pass's job, which
// runs the full counts. A sanitized build (10x slower) runs a fifth of them.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr int kSanitizedShare = 5;
#else
inline constexpr int kSanitizedShare = 1;
#endif

// Runs a property with `runs` successful cases (a fifth when sanitized) unless
// RC_PARAMS names max_success itself. Honours RC_PARAMS reproduce= like
// RC_GTEST_PROP does.
template <class Property>
void check_property(Property&& property, int runs) {
    runs = std::max(1, runs / kSanitizedShare);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    rc::detail::TestMetadata metadata;
    metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
    metadata.description = info->name();
    rc::detail::TestParams params = rc::detail::configuration().testParams;
    const char* env = std::getenv("RC_PARAMS");
    if (env == nullptr || std::strstr(env, "max_success") == nullptr) params.maxSuccess = runs;
    const auto result = rc::detail::checkTestable(std::forward<Property>(property), metadata, params);
    if (result.template is<rc::detail::SuccessResult>()) {
        const auto success = result.template get<rc::detail::SuccessResult>();
        std::cout << metadata.id << ": " << success.numSuccess << " cases passed\n";
        if (!success.distribution.empty()) {
            rc::detail::printResultMessage(result, std::cout);
            std::cout << std::endl;
        }
    } else {
        std::ostringstream ss;
        rc::detail::printResultMessage(result, ss);
        FAIL() << ss.str();
    }
}

}  // namespace tricache::sim::testing
