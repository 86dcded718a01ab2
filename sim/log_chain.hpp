// Follows every node's log hash chain (the same chain the engine keeps) and
// remembers, per absolute log index, the chain value the first node to get
// there had. A snapshot install must name a (length, hash) pair on that chain:
// the joiner's prefix is the cluster's prefix (P3 at the snapshot point).
#pragma once

#include <cstdint>
#include <vector>

#include "checker/types.hpp"
#include "coordinator/engine.hpp"

namespace tricache::sim {

class LogChains {
public:
    explicit LogChains(std::uint32_t nodes);

    // `tx_hash`: coordinator::hash_transaction of the delivery (the caller may have it already).
    checker::CheckResult on_delivered(protocol::NodeId node, const coordinator::DeliveredTx& d, std::uint64_t tx_hash);
    checker::CheckResult on_snapshot(protocol::NodeId node, std::uint64_t log_length, std::uint64_t log_hash);
    // The node restarted with an empty log.
    void reset(protocol::NodeId node) { nodes_.at(node - 1) = Running{}; }
    // The node's chain must equal what its engine reports.
    checker::CheckResult check_engine(protocol::NodeId node, std::uint64_t log_length, std::uint64_t log_hash) const;

private:
    struct Running {
        std::uint64_t length = 0;
        std::uint64_t hash = 0;
    };
    std::vector<Running> nodes_;         // by node - 1
    std::vector<std::uint64_t> chain_;  // chain_[i]: hash after the first i transactions
};

}  // namespace tricache::sim
