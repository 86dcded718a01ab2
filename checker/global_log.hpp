// P3 (one total order) and P4 (epoch cut): every node's log is a slice of one
// global log G. G is assembled from all logs (a node that joined by snapshot
// covers only a suffix, so no single log need cover all of G).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "checker/types.hpp"

namespace tricache::checker {

struct GlobalLog {
    std::uint64_t start = 0;  // absolute index of entries[0]; 0 unless no log covers the beginning
    std::vector<LogEntry> entries;
    std::uint64_t end_index() const { return start + entries.size(); }
};

struct GlobalLogResult {
    GlobalLog log;          // meaningful only when violation is empty
    CheckResult violation;  // "P3 total order"
};

// Merges all logs into G and checks P3: every log agrees entry by entry (tx,
// final_ts, epoch, commands) with every other log where they overlap, final_ts
// strictly increases along G, tx keys are unique in G, and no index between
// G's start and end is left uncovered.
GlobalLogResult build_global_log(std::span<const NodeLog> logs);
CheckResult check_total_order(std::span<const NodeLog> logs);

// The same agreement, order and uniqueness rules, but tolerating indices that
// no log covers yet; meant for mid-run sampling.
CheckResult check_prefix_comparable(std::span<const NodeLog> logs);

// Incremental form for checking after every simulated step: remembers what it
// has verified, so each entry is examined once. Logs are identified by
// (node, incarnation) and must only grow.
class PrefixMonitor {
public:
    CheckResult observe(std::span<const NodeLog> logs);

private:
    struct Slot {
        LogEntry entry;
        std::uint32_t node = 0;  // the log that first supplied it, for reports
        std::uint64_t incarnation = 0;
    };
    struct Seen {
        std::uint64_t start_index = 0;
        std::uint64_t verified = 0;  // entries of this log already merged
    };
    CheckResult merge(const NodeLog& log, std::uint64_t from_offset);
    CheckResult place(const NodeLog& log, std::uint64_t index);

    std::vector<std::optional<Slot>> slots_;  // by absolute index
    std::map<TxKey, std::uint64_t> tx_index_;
    std::map<std::pair<std::uint32_t, std::uint64_t>, Seen> seen_;

    friend GlobalLogResult build_global_log(std::span<const NodeLog> logs);
};

// P4: epochs never decrease along G (with strictly increasing final_ts this
// puts every epoch-e timestamp below every epoch-(e+1) one).
CheckResult check_epoch_cut(const GlobalLog& g);

}  // namespace tricache::checker
