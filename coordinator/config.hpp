// Everything an engine is told at construction. No clocks, no sockets: time
// arrives with every call, and randomness only from `seed`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/types.hpp"
#include "store/lru_store.hpp"

namespace tricache::coordinator {

struct EngineConfig {
    protocol::NodeId self = 0;
    std::string cluster_id = "tricache";
    std::vector<protocol::NodeId> cluster;  // C: static, sorted, includes self
    store::Limits store_limits{1024, 64u << 20};

    // Admission (R-ADMIT-SIZE, R-ADMIT-OVERLOAD).
    std::uint64_t max_key_bytes = 1024;
    std::uint64_t max_value_bytes = 1u << 20;
    std::uint64_t max_ops_per_request = 256;
    std::uint64_t max_queued_requests = 100000;

    // Batching and pipelining (R-BATCH).
    std::uint32_t max_batch_commands = 64;
    std::uint64_t max_batch_bytes = 1u << 20;
    std::uint32_t max_in_flight = 8;
    std::uint32_t max_undecided = 4096;  // beyond it a participant votes no OVERLOADED

    // Timers, in milliseconds of the caller's monotonic clock.
    std::uint64_t resend_ms = 40;
    std::uint64_t heartbeat_ms = 25;
    std::uint64_t query_ms = 150;
    std::uint64_t client_timeout_ms = 5000;

    std::uint64_t seed = 1;
    bool record_deliveries = false;  // the simulator wants every delivered transaction as output
};

}  // namespace tricache::coordinator
