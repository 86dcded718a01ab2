#include "node/metrics/peer_traffic.hpp"

#include <utility>

#include "protocol/codec.hpp"

namespace tricache::node::metrics {
namespace {

template <std::size_t... I>
std::array<std::string, kPeerKinds> kind_names(std::index_sequence<I...>) {
    return {protocol::kind_name(protocol::PeerBody{std::in_place_index<I>})...};
}

}  // namespace

std::string_view direction_name(Direction d) { return d == Direction::In ? "in" : "out"; }

const std::string& peer_kind_name(std::size_t index) {
    static const std::array<std::string, kPeerKinds> names = kind_names(std::make_index_sequence<kPeerKinds>{});
    return names.at(index);
}

void PeerTraffic::drop(Direction d, std::string_view reason) {
    ++dropped[{d, std::string(reason)}];  // drops are rare: a string per one is fine
}

}  // namespace tricache::node::metrics
