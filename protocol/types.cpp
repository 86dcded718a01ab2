#include "protocol/types.hpp"

namespace tricache::protocol {

std::string to_string(const Timestamp& ts) {
    return "(" + std::to_string(ts.counter) + "," + std::to_string(ts.node) + ")";
}

std::string to_string(const Ballot& b) {
    return "b(" + std::to_string(b.counter) + "," + std::to_string(b.node) + ")";
}

std::string to_string(const TxId& tx) {
    return "t" + std::to_string(tx.coordinator) + "." + std::to_string(tx.incarnation) + "." + std::to_string(tx.seq);
}

}  // namespace tricache::protocol
