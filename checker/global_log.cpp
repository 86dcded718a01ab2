#include "checker/global_log.hpp"

#include <algorithm>
#include <cassert>
#include <tuple>

namespace tricache::checker {

namespace {

constexpr const char* kP3 = "P3 total order";

std::string log_name(std::uint32_t node, std::uint64_t incarnation) {
    return "node " + std::to_string(node) + " (incarnation " + std::to_string(incarnation) + ")";
}

std::string describe(const LogEntry& e) { return to_string(e.tx) + " f=" + to_string(e.final_ts); }

std::string command_name(const Command& c) {
    return "client " + std::to_string(c.client) + " request " + std::to_string(c.request) + " " + to_string(c.ops);
}

std::string entry_difference(const LogEntry& a, const LogEntry& b) {
    if (a.tx != b.tx) return "tx " + to_string(a.tx) + " vs " + to_string(b.tx);
    if (a.final_ts != b.final_ts) {
        return to_string(a.tx) + " with final_ts " + to_string(a.final_ts) + " vs " + to_string(b.final_ts);
    }
    if (a.epoch != b.epoch) {
        return to_string(a.tx) + " in epoch " + std::to_string(a.epoch) + " vs " + std::to_string(b.epoch);
    }
    if (a.commands.size() != b.commands.size()) {
        return to_string(a.tx) + " with " + std::to_string(a.commands.size()) + " commands vs " +
               std::to_string(b.commands.size());
    }
    for (std::size_t i = 0; i < a.commands.size(); ++i) {
        if (a.commands[i] != b.commands[i]) {
            return to_string(a.tx) + " command " + std::to_string(i) + ": " + command_name(a.commands[i]) + " vs " +
                   command_name(b.commands[i]);
        }
    }
    return "identical";
}

// Longest-reaching logs first, so the reference a report names is the log most
// likely to be right.
std::vector<const NodeLog*> canonical_order(std::span<const NodeLog> logs) {
    std::vector<const NodeLog*> out;
    out.reserve(logs.size());
    for (const NodeLog& l : logs) out.push_back(&l);
    std::stable_sort(out.begin(), out.end(), [](const NodeLog* a, const NodeLog* b) {
        const std::uint64_t ea = a->end_index();
        const std::uint64_t eb = b->end_index();
        return std::tie(a->start_index, eb, a->node, a->incarnation) <
               std::tie(b->start_index, ea, b->node, b->incarnation);
    });
    return out;
}

}  // namespace

CheckResult PrefixMonitor::place(const NodeLog& log, std::uint64_t index) {
    const LogEntry& entry = log.entries[index - log.start_index];
    if (index < slots_.size() && slots_[index]) {
        const Slot& have = *slots_[index];
        if (have.entry != entry) {
            return Violation{kP3, "logs fork at index " + std::to_string(index) + ": " +
                                      log_name(have.node, have.incarnation) + " has " +
                                      describe(have.entry) + ", " + log_name(log.node, log.incarnation) +
                                      " has " + describe(entry) + " (" + entry_difference(have.entry, entry) +
                                      ")"};
        }
        return std::nullopt;
    }
    if (const auto dup = tx_index_.find(entry.tx); dup != tx_index_.end()) {
        return Violation{kP3, to_string(entry.tx) + " delivered twice: at index " + std::to_string(dup->second) +
                                  " and at index " + std::to_string(index) + " (in " +
                                  log_name(log.node, log.incarnation) + ")"};
    }
    if (index > 0 && index - 1 < slots_.size() && slots_[index - 1]) {
        const Slot& prev = *slots_[index - 1];
        if (!(prev.entry.final_ts < entry.final_ts)) {
            return Violation{kP3, "final_ts does not increase at index " + std::to_string(index) + ": " +
                                      describe(prev.entry) + " at index " + std::to_string(index - 1) +
                                      ", then " + describe(entry) + " (in " +
                                      log_name(log.node, log.incarnation) + ")"};
        }
    }
    if (index + 1 < slots_.size() && slots_[index + 1]) {
        const Slot& next = *slots_[index + 1];
        if (!(entry.final_ts < next.entry.final_ts)) {
            return Violation{kP3, "final_ts does not increase at index " + std::to_string(index + 1) + ": " +
                                      describe(entry) + " at index " + std::to_string(index) + " (in " +
                                      log_name(log.node, log.incarnation) + "), then " + describe(next.entry)};
        }
    }
    if (index >= slots_.size()) slots_.resize(index + 1);
    slots_[index] = Slot{entry, log.node, log.incarnation};
    tx_index_.emplace(entry.tx, index);
    return std::nullopt;
}

CheckResult PrefixMonitor::merge(const NodeLog& log, std::uint64_t from_offset) {
    for (std::uint64_t off = from_offset; off < log.entries.size(); ++off) {
        if (auto v = place(log, log.start_index + off)) return v;
    }
    return std::nullopt;
}

CheckResult PrefixMonitor::observe(std::span<const NodeLog> logs) {
    for (const NodeLog* log : canonical_order(logs)) {
        auto [it, inserted] =
            seen_.try_emplace(std::make_pair(log->node, log->incarnation), Seen{log->start_index, 0});
        Seen& seen = it->second;
        if (!inserted && seen.start_index != log->start_index) {
            return Violation{kP3, "the log of " + log_name(log->node, log->incarnation) +
                                      " changed its start index from " + std::to_string(seen.start_index) +
                                      " to " + std::to_string(log->start_index)};
        }
        if (log->entries.size() < seen.verified) {
            return Violation{kP3, "the log of " + log_name(log->node, log->incarnation) + " shrank from " +
                                      std::to_string(seen.verified) + " to " +
                                      std::to_string(log->entries.size()) + " entries"};
        }
        if (auto v = merge(*log, seen.verified)) return v;
        seen.verified = log->entries.size();
    }
    return std::nullopt;
}

GlobalLogResult build_global_log(std::span<const NodeLog> logs) {
    GlobalLogResult out;
    PrefixMonitor merged;
    if (auto v = merged.observe(logs)) {
        out.violation = std::move(v);
        return out;
    }
    auto& slots = merged.slots_;
    std::uint64_t start = slots.size();
    for (const NodeLog& l : logs) {
        if (!l.entries.empty()) start = std::min(start, l.start_index);
    }
    if (start == slots.size()) start = 0;  // nothing delivered anywhere
    for (std::uint64_t i = start; i < slots.size(); ++i) {
        if (slots[i]) continue;
        std::uint64_t j = i;
        while (!slots[j]) ++j;  // the last slot is always filled
        out.violation = Violation{kP3, "indices [" + std::to_string(i) + ", " + std::to_string(j) +
                                           ") lie inside G = [" + std::to_string(start) + ", " +
                                           std::to_string(slots.size()) + ") but no log covers them"};
        return out;
    }
    out.log.start = start;
    out.log.entries.reserve(slots.size() - start);
    for (std::uint64_t i = start; i < slots.size(); ++i) out.log.entries.push_back(std::move(slots[i]->entry));
    return out;
}

CheckResult check_total_order(std::span<const NodeLog> logs) { return build_global_log(logs).violation; }

CheckResult check_prefix_comparable(std::span<const NodeLog> logs) { return PrefixMonitor{}.observe(logs); }

CheckResult check_epoch_cut(const GlobalLog& g) {
    for (std::size_t i = 1; i < g.entries.size(); ++i) {
        const LogEntry& prev = g.entries[i - 1];
        const LogEntry& cur = g.entries[i];
        if (cur.epoch < prev.epoch) {
            return Violation{"P4 epoch cut", "epoch goes back at index " + std::to_string(g.start + i) + ": " +
                                                 to_string(prev.tx) + " of epoch " + std::to_string(prev.epoch) +
                                                 " precedes " + to_string(cur.tx) + " of epoch " +
                                                 std::to_string(cur.epoch)};
        }
    }
    return std::nullopt;
}

}  // namespace tricache::checker
