// Protocol values to the checker's own vocabulary. The checker deliberately
// shares no types with the engine; this file is the only bridge.
#pragma once

#include <vector>

#include "checker/types.hpp"
#include "coordinator/engine.hpp"
#include "protocol/messages.hpp"

namespace tricache::sim {

checker::Op to_checker(const protocol::Op& op);
std::vector<checker::Op> to_checker(const std::vector<protocol::Op>& ops);
checker::OpResult to_checker(const protocol::OpResult& result);
std::vector<checker::OpResult> to_checker(const std::vector<protocol::OpResult>& results);
checker::Command to_checker(const protocol::Command& command);
checker::TxKey to_checker(const protocol::TxId& tx);
checker::Stamp to_checker(const protocol::Timestamp& ts);
checker::LogEntry to_checker(const coordinator::DeliveredTx& delivered);

}  // namespace tricache::sim
