#include "sim/run_config.hpp"

#include <cstdio>

namespace tricache::sim {

namespace {

enum Stream : std::uint64_t {
    kLoss = 101,
    kDup,
    kDelay,
    kClog,
    kPause,
    kCodec,
    kLimits,
    kWindows,
    kClients,
    kWorkload,
    kTimers,
    kTopology,
    kCrash,
    kLongPause,
    kDetector,
    kTotalLoss,  // appended: a new stream never shifts the draws of the others
    kIsolation,
    kLanes,
    kExpiry,  // R-TTL: expiry ops and wall-clock skew
};

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

}  // namespace

RunConfig plain_config(std::uint64_t seed, std::uint32_t nodes) {
    RunConfig c;
    c.seed = seed;
    c.cluster.seed = seed;
    c.cluster.nodes = nodes;
    c.workload.too_large_value = c.cluster.store_limits.max_bytes;
    return c;
}

RunConfig swarm_config(std::uint64_t seed, std::uint32_t nodes) {
    RunConfig c = plain_config(seed, nodes);
    auto stream = [&](Stream s) { return Rng(derive_seed(seed, s)); };
    {
        Rng r = stream(kLoss);
        c.faults.loss = r.chance(0.4) ? 0.0 : r.unit() * 0.25;
    }
    {
        Rng r = stream(kDup);
        c.faults.duplicate = r.chance(0.5) ? 0.0 : r.unit() * 0.15;
    }
    {
        Rng r = stream(kDelay);
        constexpr std::uint64_t kDelays[] = {1, 2, 5, 10, 30, 80};
        c.faults.delay_max_ms = kDelays[r.below(6)];
    }
    {
        Rng r = stream(kClog);
        if (r.chance(0.5)) {
            c.faults.clog_rate = 0.001 + r.unit() * 0.02;
            c.faults.clog_max_ms = r.between(10, 400);
        }
    }
    {
        Rng r = stream(kPause);
        if (r.chance(0.5)) {
            c.faults.pause_rate = 0.0005 + r.unit() * 0.005;
            c.faults.pause_max_ms = r.between(10, 1500);
        }
    }
    {
        Rng r = stream(kCodec);
        c.cluster.codec_rate = 0.05 + r.unit() * 0.45;
    }
    {
        Rng r = stream(kLimits);
        c.cluster.store_limits.max_entries = r.between(3, 8);
        c.cluster.store_limits.max_bytes = r.between(200, 600);
        c.workload.too_large_value = c.cluster.store_limits.max_bytes;
    }
    {
        Rng r = stream(kWindows);
        constexpr std::uint32_t kInFlight[] = {1, 2, 4, 8};
        constexpr std::uint32_t kBatch[] = {1, 3, 64};
        c.cluster.max_in_flight = kInFlight[r.below(4)];
        c.cluster.max_batch_commands = kBatch[r.below(3)];
    }
    {
        Rng r = stream(kClients);
        c.cluster.clients = static_cast<std::uint32_t>(r.between(1, 8));
        c.request_rate = 0.02 + r.unit() * 0.3;
        c.retry_rate = r.unit();
    }
    {
        Rng r = stream(kWorkload);
        c.workload.keys = static_cast<std::uint32_t>(r.between(4, 10));
        c.workload.max_value_len = static_cast<std::uint32_t>(r.between(4, 60));
    }
    {
        Rng r = stream(kExpiry);
        if (r.chance(0.6)) {
            c.workload.w_ttl = static_cast<std::uint32_t>(r.between(3, 20));
            c.workload.max_ttl_ms = r.between(20, 600);
        }
        c.cluster.max_wall_skew_ms = r.chance(0.7) ? r.between(0, 3000) : 0;
    }
    {
        Rng r = stream(kTimers);
        c.cluster.resend_ms = r.between(15, 80);
        c.cluster.heartbeat_ms = r.between(10, 50);
        c.cluster.query_ms = r.between(60, 300);
        c.cluster.client_timeout_ms = r.between(400, 2000);
        c.cluster.max_skew_ms = r.between(0, 20);
    }
    {
        // Realistic detector timeouts relative to the heartbeat, so that
        // partitions, crashes and long pauses end in view changes.
        Rng r = stream(kDetector);
        c.cluster.suspect_ms = c.cluster.heartbeat_ms * r.between(4, 12);
        c.cluster.vc_timeout_ms = r.between(100, 400);
        c.cluster.vc_backoff_ms = r.between(50, 300);
        c.cluster.no_quorum_ms = r.between(500, 1500);
        c.cluster.join_retry_ms = r.between(50, 200);
        c.cluster.snapshot_chunk_bytes = r.between(64, 1024);
    }
    {
        Rng r = stream(kTopology);
        if (r.chance(0.6)) {
            c.faults.topology_max_ms = r.between(100, 1500);
            c.faults.partition_rate = r.chance(0.7) ? 0.0002 + r.unit() * 0.002 : 0.0;
            c.faults.cut_rate = r.chance(0.5) ? 0.0002 + r.unit() * 0.002 : 0.0;
            c.faults.bridge_rate = r.chance(0.4) ? 0.0002 + r.unit() * 0.0015 : 0.0;
        }
    }
    {
        Rng r = stream(kCrash);
        if (r.chance(0.5)) {
            c.faults.crash_rate = 0.0002 + r.unit() * 0.002;
            c.faults.restart_min_ms = r.between(0, 300);
            c.faults.restart_max_ms = c.faults.restart_min_ms + r.between(0, 1200);
        }
    }
    {
        Rng r = stream(kLongPause);
        if (r.chance(0.4)) c.faults.long_pause_rate = 0.0002 + r.unit() * 0.001;
    }
    {
        // Total failure (R-TOTAL-LOSS, R-DATA-LOSS): crashes are not limited,
        // and they come often and restart soon, so that a majority is often
        // without memory at once (a restarted node stays so until a view
        // change re-adds it). The run's operator then rebootstraps.
        Rng r = stream(kTotalLoss);
        if (r.chance(0.12)) {
            c.cluster.allow_total_loss = true;
            c.faults.crash_rate = 0.002 + r.unit() * 0.008;
            c.faults.restart_min_ms = r.between(0, 100);
            c.faults.restart_max_ms = c.faults.restart_min_ms + r.between(50, 600);
        }
    }
    if (c.cluster.allow_total_loss) {
        // R-HISTORY: one lane, so that rebootstraps which never saw each
        // other start at one epoch, and only their tags tell them apart.
        Rng r = stream(kLanes);
        if (r.chance(0.25)) c.cluster.rebootstrap_lanes = 1;
    }
    {
        // R-IN-DOUBT: a coordinator that misses the record deciding its own
        // transaction, its client retrying there, CAS on few keys.
        Rng r = stream(kIsolation);
        if (r.chance(0.3)) {
            c.faults.isolate_coordinator_rate = 0.002 + r.unit() * 0.03;
            c.faults.churn_on_isolation = r.chance(0.6);
            c.retry_same_node = r.unit();
            if (r.chance(0.5)) c.workload.keys = static_cast<std::uint32_t>(r.between(1, 3));
        }
    }
    return c;
}

std::string describe(const RunConfig& c) {
    const auto& o = c.cluster;
    return "nodes=" + std::to_string(o.nodes) + " loss=" + fmt(c.faults.loss) + " dup=" + fmt(c.faults.duplicate) +
           " delay_max=" + std::to_string(c.faults.delay_max_ms) + "ms clog=" + fmt(c.faults.clog_rate) + "/ms<=" +
           std::to_string(c.faults.clog_max_ms) + "ms pause=" + fmt(c.faults.pause_rate) + "/ms<=" +
           std::to_string(c.faults.pause_max_ms) + "ms codec=" + fmt(o.codec_rate) +
           " store=" + std::to_string(o.store_limits.max_entries) + "e/" + std::to_string(o.store_limits.max_bytes) +
           "B in_flight=" + std::to_string(o.max_in_flight) + " batch=" + std::to_string(o.max_batch_commands) +
           " clients=" + std::to_string(o.clients) + " rate=" + fmt(c.request_rate) +
           "/ms retry=" + fmt(c.retry_rate) + " keys=" + std::to_string(c.workload.keys) +
           " vlen<=" + std::to_string(c.workload.max_value_len) + " ttl=" + std::to_string(c.workload.w_ttl) + "/" +
           std::to_string(c.workload.max_ttl_ms) + "ms wall_skew<=" + std::to_string(o.max_wall_skew_ms) + "ms resend=" + std::to_string(o.resend_ms) +
           "ms hb=" + std::to_string(o.heartbeat_ms) + "ms query=" + std::to_string(o.query_ms) +
           "ms ctimeout=" + std::to_string(o.client_timeout_ms) + "ms skew<=" + std::to_string(o.max_skew_ms) +
           "ms suspect=" + std::to_string(o.suspect_ms) + "ms vc_timeout=" + std::to_string(o.vc_timeout_ms) +
           "ms vc_backoff=" + std::to_string(o.vc_backoff_ms) + "ms no_quorum=" + std::to_string(o.no_quorum_ms) +
           "ms long_pause=" + fmt(c.faults.long_pause_rate) + "/ms partition=" + fmt(c.faults.partition_rate) +
           "/ms cut=" + fmt(c.faults.cut_rate) + "/ms bridge=" + fmt(c.faults.bridge_rate) +
           "/ms topology<=" + std::to_string(c.faults.topology_max_ms) + "ms crash=" + fmt(c.faults.crash_rate) +
           "/ms restart=[" + std::to_string(c.faults.restart_min_ms) + "," + std::to_string(c.faults.restart_max_ms) +
           "]ms isolate=" + fmt(c.faults.isolate_coordinator_rate) + (c.faults.churn_on_isolation ? "+churn" : "") +
           " retry_same=" + fmt(c.retry_same_node) + " sim=" + std::to_string(c.sim_ms) + "ms" +
           (o.allow_total_loss ? " total_loss=1" : "") +
           (o.rebootstrap_lanes != 256 ? " lanes=" + std::to_string(o.rebootstrap_lanes) : "");
}

}  // namespace tricache::sim
