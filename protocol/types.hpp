// Identifiers, timestamps and ballots shared by every tricache component.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace tricache::protocol {

using NodeId = std::uint32_t;
using Incarnation = std::uint64_t;
using Epoch = std::uint64_t;
using ClientId = std::uint64_t;
using RequestId = std::uint64_t;

inline constexpr std::uint32_t kProtocolVersion = 1;

// Hybrid logical clock counter: physical milliseconds in the high 48 bits, a
// logical counter in the low 16. Ordering stays purely logical (Skeen's rule
// only needs a total order), but a counter also tells roughly when it was made,
// which lets TTL expiry later be decided from the committed order alone.
struct Hlc {
    static constexpr unsigned kLogicalBits = 16;
    static constexpr std::uint64_t kLogicalMask = (std::uint64_t{1} << kLogicalBits) - 1;

    static constexpr std::uint64_t from_millis(std::uint64_t millis) { return millis << kLogicalBits; }
    static constexpr std::uint64_t millis(std::uint64_t counter) { return counter >> kLogicalBits; }

    // The next counter after `last`, never behind the physical clock `now_millis`.
    static constexpr std::uint64_t next(std::uint64_t last, std::uint64_t now_millis) {
        const std::uint64_t physical = from_millis(now_millis);
        return physical > last ? physical : last + 1;
    }
};

// Skeen timestamp: (counter, node) compared lexicographically, so ties between
// nodes are broken by id and the order is total.
struct Timestamp {
    std::uint64_t counter = 0;
    NodeId node = 0;
    friend constexpr auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// E3PC / Paxos ballot: unique because the proposer's id is part of it.
struct Ballot {
    std::uint64_t counter = 0;
    NodeId node = 0;
    friend constexpr auto operator<=>(const Ballot&, const Ballot&) = default;
};

// The ballot of the original coordinator's failure-free attempt; recovery
// ballots are always greater (counter >= 2).
inline constexpr Ballot kOriginalBallot{1, 0};
inline constexpr Ballot kNoBallot{0, 0};

// A transaction is named by the incarnation of the node that coordinated it,
// so a restarted node can never reuse an id.
struct TxId {
    NodeId coordinator = 0;
    Incarnation incarnation = 0;
    std::uint64_t seq = 0;
    friend constexpr auto operator<=>(const TxId&, const TxId&) = default;
};

std::string to_string(const Timestamp& ts);
std::string to_string(const Ballot& b);
std::string to_string(const TxId& tx);

}  // namespace tricache::protocol
