// Example-based tests of the wire format and of every decode error class.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "protocol/codec.hpp"
#include "tests/protocol/samples.hpp"

namespace tricache::protocol {
namespace {

std::string hex(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += kHex[b >> 4];
        out += kHex[b & 0x0f];
    }
    return out;
}

std::string unhex(std::string_view text) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        out.push_back(static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1])));
    }
    return out;
}

// Builds raw msgpack for inputs no encoder would produce.
class Raw {
public:
    Raw() : pk_(buf_) {}
    Raw& array(std::uint32_t n) { return pk_.pack_array(n), *this; }
    Raw& map(std::uint32_t n) { return pk_.pack_map(n), *this; }
    Raw& u(std::uint64_t x) { return pk_.pack_uint64(x), *this; }
    Raw& i(std::int64_t x) { return pk_.pack_int64(x), *this; }
    Raw& nil() { return pk_.pack_nil(), *this; }
    Raw& boolean(bool b) { return (b ? pk_.pack_true() : pk_.pack_false()), *this; }
    Raw& str(std::string_view s) {
        pk_.pack_str(static_cast<std::uint32_t>(s.size()));
        pk_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
        return *this;
    }
    Raw& bin(std::string_view s) {
        pk_.pack_bin(static_cast<std::uint32_t>(s.size()));
        pk_.pack_bin_body(s.data(), static_cast<std::uint32_t>(s.size()));
        return *this;
    }
    Raw& bytes(std::string_view s) { return buf_.write(s.data(), s.size()), *this; }
    // Header fields of a peer message up to (not including) the body.
    Raw& peer_header(std::uint32_t arity = 9) { return array(arity).u(1).u(1).bin("c").u(2).u(3).u(4).u(5).u(6); }
    Raw& tx() { return array(3).u(1).u(2).u(3); }
    std::string done() const { return std::string(buf_.data(), buf_.size()); }

private:
    msgpack::sbuffer buf_;
    msgpack::packer<msgpack::sbuffer> pk_;
};

void expect_error(const DecodeError& e, ErrorCode code, std::string_view detail_part = {}) {
    EXPECT_EQ(error_name(e.code), error_name(code)) << e.detail;
    EXPECT_NE(e.detail.find(detail_part), std::string::npos) << "detail: " << e.detail;
}

template <class D>
void expect_fails(const D& decoded, ErrorCode code, std::string_view detail_part = {}) {
    ASSERT_FALSE(decoded.ok());
    expect_error(decoded.error(), code, detail_part);
}

// ------------------------------------------------------------------ format

TEST(WireFormat, GoldenPeerMessage) {
    // Pinned bytes: changing them breaks mixed-version clusters (see spec/WIRE.md).
    const PeerMessage msg{PeerHeader{kProtocolVersion, "c", 2, 3, 4, 5, 6}, DoAbort{TxId{1, 2, 3}}};
    EXPECT_EQ(hex(encode(msg)), "990101c401630203040506" "92089301020" "3");
}

TEST(WireFormat, GoldenCanCommitWithItsSharedBatch) {
    // A shared batch goes out as the plain list of commands it holds.
    const PeerMessage msg{PeerHeader{kProtocolVersion, "c", 2, 3, 4, 5, 6},
                          CanCommit{TxId{1, 2, 3}, Batch{Command{5, 6, {Set{"k", "v"}}}}}};
    EXPECT_EQ(hex(encode(msg)), "990101c401630203040506" "9301" "93010203" "91" "940506" "91" "9402c4016bc40176920000" "00");
    const auto back = decode_peer_message(encode(msg), CodecLimits{});
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), msg);
}

TEST(SharedBatch, CopiesShareOneBatchThatComparesByContent) {
    const Batch batch{Command{1, 2, {Set{"k", "v"}}}, Command{3, 4, {Get{"k"}}}};
    const CanCommit a{TxId{1, 1, 1}, batch};
    const CanCommit copy = a;
    EXPECT_EQ(&*a.batch, &*copy.batch);  // copying the message copies no command
    EXPECT_EQ(a, (CanCommit{TxId{1, 1, 1}, batch}));  // another batch with the same commands is equal
    EXPECT_NE(a, (CanCommit{TxId{1, 1, 1}, Batch{batch.front()}}));
    EXPECT_EQ(a.batch.size(), 2u);
    EXPECT_EQ(a.batch[1].client, 3u);
    const CanCommit none{};
    EXPECT_TRUE(none.batch.empty());
    EXPECT_EQ(none.batch, SharedBatch(Batch{}));
    ASSERT_NE(none.batch.shared(), nullptr);  // never null, even for the empty batch
    EXPECT_TRUE(none.batch.shared()->empty());
}

TEST(WireFormat, GoldenClientRequest) {
    const ClientRequest msg{kProtocolVersion, "c", 9, 10, OpsRequest{{Set{"k", "v"}, Cas{"k", std::nullopt, "w"}}}};
    EXPECT_EQ(hex(encode(msg)), "960102c401630" "90a" "9201" "92" "9402c4016bc40176920000" "9404c4016bc0c40177");
}

TEST(WireFormat, GoldenClientResponseAndSnapshot) {
    const ClientResponse resp{kProtocolVersion, 9, 10, ErrorReply{ErrorCode::NoQuorum, "x"}};
    EXPECT_EQ(hex(encode(resp)), "950103090a" "930501a178");
    Snapshot snap;
    snap.entries_mru_first = {{"k", "v"}};
    EXPECT_EQ(hex(encode(snap)), "9c0104009200000000" "9192c4016bc40176" "900000" "0090");
}

TEST(WireFormat, ExtremeIntegersUseTheirShortestForms) {
    const PeerMessage msg{PeerHeader{kProtocolVersion, "", std::numeric_limits<NodeId>::max(), samples::kBig, 0, samples::kBig,
                                     samples::kBig},
                          VcAccepted{Ballot{0, 0}}};
    EXPECT_EQ(hex(encode(msg)), "990101c400ceffffffffcfffffffffffffffff00cfffffffffffffffffcfffffffffffffffff" "9217"
                                "920000");
}

TEST(WireFormat, DecoderAcceptsStrWhereBinIsWritten) {
    const std::string bytes =
        Raw().array(6).u(1).u(2).str("cl").u(5).u(6).array(2).u(2).str(std::string("ke\0y", 4)).done();
    const auto decoded = decode_client_request(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    EXPECT_EQ(decoded.value().cluster_id, "cl");
    EXPECT_EQ(std::get<LocalGetRequest>(decoded.value().body).key, std::string("ke\0y", 4));
}

TEST(WireFormat, DecoderAcceptsNonCanonicalIntegerForms) {
    // uint64 and int8 forms of small numbers are still the same numbers.
    const std::string bytes = Raw().array(5).u(1).u(3).bytes(unhex("cf0000000000000009")).bytes(unhex("d00a"))
                                  .array(3).u(5).u(1).str("x").done();
    const auto decoded = decode_client_response(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    EXPECT_EQ(decoded.value().client, 9u);
    EXPECT_EQ(decoded.value().request, 10u);
}

TEST(WireFormat, SamplesRoundTrip) {
    for (const auto& m : samples::peer_messages()) {
        const auto d = decode_peer_message(encode(m));
        ASSERT_TRUE(d.ok()) << kind_name(m.body) << ": " << d.error().detail;
        EXPECT_EQ(d.value(), m) << kind_name(m.body);
    }
    for (const auto& m : samples::client_requests()) {
        const auto d = decode_client_request(encode(m));
        ASSERT_TRUE(d.ok()) << d.error().detail;
        EXPECT_EQ(d.value(), m);
    }
    for (const auto& m : samples::client_responses()) {
        const auto d = decode_client_response(encode(m));
        ASSERT_TRUE(d.ok()) << d.error().detail;
        EXPECT_EQ(d.value(), m);
    }
    const auto d = decode_snapshot(encode(samples::snapshot()));
    ASSERT_TRUE(d.ok()) << d.error().detail;
    EXPECT_EQ(d.value(), samples::snapshot());
}

// ------------------------------------------------------------------ truncation

template <class M, class Decode>
void expect_every_prefix_truncated(const M& msg, Decode decode, const std::string& what) {
    const std::string bytes = encode(msg);
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        const auto d = decode(std::string_view(bytes).substr(0, len), CodecLimits{});
        ASSERT_FALSE(d.ok()) << what << " prefix " << len;
        EXPECT_EQ(d.error().code, ErrorCode::Truncated) << what << " prefix " << len << ": " << d.error().detail;
    }
}

TEST(Truncation, EveryOffsetOfEveryPeerMessageKind) {
    for (const auto& m : samples::peer_messages()) expect_every_prefix_truncated(m, decode_peer_message, kind_name(m.body));
}

TEST(Truncation, EveryOffsetOfEveryClientMessageKindAndSnapshot) {
    for (const auto& m : samples::client_requests()) expect_every_prefix_truncated(m, decode_client_request, "request");
    for (const auto& m : samples::client_responses()) {
        expect_every_prefix_truncated(m, decode_client_response, "response");
    }
    expect_every_prefix_truncated(samples::snapshot(), decode_snapshot, "snapshot");
}

TEST(Truncation, EmptyInput) {
    expect_fails(decode_peer_message(""), ErrorCode::Truncated, "empty");
    expect_fails(decode_client_request(""), ErrorCode::Truncated);
    expect_fails(decode_client_response(""), ErrorCode::Truncated);
    expect_fails(decode_snapshot(""), ErrorCode::Truncated);
}

// ------------------------------------------------------------------ types

TEST(TypeConfusion, StringWhereAnIntegerBelongs) {
    const std::string bytes = Raw().array(9).u(1).u(1).bin("c").str("two").u(3).u(4).u(5).u(6).array(1).u(30).done();
    expect_fails(decode_peer_message(bytes), ErrorCode::WrongType, "PeerMessage.from: expected unsigned integer, got str");
}

TEST(TypeConfusion, IntegerWhereAKeyBelongs) {
    const std::string bytes = Raw().array(6).u(1).u(2).bin("c").u(1).u(2).array(2).u(2).u(77).done();
    expect_fails(decode_client_request(bytes), ErrorCode::WrongType, "LocalGetRequest.key: expected bin or str");
}

TEST(TypeConfusion, IntegerWhereABoolBelongs) {
    const std::string bytes = Raw().peer_header().array(5).u(2).tx().u(1).array(2).u(0).u(0).u(0).done();
    expect_fails(decode_peer_message(bytes), ErrorCode::WrongType, "Vote.yes: expected bool");
}

TEST(TypeConfusion, NegativeFloatNilMapAndBoolWhereUnsignedBelongs) {
    const std::vector<std::function<Raw&(Raw&)>> wrong = {
        [](Raw& r) -> Raw& { return r.i(-1); },        [](Raw& r) -> Raw& { return r.bytes(unhex("cb3ff0000000000000")); },  // float64 1.0
        [](Raw& r) -> Raw& { return r.bytes(unhex("ca3f800000")); },          // float32 1.0
        [](Raw& r) -> Raw& { return r.nil(); },        [](Raw& r) -> Raw& { return r.map(0); },
        [](Raw& r) -> Raw& { return r.boolean(true); }, [](Raw& r) -> Raw& { return r.array(0); },
    };
    for (const auto& put : wrong) {
        Raw r;
        r.array(9).u(1).u(1).bin("c").u(2).u(3);
        put(r).u(5).u(6).array(1).u(30);
        expect_fails(decode_peer_message(r.done()), ErrorCode::WrongType, "PeerMessage.epoch");
    }
}

TEST(TypeConfusion, TopLevelNotAnArray) {
    expect_fails(decode_peer_message(Raw().map(1).u(1).u(1).done()), ErrorCode::WrongType, "expected array, got map");
    expect_fails(decode_snapshot(Raw().u(1).done()), ErrorCode::WrongType);
    expect_fails(decode_client_request(Raw().str("hello").done()), ErrorCode::WrongType);
}

TEST(TypeConfusion, StructGivenAsScalar) {
    // tx is an array; a bare integer is the wrong type, not the wrong arity.
    const std::string bytes = Raw().peer_header().array(2).u(8).u(5).done();
    expect_fails(decode_peer_message(bytes), ErrorCode::WrongType, "DoAbort.tx: expected array");
}

TEST(TypeConfusion, VersionAsString) {
    expect_fails(decode_peer_message(Raw().array(9).str("1").done() + std::string(8, '\0')), ErrorCode::WrongType,
                 "version");
}

// ------------------------------------------------------------------ huge headers

template <class D>
ErrorCode code_of(const D& decoded) {
    return decoded.ok() ? ErrorCode::BadRequest : decoded.error().code;  // BadRequest: "it decoded"
}

void expect_fast_rejection(std::string_view bytes, CodecLimits limits = {}) {
    const auto start = std::chrono::steady_clock::now();
    for (const ErrorCode code : {code_of(decode_peer_message(bytes, limits)), code_of(decode_client_request(bytes, limits)),
                                 code_of(decode_client_response(bytes, limits)), code_of(decode_snapshot(bytes, limits))}) {
        EXPECT_TRUE(code == ErrorCode::Truncated || code == ErrorCode::TooLarge)
            << hex(bytes) << " -> " << error_name(code);
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    // Generous for sanitizer builds; allocating gigabytes would take far longer or die.
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 500) << hex(bytes);
}

TEST(HugeHeaders, TopLevelContainersAndStrings) {
    for (const char* h : {"dd80000000", "ddffffffff0102030405", "df80000000", "dfffffffff0102", "dc", "dcffff01",
                          "db800000000102", "dbffffffff", "c6ffffffff01", "c680000000", "c9ffffffff01", "daffff"}) {
        expect_fast_rejection(unhex(h));
    }
}

TEST(HugeHeaders, NestedInsideAValidPrefix) {
    for (const char* tail : {"dd80000000", "ddffffffff", "dfffffffff", "c6ffffffff", "dbffffffff"}) {
        const std::string bytes = Raw().peer_header().array(3).u(1).tx().bytes(unhex(tail)).bytes("0123").done();
        expect_fast_rejection(bytes);
    }
}

TEST(HugeHeaders, WithLimitsAsLargeAsTheyGo) {
    // Even when the configured limits allow 2^32-1 elements, the remaining
    // input bounds what an array header can claim.
    CodecLimits limits;
    limits.max_list_length = std::numeric_limits<std::uint32_t>::max();
    limits.max_commands_per_batch = limits.max_list_length;
    const std::string ten = unhex("ddffffffff0102030405");
    ASSERT_EQ(ten.size(), 10u);
    expect_fast_rejection(ten, limits);
    expect_fails(decode_peer_message(ten, limits), ErrorCode::Truncated, "offset 0");
    const std::string nested = Raw().peer_header().array(3).u(1).tx().bytes(unhex("ddffffffff")).u(1).done();
    expect_fast_rejection(nested, limits);
}

// ------------------------------------------------------------------ kinds, tags, enums

TEST(UnknownKind, MessageKind) {
    expect_fails(decode_peer_message(Raw().array(9).u(1).u(9).done() + std::string(7, '\0')), ErrorCode::UnknownKind,
                 "unknown message kind 9");
}

TEST(UnknownKind, PeerBodyTag) {
    expect_fails(decode_peer_message(Raw().peer_header().array(1).u(99).done()), ErrorCode::UnknownKind,
                 "PeerMessage.body: unknown tag 99");
    expect_fails(decode_peer_message(Raw().peer_header().array(1).u(0).done()), ErrorCode::UnknownKind);
}

TEST(UnknownKind, ClientBodyTags) {
    expect_fails(decode_client_request(Raw().array(6).u(1).u(2).bin("c").u(1).u(2).array(1).u(5).done()),
                 ErrorCode::UnknownKind, "ClientRequest.body: unknown tag 5");
    expect_fails(decode_client_response(Raw().array(5).u(1).u(3).u(1).u(2).array(1).u(6).done()),
                 ErrorCode::UnknownKind, "ClientResponse.body: unknown tag 6");
}

TEST(UnknownKind, OpTag) {
    const std::string bytes =
        Raw().array(6).u(1).u(2).bin("c").u(1).u(2).array(2).u(1).array(2).array(2).u(1).bin("k").array(2).u(99).bin("k").done();
    expect_fails(decode_client_request(bytes), ErrorCode::UnknownKind, "OpsRequest.ops[1]: unknown tag 99");
}

TEST(UnknownKind, EnumValues) {
    auto state_resp = [](std::uint64_t state) {
        return Raw().peer_header().array(7).u(12).tx().array(2).u(1).u(1).u(state).array(2).u(0).u(0)
            .array(2).u(0).u(0).array(2).u(0).u(0).done();
    };
    ASSERT_TRUE(decode_peer_message(state_resp(5)).ok());
    expect_fails(decode_peer_message(state_resp(6)), ErrorCode::UnknownKind, "StateResp.state: unknown TxState value 6");

    auto vote = [](std::uint64_t reason) {
        return Raw().peer_header().array(5).u(2).tx().boolean(false).array(2).u(0).u(0).u(reason).done();
    };
    ASSERT_TRUE(decode_peer_message(vote(5)).ok());
    expect_fails(decode_peer_message(vote(6)), ErrorCode::UnknownKind, "Vote.reason");

    auto decision = [](std::uint64_t outcome) {
        return Raw().peer_header().array(4).u(10).tx().u(outcome).array(2).u(0).u(0).done();
    };
    ASSERT_TRUE(decode_peer_message(decision(2)).ok());
    expect_fails(decode_peer_message(decision(3)), ErrorCode::UnknownKind, "Decision.outcome");

    auto admin = [](std::uint64_t kind) {
        return Raw().array(6).u(1).u(2).bin("c").u(1).u(2).array(3).u(4).u(kind).array(0).done();
    };
    ASSERT_TRUE(decode_client_request(admin(4)).ok());
    expect_fails(decode_client_request(admin(0)), ErrorCode::UnknownKind, "AdminRequest.kind");
    expect_fails(decode_client_request(admin(5)), ErrorCode::UnknownKind, "AdminRequest.kind");

    auto error_reply = [](std::uint64_t code) {
        return Raw().array(5).u(1).u(3).u(1).u(2).array(3).u(5).u(code).str("").done();
    };
    for (std::uint64_t code = 0; code < 300; ++code) {
        const bool known = code < 256 && is_known_error_code(static_cast<std::uint8_t>(code));
        const auto d = decode_client_response(error_reply(code));
        EXPECT_EQ(d.ok(), known) << code;
        if (!known) expect_error(d.error(), ErrorCode::UnknownKind, "ErrorReply.code");
    }
}

TEST(UnknownKind, MessageOfAnotherFamily) {
    const std::string peer = encode(samples::peer_messages().front());
    const std::string request = encode(samples::client_requests().front());
    const std::string response = encode(samples::client_responses().front());
    const std::string snapshot = encode(samples::snapshot());
    for (const auto& bytes : {request, response, snapshot}) {
        expect_fails(decode_peer_message(bytes), ErrorCode::UnknownKind, "PeerMessage.kind: got a");
    }
    for (const auto& bytes : {peer, response, snapshot}) {
        expect_fails(decode_client_request(bytes), ErrorCode::UnknownKind, "ClientRequest.kind");
    }
    for (const auto& bytes : {peer, request, snapshot}) {
        expect_fails(decode_client_response(bytes), ErrorCode::UnknownKind, "ClientResponse.kind");
    }
    for (const auto& bytes : {peer, request, response}) {
        expect_fails(decode_snapshot(bytes), ErrorCode::UnknownKind, "Snapshot.kind");
    }
}

// ------------------------------------------------------------------ version

TEST(Version, OtherVersionsAreUnsupported) {
    for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{2}, std::uint64_t{0x100000001ULL}}) {
        PeerMessage msg = samples::peer_messages().front();
        const std::string good = encode(msg);
        std::string bytes = Raw().array(9).u(v).done() + good.substr(2);
        expect_fails(decode_peer_message(bytes), ErrorCode::UnsupportedVersion, "PeerMessage.version");
    }
    expect_fails(decode_peer_message(Raw().array(9).i(-1).done() + encode(samples::peer_messages().front()).substr(2)),
                 ErrorCode::UnsupportedVersion);
}

TEST(Version, CheckedBeforeArityAndKind) {
    // A future version may have any shape: its version is all this codec may judge.
    expect_fails(decode_peer_message(Raw().array(1).u(2).done()), ErrorCode::UnsupportedVersion);
    expect_fails(decode_client_request(Raw().array(3).u(2).u(99).str("x").done()), ErrorCode::UnsupportedVersion);
    expect_fails(decode_snapshot(Raw().array(2).u(7).map(0).done()), ErrorCode::UnsupportedVersion);
}

TEST(Version, EncodedFromTheStruct) {
    ClientRequest req = samples::client_requests().front();
    req.version = 2;
    expect_fails(decode_client_request(encode(req)), ErrorCode::UnsupportedVersion, "version 2");
}

// ------------------------------------------------------------------ framing

TEST(Framing, TrailingBytesAreMalformed) {
    const std::string one = encode(samples::peer_messages().front());
    expect_fails(decode_peer_message(one + '\xc0'), ErrorCode::Malformed, "trailing");
    expect_fails(decode_peer_message(one + one), ErrorCode::Malformed, "trailing");
    expect_fails(decode_snapshot(encode(samples::snapshot()) + std::string(1, '\0')), ErrorCode::Malformed);
}

TEST(Framing, ReservedByteIsMalformed) {
    expect_fails(decode_peer_message(unhex("c1")), ErrorCode::Malformed, "0xc1");
    expect_fails(decode_peer_message(Raw().peer_header().array(2).u(8).done() + unhex("c1")), ErrorCode::Malformed);
}

TEST(Framing, ExtIsWrongType) {
    const std::string bytes = Raw().array(9).u(1).u(1).bytes(unhex("d40102")).u(2).u(3).u(4).u(5).u(6).array(1).u(30).done();
    expect_fails(decode_peer_message(bytes), ErrorCode::WrongType, "cluster_id: expected bin or str, got ext");
}

TEST(Framing, NestingDeeperThanTheLimitIsMalformed) {
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += unhex("91");
    deep += unhex("00");
    expect_fails(decode_peer_message(deep), ErrorCode::Malformed, "nesting");

    // The deepest valid message needs depth 10 (a Set's expiry inside a promise's record).
    const PeerMessage promise = samples::peer_messages()[13];
    ASSERT_EQ(kind_name(promise.body), "VcPromise");
    CodecLimits limits;
    limits.max_depth = 10;
    EXPECT_TRUE(decode_peer_message(encode(promise), limits).ok());
    limits.max_depth = 9;
    expect_fails(decode_peer_message(encode(promise), limits), ErrorCode::Malformed, "nesting deeper than 9");
}

// ------------------------------------------------------------------ limits

TEST(Limits, MessageOverMaxMessageBytes) {
    const std::string bytes = encode(samples::peer_messages().front());
    CodecLimits limits;
    limits.max_message_bytes = bytes.size();
    EXPECT_TRUE(decode_peer_message(bytes, limits).ok());
    limits.max_message_bytes = bytes.size() - 1;
    expect_fails(decode_peer_message(bytes, limits), ErrorCode::TooLarge, "message");
}

TEST(Limits, KeyValueAndTextOverTheirLimits) {
    CodecLimits limits;
    limits.max_key_bytes = 4;
    limits.max_value_bytes = 6;
    PeerMessage msg{PeerHeader{kProtocolVersion, "c", 1, 1, 1},
                    CanCommit{{1, 1, 1}, {Command{1, 1, {Get{"k"}}}, Command{1, 2, {Get{"k"}, Del{"d"}, Set{"kkkk", "vvvvvv"}}}}}};
    EXPECT_TRUE(decode_peer_message(encode(msg), limits).ok());
    // A shared batch is immutable: each change replaces the op in a copy.
    const auto set_op = [&msg](Op op) {
        Batch batch = *std::get<CanCommit>(msg.body).batch;
        batch[1].ops[2] = std::move(op);
        std::get<CanCommit>(msg.body).batch = std::move(batch);
    };

    set_op(Set{"kkkkk", "vvvvvv"});
    expect_fails(decode_peer_message(encode(msg), limits), ErrorCode::TooLarge,
                 "CanCommit.batch[1].ops[2].key: too large: 5 bytes, limit 4");

    set_op(Set{"k", "vvvvvvv"});
    expect_fails(decode_peer_message(encode(msg), limits), ErrorCode::TooLarge, "CanCommit.batch[1].ops[2].value");

    msg.header.cluster_id = "ccccc";
    set_op(Set{"k", "v"});
    expect_fails(decode_peer_message(encode(msg), limits), ErrorCode::TooLarge, "PeerMessage.cluster_id");

    const ClientResponse resp{kProtocolVersion, 1, 1, ErrorReply{ErrorCode::Aborted, "detailed"}};
    expect_fails(decode_client_response(encode(resp), limits), ErrorCode::TooLarge, "ErrorReply.detail");

    Snapshot snap;
    snap.entries_mru_first = {{"a", "b"}, {"long-key", "b"}};
    expect_fails(decode_snapshot(encode(snap), limits), ErrorCode::TooLarge, "Snapshot.entries[1].key");
}

TEST(Limits, ListsOverTheirLimits) {
    CodecLimits limits;
    limits.max_ops_per_request = 2;
    limits.max_commands_per_batch = 2;
    limits.max_members = 2;
    limits.max_list_length = 2;

    const ClientRequest ops{kProtocolVersion, "c", 1, 1, OpsRequest{{Get{"a"}, Get{"b"}, Get{"c"}}}};
    expect_fails(decode_client_request(encode(ops), limits), ErrorCode::TooLarge,
                 "OpsRequest.ops: too large: 3 elements, limit 2");

    const PeerMessage batch{PeerHeader{}, CanCommit{{}, Batch(3)}};
    expect_fails(decode_peer_message(encode(batch), limits), ErrorCode::TooLarge, "CanCommit.batch");

    const PeerMessage view{PeerHeader{}, NewView{EpochClosingRecord{1, {}, {}, View{2, {{1, 1}, {2, 2}, {3, 3}}, {}, 0, {}}}}};
    expect_fails(decode_peer_message(encode(view), limits), ErrorCode::TooLarge, "NewView.ecr.next.members");

    const PeerMessage query{PeerHeader{}, DecisionQuery{{{}, {}, {}}}};
    expect_fails(decode_peer_message(encode(query), limits), ErrorCode::TooLarge, "DecisionQuery.txs");

    const ClientRequest admin{kProtocolVersion, "c", 1, 1, AdminRequest{AdminKind::Isolate, {1, 2, 3}}};
    expect_fails(decode_client_request(encode(admin), limits), ErrorCode::TooLarge, "AdminRequest.peers");
}

TEST(Limits, U32FieldOutOfRange) {
    const std::string bytes = Raw().array(9).u(1).u(1).bin("c").u(0x100000000ULL).u(3).u(4).u(5).u(6).array(1).u(30).done();
    expect_fails(decode_peer_message(bytes), ErrorCode::Malformed, "PeerMessage.from");
}

// ------------------------------------------------------------------ arity

TEST(Arity, TopLevel) {
    expect_fails(decode_peer_message(Raw().array(0).done()), ErrorCode::WrongArity);
    expect_fails(decode_peer_message(Raw().array(1).u(1).done()), ErrorCode::WrongArity);
    expect_fails(decode_peer_message(Raw().peer_header(8).done()), ErrorCode::WrongArity, "PeerMessage: 8 elements, expected 9");
    expect_fails(decode_peer_message(Raw().peer_header(10).array(1).u(30).u(0).done()), ErrorCode::WrongArity);
}

TEST(Arity, StructsAndVariants) {
    // TxId with 2 fields.
    expect_fails(decode_peer_message(Raw().peer_header().array(2).u(8).array(2).u(1).u(2).done()),
                 ErrorCode::WrongArity, "DoAbort.tx: 2 fields, expected 3");
    // DoAbort with an extra field after the tag.
    expect_fails(decode_peer_message(Raw().peer_header().array(3).u(8).tx().u(0).done()), ErrorCode::WrongArity,
                 "DoAbort: 2 fields after the tag, expected 1");
    // Empty variant array.
    expect_fails(decode_peer_message(Raw().peer_header().array(0).done()), ErrorCode::WrongArity, "PeerMessage.body");
    // An op with a missing value.
    const std::string op = Raw().array(6).u(1).u(2).bin("c").u(1).u(2).array(2).u(1).array(1).array(2).u(2).bin("k").done();
    expect_fails(decode_client_request(op), ErrorCode::WrongArity, "OpsRequest.ops[0]: 1 fields after the tag, expected 3");
}

// ------------------------------------------------------------------ describe

TEST(Describe, OpsShowKeysAndValuesPrintably) {
    EXPECT_EQ(describe(Op{Get{"k"}}), "Get(\"k\")");
    EXPECT_EQ(describe(Op{Set{std::string("a\0", 2), "\xff"}}), "Set(\"a\\x00\", \"\\xff\")");
    EXPECT_EQ(describe(Op{Del{"q\""}}), "Del(\"q\\\"\")");
    EXPECT_EQ(describe(Op{Cas{"k", std::nullopt, "v"}}), "Cas(\"k\", absent -> \"v\")");
    EXPECT_EQ(describe(Op{Cas{"k", std::string("o"), "v"}}), "Cas(\"k\", \"o\" -> \"v\")");
    const std::string long_value = describe(Op{Set{"k", std::string(1000, 'x')}});
    EXPECT_LT(long_value.size(), 80u);
    EXPECT_NE(long_value.find("1000 bytes"), std::string::npos);
}

TEST(Describe, EveryPeerBodyHasADistinctNameAndADescription) {
    std::vector<std::string> names;
    for (const auto& b : samples::peer_bodies()) {
        const std::string name = kind_name(b);
        const std::string text = describe(b);
        EXPECT_EQ(text.rfind(name, 0), 0u) << text;
        EXPECT_EQ(text.find('\n'), std::string::npos) << text;
        for (const auto& other : names) EXPECT_NE(other, name);
        names.push_back(name);
    }
    EXPECT_EQ(names.size(), std::variant_size_v<PeerBody>);
    EXPECT_EQ(names.front(), "CanCommit");
    EXPECT_EQ(names.back(), "Heartbeat");
    EXPECT_EQ(describe(PeerBody{DoAbort{{1, 2, 3}}}), "DoAbort t1.2.3");
    EXPECT_EQ(describe(PeerBody{Vote{{1, 2, 3}, false, {5, 1}, VoteNoReason::WrongEpoch}}),
              "Vote t1.2.3 no proposed=(5,1) reason=WrongEpoch");
    EXPECT_NE(describe(samples::peer_bodies().front()).find("Set(\"k1\\x00\\xff\""), std::string::npos);
}

}  // namespace
}  // namespace tricache::protocol
