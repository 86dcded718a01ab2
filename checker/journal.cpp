#include "checker/journal.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <span>
#include <unordered_map>
#include <utility>

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

// A view's members sorted and without repeats. Views are small, so they are
// kept inline: these checks run for every commit and delivery, and a vector
// per call was most of their cost.
class MemberSet {
public:
    explicit MemberSet(std::span<const std::uint32_t> members) {
        std::uint32_t* first = inline_.data();
        if (members.size() > inline_.size()) {
            heap_.assign(members.begin(), members.end());
            first = heap_.data();
        } else {
            std::copy(members.begin(), members.end(), first);
        }
        std::sort(first, first + members.size());
        size_ = static_cast<std::size_t>(std::unique(first, first + members.size()) - first);
        data_ = first;
    }
    MemberSet(const MemberSet&) = delete;
    MemberSet& operator=(const MemberSet&) = delete;

    const std::uint32_t* begin() const { return data_; }
    const std::uint32_t* end() const { return data_ + size_; }
    friend bool operator==(const MemberSet& a, const MemberSet& b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end());
    }

private:
    std::array<std::uint32_t, 16> inline_{};
    std::vector<std::uint32_t> heap_;
    const std::uint32_t* data_ = nullptr;
    std::size_t size_ = 0;
};

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
    for (const std::uint32_t member : MemberSet(epoch->members)) {
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

CheckResult check_commit_acks(const DecisionRec& d, const TxEpoch* epoch, std::span<const AckRec> acks,
                              bool settled_by_closing_record) {
    if (settled_by_closing_record || epoch == nullptr) return std::nullopt;
    for (const std::uint32_t member : MemberSet(epoch->members)) {
        const bool acked = std::any_of(acks.begin(), acks.end(), [&](const AckRec& a) {
            return a.node == member && a.epoch == epoch->epoch;
        });
        if (acked) continue;
        return Violation{"P2 unanimous acks", to_string(d.tx) + " was committed (" + decision_name(d) +
                                                  ") before member " + std::to_string(member) + " of epoch " +
                                                  std::to_string(epoch->epoch) + " view " +
                                                  members_string(epoch->members) +
                                                  " acked its PreCommit, and no record closing that epoch commits it"};
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
    // One entry per transaction: its votes (a range of `by_tx`, in journal
    // order), its first commit and its first abort. One hash map and one flat
    // array instead of a vector of votes per transaction and a map per kind.
    constexpr std::uint32_t kNoVotes = std::numeric_limits<std::uint32_t>::max();
    struct TxInfo {
        std::uint32_t votes = kNoVotes;  // index into `offsets`
        const DecisionRec* commit = nullptr;
        const DecisionRec* abort = nullptr;
    };
    TxMap<TxInfo> info;
    info.reserve(journal.votes.size() + journal.decisions.size());
    std::vector<std::uint32_t> group(journal.votes.size());  // each vote's transaction
    std::vector<std::size_t> offsets;                        // votes per group, then where each group starts
    for (std::size_t i = 0; i < journal.votes.size(); ++i) {
        TxInfo& t = info[journal.votes[i].tx];
        if (t.votes == kNoVotes) {
            t.votes = static_cast<std::uint32_t>(offsets.size());
            offsets.push_back(0);
        }
        group[i] = t.votes;
        ++offsets[t.votes];
    }
    std::size_t start = 0;
    for (std::size_t& o : offsets) start += std::exchange(o, start);
    offsets.push_back(start);
    std::vector<VoteRec> by_tx(journal.votes.size());
    {
        std::vector<std::size_t> next(offsets.begin(), offsets.end() - 1);
        for (std::size_t i = 0; i < journal.votes.size(); ++i) by_tx[next[group[i]]++] = journal.votes[i];
    }
    const auto votes_of = [&](const TxInfo& t) -> std::span<const VoteRec> {
        if (t.votes == kNoVotes) return {};
        return std::span<const VoteRec>(by_tx).subspan(offsets[t.votes], offsets[t.votes + 1] - offsets[t.votes]);
    };
    const auto epoch_of = [&](const TxKey& tx) -> const TxEpoch* {
        const auto it = journal.tx_epochs.find(tx);
        return it == journal.tx_epochs.end() ? nullptr : &it->second;
    };

    for (const DecisionRec& d : journal.decisions) {
        TxInfo& t = info[d.tx];
        if (!d.commit) {
            if (t.abort == nullptr) t.abort = &d;
            continue;
        }
        if (t.commit != nullptr) continue;  // each transaction once, in journal order
        t.commit = &d;
        if (auto v = check_commit_votes(d, epoch_of(d.tx), votes_of(t))) return v;
    }

    for (const NodeLog& log : logs) {
        for (std::size_t i = 0; i < log.entries.size(); ++i) {
            const TxKey& tx = log.entries[i].tx;
            const auto t = info.find(tx);
            const DecisionRec* commit = t == info.end() ? nullptr : t->second.commit;
            const DecisionRec* abort = t == info.end() ? nullptr : t->second.abort;
            if (auto v = check_delivered(log, i, commit, abort, epoch_of(tx))) return v;
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
        if (!(MemberSet(it->second->members) == MemberSet(v.members))) {
            return Violation{kP8, "epoch " + std::to_string(v.epoch) + ": node " + std::to_string(it->second->node) +
                                      " installed view " + members_string(it->second->members) + " but node " +
                                      std::to_string(v.node) + " installed " + members_string(v.members)};
        }
    }
    for (const auto& [tx, te] : journal.tx_epochs) {
        const auto it = first.find(te.epoch);
        if (it == first.end()) continue;
        if (!(MemberSet(it->second->members) == MemberSet(te.members))) {
            return Violation{kP8, to_string(tx) + " is attributed to epoch " + std::to_string(te.epoch) +
                                      " with members " + members_string(te.members) + " but node " +
                                      std::to_string(it->second->node) + " installed that epoch as " +
                                      members_string(it->second->members)};
        }
    }
    return std::nullopt;
}

}  // namespace tricache::checker
