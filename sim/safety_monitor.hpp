// The checks run after every simulated step: P1 agreement, P2 validity, P3
// prefix-comparability, P4 epoch order along each log, and the P8 checks on
// views and chosen epoch-closing records. It feeds the checker's own functions with just the
// records a new event can conflict with, so each step costs O(new events)
// while the judgement stays the checker's. It also owns the full journal the
// end-of-run check_run needs.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "checker/global_log.hpp"
#include "checker/journal.hpp"
#include "checker/types.hpp"
#include "protocol/messages.hpp"

namespace tricache::sim {

class SafetyMonitor {
public:
    // Epoch 1 is every node of the cluster (bootstrap).
    explicit SafetyMonitor(std::vector<std::uint32_t> cluster);

    checker::CheckResult on_vote(const checker::VoteRec& vote);
    // A view install (P8: every install of an epoch names the same members,
    // and a view holds a majority of the configured cluster).
    checker::CheckResult on_view(const checker::ViewRec& view);
    // A proposer saw its epoch-closing record chosen (P8: one per epoch).
    checker::CheckResult on_ecr_chosen(std::uint32_t node, const protocol::EpochClosingRecord& ecr);
    checker::CheckResult on_decision(const checker::DecisionRec& decision);
    // A member acked a PreCommit (R-DOCOMMIT counts it), or a coordinator sent
    // its own (it accepts it first, R-PC-ACCEPT). Nothing to judge yet: a
    // transaction's first commit is judged against the acks seen before it.
    void on_ack(const checker::AckRec& ack);
    // P2 and P4 (epochs never go back along one log) for entry `i` of `log`, just delivered.
    checker::CheckResult on_delivered(const checker::NodeLog& log, std::size_t i);
    // P3 over every log, incrementally (only new entries are examined).
    checker::CheckResult on_logs(std::span<const checker::NodeLog> logs) { return prefix_.observe(logs); }

    const checker::Journal& journal() const { return journal_; }

private:
    const checker::TxEpoch* tx_epoch(const checker::TxKey& tx) const;
    std::span<const checker::VoteRec> votes_on(const checker::TxKey& tx) const;

    std::size_t cluster_size_;
    checker::Journal journal_;
    std::map<std::uint64_t, std::pair<std::uint32_t, protocol::EpochClosingRecord>> chosen_;  // by closed epoch
    std::map<std::uint64_t, std::vector<std::uint32_t>> epoch_members_;
    // Looked up on every vote, decision and delivery, never iterated: hashed.
    struct TxKeyHash {
        std::size_t operator()(const checker::TxKey& t) const noexcept;
    };
    std::unordered_map<checker::TxKey, std::vector<checker::VoteRec>, TxKeyHash> votes_;
    std::unordered_map<checker::TxKey, checker::DecisionRec, TxKeyHash> first_decision_;
    std::unordered_map<checker::TxKey, checker::DecisionRec, TxKeyHash> first_commit_;
    std::unordered_map<checker::TxKey, std::vector<checker::AckRec>, TxKeyHash> acks_;
    std::unordered_set<checker::TxKey, TxKeyHash> settled_;  // committed by a chosen closing record
    checker::PrefixMonitor prefix_;
};

}  // namespace tricache::sim
