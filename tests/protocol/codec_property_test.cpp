// Round-trip properties for every message type, and robustness properties for
// arbitrary or damaged input.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/codec.hpp"
#include "tests/protocol/generators.hpp"

namespace tricache::protocol {
namespace {

// Tight sizes whose maxima are cheap, and the limits that sit exactly on them.
const gen::Sizes kTight{.max_key = 8, .max_value = 12, .max_text = 10, .max_list = 3};

bool is_decode_error(ErrorCode code) {
    switch (code) {
        case ErrorCode::Truncated:
        case ErrorCode::WrongType:
        case ErrorCode::WrongArity:
        case ErrorCode::UnknownKind:
        case ErrorCode::UnsupportedVersion:
        case ErrorCode::Malformed:
        case ErrorCode::TooLarge: return true;
        default: return false;
    }
}

template <class M>
Decoded<M> decode_as(std::string_view bytes, const CodecLimits& limits);
template <>
Decoded<PeerMessage> decode_as<PeerMessage>(std::string_view b, const CodecLimits& l) { return decode_peer_message(b, l); }
template <>
Decoded<ClientRequest> decode_as<ClientRequest>(std::string_view b, const CodecLimits& l) {
    return decode_client_request(b, l);
}
template <>
Decoded<ClientResponse> decode_as<ClientResponse>(std::string_view b, const CodecLimits& l) {
    return decode_client_response(b, l);
}
template <>
Decoded<Snapshot> decode_as<Snapshot>(std::string_view b, const CodecLimits& l) { return decode_snapshot(b, l); }

template <class M>
void check_round_trip(const M& msg, const CodecLimits& limits) {
    const std::string bytes = encode(msg);
    const auto decoded = decode_as<M>(bytes, limits);
    if (!decoded.ok()) {
        RC_FAIL("decode failed: " + std::string(error_name(decoded.error().code)) + " " + decoded.error().detail);
    }
    RC_ASSERT(decoded.value() == msg);
    // The encoding is a function of the value: re-encoding gives the same bytes.
    RC_ASSERT(encode(decoded.value()) == bytes);
}

// One property per alternative, at the tight limits (so maximum-size keys,
// values and lists decode right at the limit) and at the default limits.
#define PEER_ROUND_TRIP(Body)                                                      \
    RC_GTEST_PROP(PeerRoundTrip, Body, ()) {                                       \
        check_round_trip(*gen::peer_message_with<Body>(kTight), gen::limits_for(kTight)); \
        check_round_trip(*gen::peer_message_with<Body>(), CodecLimits{});          \
    }
PEER_ROUND_TRIP(CanCommit)
PEER_ROUND_TRIP(Vote)
PEER_ROUND_TRIP(PreCommit)
PEER_ROUND_TRIP(PreAbort)
PEER_ROUND_TRIP(Ack)
PEER_ROUND_TRIP(Nack)
PEER_ROUND_TRIP(DoCommit)
PEER_ROUND_TRIP(DoAbort)
PEER_ROUND_TRIP(DecisionQuery)
PEER_ROUND_TRIP(Decision)
PEER_ROUND_TRIP(StateReq)
PEER_ROUND_TRIP(StateResp)
PEER_ROUND_TRIP(VcPrepare)
PEER_ROUND_TRIP(VcPromise)
PEER_ROUND_TRIP(VcAccept)
PEER_ROUND_TRIP(VcAccepted)
PEER_ROUND_TRIP(VcNack)
PEER_ROUND_TRIP(NewView)
PEER_ROUND_TRIP(RbPrepare)
PEER_ROUND_TRIP(RbPromise)
PEER_ROUND_TRIP(JoinReq)
PEER_ROUND_TRIP(SnapshotRequest)
PEER_ROUND_TRIP(SnapshotChunk)
PEER_ROUND_TRIP(Heartbeat)
#undef PEER_ROUND_TRIP

// Compile-time guard: a new PeerBody alternative must get a property above.
static_assert(std::variant_size_v<PeerBody> == 24, "add a PEER_ROUND_TRIP for the new alternative");
static_assert(std::variant_size_v<ClientRequestBody> == 4, "add a REQUEST_ROUND_TRIP for the new alternative");
static_assert(std::variant_size_v<ClientResponseBody> == 5, "add a RESPONSE_ROUND_TRIP for the new alternative");

#define REQUEST_ROUND_TRIP(Body)                                                         \
    RC_GTEST_PROP(ClientRequestRoundTrip, Body, ()) {                                    \
        check_round_trip(*gen::client_request_with<Body>(kTight), gen::limits_for(kTight)); \
        check_round_trip(*gen::client_request_with<Body>(), CodecLimits{});              \
    }
REQUEST_ROUND_TRIP(OpsRequest)
REQUEST_ROUND_TRIP(LocalGetRequest)
REQUEST_ROUND_TRIP(StatusRequest)
REQUEST_ROUND_TRIP(AdminRequest)
#undef REQUEST_ROUND_TRIP

#define RESPONSE_ROUND_TRIP(Body)                                                         \
    RC_GTEST_PROP(ClientResponseRoundTrip, Body, ()) {                                    \
        check_round_trip(*gen::client_response_with<Body>(kTight), gen::limits_for(kTight)); \
        check_round_trip(*gen::client_response_with<Body>(), CodecLimits{});              \
    }
RESPONSE_ROUND_TRIP(OpsReply)
RESPONSE_ROUND_TRIP(LocalGetReply)
RESPONSE_ROUND_TRIP(StatusReply)
RESPONSE_ROUND_TRIP(AdminReply)
RESPONSE_ROUND_TRIP(ErrorReply)
#undef RESPONSE_ROUND_TRIP

RC_GTEST_PROP(SnapshotRoundTrip, AnySnapshot, ()) {
    check_round_trip(*gen::snapshot(kTight), gen::limits_for(kTight));
    check_round_trip(*gen::snapshot(), CodecLimits{});
}

// The Arbitrary instances the generators header registers for other suites.
RC_GTEST_PROP(ArbitraryRoundTrip, AnyMessage,
              (const PeerMessage& peer, const ClientRequest& request, const ClientResponse& response)) {
    check_round_trip(peer, CodecLimits{});
    check_round_trip(request, CodecLimits{});
    check_round_trip(response, CodecLimits{});
}

// One byte over any string limit is refused, naming a field.
RC_GTEST_PROP(Limits, KeyOneByteOverTheLimitIsTooLarge, ()) {
    const auto limits = gen::limits_for(kTight);
    const std::string key = *rc::gen::container<std::string>(limits.max_key_bytes + 1, gen::byte());
    const auto request = ClientRequest{kProtocolVersion, "c", 1, 2, LocalGetRequest{key}};
    const auto decoded = decode_client_request(encode(request), limits);
    RC_ASSERT(!decoded.ok());
    RC_ASSERT(decoded.error().code == ErrorCode::TooLarge);
    RC_ASSERT(decoded.error().detail.find("LocalGetRequest.key") != std::string::npos);
}

// Every proper prefix of a valid encoding is Truncated, whatever the message.
template <class M>
void check_prefixes(const M& msg) {
    const std::string bytes = encode(msg);
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        const auto decoded = decode_as<M>(std::string_view(bytes).substr(0, len), CodecLimits{});
        RC_ASSERT(!decoded.ok());
        RC_ASSERT(decoded.error().code == ErrorCode::Truncated);
    }
}

RC_GTEST_PROP(Truncation, EveryPrefixOfAnyMessageIsTruncated, ()) {
    check_prefixes(*gen::peer_message(kTight));
    check_prefixes(*gen::client_request(kTight));
    check_prefixes(*gen::client_response(kTight));
    check_prefixes(*gen::snapshot(kTight));
}

template <class M>
void check_total(std::string_view bytes, const CodecLimits& limits) {
    const auto decoded = decode_as<M>(bytes, limits);
    if (decoded.ok()) {
        // Whatever decodes must survive its own round trip.
        const auto again = decode_as<M>(encode(decoded.value()), CodecLimits{});
        RC_ASSERT(again.ok());
        RC_ASSERT(again.value() == decoded.value());
    } else {
        RC_ASSERT(is_decode_error(decoded.error().code));
        RC_ASSERT(!decoded.error().detail.empty());
    }
}

void check_all_decoders(std::string_view bytes, const CodecLimits& limits) {
    check_total<PeerMessage>(bytes, limits);
    check_total<ClientRequest>(bytes, limits);
    check_total<ClientResponse>(bytes, limits);
    check_total<Snapshot>(bytes, limits);
}

RC_GTEST_PROP(Totality, RandomBytesDecodeToAValueOrANamedError, ()) {
    const auto bytes = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
    check_all_decoders(bytes, CodecLimits{});
    check_all_decoders(bytes, gen::limits_for(kTight));
}

// Random bytes rarely get past the first array header; damaged valid messages
// reach deep into the schema.
RC_GTEST_PROP(Totality, DamagedMessagesDecodeToAValueOrANamedError, ()) {
    std::string bytes = *rc::gen::oneOf(rc::gen::map(gen::peer_message(kTight), [](const PeerMessage& m) { return encode(m); }),
                                        rc::gen::map(gen::client_request(kTight), [](const ClientRequest& m) { return encode(m); }),
                                        rc::gen::map(gen::client_response(kTight), [](const ClientResponse& m) { return encode(m); }),
                                        rc::gen::map(gen::snapshot(kTight), [](const Snapshot& m) { return encode(m); }));
    const auto edits = *rc::gen::inRange<int>(1, 5);
    for (int i = 0; i < edits && !bytes.empty(); ++i) {
        const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size());
        switch (*rc::gen::inRange<int>(0, 4)) {
            case 0: bytes[at] = *rc::gen::arbitrary<char>(); break;
            case 1: bytes[at] = static_cast<char>(bytes[at] ^ (1 << *rc::gen::inRange<int>(0, 8))); break;
            case 2: bytes.erase(at, 1); break;
            default: bytes.insert(at, 1, *rc::gen::arbitrary<char>()); break;
        }
    }
    check_all_decoders(bytes, CodecLimits{});
    check_all_decoders(bytes, gen::limits_for(kTight));
}

}  // namespace
}  // namespace tricache::protocol
