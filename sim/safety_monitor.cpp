#include "sim/safety_monitor.hpp"

#include <utility>

#include "sim/tx_hash.hpp"

namespace tricache::sim {

std::size_t SafetyMonitor::TxKeyHash::operator()(const checker::TxKey& t) const noexcept {
    return tx_hash(t.coordinator, t.incarnation, t.seq);
}

SafetyMonitor::SafetyMonitor(std::vector<std::uint32_t> cluster) : cluster_size_(cluster.size()) {
    for (std::uint32_t n : cluster) journal_.views.push_back(checker::ViewRec{n, 1, cluster});  // bootstrap
    epoch_members_[1] = std::move(cluster);
}

checker::CheckResult SafetyMonitor::on_view(const checker::ViewRec& view) {
    journal_.views.push_back(view);
    const auto [first, inserted] = epoch_members_.emplace(view.epoch, view.members);
    if (!inserted) {
        checker::Journal pair;
        pair.views = {checker::ViewRec{0, view.epoch, first->second}, view};
        if (auto v = checker::check_view_agreement(pair)) return v;
    }
    if (view.members.size() < cluster_size_ / 2 + 1) {
        return checker::Violation{"P8 view majority", "node " + std::to_string(view.node) + " installed epoch " +
                                                          std::to_string(view.epoch) + " with " +
                                                          std::to_string(view.members.size()) +
                                                          " members, below a majority of " +
                                                          std::to_string(cluster_size_)};
    }
    return std::nullopt;
}

checker::CheckResult SafetyMonitor::on_ecr_chosen(std::uint32_t node, const protocol::EpochClosingRecord& ecr) {
    const auto [first, inserted] = chosen_.emplace(ecr.closes, std::make_pair(node, ecr));
    if (inserted) {
        // A chosen record decides every transaction it names: it must agree
        // with every other decision on them (P1), past and future.
        for (const auto& c : ecr.committed) settled_.insert(checker::TxKey{c.tx.coordinator, c.tx.incarnation, c.tx.seq});
        for (const auto& c : ecr.committed) {
            const checker::TxKey tx{c.tx.coordinator, c.tx.incarnation, c.tx.seq};
            if (auto v = on_decision(
                    checker::DecisionRec{node, tx, true, checker::Stamp{c.final_ts.counter, c.final_ts.node}})) {
                return checker::Violation{v->property, v->detail + " (the commit is the record closing epoch " +
                                                           std::to_string(ecr.closes) + ", chosen by node " +
                                                           std::to_string(node) + ")"};
            }
        }
        for (const auto& a : ecr.aborted) {
            if (auto v = on_decision(checker::DecisionRec{node, checker::TxKey{a.coordinator, a.incarnation, a.seq},
                                                          false, {}})) {
                return checker::Violation{v->property, v->detail + " (the abort is the record closing epoch " +
                                                           std::to_string(ecr.closes) + ", chosen by node " +
                                                           std::to_string(node) + ")"};
            }
        }
        return std::nullopt;
    }
    if (first->second.second == ecr) return std::nullopt;
    return checker::Violation{
        "P8 one ECR per epoch",
        "two different records closing epoch " + std::to_string(ecr.closes) + " were chosen: by node " +
            std::to_string(first->second.first) + " (" + std::to_string(first->second.second.committed.size()) +
            " committed, next epoch " + std::to_string(first->second.second.next.epoch) + ") and by node " +
            std::to_string(node) + " (" + std::to_string(ecr.committed.size()) + " committed, next epoch " +
            std::to_string(ecr.next.epoch) + ")"};
}

checker::CheckResult SafetyMonitor::on_vote(const checker::VoteRec& vote) {
    journal_.votes.push_back(vote);
    votes_[vote.tx].push_back(vote);
    const auto members = epoch_members_.find(vote.epoch);
    if (members == epoch_members_.end()) {
        return checker::Violation{"P8 epoch", "node " + std::to_string(vote.node) + " voted on " +
                                                  checker::to_string(vote.tx) + " in epoch " +
                                                  std::to_string(vote.epoch) + ", which no node ever installed"};
    }
    // The coordinator votes on its own transaction first, in the epoch it
    // started it in: that is the transaction's epoch.
    const auto [known, inserted] = journal_.tx_epochs.try_emplace(vote.tx);
    if (inserted || vote.node == vote.tx.coordinator) {
        known->second.epoch = vote.epoch;
        known->second.members = members->second;
    }
    return std::nullopt;
}

checker::CheckResult SafetyMonitor::on_decision(const checker::DecisionRec& decision) {
    journal_.decisions.push_back(decision);
    const auto [first, inserted] = first_decision_.emplace(decision.tx, decision);
    if (!inserted) {
        if (auto v = checker::check_decision_pair(first->second, decision)) return v;
    }
    if (!decision.commit) return std::nullopt;
    if (!first_commit_.emplace(decision.tx, decision).second) return std::nullopt;
    // P2 for a new commit: every member of its epoch voted yes before, and
    // acked its PreCommit before, unless its epoch's closing record commits it.
    const checker::TxEpoch* epoch = tx_epoch(decision.tx);
    if (auto v = checker::check_commit_votes(decision, epoch, votes_on(decision.tx))) return v;
    const auto acks = acks_.find(decision.tx);
    return checker::check_commit_acks(
        decision, epoch,
        acks == acks_.end() ? std::span<const checker::AckRec>{} : std::span<const checker::AckRec>(acks->second),
        settled_.count(decision.tx) != 0);
}

void SafetyMonitor::on_ack(const checker::AckRec& ack) {
    if (first_commit_.count(ack.tx) != 0) return;  // late (a resent PreCommit): judged already
    auto& acks = acks_[ack.tx];
    for (const auto& a : acks) {
        if (a.node == ack.node && a.epoch == ack.epoch) return;  // a resend
    }
    acks.push_back(ack);
}

const checker::TxEpoch* SafetyMonitor::tx_epoch(const checker::TxKey& tx) const {
    const auto e = journal_.tx_epochs.find(tx);
    return e == journal_.tx_epochs.end() ? nullptr : &e->second;
}

std::span<const checker::VoteRec> SafetyMonitor::votes_on(const checker::TxKey& tx) const {
    const auto v = votes_.find(tx);
    return v == votes_.end() ? std::span<const checker::VoteRec>{} : std::span<const checker::VoteRec>(v->second);
}

checker::CheckResult SafetyMonitor::on_delivered(const checker::NodeLog& log, std::size_t i) {
    const checker::LogEntry& entry = log.entries.at(i);
    // P4 on one log, at once (check_run judges G as a whole at the end): a
    // transaction of an older epoch never follows one of a newer epoch.
    if (i > 0 && entry.epoch < log.entries[i - 1].epoch) {
        return checker::Violation{"P4 epoch cut", "node " + std::to_string(log.node) + " delivered " +
                                                      checker::to_string(entry.tx) + " of epoch " +
                                                      std::to_string(entry.epoch) + " at index " +
                                                      std::to_string(log.start_index + i) + " after " +
                                                      checker::to_string(log.entries[i - 1].tx) + " of epoch " +
                                                      std::to_string(log.entries[i - 1].epoch)};
    }
    // P2 as check_validity judges this entry: its commit's votes (the
    // transaction's epoch may have been learnt since the commit), then the
    // entry against the commit, or against the abort when nothing committed it.
    const checker::TxEpoch* epoch = tx_epoch(entry.tx);
    if (const auto c = first_commit_.find(entry.tx); c != first_commit_.end()) {
        if (auto v = checker::check_commit_votes(c->second, epoch, votes_on(entry.tx))) return v;
        return checker::check_delivered(log, i, &c->second, nullptr, epoch);
    }
    const auto d = first_decision_.find(entry.tx);
    return checker::check_delivered(log, i, nullptr, d != first_decision_.end() ? &d->second : nullptr, epoch);
}

}  // namespace tricache::sim
