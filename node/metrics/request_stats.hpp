// Requests as an operator counts them: by front door, operation and result,
// with how long each took from arrival to reply. Loop-side bookkeeping only
// (plain counters, no locks): the exporter copies it into the Prometheus
// registry from the same loop (node/metrics/exporter.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "protocol/messages.hpp"

namespace tricache::node::metrics {

// The door a request came in by: the native ZeroMQ endpoint or the Redis one.
enum class Door : std::uint8_t { Native = 0, Redis = 1 };
inline constexpr std::size_t kDoors = 2;
std::string_view door_name(Door d);

// Operation labels: one per op kind of a one-op request, "multi" for several
// ops, then the other request kinds. An op kind this table does not name yet is
// "other" rather than a compile error, so new ops never break the metrics.
inline constexpr std::size_t kOps = 16;
std::string_view op_name(std::size_t op);
std::size_t op_of(const protocol::ClientRequestBody& body);

// Result labels: ok, not_found (GET of an absent key, DEL of one, EXISTS
// false), not_applied (a CAS that did not swap, an INCR or APPEND that did not
// store, a failed REQUIRE), then every error a client can be answered.
inline constexpr std::size_t kResults = 13;
std::string_view result_name(std::size_t result);
std::size_t result_of(const protocol::ClientResponseBody& body, std::size_t op);

// Latency bucket upper bounds in seconds (a Prometheus histogram's `le`).
inline constexpr std::array<double, 16> kLatencyBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                          0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                          1,      2.5,     5,      10};
inline constexpr std::size_t kLatencyBuckets = kLatencyBounds.size() + 1;  // the last one is +Inf

struct RequestCounts {
    std::array<std::array<std::array<std::uint64_t, kResults>, kOps>, kDoors> requests{};
    // Non-cumulative: [i] counts replies in (bound[i-1], bound[i]].
    std::array<std::array<std::array<std::uint64_t, kLatencyBuckets>, kOps>, kDoors> latency{};
    std::array<std::array<double, kOps>, kDoors> latency_sum_seconds{};
};

class RequestStats {
public:
    // A request arrived. A second arrival of the same (client, request) while
    // the first is unanswered (a retry) keeps the first arrival's time.
    void begin(Door door, protocol::ClientId client, protocol::RequestId request,
               const protocol::ClientRequestBody& body, std::uint64_t now_us);
    // A reply left. Counted once, and only for a request begun here.
    void end(const protocol::ClientResponse& response, std::uint64_t now_us);
    // Drops requests begun before `before_us` that were never answered (their
    // client went away), so the table stays bounded.
    void forget_before(std::uint64_t before_us);

    const RequestCounts& counts() const { return counts_; }
    std::size_t outstanding() const { return started_.size(); }

private:
    struct Started {
        Door door = Door::Native;
        std::uint8_t op = 0;
        std::uint64_t at_us = 0;
    };
    using Key = std::pair<protocol::ClientId, protocol::RequestId>;
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept;
    };
    std::unordered_map<Key, Started, KeyHash> started_;
    RequestCounts counts_;
};

}  // namespace tricache::node::metrics
