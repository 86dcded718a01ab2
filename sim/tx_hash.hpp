// One hash of a transaction id for the simulator's hash maps (protocol::TxId
// and checker::TxKey name a transaction by the same three numbers).
#pragma once

#include <cstddef>
#include <cstdint>

#include "coordinator/hash.hpp"

namespace tricache::sim {

inline std::size_t tx_hash(std::uint32_t coordinator, std::uint64_t incarnation, std::uint64_t seq) {
    return static_cast<std::size_t>(coordinator::mix64((std::uint64_t{coordinator} << 48) ^ (incarnation << 32) ^ seq));
}

}  // namespace tricache::sim
