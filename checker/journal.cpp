#include "checker/journal.hpp"

#include <algorithm>
#include <unordered_map>

namespace tricache::checker {

namespace {

std::string decision_name(const DecisionRec& d) {
    return "node " + std::to_string(d.node) + " decided " +
           (d.commit ? "COMMIT f=" + to_string(d.final_ts) : std::string("ABORT"));
}

std::string members_string(std::vector<std::uint32_t> members) {
    std::sort(members.begin(), members.end());
    std::string out = "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ",";
        out += std::to_string(members[i]);
    }
    return out + "}";
}

// For maps that are looked up but never iterated, so their order cannot
// change which violation is reported first.
struct TxKeyHash {
    std::size_t operator()(const TxKey& t) const noexcept {
        return static_cast<std::size_t>(mix_bits((std::uint64_t{t.coordinator} << 48) ^ (t.incarnation << 32) ^ t.seq));
    }
};
template <class V>
using TxMap = std::unordered_map<TxKey, V, TxKeyHash>;

std::vector<std::uint32_t> sorted_unique(std::vector<std::uint32_t> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

}  // namespace

CheckResult check_decision_pair(const DecisionRec& prev, const DecisionRec& d) {
    if (prev.commit != d.commit) {
        return Violation{"P1 agreement", to_string(d.tx) + ": " + decision_name(prev) + " but " + decision_name(d)};
    }
    if (d.commit && prev.final_ts != d.final_ts) {
        return Violation{"P1 agreement", to_string(d.tx) + " committed with two final timestamps: " +
                                             decision_name(prev) + " but " + decision_name(d)};
    }
    return std::nullopt;
}

CheckResult check_agreement(const Journal& journal) {
    TxMap<const DecisionRec*> first;
    first.reserve(journal.decisions.size());
    for (const DecisionRec& d : journal.decisions) {
        const auto [it, inserted] = first.emplace(d.tx, &d);
        if (inserted) continue;
        if (auto v = check_decision_pair(*it->second, d)) return v;
    }
    return std::nullopt;
}

CheckResult check_commit_votes(const DecisionRec& d, const TxEpoch* epoch, std::span<const VoteRec> votes) {
    constexpr const char* kP2 = "P2 validity";
    if (epoch == nullptr) {
        return Violation{kP2, to_string(d.tx) + " was committed (" + decision_name(d) +
                                  ") but the journal knows no epoch or view for it"};
    }
    for (const std::uint32_t member : sorted_unique(epoch->members)) {
        const VoteRec* yes = nullptr;
        const VoteRec* other = nullptr;
        for (const VoteRec& v : votes) {
            if (v.node != member) continue;
            if (v.yes && v.epoch == epoch->epoch) {
                yes = &v;
            } else if (!other) {
                other = &v;
            }
        }
        if (yes) continue;
        std::string why = "no vote from it";
        if (other) {
            why = other->yes ? "its yes vote is for epoch " + std::to_string(other->epoch)
                             : "it voted no (epoch " + std::to_string(other->epoch) + ")";
        }
        return Violation{kP2, to_string(d.tx) + " was committed (" + decision_name(d) + ") but member " +
                                  std::to_string(member) + " of epoch " + std::to_string(epoch->epoch) + " view " +
                                  members_string(epoch->members) + " gave no yes vote: " + why};
    }
    return std::nullopt;
}

CheckResult check_delivered(const NodeLog& log, std::size_t i, const DecisionRec* commit, const DecisionRec* abort,
                            const TxEpoch* epoch) {
    constexpr const char* kP2 = "P2 validity";
    const LogEntry& e = log.entries[i];
    // Built only for a report: this runs for every delivery of every step.
    const auto where = [&] {
        return "node " + std::to_string(log.node) + " (incarnation " + std::to_string(log.incarnation) +
               ") delivered " + to_string(e.tx) + " at index " + std::to_string(log.start_index + i);
    };
    if (commit == nullptr) {
        return Violation{kP2, where() + " but " +
                                  (abort != nullptr ? decision_name(*abort) + " and no node committed it"
                                                    : std::string("the journal has no commit for it"))};
    }
    if (commit->final_ts != e.final_ts) {
        return Violation{kP2, where() + " with final_ts " + to_string(e.final_ts) + " but " + decision_name(*commit)};
    }
    if (epoch != nullptr && epoch->epoch != e.epoch) {
        return Violation{kP2, where() + " in epoch " + std::to_string(e.epoch) + " but the journal puts it in epoch " +
                                  std::to_string(epoch->epoch)};
    }
    return std::nullopt;
}

CheckResult check_validity(const Journal& journal, std::span<const NodeLog> logs) {
    TxMap<std::vector<VoteRec>> votes;  // each transaction's votes in journal order
    votes.reserve(journal.votes.size());
    for (const VoteRec& v : journal.votes) votes[v.tx].push_back(v);
    const auto epoch_of = [&](const TxKey& tx) -> const TxEpoch* {
        const auto it = journal.tx_epochs.find(tx);
        return it == journal.tx_epochs.end() ? nullptr : &it->second;
    };

    TxMap<const DecisionRec*> commits;
    TxMap<const DecisionRec*> aborts;
    for (const DecisionRec& d : journal.decisions) {
        if (!d.commit) {
            aborts.emplace(d.tx, &d);
            continue;
        }
        if (!commits.emplace(d.tx, &d).second) continue;  // each transaction once, in journal order
        const auto tx_votes = votes.find(d.tx);
        const std::span<const VoteRec> on_tx =
            tx_votes == votes.end() ? std::span<const VoteRec>{} : std::span<const VoteRec>(tx_votes->second);
        if (auto v = check_commit_votes(d, epoch_of(d.tx), on_tx)) return v;
    }

    for (const NodeLog& log : logs) {
        for (std::size_t i = 0; i < log.entries.size(); ++i) {
            const TxKey& tx = log.entries[i].tx;
            const auto c = commits.find(tx);
            const auto a = aborts.find(tx);
            if (auto v = check_delivered(log, i, c == commits.end() ? nullptr : c->second,
                                         a == aborts.end() ? nullptr : a->second, epoch_of(tx))) {
                return v;
            }
        }
    }
    return std::nullopt;
}

CheckResult check_view_agreement(const Journal& journal) {
    constexpr const char* kP8 = "P8 view agreement";
    std::map<std::uint64_t, const ViewRec*> first;
    for (const ViewRec& v : journal.views) {
        const auto [it, inserted] = first.emplace(v.epoch, &v);
        if (inserted) continue;
        if (sorted_unique(it->second->members) != sorted_unique(v.members)) {
            return Violation{kP8, "epoch " + std::to_string(v.epoch) + ": node " + std::to_string(it->second->node) +
                                      " installed view " + members_string(it->second->members) + " but node " +
                                      std::to_string(v.node) + " installed " + members_string(v.members)};
        }
    }
    for (const auto& [tx, te] : journal.tx_epochs) {
        const auto it = first.find(te.epoch);
        if (it == first.end()) continue;
        if (sorted_unique(it->second->members) != sorted_unique(te.members)) {
            return Violation{kP8, to_string(tx) + " is attributed to epoch " + std::to_string(te.epoch) +
                                      " with members " + members_string(te.members) + " but node " +
                                      std::to_string(it->second->node) + " installed that epoch as " +
                                      members_string(it->second->members)};
        }
    }
    return std::nullopt;
}

}  // namespace tricache::checker
