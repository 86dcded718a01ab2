#include "checker/checks.hpp"

#include <algorithm>
#include <cassert>
#include <tuple>
#include <utility>

#include "checker/replay.hpp"

namespace tricache::checker {

namespace {

constexpr const char* kP5 = "P5 convergence";
constexpr const char* kP6 = "P6 no acknowledged write lost";
constexpr const char* kP7 = "P7 linearizability";
constexpr const char* kP7Local = "P7 local read";

using ReqKey = std::pair<std::uint64_t, std::uint64_t>;

std::string op_name(const LogicalOp& op) {
    return "client " + std::to_string(op.client) + " request " + std::to_string(op.request) + " " +
           to_string(op.ops);
}

std::string position(const GlobalLog& g, const AppliedCommand& ac) {
    return "G[" + std::to_string(ac.index) + "] " + to_string(g.entries[ac.index - g.start].tx) + " command " +
           std::to_string(ac.command);
}

std::vector<KeyProbe> local_read_probes(const History& history) {
    std::vector<KeyProbe> probes;
    probes.reserve(history.local_reads().size());
    for (const LocalRead& r : history.local_reads()) probes.push_back(KeyProbe{r.delivered, r.key});
    return probes;
}

std::vector<const FinalNodeState*> by_node(std::span<const FinalNodeState> finals) {
    std::vector<const FinalNodeState*> out;
    for (const FinalNodeState& f : finals) out.push_back(&f);
    std::stable_sort(out.begin(), out.end(),
                     [](const FinalNodeState* a, const FinalNodeState* b) { return a->node < b->node; });
    return out;
}

CheckResult final_matches_replay(const FinalNodeState& reference, const Contents& replayed) {
    if (auto diff = describe_difference(replayed, reference.contents)) {
        return Violation{kP6, "node " + std::to_string(reference.node) +
                                  "'s final store differs from replaying G on the reference LRU: " + *diff};
    }
    return std::nullopt;
}

CheckResult convergence_with_log(std::span<const FinalNodeState> finals, const GlobalLog& g) {
    if (auto v = check_convergence(finals)) return v;
    for (const FinalNodeState* f : by_node(finals)) {
        if (f->log_length != g.end_index()) {
            return Violation{kP5, "node " + std::to_string(f->node) + " delivered " +
                                      std::to_string(f->log_length) + " transactions but G holds " +
                                      std::to_string(g.end_index())};
        }
    }
    return std::nullopt;
}

// P6, first half, over the history's operations in operations() order.
CheckResult acknowledged_in_log(std::span<const LogicalOp* const> ops, const GlobalLog& g) {
    // A sorted vector, not a hash set: one allocation for every command of G.
    std::vector<ReqKey> in_log;
    for (const LogEntry& e : g.entries) {
        for (const Command& c : e.commands) in_log.emplace_back(c.client, c.request);
    }
    std::sort(in_log.begin(), in_log.end());
    for (const LogicalOp* op : ops) {
        if (op->outcome() != Outcome::Ok || !op->has_write()) continue;
        if (!std::binary_search(in_log.begin(), in_log.end(), ReqKey{op->client, op->request})) {
            return Violation{kP6, op_name(*op) + " was acknowledged Ok at t=" + std::to_string(*op->first_ok) +
                                      " but no log holds it (G = [" + std::to_string(g.start) + ", " +
                                      std::to_string(g.end_index()) + "))"};
        }
    }
    return std::nullopt;
}

// `ops`: history.operations(), which the caller may have at hand already.
CheckResult linearizable_with(const History& history, std::span<const LogicalOp* const> ops, const GlobalLog& g,
                              const Replay& replay, LinearizabilityStats* stats) {
    LinearizabilityStats local;
    LinearizabilityStats& st = stats ? *stats : local;
    st = LinearizabilityStats{};
    const auto& cmds = replay.commands();
    st.commands_in_log = cmds.size();

    // (a) every command of G is an invoked, not-failed operation, applied once.
    // first[position of op]: its effective application, an ordinal into cmds (kAbsent: not in G).
    constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);
    std::vector<std::size_t> first(history.size(), kAbsent);
    const auto first_of = [&](const LogicalOp* op) -> std::size_t& { return first[history.position(op)]; };
    std::vector<const LogicalOp*> op_of(cmds.size(), nullptr);  // by ordinal, for (c)
    for (std::size_t ord = 0; ord < cmds.size(); ++ord) {
        const AppliedCommand& ac = cmds[ord];
        const Command& cmd = g.entries[ac.index - g.start].commands[ac.command];
        // Built only for a report: this runs for every command of G.
        const auto where_text = [&] { return position(g, ac); };
        if (cmd.client == kPurgeClient) continue;  // the engine's own purge (R-TTL-PURGE): no client invoked it
        const LogicalOp* op = history.find(cmd.client, cmd.request);
        if (!op) {
            return Violation{kP7, where_text() + " (client " + std::to_string(cmd.client) + " request " +
                                      std::to_string(cmd.request) + " " + to_string(cmd.ops) +
                                      ") was never invoked"};
        }
        if (op->ops != cmd.ops) {
            return Violation{kP7, where_text() + ": client " + std::to_string(cmd.client) + " request " +
                                      std::to_string(cmd.request) + " was invoked as " + to_string(op->ops) +
                                      " but G holds " + to_string(cmd.ops)};
        }
        if (op->outcome() == Outcome::Fail) {
            return Violation{kP7, op_name(*op) + " was reported Fail (definitely not applied) but is in G at " +
                                      where_text()};
        }
        op_of[ord] = op;
        std::size_t& effective = first_of(op);
        const bool inserted = effective == kAbsent;
        if (inserted) effective = ord;
        if (ac.duplicate) ++st.duplicates;
        if (!inserted && !ac.duplicate) {
            return Violation{kP7, op_name(*op) + " took effect twice: at " + position(g, cmds[effective]) +
                                      " and again at " + where_text() + " (beyond the retry window)"};
        }
    }

    for (const LogicalOp* op : ops) {
        const bool in_log = first_of(op) != kAbsent;
        switch (op->outcome()) {
            case Outcome::Ok:
                ++st.ok_operations;
                if (!in_log) {
                    return Violation{kP7, op_name(*op) + " was acknowledged Ok at t=" +
                                              std::to_string(*op->first_ok) + " but is not in G"};
                }
                if (op->conflicting_ok) {
                    return Violation{kP7, op_name(*op) + " was acknowledged twice with different results: " +
                                              to_string(*op->ok_results) + " at t=" +
                                              std::to_string(*op->first_ok) + ", " +
                                              to_string(op->conflicting_ok->second) + " at t=" +
                                              std::to_string(op->conflicting_ok->first)};
                }
                break;
            case Outcome::Info: ++(in_log ? st.info_in_log : st.info_absent); break;
            case Outcome::Fail: break;
        }
    }

    // (b) real time. Sweep invocations in time order, folding in every Ok reply
    // that came strictly earlier; the latest of those in G must precede.
    std::vector<const LogicalOp*> acked;
    for (const LogicalOp* op : ops) {
        if (op->outcome() == Outcome::Ok) acked.push_back(op);
    }
    std::stable_sort(acked.begin(), acked.end(), [](const LogicalOp* a, const LogicalOp* b) {
        return std::tie(*a->first_ok, a->client, a->request) < std::tie(*b->first_ok, b->client, b->request);
    });
    {
        std::size_t next = 0;
        const LogicalOp* latest = nullptr;
        std::size_t latest_ord = 0;
        for (const LogicalOp* b : ops) {
            const std::size_t fb = first_of(b);
            if (fb == kAbsent) continue;
            for (; next < acked.size() && *acked[next]->first_ok < b->first_invoke; ++next) {
                const std::size_t ord = first_of(acked[next]);
                assert(ord != kAbsent);  // every Ok operation is in G, checked above
                if (!latest || ord > latest_ord) {
                    latest = acked[next];
                    latest_ord = ord;
                }
            }
            if (latest && latest_ord > fb) {
                return Violation{kP7, op_name(*latest) + " was acknowledged Ok at t=" +
                                          std::to_string(*latest->first_ok) + ", before " + op_name(*b) +
                                          " was invoked at t=" + std::to_string(b->first_invoke) +
                                          ", yet G orders it later: " + position(g, cmds[latest_ord]) +
                                          " after " + position(g, cmds[fb])};
            }
        }
    }

    // (c) results of Ok operations, from their effective application.
    for (std::size_t ord = 0; ord < cmds.size(); ++ord) {
        const AppliedCommand& ac = cmds[ord];
        if (ac.duplicate) continue;
        const LogicalOp* op = op_of[ord];  // found in (a): the same (client, request); null for a purge
        if (op == nullptr) continue;
        if (op->outcome() != Outcome::Ok) continue;
        if (*op->ok_results != ac.results) {
            return Violation{kP7, op_name(*op) + " returned " + to_string(*op->ok_results) +
                                      " but replaying G gives " + to_string(ac.results) + " at " + position(g, ac)};
        }
    }

    // (d) local reads show the state of the prefix they claim.
    const auto& reads = history.local_reads();
    const auto& answers = replay.key_answers();
    st.local_reads = reads.size();
    for (std::size_t i = 0; i < reads.size(); ++i) {
        const LocalRead& r = reads[i];
        // Built only for a report: this runs for every local read.
        const auto what = [&] {
            return "local read of " + quote(r.key) + " at node " + std::to_string(r.node) + " during t=[" +
                   std::to_string(r.time_invoke) + "," + std::to_string(r.time_complete) + "] after " +
                   std::to_string(r.delivered) + " transactions";
        };
        if (!answers[i].reached) {
            return Violation{kP7Local, what() + ": G holds only " + std::to_string(g.end_index())};
        }
        const bool same = r.found ? answers[i].value && *answers[i].value == r.value : !answers[i].value;
        if (!same) {
            const std::optional<std::string> got = r.found ? std::optional<std::string>(r.value) : std::nullopt;
            return Violation{kP7Local, what() + " returned " + quote(got) + " but the state after G[0," +
                                           std::to_string(r.delivered) + ") holds " + quote(answers[i].value)};
        }
    }

    // Staleness, measured only: how far behind the acknowledged past a read was.
    std::vector<const LocalRead*> by_invoke;
    for (const LocalRead& r : reads) by_invoke.push_back(&r);
    std::stable_sort(by_invoke.begin(), by_invoke.end(),
                     [](const LocalRead* a, const LocalRead* b) { return a->time_invoke < b->time_invoke; });
    std::size_t next = 0;
    std::uint64_t acked_prefix = 0;  // transactions needed to contain every Ok op replied so far
    for (const LocalRead* r : by_invoke) {
        for (; next < acked.size() && *acked[next]->first_ok < r->time_invoke; ++next) {
            const std::size_t ord = first_of(acked[next]);
            assert(ord != kAbsent);
            acked_prefix = std::max(acked_prefix, cmds[ord].index + 1);
        }
        if (acked_prefix > r->delivered) {
            ++st.stale_local_reads;
            st.max_local_read_lag = std::max(st.max_local_read_lag, acked_prefix - r->delivered);
        }
    }
    return std::nullopt;
}

}  // namespace

CheckResult check_acknowledged_in_log(const History& history, const GlobalLog& g) {
    return acknowledged_in_log(history.operations(), g);
}

CheckResult check_convergence(std::span<const FinalNodeState> finals) {
    const auto nodes = by_node(finals);
    if (nodes.empty()) return std::nullopt;
    const FinalNodeState& ref = *nodes.front();
    const std::string ref_name = "node " + std::to_string(ref.node);
    for (std::size_t i = 1; i < nodes.size(); ++i) {
        const FinalNodeState& f = *nodes[i];
        const std::string name = "node " + std::to_string(f.node);
        if (f.log_length != ref.log_length) {
            return Violation{kP5, ref_name + " delivered " + std::to_string(ref.log_length) + " transactions, " +
                                      name + " delivered " + std::to_string(f.log_length)};
        }
        if (f.epoch != ref.epoch) {
            return Violation{kP5, ref_name + " is in epoch " + std::to_string(ref.epoch) + ", " + name +
                                      " in epoch " + std::to_string(f.epoch)};
        }
        if (auto diff = describe_difference(ref.contents, f.contents)) {
            return Violation{kP5, name + "'s store differs from " + ref_name + "'s: " + *diff};
        }
        if (f.digest != ref.digest) {
            return Violation{kP5, ref_name + " and " + name + " hold identical contents but digests " +
                                      std::to_string(ref.digest) + " and " + std::to_string(f.digest)};
        }
    }
    return std::nullopt;
}

CheckResult check_convergence(std::span<const FinalNodeState> finals, const GlobalLog& g, Limits limits) {
    if (auto v = convergence_with_log(finals, g)) return v;
    if (finals.empty()) return std::nullopt;
    const auto replay = Replay::run(g, limits);
    if (!replay) return std::nullopt;  // G starts past 0: the empty store is not its initial state
    return final_matches_replay(*by_node(finals).front(), replay->final_contents());
}

CheckResult check_linearizable(const History& history, const GlobalLog& g, Limits limits,
                               LinearizabilityStats* stats) {
    if (history.recording_error()) return history.recording_error();
    const auto probes = local_read_probes(history);
    const auto replay = Replay::run(g, limits, probes);
    if (!replay) {
        return Violation{kP7, "G starts at index " + std::to_string(g.start) +
                                  " (no log covers its beginning), so results cannot be replayed"};
    }
    return linearizable_with(history, history.operations(), g, *replay, stats);
}

CheckResult check_run(const RunRecord& run, LinearizabilityStats* stats) {
    return check_run(RunView{run.limits, run.logs, run.journal, run.history, run.finals}, stats);
}

CheckResult check_run(const RunView& run, LinearizabilityStats* stats) {
    if (run.history.recording_error()) return run.history.recording_error();
    if (auto v = check_agreement(run.journal)) return v;
    if (auto v = check_view_agreement(run.journal)) return v;
    if (auto v = check_validity(run.journal, run.logs)) return v;
    auto built = build_global_log(run.logs);
    if (built.violation) return built.violation;
    const GlobalLog& g = built.log;
    if (auto v = check_epoch_cut(g)) return v;
    const std::vector<const LogicalOp*> ops = run.history.operations();
    if (auto v = acknowledged_in_log(ops, g)) return v;

    const auto probes = local_read_probes(run.history);
    std::vector<std::uint64_t> snapshot_points;
    std::vector<const NodeLog*> snapshot_logs;
    for (const NodeLog& log : run.logs) {
        if (!log.snapshot) continue;
        snapshot_points.push_back(log.start_index);
        snapshot_logs.push_back(&log);
    }
    const auto replay = Replay::run(g, run.limits, probes, snapshot_points);
    if (replay) {
        for (std::size_t i = 0; i < snapshot_logs.size(); ++i) {
            const NodeLog& log = *snapshot_logs[i];
            const auto& at = replay->contents_answers()[i];
            const std::string who = "node " + std::to_string(log.node) + " (incarnation " +
                                    std::to_string(log.incarnation) + ") installed a snapshot at index " +
                                    std::to_string(log.start_index);
            if (!at) {
                return Violation{"P3 total order", who + " but G ends at " + std::to_string(g.end_index())};
            }
            if (auto diff = describe_difference(*at, *log.snapshot)) {
                return Violation{"P3 total order", who + " that differs from replaying G[0," +
                                                       std::to_string(log.start_index) + "): " + *diff};
            }
        }
    }

    if (auto v = convergence_with_log(run.finals, g)) return v;
    if (replay && !run.finals.empty()) {
        if (auto v = final_matches_replay(*by_node(run.finals).front(), replay->final_contents())) return v;
    }
    if (!replay) {
        return Violation{kP7, "G starts at index " + std::to_string(g.start) +
                                  " (no log covers its beginning), so results cannot be replayed"};
    }
    return linearizable_with(run.history, ops, g, *replay, stats);
}

}  // namespace tricache::checker
