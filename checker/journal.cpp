#include "checker/journal.hpp"

#include <algorithm>

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

std::vector<std::uint32_t> sorted_unique(std::vector<std::uint32_t> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

}  // namespace

CheckResult check_agreement(const Journal& journal) {
    std::map<TxKey, const DecisionRec*> first;
    for (const DecisionRec& d : journal.decisions) {
        const auto [it, inserted] = first.emplace(d.tx, &d);
        if (inserted) continue;
        const DecisionRec& prev = *it->second;
        if (prev.commit != d.commit) {
            return Violation{"P1 agreement",
                             to_string(d.tx) + ": " + decision_name(prev) + " but " + decision_name(d)};
        }
        if (d.commit && prev.final_ts != d.final_ts) {
            return Violation{"P1 agreement", to_string(d.tx) + " committed with two final timestamps: " +
                                                 decision_name(prev) + " but " + decision_name(d)};
        }
    }
    return std::nullopt;
}

CheckResult check_validity(const Journal& journal, std::span<const NodeLog> logs) {
    constexpr const char* kP2 = "P2 validity";
    std::map<TxKey, std::vector<const VoteRec*>> votes;
    for (const VoteRec& v : journal.votes) votes[v.tx].push_back(&v);

    std::map<TxKey, const DecisionRec*> commits;
    std::map<TxKey, const DecisionRec*> aborts;
    for (const DecisionRec& d : journal.decisions) {
        if (!d.commit) {
            aborts.emplace(d.tx, &d);
            continue;
        }
        if (!commits.emplace(d.tx, &d).second) continue;  // each transaction once, in journal order
        const auto epoch = journal.tx_epochs.find(d.tx);
        if (epoch == journal.tx_epochs.end()) {
            return Violation{kP2, to_string(d.tx) + " was committed (" + decision_name(d) +
                                      ") but the journal knows no epoch or view for it"};
        }
        const auto tx_votes = votes.find(d.tx);
        for (const std::uint32_t member : sorted_unique(epoch->second.members)) {
            const VoteRec* yes = nullptr;
            const VoteRec* other = nullptr;
            if (tx_votes != votes.end()) {
                for (const VoteRec* v : tx_votes->second) {
                    if (v->node != member) continue;
                    if (v->yes && v->epoch == epoch->second.epoch) {
                        yes = v;
                    } else if (!other) {
                        other = v;
                    }
                }
            }
            if (yes) continue;
            std::string why = "no vote from it";
            if (other) {
                why = other->yes ? "its yes vote is for epoch " + std::to_string(other->epoch)
                                 : "it voted no (epoch " + std::to_string(other->epoch) + ")";
            }
            return Violation{kP2, to_string(d.tx) + " was committed (" + decision_name(d) + ") but member " +
                                      std::to_string(member) + " of epoch " +
                                      std::to_string(epoch->second.epoch) + " view " +
                                      members_string(epoch->second.members) + " gave no yes vote: " + why};
        }
    }

    for (const NodeLog& log : logs) {
        for (std::size_t i = 0; i < log.entries.size(); ++i) {
            const LogEntry& e = log.entries[i];
            // Built only for a report: this runs for every delivery of every step.
            const auto where = [&] {
                return "node " + std::to_string(log.node) + " (incarnation " + std::to_string(log.incarnation) +
                       ") delivered " + to_string(e.tx) + " at index " + std::to_string(log.start_index + i);
            };
            const auto c = commits.find(e.tx);
            if (c == commits.end()) {
                const auto a = aborts.find(e.tx);
                return Violation{kP2, where() + " but " +
                                          (a != aborts.end() ? decision_name(*a->second) + " and no node committed it"
                                                             : std::string("the journal has no commit for it"))};
            }
            if (c->second->final_ts != e.final_ts) {
                return Violation{kP2, where() + " with final_ts " + to_string(e.final_ts) + " but " +
                                          decision_name(*c->second)};
            }
            const auto epoch = journal.tx_epochs.find(e.tx);
            if (epoch != journal.tx_epochs.end() && epoch->second.epoch != e.epoch) {
                return Violation{kP2, where() + " in epoch " + std::to_string(e.epoch) +
                                          " but the journal puts it in epoch " +
                                          std::to_string(epoch->second.epoch)};
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
