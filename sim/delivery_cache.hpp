// What the simulator derives from one delivered transaction — its commands in
// the checker's vocabulary and its log-hash term — computed once and shared by
// every node that delivers the same transaction, instead of once per node.
// Both are functions of (tx, final timestamp, batch contents) alone; a
// delivery that differs in any of them (a divergent node) gets its own,
// freshly computed values, so the checks compare what each node delivered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "checker/types.hpp"
#include "coordinator/engine.hpp"
#include "sim/tx_hash.hpp"

namespace tricache::sim {

class DeliveryCache {
public:
    struct Derived {
        checker::Commands commands;  // to_checker of the batch
        std::uint64_t tx_hash = 0;   // coordinator::hash_transaction(tx, final_ts, batch)
    };

    const Derived& get(const coordinator::DeliveredTx& d);

private:
    struct Slot {
        protocol::Timestamp final_ts;
        coordinator::BatchPtr batch;  // kept alive, so an equal pointer is the same batch
        Derived derived;
    };
    struct TxHash {
        std::size_t operator()(const protocol::TxId& t) const noexcept {
            return sim::tx_hash(t.coordinator, t.incarnation, t.seq);
        }
    };
    std::unordered_map<protocol::TxId, Slot, TxHash> slots_;
};

}  // namespace tricache::sim
