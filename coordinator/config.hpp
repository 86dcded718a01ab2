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

    // Failures and view changes (spec section 8).
    std::uint64_t suspect_ms = 300;        // silence after which a member is suspected (R-SUSPECT)
    std::uint64_t vc_timeout_ms = 200;     // a view-change attempt not finished by then is retried (R-VC-RETRY)
    std::uint64_t vc_backoff_ms = 150;     // random back-off before a retry, drawn from `seed`
    std::uint64_t no_quorum_ms = 1000;     // view change this long without success: refuse with NO_QUORUM
    std::uint64_t join_retry_ms = 100;     // JoinReq and snapshot-request resend interval
    std::uint64_t snapshot_chunk_bytes = 64u << 10;
    // R-REBOOTSTRAP: how many lanes a rebootstrap's epoch is drawn from (1..256).
    // Fewer make two rebootstraps that never saw each other start at one epoch
    // more often; the simulator draws 1 to exercise R-HISTORY's tags.
    std::uint32_t rebootstrap_lanes = 256;
    std::uint32_t snapshot_window = 4;     // chunks sent per request

    // Expiry (R-TTL). The purger sends at most one purge per interval, of at most purge_max entries;
    // an interval of 0 sends none (tests that watch expiry without purges).
    std::uint64_t purge_interval_ms = 1000;
    std::uint32_t purge_max = 256;
    // R-TTL-STAMP: without a wall clock from the driver (set_wall_clock_ms), the
    // stamp is the time input plus this offset: the simulator's per-node clock skew.
    std::int64_t wall_offset_ms = 0;

    // Test-only: exists so a test can show why E3PC is needed. ClassicAnyPreCommitted is the
    // textbook 3PC termination protocol: the nodes the failure detector still sees (not a majority
    // of C) decide, and any PreCommitted report commits. Never set it outside tests.
    enum class TerminationRule : std::uint8_t { E3PC, ClassicAnyPreCommitted };
    TerminationRule termination_rule = TerminationRule::E3PC;

    std::uint64_t seed = 1;
    bool record_deliveries = false;  // the simulator wants every delivered transaction as output
};

}  // namespace tricache::coordinator
