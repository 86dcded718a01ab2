// Small helpers shared by the engine's source files (not part of its interface).
#pragma once

#include <cstdint>

#include "coordinator/engine.hpp"

namespace tricache::coordinator::detail {

inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) { return a > ~b ? ~std::uint64_t{0} : a + b; }

inline bool is_undecided(protocol::TxState s) {
    using protocol::TxState;
    return s == TxState::Waiting || s == TxState::PreCommitted || s == TxState::PreAborted;
}

}  // namespace tricache::coordinator::detail
