#include "sim/log_chain.hpp"

#include <string>

#include "coordinator/hash.hpp"

namespace tricache::sim {

namespace {
constexpr const char* kP3 = "P3 total order";
}

LogChains::LogChains(std::uint32_t nodes) : nodes_(nodes), chain_{0} {}

checker::CheckResult LogChains::on_delivered(protocol::NodeId node, const coordinator::DeliveredTx& d,
                                             std::uint64_t tx_hash) {
    Running& r = nodes_.at(node - 1);
    r.hash = coordinator::Hasher{}.add(r.hash).add(tx_hash).value();
    r.length = d.index;
    if (chain_.size() == r.length) chain_.push_back(r.hash);
    if (r.length < chain_.size() && chain_[r.length] != r.hash) {
        return checker::Violation{kP3, "node " + std::to_string(node) + "'s log hash after " +
                                           std::to_string(r.length) + " transactions differs from the cluster's"};
    }
    return std::nullopt;
}

checker::CheckResult LogChains::on_snapshot(protocol::NodeId node, std::uint64_t log_length,
                                            std::uint64_t log_hash) {
    Running& r = nodes_.at(node - 1);
    r.length = log_length;
    r.hash = log_hash;
    if (log_length >= chain_.size()) {
        return checker::Violation{kP3, "node " + std::to_string(node) + " installed a snapshot at log length " +
                                           std::to_string(log_length) + " but no node has delivered that many (" +
                                           std::to_string(chain_.size() - 1) + ")"};
    }
    if (chain_[log_length] != log_hash) {
        return checker::Violation{kP3, "node " + std::to_string(node) + " installed a snapshot at log length " +
                                           std::to_string(log_length) + " whose log hash " +
                                           std::to_string(log_hash) + " is not the cluster's " +
                                           std::to_string(chain_[log_length])};
    }
    return std::nullopt;
}

checker::CheckResult LogChains::check_engine(protocol::NodeId node, std::uint64_t log_length,
                                             std::uint64_t log_hash) const {
    const Running& r = nodes_.at(node - 1);
    if (r.length != log_length || r.hash != log_hash) {
        return checker::Violation{"P8 engine monitor", "node " + std::to_string(node) + " reports log (" +
                                                           std::to_string(log_length) + ", " +
                                                           std::to_string(log_hash) + ") but its deliveries make (" +
                                                           std::to_string(r.length) + ", " +
                                                           std::to_string(r.hash) + ")"};
    }
    return std::nullopt;
}

}  // namespace tricache::sim
