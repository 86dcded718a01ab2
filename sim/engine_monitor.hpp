// Cheap checks of one engine's own invariants after each call into it (part of
// P8), per incarnation: its clock, its view-change promise and its installed
// epoch never go back, its log grows one consecutive index at a
// time with strictly increasing final timestamps, it never delivers past an
// undecided transaction with a smaller key, and its store stays within its
// limits and internally consistent.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "checker/types.hpp"
#include "coordinator/engine.hpp"

namespace tricache::sim {

class EngineMonitor {
public:
    // `deep`: also run the store's O(entries) self-check after every call.
    EngineMonitor(std::uint32_t nodes, bool deep);

    // `delivered` is what this call delivered (from take_output);
    // `snapshot_length` the log length a snapshot installed in it set, if any.
    checker::CheckResult after_call(protocol::NodeId node, const coordinator::Engine& engine,
                                    const std::vector<coordinator::DeliveredTx>& delivered,
                                    std::optional<std::uint64_t> snapshot_length);
    // The node restarted: a new incarnation starts from nothing.
    void reset(protocol::NodeId node) { seen_.at(node - 1) = Seen{}; }

private:
    struct Seen {
        std::uint64_t clock = 0;
        std::uint64_t log_length = 0;
        protocol::Timestamp last_final;
        protocol::Ballot vc_promised;
        protocol::Epoch epoch = 0;
    };
    std::vector<Seen> seen_;  // by node - 1
    bool deep_;
};

}  // namespace tricache::sim
