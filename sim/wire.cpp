#include "sim/wire.hpp"

#include "protocol/codec.hpp"

namespace tricache::sim {

std::optional<std::string> codec_round_trip(protocol::PeerMessage& msg) {
    const std::string bytes = protocol::encode(msg);
    auto decoded = protocol::decode_peer_message(bytes);
    if (!decoded.ok()) {
        return "decode_peer_message(encode(" + protocol::describe(msg.body) + ")) failed: " +
               std::string(protocol::error_name(decoded.error().code)) + " " + decoded.error().detail;
    }
    if (!(decoded.value() == msg)) {
        return "codec round trip changed the message: sent " + protocol::describe(msg.body) + ", got " +
               protocol::describe(decoded.value().body);
    }
    msg = std::move(decoded).value();
    return std::nullopt;
}

}  // namespace tricache::sim
