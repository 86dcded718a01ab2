// Random client requests for the automatic mode: GET, local GET, SET, DEL, CAS
// (expecting a value or absence) and multi-op requests over a small key space,
// with values of varying length so the store's byte limit bites, and a trickle
// of requests the engine must refuse (too large, empty key, wrong cluster).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "protocol/messages.hpp"
#include "sim/rng.hpp"

namespace tricache::sim {

struct WorkloadParams {
    std::uint32_t keys = 6;
    std::uint32_t max_value_len = 40;   // common values
    std::uint32_t big_value_len = 160;  // occasional large values, to fill the byte limit
    // Relative weights of the request kinds.
    std::uint32_t w_get = 20;
    std::uint32_t w_local_get = 10;
    std::uint32_t w_set = 30;
    std::uint32_t w_del = 8;
    std::uint32_t w_cas = 15;
    std::uint32_t w_multi = 15;
    // Expiry ops (R-TTL) among the single ops: SET with a TTL, EXPIRE, PERSIST, TTL.
    // TTLs are drawn up to max_ttl_ms, so keys expire within a run. 0: none (the swarm draws it).
    std::uint32_t w_ttl = 0;
    std::uint64_t max_ttl_ms = 400;
    double invalid = 0.02;               // share of requests the engine must refuse
    std::uint64_t too_large_value = 0;   // a value this long is TOO_LARGE (0: none)
};

struct GeneratedRequest {
    protocol::ClientRequestBody body;
    bool wrong_cluster = false;
};

class Workload {
public:
    explicit Workload(WorkloadParams params) : params_(params) {}

    // Values name their writer, so every written value is unique in a run.
    GeneratedRequest next(Rng& rng, protocol::ClientId client, protocol::RequestId request);

    const WorkloadParams& params() const { return params_; }

private:
    protocol::Op ttl_op(Rng& rng, std::string k, protocol::ClientId client, protocol::RequestId request,
                        std::size_t op);
    std::string key(Rng& rng) const;
    std::string value(Rng& rng, protocol::ClientId client, protocol::RequestId request, std::size_t op);
    protocol::Op single_op(Rng& rng, protocol::ClientId client, protocol::RequestId request, std::size_t op);

    WorkloadParams params_;
    std::map<std::string, std::string> last_written_;  // per key: a value CAS may expect
};

}  // namespace tricache::sim
