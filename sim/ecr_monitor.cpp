#include "sim/ecr_monitor.hpp"

#include <map>
#include <string>

namespace tricache::sim {

namespace {

constexpr const char* kDecide = "P8 R-VC-DECIDE";

// What the promisers together report of one transaction.
struct Reported {
    const protocol::TxReport* commit = nullptr;  // a C or PC report (the first)
    protocol::NodeId commit_by = 0;
};

}  // namespace

checker::CheckResult check_ecr_proposal(protocol::NodeId proposer, const coordinator::EcrProposedEvent& e) {
    const std::string who = "node " + std::to_string(proposer) + " proposed at ballot " +
                            protocol::to_string(e.ballot) + " for epoch " + std::to_string(e.closes) + " a record ";
    const protocol::EpochClosingRecord& ecr = e.ecr;
    if (ecr.closes != e.closes || ecr.next.epoch != e.closes + 1) {
        return checker::Violation{kDecide, who + "closing epoch " + std::to_string(ecr.closes) + " and naming epoch " +
                                               std::to_string(ecr.next.epoch)};
    }

    // Paxos: the value accepted at the highest ballot among the promises.
    const coordinator::PromiseSeen* best = nullptr;
    for (const auto& p : e.promises) {
        if (p.promise.ballot != e.ballot) {
            return checker::Violation{kDecide, who + "counting node " + std::to_string(p.node) +
                                                   "'s promise of ballot " + protocol::to_string(p.promise.ballot)};
        }
        const auto& acc = p.promise.accepted_ecr;
        if (!acc || acc->closes != e.closes) continue;
        if (best != nullptr && p.promise.accepted == best->promise.accepted && *acc != *best->promise.accepted_ecr) {
            return checker::Violation{kDecide, "nodes " + std::to_string(best->node) + " and " +
                                                   std::to_string(p.node) + " accepted two records at ballot " +
                                                   protocol::to_string(p.promise.accepted) + " for epoch " +
                                                   std::to_string(e.closes)};
        }
        if (best == nullptr || p.promise.accepted > best->promise.accepted) best = &p;
    }
    if (best != nullptr) {
        if (ecr == *best->promise.accepted_ecr) return std::nullopt;
        std::string got = "that is none of those accepted";
        for (const auto& p : e.promises) {
            if (p.promise.accepted_ecr && *p.promise.accepted_ecr == ecr) {
                got = "accepted at ballot " + protocol::to_string(p.promise.accepted) + " (node " +
                      std::to_string(p.node) + "'s promise)";
                break;
            }
        }
        return checker::Violation{kDecide, who + got + ", but node " + std::to_string(best->node) +
                                               "'s promise carries the record accepted at the highest ballot, " +
                                               protocol::to_string(best->promise.accepted)};
    }

    // Nothing accepted: the record is built from the reports.
    std::map<protocol::TxId, Reported> seen;
    for (const auto& p : e.promises) {
        for (const protocol::TxReport& r : p.promise.reports) {
            Reported& s = seen[r.tx];
            const bool commits = r.state == protocol::TxState::Committed || r.state == protocol::TxState::PreCommitted;
            if (commits && s.commit == nullptr) {
                s.commit = &r;
                s.commit_by = p.node;
            }
        }
    }
    std::map<protocol::TxId, const protocol::CommittedTx*> committed;
    for (std::size_t i = 0; i < ecr.committed.size(); ++i) {
        const protocol::CommittedTx& c = ecr.committed[i];
        if (i > 0 && !(ecr.committed[i - 1].final_ts < c.final_ts)) {
            return checker::Violation{kDecide, who + "whose committed list is not in final-timestamp order at " +
                                                   protocol::to_string(c.tx)};
        }
        if (!(c.final_ts < ecr.next.base_ts)) {
            return checker::Violation{kDecide, who + "whose next view's base " + protocol::to_string(ecr.next.base_ts) +
                                                   " is not above " + protocol::to_string(c.tx) + "'s f=" +
                                                   protocol::to_string(c.final_ts)};
        }
        committed.emplace(c.tx, &c);
        const auto s = seen.find(c.tx);
        if (s == seen.end() || s->second.commit == nullptr) {
            return checker::Violation{kDecide, who + "committing " + protocol::to_string(c.tx) +
                                                   ", which no promiser reports committed or pre-committed"};
        }
        const protocol::TxReport& r = *s->second.commit;
        if (c.final_ts != r.final_ts || c.batch != r.batch) {
            return checker::Violation{kDecide, who + "committing " + protocol::to_string(c.tx) + " with f=" +
                                                   protocol::to_string(c.final_ts) + " but node " +
                                                   std::to_string(s->second.commit_by) + " reports f=" +
                                                   protocol::to_string(r.final_ts) +
                                                   (c.batch != r.batch ? " and another batch" : "")};
        }
    }
    std::map<protocol::TxId, bool> aborted;
    for (const protocol::TxId& a : ecr.aborted) {
        const auto s = seen.find(a);
        if (s == seen.end()) {
            return checker::Violation{kDecide, who + "aborting " + protocol::to_string(a) + ", which no promiser reports"};
        }
        if (s->second.commit != nullptr) {
            return checker::Violation{kDecide, who + "aborting " + protocol::to_string(a) + ", which node " +
                                                   std::to_string(s->second.commit_by) +
                                                   " reports committed or pre-committed"};
        }
        aborted.emplace(a, true);
    }
    for (const auto& [tx, s] : seen) {
        if (s.commit != nullptr && committed.count(tx) == 0) {
            return checker::Violation{kDecide, who + "that does not commit " + protocol::to_string(tx) + ", which node " +
                                                   std::to_string(s.commit_by) + " reports committed or pre-committed"};
        }
        if (s.commit == nullptr && aborted.count(tx) == 0) {
            return checker::Violation{kDecide, who + "that does not settle " + protocol::to_string(tx) +
                                                   ", which the promisers report only waiting or aborted"};
        }
    }
    for (const auto& p : e.promises) {
        bool named = false;
        for (const auto& m : ecr.next.members) named = named || (m.node == p.node && m.incarnation == p.incarnation);
        if (!named) {
            return checker::Violation{kDecide, who + "whose next view leaves out promiser node " +
                                                   std::to_string(p.node) + " (incarnation " +
                                                   std::to_string(p.incarnation) + ")"};
        }
    }
    return std::nullopt;
}

}  // namespace tricache::sim
