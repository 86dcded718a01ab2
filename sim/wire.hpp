// Sends a peer message through the real codec and back, so every simulated run
// also exercises the wire format the node process speaks.
#pragma once

#include <optional>
#include <string>

#include "protocol/messages.hpp"

namespace tricache::sim {

// Encodes `msg`, decodes the bytes, and replaces `msg` by the decoded value.
// Returns a description of the failure when the bytes do not decode or decode
// to a different value (then `msg` is left as it was).
std::optional<std::string> codec_round_trip(protocol::PeerMessage& msg);

}  // namespace tricache::sim
