// Peer messages as an operator counts them: in and out by message kind, in
// messages and bytes, snapshot bytes, and drops by reason. Loop-side plain
// counters, copied into the registry by the exporter.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "protocol/messages.hpp"

namespace tricache::node::metrics {

enum class Direction : std::uint8_t { In = 0, Out = 1 };
std::string_view direction_name(Direction d);

inline constexpr std::size_t kPeerKinds = std::variant_size_v<protocol::PeerBody>;
// The wire name of the message kind at `index` of PeerBody ("CanCommit", ...).
const std::string& peer_kind_name(std::size_t index);

struct PeerTraffic {
    std::array<std::array<std::uint64_t, kPeerKinds>, 2> messages{};
    std::array<std::array<std::uint64_t, kPeerKinds>, 2> bytes{};
    std::array<std::uint64_t, 2> snapshot_bytes{};  // SnapshotChunk payloads
    std::map<std::pair<Direction, std::string>, std::uint64_t> dropped;  // a small, bounded set

    void count(Direction d, const protocol::PeerMessage& msg, std::size_t wire_bytes) {
        const auto i = static_cast<std::size_t>(d);
        ++messages[i][msg.body.index()];
        bytes[i][msg.body.index()] += wire_bytes;
        if (const auto* chunk = std::get_if<protocol::SnapshotChunk>(&msg.body)) snapshot_bytes[i] += chunk->data.size();
    }
    void drop(Direction d, std::string_view reason);
};

}  // namespace tricache::node::metrics
