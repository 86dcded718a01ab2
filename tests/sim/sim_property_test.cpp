// The state-machine property: a generated schedule of manual verbs (client
// requests, deliveries, drops, duplicates, ticks, pauses, partitions, one-way
// cuts, bridges, heals, crashes and restarts) runs on a fresh
// cluster; safety is checked after every step, then the cluster heals,
// quiesces, and convergence and linearizability are checked. On failure
// rapidcheck prints the shrunk schedule (one step per line, the syntax of
// tests/sim/regressions) and the transcript of the failing run.
#include <gtest/gtest.h>

#include "schedule_gen.hpp"
#include "sim/cluster.hpp"
#include "sim/schedule.hpp"

namespace tricache::sim::testing {
namespace {

constexpr std::uint64_t kQuiesceBoundMs = 8000;

// Replays the failing schedule with a transcript, for the report.
std::string transcript_of(const Schedule& s, std::size_t steps) {
    ClusterOptions o = property_options(s.nodes, s.seed, s.total_loss);
    o.transcript = true;
    Cluster cluster(o);
    for (std::size_t i = 0; i < steps && i < s.steps.size() && !cluster.violation(); ++i) {
        cluster.note_step(describe(s.steps[i]));
        apply(cluster, s.steps[i]);
    }
    if (!cluster.violation() && steps >= s.steps.size()) cluster.finish(kQuiesceBoundMs);
    return cluster.transcript_tail(120);
}

void check_schedule(const Schedule& s) {
    Cluster cluster(property_options(s.nodes, s.seed, s.total_loss));
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
        apply(cluster, s.steps[i]);
        if (const auto& v = cluster.violation()) {
            RC_FAIL(v->property + " after step " + std::to_string(i) + " (" + describe(s.steps[i]) +
                    "): " + v->detail + "\n--- transcript (last events) ---\n" + transcript_of(s, i + 1));
        }
    }
    RC_CLASSIFY(cluster.engine(1).state().log_length() > 0, "delivered before healing");
    RC_CLASSIFY(cluster.engine(1).view().epoch > 1, "view change before healing");
    RC_CLASSIFY(cluster.memoryless_count() > 0, "a node without memory before healing");
    const Verdict verdict = cluster.finish(kQuiesceBoundMs);
    if (verdict.kind != VerdictKind::Pass) {
        RC_FAIL(std::string(verdict.kind == VerdictKind::Liveness ? "LIVENESS " : "SAFETY ") +
                verdict.violation.property + " at the end: " + verdict.violation.detail +
                "\n--- transcript (last events) ---\n" + transcript_of(s, s.steps.size()));
    }
    RC_CLASSIFY(verdict.stats.ok_operations > 0, "some operation acknowledged");
    RC_CLASSIFY(cluster.histories() > 1, "rebootstrapped");
}

// 3,000 schedules by default over 3, 5 and 7 nodes; bigger clusters cost
// more per schedule, so they get fewer.
TEST(SimProperty, ThreeNodeSchedulesAreSafeAndConverge) {
    check_property([] { check_schedule(*gen_schedule(3, 3, 8.0)); }, 1500 * soak_factor());
}

TEST(SimProperty, FiveNodeSchedulesAreSafeAndConverge) {
    check_property([] { check_schedule(*gen_schedule(5, 3, 16.0)); }, 1000 * soak_factor());
}

TEST(SimProperty, SevenNodeSchedulesAreSafeAndConverge) {
    check_property([] { check_schedule(*gen_schedule(7, 3, 24.0)); }, 500 * soak_factor());
}

// Total failure: crashes are not limited, so a majority may lose its memory
// or every holder of the data may crash; the cluster must then report
// NEEDS_REBOOTSTRAP (never answer wrongly), and after the operator's
// rebootstrap the new history must converge and be linearizable on its own.
TEST(SimProperty, TotalFailureSchedulesRebootstrapAndConverge) {
    check_property([] { check_schedule(*gen_schedule(3, 3, 8.0, true)); }, 300 * soak_factor());
    check_property([] { check_schedule(*gen_schedule(5, 3, 16.0, true)); }, 200 * soak_factor());
}

}  // namespace
}  // namespace tricache::sim::testing
