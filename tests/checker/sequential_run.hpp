// Test helper: a hand-driven, fault-free cluster that runs transactions one at
// a time on the reference model and records everything the checker consumes.
// Tests then break one piece of the record and expect a named violation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checker/checks.hpp"
#include "checker/reference_lru.hpp"

namespace tricache::checker::testing {

// One recorded event. A tagged struct rather than std::variant: GCC 12 raises
// false maybe-uninitialized warnings on variants of these aggregates.
struct Event {
    enum class Kind : std::uint8_t { Invoke, Complete, LocalRead };
    Kind kind = Kind::Invoke;
    Invoke invoke;
    Complete complete;
    LocalRead read;

    Event(Invoke i) : kind(Kind::Invoke), invoke(std::move(i)) {}        // NOLINT: implicit on purpose
    Event(Complete c) : kind(Kind::Complete), complete(std::move(c)) {}  // NOLINT
    Event(LocalRead r) : kind(Kind::LocalRead), read(std::move(r)) {}    // NOLINT
};

inline History build_history(const std::vector<Event>& events) {
    History h;
    for (const Event& e : events) {
        CheckResult r;
        switch (e.kind) {
            case Event::Kind::Invoke: r = h.record_invoke(e.invoke); break;
            case Event::Kind::Complete: r = h.record_complete(e.complete); break;
            case Event::Kind::LocalRead: r = h.record_local_read(e.read); break;
        }
        (void)r;  // the History keeps the first error itself
    }
    return h;
}

inline Command cmd(std::uint64_t client, std::uint64_t request, std::vector<Op> ops) {
    return Command{client, request, std::move(ops)};
}

class SequentialRun {
public:
    explicit SequentialRun(Limits limits, std::uint32_t nodes = 3) : limits_(limits), model_(limits) {
        for (std::uint32_t n = 1; n <= nodes; ++n) {
            members_.insert(n);
            incarnation_[n] = 1;
            live_log_[n] = logs.size();
            logs.push_back(NodeLog{n, 1, 0, {}, std::nullopt});
        }
        install_view();
        prefix_states_.push_back(model_.contents_mru_first());
    }

    // One transaction. Every command is invoked now and answered one tick after
    // delivery: Ok with the model's results, or Info for positions in `info`.
    // A command whose (client, request) was seen before is recorded as a retry.
    std::vector<std::vector<OpResult>> commit(const std::vector<Command>& commands,
                                              const std::set<std::size_t>& info = {}) {
        const std::uint64_t t = time_;
        for (const Command& c : commands) events.push_back(Invoke{t, c.client, c.request, coordinator(), c.ops});
        const std::uint32_t coord = coordinator();
        LogEntry entry{TxKey{coord, incarnation_[coord], ++seq_}, Stamp{10 * (g.size() + 1), coord}, epoch_,
                       commands};
        std::vector<std::vector<OpResult>> results;
        for (const auto& applied : model_.apply_log_entry(entry)) results.push_back(applied.results);
        record_commit(entry);
        for (std::size_t i = 0; i < commands.size(); ++i) {
            const Command& c = commands[i];
            const Outcome o = info.count(i) ? Outcome::Info : Outcome::Ok;
            events.push_back(Complete{t + 1, c.client, c.request, o, o == Outcome::Ok ? results[i]
                                                                                     : std::vector<OpResult>{}});
        }
        time_ += 2;
        return results;
    }

    // Invoked and rejected: never delivered.
    void fail(const Command& c) {
        events.push_back(Invoke{time_, c.client, c.request, coordinator(), c.ops});
        events.push_back(Complete{time_ + 1, c.client, c.request, Outcome::Fail, {}});
        time_ += 2;
    }

    // A local read at `node` seeing the first `delivered` transactions (default: all).
    void local_read(std::uint32_t node, const std::string& key, std::optional<std::uint64_t> delivered = {}) {
        const std::uint64_t d = delivered.value_or(g.size());
        std::optional<std::string> v;
        for (const auto& [k, val] : prefix_states_.at(d)) {
            if (k == key) v = val;
        }
        events.push_back(LocalRead{time_, time_ + 1, node, key, v.has_value(), v.value_or(""), d,
                                   logs[live_log_.at(node)].start_index});
        time_ += 2;
    }

    // View changes: a member leaves, or a restarted member rejoins by snapshot.
    void remove(std::uint32_t node) {
        members_.erase(node);
        live_log_.erase(node);
        install_view();
    }
    void rejoin(std::uint32_t node) {
        ++incarnation_[node];
        members_.insert(node);
        live_log_[node] = logs.size();
        logs.push_back(NodeLog{node, incarnation_[node], g.size(), {}, model_.contents_mru_first()});
        install_view();
    }

    RunRecord record() const {
        RunRecord r;
        r.limits = limits_;
        r.logs = logs;
        r.journal = journal;
        r.history = build_history(events);
        for (const auto& [node, idx] : live_log_) {
            r.finals.push_back(FinalNodeState{node, epoch_, model_.contents_mru_first(), 42, g.size()});
        }
        return r;
    }

    GlobalLog global() const { return GlobalLog{0, g}; }
    std::vector<std::uint32_t> members() const { return {members_.begin(), members_.end()}; }
    std::uint64_t start_of(std::uint32_t node) const { return logs[live_log_.at(node)].start_index; }
    const ReferenceLru& model() const { return model_; }
    std::uint64_t now() const { return time_; }
    void advance(std::uint64_t ticks) { time_ += ticks; }

    // The record, open for tests to break.
    std::vector<Event> events;
    std::vector<NodeLog> logs;
    Journal journal;
    std::vector<LogEntry> g;

private:
    std::uint32_t coordinator() const { return *members_.begin(); }

    void install_view() {
        ++epoch_;
        const std::vector<std::uint32_t> m(members_.begin(), members_.end());
        for (const std::uint32_t n : members_) journal.views.push_back(ViewRec{n, epoch_, m});
    }

    void record_commit(const LogEntry& entry) {
        const std::vector<std::uint32_t> m(members_.begin(), members_.end());
        journal.tx_epochs[entry.tx] = TxEpoch{epoch_, m};
        for (const std::uint32_t n : members_) journal.votes.push_back(VoteRec{n, entry.tx, true, epoch_});
        for (const std::uint32_t n : members_) journal.decisions.push_back(DecisionRec{n, entry.tx, true, entry.final_ts});
        g.push_back(entry);
        for (const auto& [node, idx] : live_log_) logs[idx].entries.push_back(entry);
        prefix_states_.push_back(model_.contents_mru_first());
    }

    Limits limits_;
    ReferenceLru model_;
    std::set<std::uint32_t> members_;
    std::map<std::uint32_t, std::uint64_t> incarnation_;
    std::map<std::uint32_t, std::size_t> live_log_;  // node -> index in logs
    std::vector<Contents> prefix_states_;            // contents after each prefix of g
    std::uint64_t epoch_ = 0;
    std::uint64_t seq_ = 0;
    std::uint64_t time_ = 1;
};

}  // namespace tricache::checker::testing
