// Protocol journal recorded by the simulator: votes, decisions, view installs,
// and P1 agreement, P2 validity and view agreement over it.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "checker/types.hpp"

namespace tricache::checker {

struct VoteRec {
    std::uint32_t node = 0;
    TxKey tx;
    bool yes = false;
    std::uint64_t epoch = 0;
};

struct DecisionRec {
    std::uint32_t node = 0;
    TxKey tx;
    bool commit = false;
    Stamp final_ts;  // meaningful for commits
};

// A member accepted a transaction's PreCommit and acknowledged it (the
// coordinator's own acceptance included), in `epoch`.
struct AckRec {
    std::uint32_t node = 0;
    TxKey tx;
    std::uint64_t epoch = 0;
};

struct ViewRec {
    std::uint32_t node = 0;
    std::uint64_t epoch = 0;
    std::vector<std::uint32_t> members;
};

struct TxEpoch {
    std::uint64_t epoch = 0;
    std::vector<std::uint32_t> members;  // the view of that epoch: who must vote yes
};

struct Journal {
    std::vector<VoteRec> votes;
    std::vector<DecisionRec> decisions;
    std::vector<ViewRec> views;
    std::map<TxKey, TxEpoch> tx_epochs;  // as the simulator knows it
};

// P1: per transaction at most one decision kind across all nodes, and every
// commit carries the same final timestamp.
CheckResult check_agreement(const Journal& journal);

// P2: every committed transaction had a yes vote, in its epoch, from every
// member of its epoch's view; every transaction in any log was committed in
// the journal with the same final timestamp (and epoch, when known).
CheckResult check_validity(const Journal& journal, std::span<const NodeLog> logs);

// The rules behind check_agreement and check_validity, one record at a time,
// for a caller that judges records as they arrive (same verdicts, same texts).
// P1 for a later decision on the transaction `first` decided.
CheckResult check_decision_pair(const DecisionRec& first, const DecisionRec& later);
// P2 for a commit: `epoch` is the journal's epoch of its transaction (nullptr:
// unknown), `votes` every vote on that transaction, in journal order.
CheckResult check_commit_votes(const DecisionRec& commit, const TxEpoch* epoch, std::span<const VoteRec> votes);
// P2 for a transaction's first commit, judged when it happens (the journal
// keeps no order between acks and decisions, so there is no whole-journal
// form): R-DOCOMMIT commits only with an ack from every member of its
// epoch's view, so every one of them acked it before (`acks`: those seen so
// far), unless the record closing its epoch commits it
// (`settled_by_closing_record`: a view change may commit what some member
// never pre-committed). An unknown epoch is check_commit_votes's to report.
CheckResult check_commit_acks(const DecisionRec& commit, const TxEpoch* epoch, std::span<const AckRec> acks,
                              bool settled_by_closing_record);
// P2 for entry i of a log: `commit` and `abort` are the transaction's first
// commit and first abort in the journal (nullptr: none), `epoch` as above.
CheckResult check_delivered(const NodeLog& log, std::size_t i, const DecisionRec* commit, const DecisionRec* abort,
                            const TxEpoch* epoch);

// Part of P8: every install of one epoch names the same members, and the
// members the simulator attributes to a transaction's epoch match them.
CheckResult check_view_agreement(const Journal& journal);

}  // namespace tricache::checker
