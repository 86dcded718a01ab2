#include "sim/engine_monitor.hpp"

#include <string>

#include "coordinator/history.hpp"

namespace tricache::sim {

namespace {
constexpr const char* kP8 = "P8 engine monitor";  // ballots, epochs, clock, log order per incarnation
std::string at(protocol::NodeId node) { return "node " + std::to_string(node) + ": "; }
}  // namespace

EngineMonitor::StoreMark EngineMonitor::mark_of(const store::LruStore& store) {
    return StoreMark{&store, store.digest(), store.size(), store.bytes(), store.evictions()};
}

EngineMonitor::EngineMonitor(std::uint32_t nodes, bool deep) : seen_(nodes), deep_(deep) {}

checker::CheckResult EngineMonitor::after_call(protocol::NodeId node, const coordinator::Engine& engine,
                                               const std::vector<coordinator::DeliveredTx>& delivered,
                                               std::optional<std::uint64_t> snapshot_length) {
    Seen& s = seen_.at(node - 1);
    if (engine.vc_promised() < s.vc_promised) {
        return checker::Violation{kP8, at(node) + "view-change promise went back from " +
                                           protocol::to_string(s.vc_promised) + " to " +
                                           protocol::to_string(engine.vc_promised())};
    }
    s.vc_promised = engine.vc_promised();
    const protocol::View& view = engine.view();
    if (view.epoch != s.view.epoch || !coordinator::same_history(view, s.view)) {
        if (!coordinator::newer_record(view, s.view)) {
            return checker::Violation{kP8, at(node) + "installed epoch " + std::to_string(view.epoch) +
                                               " of history e" + std::to_string(view.history) + " after epoch " +
                                               std::to_string(s.view.epoch) + " of history e" +
                                               std::to_string(s.view.history) + ", which is not older"};
        }
        s.view.epoch = view.epoch;
        s.view.history = view.history;
        s.view.birth = view.birth;
    }
    if (snapshot_length) {  // the log continues from the snapshot's end
        s.log_length = *snapshot_length;
        s.last_final = protocol::Timestamp{};
    }
    if (engine.clock() < s.clock) {
        return checker::Violation{kP8, at(node) + "clock went back from " + std::to_string(s.clock) + " to " +
                                           std::to_string(engine.clock())};
    }
    s.clock = engine.clock();

    for (const auto& d : delivered) {
        if (d.index != s.log_length + 1) {
            return checker::Violation{kP8, at(node) + "delivered " + protocol::to_string(d.tx) + " as index " +
                                               std::to_string(d.index) + " after index " +
                                               std::to_string(s.log_length)};
        }
        if (s.last_final != protocol::Timestamp{} && !(s.last_final < d.final_ts)) {
            return checker::Violation{kP8, at(node) + "delivered " + protocol::to_string(d.tx) + " with f=" +
                                               protocol::to_string(d.final_ts) + " after one with f=" +
                                               protocol::to_string(s.last_final)};
        }
        // R-DELIVER: nothing undecided may sit below a delivered f. Keys only
        // grow and new proposals exceed the clock, so what is undecided now
        // and below f was already there when f was delivered.
        if (const auto min = engine.min_undecided_key(); min && *min < d.final_ts) {
            return checker::Violation{kP8, at(node) + "delivered " + protocol::to_string(d.tx) + " with f=" +
                                               protocol::to_string(d.final_ts) +
                                               " while holding an undecided transaction with key " +
                                               protocol::to_string(*min)};
        }
        s.log_length = d.index;
        s.last_final = d.final_ts;
    }
    if (engine.state().log_length() != s.log_length) {
        return checker::Violation{kP8, at(node) + "log length is " + std::to_string(engine.state().log_length()) +
                                           " but it reported " + std::to_string(s.log_length) +
                                           " delivered transactions"};
    }

    // The engine's own tables agree with each other (an orphaned pending entry
    // would otherwise surface only as an exception, or never).
    if (auto broken = engine.check_bookkeeping()) {
        return checker::Violation{"P8 engine bookkeeping", at(node) + *broken};
    }

    const auto& store = engine.state().store();
    const auto limits = store.limits();
    if (store.size() > limits.max_entries || store.bytes() > limits.max_bytes) {
        return checker::Violation{kP8, at(node) + "store holds " + std::to_string(store.size()) + " entries / " +
                                           std::to_string(store.bytes()) + " bytes over its limits " +
                                           std::to_string(limits.max_entries) + " / " +
                                           std::to_string(limits.max_bytes)};
    }
    if (deep_) {
        const StoreMark now = mark_of(store);
        if (needs_deep_check(s, now, !delivered.empty() || snapshot_length.has_value())) {
            if (!store.check_invariants()) {
                return checker::Violation{kP8, at(node) + "the store's internal invariants are broken"};
            }
            s.deep_checked = now;
        }
    }
    return std::nullopt;
}

}  // namespace tricache::sim
