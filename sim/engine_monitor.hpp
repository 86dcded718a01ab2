// Cheap checks of one engine's own invariants after each call into it (part of
// P8), per incarnation: its clock and its view-change promise never go back,
// it installs only newer views (R-HISTORY-ORDER: a later epoch of its history,
// or a newer history), its log grows one consecutive index at a
// time with strictly increasing final timestamps, it never delivers past an
// undecided transaction with a smaller key, its own bookkeeping agrees with
// itself (Engine::check_bookkeeping), and its store stays within its limits
// and internally consistent.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "checker/types.hpp"
#include "coordinator/engine.hpp"
#include "store/lru_store.hpp"

namespace tricache::sim {

class EngineMonitor {
public:
    // `deep`: also run the store's O(entries) self-check after every call
    // that may have changed the store (see needs_deep_check).
    EngineMonitor(std::uint32_t nodes, bool deep);

    // `delivered` is what this call delivered (from take_output);
    // `snapshot_length` the log length a snapshot installed in it set, if any.
    checker::CheckResult after_call(protocol::NodeId node, const coordinator::Engine& engine,
                                    const std::vector<coordinator::DeliveredTx>& delivered,
                                    std::optional<std::uint64_t> snapshot_length);
    // The node restarted: a new incarnation starts from nothing.
    void reset(protocol::NodeId node) { seen_.at(node - 1) = Seen{}; }

private:
    // What the store showed when its deep self-check last ran.
    struct StoreMark {
        const store::LruStore* store = nullptr;
        std::uint64_t digest = 0;
        std::uint64_t size = 0;
        std::uint64_t bytes = 0;
        std::uint64_t evictions = 0;
        friend bool operator==(const StoreMark&, const StoreMark&) = default;
    };
    static StoreMark mark_of(const store::LruStore& store);

    struct Seen {
        std::uint64_t clock = 0;
        std::uint64_t log_length = 0;
        protocol::Timestamp last_final;
        protocol::Ballot vc_promised;
        protocol::View view;  // the installed one; members unused
        std::optional<StoreMark> deep_checked;  // none: not since this incarnation started
    };
    // The store only changes when a transaction is applied or a snapshot (or
    // a rebootstrap's empty state) is installed; every such change shows in
    // the call's deliveries, its snapshot, or the store's O(1) summary. A call
    // that shows none of them left the store as the last deep check saw it.
    static bool needs_deep_check(const Seen& s, const StoreMark& now, bool changed_log) {
        return changed_log || !s.deep_checked || *s.deep_checked != now;
    }
    std::vector<Seen> seen_;  // by node - 1
    bool deep_;
};

}  // namespace tricache::sim
