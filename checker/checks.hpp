// End-of-run checks over the recorded history, logs and final stores: P5
// convergence, P6 no acknowledged write lost, P7 linearizability with G as the
// witness, and check_run, which runs P1-P7 in a fixed order with one replay.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "checker/global_log.hpp"
#include "checker/history.hpp"
#include "checker/journal.hpp"
#include "checker/types.hpp"

namespace tricache::checker {

struct FinalNodeState {
    std::uint32_t node = 0;
    std::uint64_t epoch = 0;
    Contents contents;  // MRU first
    std::uint64_t digest = 0;  // as the store computes it; only compared between nodes
    std::uint64_t log_length = 0;  // absolute: transactions delivered, counting any snapshot prefix
};

// P6, first half: every operation acknowledged Ok that writes (SET, DEL, CAS)
// appears in G.
CheckResult check_acknowledged_in_log(const History& history, const GlobalLog& g);

// P5: every node holds the same epoch, log length, digest and contents,
// recency order included.
CheckResult check_convergence(std::span<const FinalNodeState> finals);
// P5 as above, plus every log length equals G's end and (P6, second half) the
// contents equal a replay of G from the empty store. The replay comparison is
// skipped when G does not start at index 0.
CheckResult check_convergence(std::span<const FinalNodeState> finals, const GlobalLog& g, Limits limits);

struct LinearizabilityStats {
    std::uint64_t commands_in_log = 0;  // every command of G, duplicates included
    std::uint64_t ok_operations = 0;
    std::uint64_t info_in_log = 0;      // unknown outcome, took effect
    std::uint64_t info_absent = 0;      // unknown outcome, never took effect
    std::uint64_t duplicates = 0;       // retried commands the retry table absorbed
    std::uint64_t local_reads = 0;
    // Local reads that missed transactions holding an operation acknowledged
    // before the read was invoked. Allowed (local reads may be stale), only measured.
    std::uint64_t stale_local_reads = 0;
    std::uint64_t max_local_read_lag = 0;  // in transactions
};

// P7 with G as the witness:
//  (a) every command of G was invoked by its client with the same ops, none was
//      reported Fail, none took effect twice; every Ok operation is in G;
//  (b) an operation acknowledged Ok before another (in G) was first invoked
//      precedes it in G;
//  (c) replaying G reproduces the results of every Ok operation (from its
//      first, effective application);
//  (d) every local read equals peek(key) after the first `delivered`
//      transactions of G.
// G must start at index 0.
CheckResult check_linearizable(const History& history, const GlobalLog& g, Limits limits,
                               LinearizabilityStats* stats = nullptr);

struct RunRecord {
    Limits limits;
    std::vector<NodeLog> logs;  // every incarnation of every node, including crashed ones
    Journal journal;
    History history;
    std::vector<FinalNodeState> finals;  // empty: the run did not quiesce, P5 is skipped
};

// Everything, first violation wins, in this order: history well-formedness,
// P1, P8 view agreement, P2, P3 (with snapshot points when logs carry them),
// P4, P6 first half, P5 with P6 second half, P7. G is replayed once.
CheckResult check_run(const RunRecord& run, LinearizabilityStats* stats = nullptr);

// The same checks over records the caller keeps (a simulator that owns its
// logs, journal and history need not copy them for the end of a run).
struct RunView {
    Limits limits;
    std::span<const NodeLog> logs;
    const Journal& journal;
    const History& history;
    std::span<const FinalNodeState> finals;
};
CheckResult check_run(const RunView& run, LinearizabilityStats* stats = nullptr);

}  // namespace tricache::checker
