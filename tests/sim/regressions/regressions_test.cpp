// Every minimised failure the simulator ever found, replayed as a script
// (the .sched files next to this one; `tricache-sim --schedule FILE` prints
// the transcript of one). A test here fails while its bug is open; open ones
// are DISABLED_ so the suite stays green: run them with
// --gtest_also_run_disabled_tests. Remove DISABLED_ once the engine is fixed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sim/runner.hpp"
#include "sim/schedule.hpp"

#ifndef TRICACHE_REGRESSION_DIR
#error "TRICACHE_REGRESSION_DIR must name tests/sim/regressions"
#endif

namespace tricache::sim {
namespace {

constexpr std::uint64_t kBoundMs = 20000;

void replay(const std::string& name) {
    const std::string path = std::string(TRICACHE_REGRESSION_DIR) + "/" + name;
    std::ifstream in(path);
    ASSERT_TRUE(in) << "cannot open " << path;
    std::stringstream text;
    text << in.rdbuf();
    std::uint32_t nodes = 0;
    std::uint64_t seed = 0;
    bool total_loss = false;
    ASSERT_TRUE(parse_schedule_header(text.str(), nodes, seed, &total_loss)) << path << " lacks '# nodes=N seed=S'";
    std::string bad;
    const auto steps = parse_schedule(text.str(), &bad);
    ASSERT_TRUE(steps.has_value()) << path << ": bad line '" << bad << "'";
    ClusterOptions options = scripted_options(nodes, seed);
    options.allow_total_loss = total_loss;
    ASSERT_TRUE(apply_schedule_timers(text.str(), options, &bad)) << path << ": bad timer '" << bad << "'";
    const ScheduleOutcome out = run_schedule(options, *steps, kBoundMs);
    EXPECT_EQ(out.verdict.kind, VerdictKind::Pass)
        << out.verdict.violation.property << (out.during_schedule ? " after step " + std::to_string(out.failed_at) : "")
        << ": " << out.verdict.violation.detail << "\n  replay: tricache-sim --schedule " << path;
}

// A swarm seed as `tricache-sim --seed S --runs 1 --nodes N --swarm` ran it
// when it failed: before the crash constraint counted nodes without data, so
// crashes are not limited here.
void replay_seed(std::uint64_t seed, std::uint32_t nodes) {
    RunConfig config = swarm_config(seed, nodes);
    config.cluster.allow_total_loss = true;
    config.sim_ms = 2000;
    config.quiesce_bound_ms = 30000;
    const RunResult r = run(config);
    EXPECT_EQ(r.verdict.kind, VerdictKind::Pass)
        << r.verdict.violation.property << ": " << r.verdict.violation.detail << "\n  replay: tricache-sim --seed "
        << seed << " --runs 1 --nodes " << nodes << " --swarm --transcript";
    EXPECT_GT(r.cluster.crashes, 0u);  // the scenario still has its crash
}

// Engine bug, finding 1 of tests/sim/regressions/FINDINGS.md, part 2: the only full member
// of a view crashes; the syncing member can fetch the boundary snapshot only
// from a node left out of the view (fixed in the engine).
TEST(SimRegression, SyncingMemberFetchesFromANonMember) { replay_seed(541, 3); }

// Harness bug, finding 2-3 of tests/sim/regressions/FINDINGS.md, part 2 (fixed in sim/clients).
TEST(SimRegression, ClientRetryToCrashedNode) { replay("client_retry_to_crashed_node.sched"); }

// Design limit, finding 2-2 of tests/sim/regressions/FINDINGS.md, part 2: every node holding
// the data crashes while a majority keeps its memory. It hung in SYNCING/JOINING;
// now the syncing member reports NEEDS_REBOOTSTRAP (R-DATA-LOSS), the run's
// operator rebootstraps, and the new history is checked on its own.
TEST(SimRegression, LastFullMemberCrashes) { replay("last_full_member_crashes.sched"); }

// Findings 2-4a/b/c of tests/sim/regressions/FINDINGS.md, part 2 (total-failure runs).
TEST(SimRegression, OldHistorySurvivorAdoptsRebootstrap) { replay("old_history_survivor_adopts_rebootstrap.sched"); }
TEST(SimRegression, TwoRebootstrapsOneEpoch) { replay("two_rebootstraps_one_epoch.sched"); }
TEST(SimRegression, RequestQueuedAcrossRebootstrap) { replay("request_queued_across_rebootstrap.sched"); }
// FINDINGS part 2 §5: stale amnesia evidence let an isolated node abandon a live history (R-RB-PROMISE).
TEST(SimRegression, StaleAmnesiaEvidenceRebootstrap) { replay("stale_amnesia_evidence_rebootstrap.sched"); }
TEST(SimRegression, RebootstrapNamesDeadIncarnation) { replay("rebootstrap_names_dead_incarnation.sched"); }
// FINDINGS part 2 §6: every member of the view a node adopted had restarted; all waited in JOINING (R-TOTAL-LOSS).
TEST(SimRegression, OrphanedViewAfterTwoHistories) { replay("orphaned_view_after_two_histories.sched"); }

// Engine bug, finding 1 of tests/sim/regressions/FINDINGS.md, part 1 (fixed in the engine).
TEST(SimRegression, CoordinatorCommitsAfterPromisingViewChange) {
    replay("coordinator_commits_after_promising.sched");
}

// Engine bug, finding 2 of tests/sim/regressions/FINDINGS.md, part 1 (fixed in the engine).
TEST(SimRegression, FiveNodeMembershipChurn) { replay("five_node_membership_churn.sched"); }

// FINDINGS part 2 §7: a request re-queued across a regular NewView of another history (R-HISTORY).
TEST(SimRegression, RequestCarriedAcrossHistories) { replay("request_carried_across_histories.sched"); }
// FINDINGS part 2 §8: a restarted proposer started a newer history below an older one that a
// paused node remembered; ordered by epoch, the living nodes crossed into the dead history and took
// part in its view change (R-HISTORY-ORDER, and R-HISTORY's amnesiac crossing).
TEST(SimRegression, CrossingNodeAcceptsInAnotherHistorysViewChange) { replay_seed(1005973, 3); }
TEST(SimRegression, CrossingNodesMakeADeadHistoryLookLive) { replay_seed(1008860, 3); }
TEST(SimRegression, CrossingNodesHangAfterRebootstrap) { replay_seed(1011379, 3); }
TEST(SimRegression, CrossingNodesAbandonALiveHistoryOfFive) { replay_seed(1004426, 5); }
// Same section: a stillborn rebootstrap (its promiser moved on to a newer one) abandons nothing.
TEST(SimRegression, StillbornRebootstrapBelowANewerHistory) { replay_seed(1018311, 3); }

// FINDINGS part 2 §9 (issue 17, R-IN-DOUBT): the swarm seed, as `tricache-sim --swarm` runs it (its
// world has no draw of the stream added since), fails P7 with the in-doubt marking reverted; and the
// in-doubt path end to end as a script: a retry at the cut-off coordinator is answered "unknown",
// one after the gap waits and is answered from the snapshot's retry table.
// A seed as `tricache-sim --swarm --sim-ms 2000 --bound-ms 30000` runs it.
// `as_found_lanes`: a seed found before the swarm drew one lane is replayed in its world, 256 lanes.
void replay_swarm_seed(std::uint64_t seed, std::uint32_t nodes, bool as_found_lanes = true) {
    RunConfig config = swarm_config(seed, nodes);
    if (as_found_lanes) config.cluster.rebootstrap_lanes = 256;
    config.sim_ms = 2000;
    config.quiesce_bound_ms = 30000;
    const RunResult r = run(config);
    EXPECT_EQ(r.verdict.kind, VerdictKind::Pass)
        << r.verdict.violation.property << ": " << r.verdict.violation.detail << "\n  replay: tricache-sim --seed "
        << seed << " --runs 1 --nodes " << nodes << " --sim-ms 2000 --bound-ms 30000 --swarm";
}
TEST(SimRegression, InDoubtRequestRunAgainAfterSnapshot) {
    ASSERT_EQ(swarm_config(828927518950, 5).faults.isolate_coordinator_rate, 0.0) << "the seed's world changed";
    replay_swarm_seed(828927518950, 5);
}
TEST(SimRegression, InDoubtRetrySettledBySnapshot) { replay("in_doubt_request_refused_as_not_applied.sched"); }
// The same shape with the client waiting at the coordinator all along: re-queued at the gap, as before
// the fix, the request runs a second time (caught by "P7 R-IN-DOUBT re-run").
TEST(SimRegression, InDoubtRequestWaitsThroughAGap) { replay("in_doubt_request_waits_through_a_gap.sched"); }
// FINDINGS part 2 §10: out-of-phase amnesiac JoinReqs never all fresh at the nodes that kept their
// memory, so they never reported NEEDS_REBOOTSTRAP and every rebootstrap lapsed (R-LOSS-EVIDENCE).
TEST(SimRegression, OutOfPhaseAmnesiaEvidence) { replay("out_of_phase_amnesia_evidence.sched"); }

// FINDINGS part 2 §11 (the issue 17 soak): a "none" given while its sender waited on the only
// holder's chunk made a double-counted proof of loss, and the rebootstrap abandoned a live history
// (R-DATA-LOSS's double collect); and two dead histories the checker took for live ones.
TEST(SimRegression, NoneWhileWaitingOnTheOnlyHolder) { replay_swarm_seed(3067860, 3); }
TEST(SimRegression, DeadHistoriesAreNotLiveCollisionsA) { replay_swarm_seed(3102770, 3); }
TEST(SimRegression, DeadHistoriesAreNotLiveCollisionsB) { replay_swarm_seed(3139093, 3); }
// Same section, the second soak: two rebootstraps whose lanes collide start two histories at one
// epoch while node 3 still lives in the first; the epoch alone named both (R-HISTORY's tag).
TEST(SimRegression, CollidingLanesTwoLiveHistoriesAtOneEpoch) { replay_swarm_seed(57363, 3); }
// With one lane (drawn by the swarm), the seed that caught the engine comparing epochs alone:
// a commit with no view in its history's journal (P2).
TEST(SimRegression, OneLaneHistoriesAreToldApartByTheirTags) {
    ASSERT_EQ(swarm_config(3001345, 4).cluster.rebootstrap_lanes, 1u) << "the seed's world changed";
    replay_swarm_seed(3001345, 4, false);
}

// Harness, same section: an answer matched to an attempt the node held before it crashed.
TEST(SimRegression, RetryToRestartedNodeSameRequest) { replay("retry_to_restarted_node_same_request.sched"); }

}  // namespace
}  // namespace tricache::sim
