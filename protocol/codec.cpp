// msgpack codec for every tricache message. The authoritative description of
// the format is spec/WIRE.md; this block is its summary.
//
//   * A top-level message is one msgpack array [version, kind, fields...]:
//       kind 1 PeerMessage     [v, 1, cluster_id, from, incarnation, epoch, history, history_tag, body]
//       kind 2 ClientRequest   [v, 2, cluster_id, client, request, body]
//       kind 3 ClientResponse  [v, 3, client, request, body]
//       kind 4 Snapshot        [v, 4, epoch, base_ts, max_entries, max_bytes,
//                               entries, retries, log_length, log_hash, apply_clock_ms, expiries]
//       kind 5 DeliveryRecord  [v, 5, record]  (a node's delivery log, never on the wire;
//                               record: [1, index, tx, final_ts, epoch, batch] DeliveredRecord,
//                               [2, epoch, log_length, log_hash] SnapshotInstalledRecord)
//     The version (kProtocolVersion = 1) is checked before anything else is read.
//   * A struct is a fixed-arity array of its fields, in declaration order
//     (Timestamp [counter, node], TxId [coordinator, incarnation, seq], ...).
//   * A variant (message bodies, Op) is [tag, fields...]: the alternative's
//     fields follow the tag inline. Tags are stable numbers (the Wire<> table
//     below); a decoder that meets an unknown one says UnknownKind:
//       Op:                 1 Get, 2 Set, 3 Del, 4 Cas, 5 Incr, 6 Append, 7 Exists, 8 Require,
//                           9 Count, 10 Scan, 11 Clear, 12 Expire, 13 Persist, 14 Ttl, 15 Purge
//       ClientRequestBody:  1 OpsRequest, 2 LocalGetRequest, 3 StatusRequest, 4 AdminRequest
//       ClientResponseBody: 1 OpsReply, 2 LocalGetReply, 3 StatusReply, 4 AdminReply, 5 ErrorReply
//       PeerBody:           1 CanCommit, 2 Vote, 3 PreCommit, 4 PreAbort, 5 Ack, 6 Nack,
//                           7 DoCommit, 8 DoAbort, 9 DecisionQuery, 10 Decision, 11 StateReq,
//                           12 StateResp, 20 VcPrepare, 21 VcPromise, 22 VcAccept, 23 VcAccepted,
//                           24 VcNack, 25 NewView, 26 RbPrepare, 27 RbPromise, 30 JoinReq, 31 SnapshotRequest,
//                           32 SnapshotChunk, 40 Heartbeat
//     Enums are unsigned integers with their declared values; others are UnknownKind.
//   * std::optional is nil or the value.
//   * Keys, values, cluster ids and snapshot chunk data are msgpack bin; free
//     text (status, error and admin messages) is str. Decoders take either.
//   * Integers use the shortest msgpack form; decoders accept any unsigned form.
//     The signed fields (Incr.delta, Expiry.ms) are any msgpack integer within int64.
//
// Decoding is total. Before msgpack-c builds an object tree, one pass over the
// bytes (prescan), whose only memory is a stack of at most max_depth counters,
// proves that the input is one complete msgpack value, no deeper than
// max_depth, with no trailing bytes, and that every array or map header claims
// no more elements than bytes remain. msgpack-c allocates array storage from
// the header count before it reads the elements, so without that pass a 5-byte
// input could ask for gigabytes. After it, the object tree costs at most one
// msgpack::object per input byte, and strings reference the input instead of
// being copied.

#include "protocol/codec.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <concepts>
#include <cstdint>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <msgpack.hpp>

namespace tricache::protocol {
namespace {

// ------------------------------------------------------------------ wire table

enum class Family : std::uint8_t { Peer = 1, ClientRequest = 2, ClientResponse = 3, Snapshot = 4, DeliveryRecord = 5 };

constexpr std::string_view family_name(std::uint64_t kind) {
    switch (kind) {
        case 1: return "PeerMessage";
        case 2: return "ClientRequest";
        case 3: return "ClientResponse";
        case 4: return "Snapshot";
        case 5: return "DeliveryRecord";
        default: return {};
    }
}

template <class T>
struct Wire;

// Tags are part of the protocol: never renumber, only add.
#define TRICACHE_WIRE(Type, Tag)                            \
    template <>                                             \
    struct Wire<Type> {                                     \
        static constexpr std::uint8_t tag = Tag;            \
        static constexpr const char* name = #Type;          \
    }

TRICACHE_WIRE(Get, 1);
TRICACHE_WIRE(Set, 2);
TRICACHE_WIRE(Del, 3);
TRICACHE_WIRE(Cas, 4);
TRICACHE_WIRE(Incr, 5);
TRICACHE_WIRE(Append, 6);
TRICACHE_WIRE(Exists, 7);
TRICACHE_WIRE(Require, 8);
TRICACHE_WIRE(Count, 9);
TRICACHE_WIRE(Scan, 10);
TRICACHE_WIRE(Clear, 11);
TRICACHE_WIRE(Expire, 12);
TRICACHE_WIRE(Persist, 13);
TRICACHE_WIRE(Ttl, 14);
TRICACHE_WIRE(Purge, 15);

TRICACHE_WIRE(OpsRequest, 1);
TRICACHE_WIRE(LocalGetRequest, 2);
TRICACHE_WIRE(StatusRequest, 3);
TRICACHE_WIRE(AdminRequest, 4);

TRICACHE_WIRE(OpsReply, 1);
TRICACHE_WIRE(LocalGetReply, 2);
TRICACHE_WIRE(StatusReply, 3);
TRICACHE_WIRE(AdminReply, 4);
TRICACHE_WIRE(ErrorReply, 5);

// Peer bodies are numbered by protocol phase, leaving room in each group.
TRICACHE_WIRE(CanCommit, 1);
TRICACHE_WIRE(Vote, 2);
TRICACHE_WIRE(PreCommit, 3);
TRICACHE_WIRE(PreAbort, 4);
TRICACHE_WIRE(Ack, 5);
TRICACHE_WIRE(Nack, 6);
TRICACHE_WIRE(DoCommit, 7);
TRICACHE_WIRE(DoAbort, 8);
TRICACHE_WIRE(DecisionQuery, 9);
TRICACHE_WIRE(Decision, 10);
TRICACHE_WIRE(StateReq, 11);
TRICACHE_WIRE(StateResp, 12);
TRICACHE_WIRE(VcPrepare, 20);
TRICACHE_WIRE(VcPromise, 21);
TRICACHE_WIRE(VcAccept, 22);
TRICACHE_WIRE(VcAccepted, 23);
TRICACHE_WIRE(VcNack, 24);
TRICACHE_WIRE(NewView, 25);
TRICACHE_WIRE(RbPrepare, 26);
TRICACHE_WIRE(RbPromise, 27);
TRICACHE_WIRE(JoinReq, 30);
TRICACHE_WIRE(SnapshotRequest, 31);
TRICACHE_WIRE(SnapshotChunk, 32);
TRICACHE_WIRE(Heartbeat, 40);

TRICACHE_WIRE(DeliveredRecord, 1);
TRICACHE_WIRE(SnapshotInstalledRecord, 2);

#undef TRICACHE_WIRE

template <class V>
struct VariantTags;
template <class... A>
struct VariantTags<std::variant<A...>> {
    static constexpr bool valid() {
        constexpr std::array<std::uint8_t, sizeof...(A)> tags{Wire<A>::tag...};
        for (std::size_t i = 0; i < tags.size(); ++i) {
            if (tags[i] > 0x7f) return false;  // one-byte positive fixint on the wire
            for (std::size_t j = i + 1; j < tags.size(); ++j) {
                if (tags[i] == tags[j]) return false;
            }
        }
        return true;
    }
};
static_assert(VariantTags<Op>::valid());
static_assert(kMaxAppendedValueBytes == CodecLimits{}.max_value_bytes, "an appended value must fit the codec");
static_assert(VariantTags<ClientRequestBody>::valid());
static_assert(VariantTags<ClientResponseBody>::valid());
static_assert(VariantTags<PeerBody>::valid());
static_assert(VariantTags<DeliveryRecord>::valid());

// A message body starts a fresh error path ("CanCommit.batch[3]..."); an Op
// stays inside its parent's path ("...ops[0].key").
template <class V>
inline constexpr bool kBodyVariant = false;
template <>
inline constexpr bool kBodyVariant<PeerBody> = true;
template <>
inline constexpr bool kBodyVariant<ClientRequestBody> = true;
template <>
inline constexpr bool kBodyVariant<ClientResponseBody> = true;
template <>
inline constexpr bool kBodyVariant<DeliveryRecord> = true;

// Which limit bounds a string, and whether it goes out as bin or str.
enum class Str : std::uint8_t { Key, Value, Text, Cluster, Chunk };
// Which limit bounds a list.
enum class Lim : std::uint8_t { Ops, Commands, Members, Other };

// Deepest nesting any valid message reaches (VcPromise.accepted_ecr.committed
// [i].batch[j].ops[k].expiry); a max_depth below it rejects some valid messages.
[[maybe_unused]] constexpr std::size_t kSchemaDepth = 10;
// The widest fixed-arity array (StatusReply after its tag).
constexpr std::size_t kMaxArity = 16;

// ------------------------------------------------------------------ enums

constexpr bool enum_known(std::type_identity<TxState>, std::uint64_t raw) { return raw <= 5; }
constexpr bool enum_known(std::type_identity<VoteNoReason>, std::uint64_t raw) { return raw <= 5; }
constexpr bool enum_known(std::type_identity<Outcome>, std::uint64_t raw) { return raw <= 2; }
constexpr bool enum_known(std::type_identity<AdminKind>, std::uint64_t raw) { return raw >= 1 && raw <= 4; }
constexpr bool enum_known(std::type_identity<ExpiryKind>, std::uint64_t raw) { return raw <= 3; }
constexpr bool enum_known(std::type_identity<ExpireCond>, std::uint64_t raw) { return raw <= 5; }
constexpr bool enum_known(std::type_identity<ErrorCode>, std::uint64_t raw) {
    return raw <= 0xff && is_known_error_code(static_cast<std::uint8_t>(raw));
}

constexpr const char* enum_type_name(std::type_identity<TxState>) { return "TxState"; }
constexpr const char* enum_type_name(std::type_identity<VoteNoReason>) { return "VoteNoReason"; }
constexpr const char* enum_type_name(std::type_identity<Outcome>) { return "Outcome"; }
constexpr const char* enum_type_name(std::type_identity<AdminKind>) { return "AdminKind"; }
constexpr const char* enum_type_name(std::type_identity<ExpiryKind>) { return "ExpiryKind"; }
constexpr const char* enum_type_name(std::type_identity<ExpireCond>) { return "ExpireCond"; }
constexpr const char* enum_type_name(std::type_identity<ErrorCode>) { return "ErrorCode"; }

// ------------------------------------------------------------------ schemas
//
// One function per struct lists its fields in wire order. The same list drives
// the encoder, the decoder and the arity count, so they cannot disagree. Each
// one destructures its struct, so a field added to or removed from
// messages.hpp stops this file compiling until the schema (and spec/WIRE.md)
// follow; fieldless structs are pinned by static_assert instead.

#define TRICACHE_SCHEMA(Type)                                 \
    template <class V, class S>                               \
        requires std::same_as<std::remove_const_t<S>, Type>   \
    void schema(V& v, S& m)

TRICACHE_SCHEMA(Timestamp) {
    auto& [counter, node] = m;
    v("counter", counter);
    v("node", node);
}
TRICACHE_SCHEMA(Ballot) {
    auto& [counter, node] = m;
    v("counter", counter);
    v("node", node);
}
TRICACHE_SCHEMA(TxId) {
    auto& [coordinator, incarnation, seq] = m;
    v("coordinator", coordinator);
    v("incarnation", incarnation);
    v("seq", seq);
}
TRICACHE_SCHEMA(Member) {
    auto& [node, incarnation] = m;
    v("node", node);
    v("incarnation", incarnation);
}
TRICACHE_SCHEMA(BirthStamp) {
    auto& [node, incarnation, count] = m;
    v("node", node);
    v("incarnation", incarnation);
    v("count", count);
}

TRICACHE_SCHEMA(Get) {
    auto& [key] = m;
    v("key", key, Str::Key);
}
TRICACHE_SCHEMA(Expiry) {
    auto& [kind, ms] = m;
    v("kind", kind);
    v("ms", ms);
}
TRICACHE_SCHEMA(Set) {
    auto& [key, value, expiry] = m;
    v("key", key, Str::Key);
    v("value", value, Str::Value);
    v("expiry", expiry);
}
TRICACHE_SCHEMA(Del) {
    auto& [key] = m;
    v("key", key, Str::Key);
}
TRICACHE_SCHEMA(Cas) {
    auto& [key, expected, value] = m;
    v("key", key, Str::Key);
    v("expected", expected, Str::Value);
    v("value", value, Str::Value);
}
TRICACHE_SCHEMA(Incr) {
    auto& [key, delta] = m;
    v("key", key, Str::Key);
    v("delta", delta);
}
TRICACHE_SCHEMA(Append) {
    auto& [key, value] = m;
    v("key", key, Str::Key);
    v("value", value, Str::Value);
}
TRICACHE_SCHEMA(Exists) {
    auto& [key] = m;
    v("key", key, Str::Key);
}
TRICACHE_SCHEMA(Require) {
    auto& [key, present] = m;
    v("key", key, Str::Key);
    v("present", present);
}
static_assert(std::is_empty_v<Count>, "Count gained a field: add it to its schema");
TRICACHE_SCHEMA(Count) {
    (void)v;
    (void)m;
}
TRICACHE_SCHEMA(Scan) {
    auto& [cursor, count] = m;
    v("cursor", cursor);
    v("count", count);
}
static_assert(std::is_empty_v<Clear>, "Clear gained a field: add it to its schema");
TRICACHE_SCHEMA(Clear) {
    (void)v;
    (void)m;
}
TRICACHE_SCHEMA(Expire) {
    auto& [key, when, cond] = m;
    v("key", key, Str::Key);
    v("when", when);
    v("cond", cond);
}
TRICACHE_SCHEMA(Persist) {
    auto& [key] = m;
    v("key", key, Str::Key);
}
TRICACHE_SCHEMA(Ttl) {
    auto& [key] = m;
    v("key", key, Str::Key);
}
TRICACHE_SCHEMA(Purge) {
    auto& [max] = m;
    v("max", max);
}
TRICACHE_SCHEMA(OpResult) {
    auto& [ok, value] = m;
    v("ok", ok);
    v("value", value, Str::Value);
}
TRICACHE_SCHEMA(Command) {
    auto& [client, request, ops, stamp_ms] = m;
    v("client", client);
    v("request", request);
    v("ops", ops, Lim::Ops);
    v("stamp_ms", stamp_ms);
}

TRICACHE_SCHEMA(OpsRequest) {
    auto& [ops] = m;
    v("ops", ops, Lim::Ops);
}
TRICACHE_SCHEMA(LocalGetRequest) {
    auto& [key] = m;
    v("key", key, Str::Key);
}
static_assert(std::is_empty_v<StatusRequest>, "StatusRequest gained a field: add it to its schema");
TRICACHE_SCHEMA(StatusRequest) {
    (void)v;
    (void)m;
}
TRICACHE_SCHEMA(AdminRequest) {
    auto& [kind, peers] = m;
    v("kind", kind);
    v("peers", peers, Lim::Members);
}

TRICACHE_SCHEMA(OpsReply) {
    auto& [results] = m;
    v("results", results, Lim::Ops);
}
TRICACHE_SCHEMA(LocalGetReply) {
    auto& [found, value, delivered] = m;
    v("found", found);
    v("value", value, Str::Value);
    v("delivered", delivered);
}
TRICACHE_SCHEMA(StatusReply) {
    auto& [node, incarnation, epoch, members, ready, why_not_ready, delivered, log_hash, digest, entries, bytes,
           in_flight, history] = m;
    v("node", node);
    v("incarnation", incarnation);
    v("epoch", epoch);
    v("members", members, Lim::Members);
    v("ready", ready);
    v("why_not_ready", why_not_ready, Str::Text);
    v("delivered", delivered);
    v("log_hash", log_hash);
    v("digest", digest);
    v("entries", entries);
    v("bytes", bytes);
    v("in_flight", in_flight);
    v("history", history);
}
TRICACHE_SCHEMA(AdminReply) {
    auto& [message, values] = m;
    v("message", message, Str::Text);
    v("values", values, Lim::Other);
}
TRICACHE_SCHEMA(ErrorReply) {
    auto& [code, detail] = m;
    v("code", code);
    v("detail", detail, Str::Text);
}

TRICACHE_SCHEMA(View) {
    auto& [epoch, members, base_ts, history, birth] = m;
    v("epoch", epoch);
    v("members", members, Lim::Members);
    v("base_ts", base_ts);
    v("history", history);
    v("birth", birth, Lim::Members);
}
TRICACHE_SCHEMA(CommittedTx) {
    auto& [tx, final_ts, batch] = m;
    v("tx", tx);
    v("final_ts", final_ts);
    v("batch", batch, Lim::Commands);
}
TRICACHE_SCHEMA(EpochClosingRecord) {
    auto& [closes, committed, aborted, next] = m;
    v("closes", closes);
    v("committed", committed, Lim::Other);
    v("aborted", aborted, Lim::Other);
    v("next", next);
}
TRICACHE_SCHEMA(TxReport) {
    auto& [tx, state, accepted, proposed, final_ts, batch] = m;
    v("tx", tx);
    v("state", state);
    v("accepted", accepted);
    v("proposed", proposed);
    v("final_ts", final_ts);
    v("batch", batch, Lim::Commands);
}

TRICACHE_SCHEMA(CanCommit) {
    auto& [tx, batch] = m;
    v("tx", tx);
    v("batch", batch, Lim::Commands);
}
TRICACHE_SCHEMA(Vote) {
    auto& [tx, yes, proposed, reason] = m;
    v("tx", tx);
    v("yes", yes);
    v("proposed", proposed);
    v("reason", reason);
}
TRICACHE_SCHEMA(PreCommit) {
    auto& [tx, ballot, final_ts] = m;
    v("tx", tx);
    v("ballot", ballot);
    v("final_ts", final_ts);
}
TRICACHE_SCHEMA(PreAbort) {
    auto& [tx, ballot] = m;
    v("tx", tx);
    v("ballot", ballot);
}
TRICACHE_SCHEMA(Ack) {
    auto& [tx, ballot] = m;
    v("tx", tx);
    v("ballot", ballot);
}
TRICACHE_SCHEMA(Nack) {
    auto& [tx, ballot, promised] = m;
    v("tx", tx);
    v("ballot", ballot);
    v("promised", promised);
}
TRICACHE_SCHEMA(DoCommit) {
    auto& [tx, final_ts] = m;
    v("tx", tx);
    v("final_ts", final_ts);
}
TRICACHE_SCHEMA(DoAbort) {
    auto& [tx] = m;
    v("tx", tx);
}
TRICACHE_SCHEMA(DecisionQuery) {
    auto& [txs] = m;
    v("txs", txs, Lim::Other);
}
TRICACHE_SCHEMA(Decision) {
    auto& [tx, outcome, final_ts] = m;
    v("tx", tx);
    v("outcome", outcome);
    v("final_ts", final_ts);
}
TRICACHE_SCHEMA(StateReq) {
    auto& [tx, ballot] = m;
    v("tx", tx);
    v("ballot", ballot);
}
TRICACHE_SCHEMA(StateResp) {
    auto& [tx, ballot, state, accepted, proposed, final_ts] = m;
    v("tx", tx);
    v("ballot", ballot);
    v("state", state);
    v("accepted", accepted);
    v("proposed", proposed);
    v("final_ts", final_ts);
}
TRICACHE_SCHEMA(VcPrepare) {
    auto& [ballot, target] = m;
    v("ballot", ballot);
    v("target", target);
}
TRICACHE_SCHEMA(VcPromise) {
    auto& [ballot, last_normal_epoch, accepted, accepted_ecr, reports, delivered] = m;
    v("ballot", ballot);
    v("last_normal_epoch", last_normal_epoch);
    v("accepted", accepted);
    v("accepted_ecr", accepted_ecr);
    v("reports", reports, Lim::Other);
    v("delivered", delivered);
}
TRICACHE_SCHEMA(VcAccept) {
    auto& [ballot, ecr] = m;
    v("ballot", ballot);
    v("ecr", ecr);
}
TRICACHE_SCHEMA(VcAccepted) {
    auto& [ballot] = m;
    v("ballot", ballot);
}
TRICACHE_SCHEMA(VcNack) {
    auto& [ballot, promised, installed] = m;
    v("ballot", ballot);
    v("promised", promised);
    v("installed", installed);
}
TRICACHE_SCHEMA(NewView) {
    auto& [ecr] = m;
    v("ecr", ecr);
}
TRICACHE_SCHEMA(RbPrepare) {
    auto& [epoch] = m;
    v("epoch", epoch);
}
TRICACHE_SCHEMA(RbPromise) {
    auto& [epoch, count] = m;
    v("epoch", epoch);
    v("count", count);
}
TRICACHE_SCHEMA(JoinReq) {
    auto& [amnesiac] = m;
    v("amnesiac", amnesiac);
}
TRICACHE_SCHEMA(SnapshotRequest) {
    auto& [epoch, from_chunk, ask] = m;
    v("epoch", epoch);
    v("from_chunk", from_chunk);
    v("ask", ask);
}
TRICACHE_SCHEMA(SnapshotChunk) {
    auto& [epoch, index, total, data, ask] = m;
    v("epoch", epoch);
    v("index", index);
    v("total", total);
    v("data", data, Str::Chunk);
    v("ask", ask);
}
TRICACHE_SCHEMA(DecidedFloor) {
    auto& [coordinator, incarnation, seq] = m;
    v("coordinator", coordinator);
    v("incarnation", incarnation);
    v("seq", seq);
}
TRICACHE_SCHEMA(Heartbeat) {
    auto& [delivered, floors] = m;
    v("delivered", delivered);
    v("floors", floors, Lim::Other);
}

using Entry = std::pair<std::string, std::string>;
TRICACHE_SCHEMA(Entry) {
    auto& [key, value] = m;
    v("key", key, Str::Key);
    v("value", value, Str::Value);
}
using ExpiryRow = std::pair<std::string, std::uint64_t>;
TRICACHE_SCHEMA(ExpiryRow) {
    auto& [key, at_ms] = m;
    v("key", key, Str::Key);
    v("at_ms", at_ms);
}
TRICACHE_SCHEMA(RetryEntry) {
    auto& [client, request, results] = m;
    v("client", client);
    v("request", request);
    v("results", results, Lim::Ops);
}

// Top-level messages: the fields after [version, kind]; the version is written
// and checked by the caller.
TRICACHE_SCHEMA(PeerMessage) {
    auto& [header, body] = m;
    auto& [version, cluster_id, from, incarnation, epoch, history, history_tag] = header;
    (void)version;
    v("cluster_id", cluster_id, Str::Cluster);
    v("from", from);
    v("incarnation", incarnation);
    v("epoch", epoch);
    v("history", history);
    v("history_tag", history_tag);
    v("body", body);
}
TRICACHE_SCHEMA(ClientRequest) {
    auto& [version, cluster_id, client, request, body] = m;
    (void)version;
    v("cluster_id", cluster_id, Str::Cluster);
    v("client", client);
    v("request", request);
    v("body", body);
}
TRICACHE_SCHEMA(ClientResponse) {
    auto& [version, client, request, body] = m;
    (void)version;
    v("client", client);
    v("request", request);
    v("body", body);
}
TRICACHE_SCHEMA(Snapshot) {
    auto& [epoch, base_ts, max_entries, max_bytes, entries_mru_first, retries, log_length, log_hash, apply_clock_ms,
           expiries] = m;
    v("epoch", epoch);
    v("base_ts", base_ts);
    v("max_entries", max_entries);
    v("max_bytes", max_bytes);
    v("entries", entries_mru_first, Lim::Other);
    v("retries", retries, Lim::Other);
    v("log_length", log_length);
    v("log_hash", log_hash);
    v("apply_clock_ms", apply_clock_ms);
    v("expiries", expiries, Lim::Other);
}

TRICACHE_SCHEMA(DeliveredRecord) {
    auto& [index, tx, final_ts, epoch, batch] = m;
    v("index", index);
    v("tx", tx);
    v("final_ts", final_ts);
    v("epoch", epoch);
    v("batch", batch, Lim::Commands);
}
TRICACHE_SCHEMA(SnapshotInstalledRecord) {
    auto& [epoch, log_length, log_hash] = m;
    v("epoch", epoch);
    v("log_length", log_length);
    v("log_hash", log_hash);
}
// The top level of a delivery-log record: [version, kind, record].
struct DeliveryTop {
    DeliveryRecord record;
};
TRICACHE_SCHEMA(DeliveryTop) {
    auto& [record] = m;
    v("record", record);
}

#undef TRICACHE_SCHEMA

struct Counter {
    std::size_t n = 0;
    template <class... A>
    void operator()(const char* /*name*/, A&&... /*field*/) { ++n; }
};

template <class T>
concept HasSchema = requires(Counter& c, T& t) { schema(c, t); };

template <class T>
std::size_t arity(const T& value) {
    Counter c;
    schema(c, value);
    return c.n;
}

// ------------------------------------------------------------------ encoder

struct StringSink {
    std::string* out;
    void write(const char* data, std::size_t size) { out->append(data, size); }
};

class Encoder {
public:
    explicit Encoder(std::string& out) : sink_{&out}, pk_(sink_) {}

    template <class M>
    void top(std::uint32_t version, Family family, const M& msg) {
        pk_.pack_array(static_cast<std::uint32_t>(2 + arity(msg)));
        pk_.pack_uint32(version);
        pk_.pack_uint8(static_cast<std::uint8_t>(family));
        schema(*this, msg);
    }

    // Schema visitor interface.
    template <class T>
    void operator()(const char* /*name*/, const T& field) { value(field); }
    void operator()(const char* /*name*/, const std::string& s, Str kind) { bytes(s, kind); }
    void operator()(const char* /*name*/, const std::optional<std::string>& s, Str kind) {
        if (s) {
            bytes(*s, kind);
        } else {
            pk_.pack_nil();
        }
    }
    template <class T>
    void operator()(const char* /*name*/, const std::vector<T>& list, Lim /*limit*/) { value(list); }
    void operator()(const char* /*name*/, const SharedBatch& batch, Lim /*limit*/) { value(*batch); }

private:
    void value(std::uint64_t x) { pk_.pack_uint64(x); }
    void value(std::int64_t x) { pk_.pack_int64(x); }
    void value(std::uint32_t x) { pk_.pack_uint32(x); }
    void value(bool b) {
        if (b) {
            pk_.pack_true();
        } else {
            pk_.pack_false();
        }
    }
    template <class E>
        requires std::is_enum_v<E>
    void value(E e) { pk_.pack_uint64(static_cast<std::uint64_t>(e)); }

    template <HasSchema T>
    void value(const T& s) {
        pk_.pack_array(static_cast<std::uint32_t>(arity(s)));
        schema(*this, s);
    }

    template <class... A>
    void value(const std::variant<A...>& var) {
        std::visit(
            [this](const auto& alt) {
                using Alt = std::remove_cvref_t<decltype(alt)>;
                pk_.pack_array(static_cast<std::uint32_t>(1 + arity(alt)));
                pk_.pack_uint8(Wire<Alt>::tag);
                schema(*this, alt);
            },
            var);
    }

    template <HasSchema T>
    void value(const std::optional<T>& opt) {
        if (opt) {
            value(*opt);
        } else {
            pk_.pack_nil();
        }
    }

    template <class T>
    void value(const std::vector<T>& list) {
        assert(list.size() <= std::numeric_limits<std::uint32_t>::max());
        pk_.pack_array(static_cast<std::uint32_t>(list.size()));
        for (const T& item : list) value(item);
    }

    void bytes(const std::string& s, Str kind) {
        assert(s.size() <= std::numeric_limits<std::uint32_t>::max());
        const auto size = static_cast<std::uint32_t>(s.size());
        if (kind == Str::Text) {
            pk_.pack_str(size);
            pk_.pack_str_body(s.data(), size);
        } else {
            pk_.pack_bin(size);
            pk_.pack_bin_body(s.data(), size);
        }
    }

    StringSink sink_;
    msgpack::packer<StringSink> pk_;
};

template <class M>
std::string encode_top(std::uint32_t version, Family family, const M& msg) {
    std::string out;
    out.reserve(128);
    Encoder enc(out);
    enc.top(version, family, msg);
    return out;
}

// ------------------------------------------------------------------ prescan

DecodeError error(ErrorCode code, std::string detail) { return DecodeError{code, std::move(detail)}; }

std::string at(std::size_t offset) { return "offset " + std::to_string(offset) + ": "; }

// The largest element count any array may claim: every list limit, and the
// widest struct.
std::size_t max_container(const CodecLimits& limits) {
    return std::max({limits.max_list_length, limits.max_commands_per_batch, limits.max_ops_per_request,
                     limits.max_members, kMaxArity});
}

// On success, `values` is the number of msgpack values in the input.
std::optional<DecodeError> prescan(std::string_view in, const CodecLimits& limits, std::size_t& values) {
    const std::size_t n = in.size();
    const std::uint64_t container_limit = max_container(limits);
    auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(in[i]); };
    auto big_endian = [&](std::size_t from, std::size_t width) {
        std::uint64_t x = 0;
        for (std::size_t i = 0; i < width; ++i) x = (x << 8) | byte(from + i);
        return x;
    };

    // Elements still owed by each open array or map, innermost last.
    std::vector<std::uint64_t> open;
    open.reserve(std::min<std::size_t>(limits.max_depth, 32));
    std::size_t pos = 0;
    values = 0;
    for (;;) {
        ++values;
        if (pos >= n) {
            return error(ErrorCode::Truncated,
                         n == 0 ? std::string("empty input") : at(pos) + "input ends inside a value");
        }
        const std::uint8_t b = byte(pos);
        std::size_t head = 1;       // marker plus any length bytes
        std::size_t length_at = 0;  // where the big-endian length sits, 0 if none
        std::size_t length_width = 0;
        std::uint64_t payload = 0;  // fixed payload bytes after the head
        bool container = false;
        std::uint64_t per_entry = 1;  // a map entry is two values
        std::uint64_t count = 0;
        if (b <= 0x7f || b >= 0xe0) {
            // positive or negative fixint
        } else if (b <= 0x8f) {
            container = true, per_entry = 2, count = b & 0x0fu;
        } else if (b <= 0x9f) {
            container = true, count = b & 0x0fu;
        } else if (b <= 0xbf) {
            payload = b & 0x1fu;
        } else {
            switch (b) {
                case 0xc0: case 0xc2: case 0xc3: break;  // nil, false, true
                case 0xc1: return error(ErrorCode::Malformed, at(pos) + "reserved byte 0xc1");
                case 0xc4: case 0xd9: head = 2, length_at = 1, length_width = 1; break;  // bin8, str8
                case 0xc5: case 0xda: head = 3, length_at = 1, length_width = 2; break;  // bin16, str16
                case 0xc6: case 0xdb: head = 5, length_at = 1, length_width = 4; break;  // bin32, str32
                case 0xc7: head = 3, length_at = 1, length_width = 1; break;             // ext8
                case 0xc8: head = 4, length_at = 1, length_width = 2; break;             // ext16
                case 0xc9: head = 6, length_at = 1, length_width = 4; break;             // ext32
                case 0xcc: case 0xd0: payload = 1; break;
                case 0xcd: case 0xd1: payload = 2; break;
                case 0xca: case 0xce: case 0xd2: payload = 4; break;
                case 0xcb: case 0xcf: case 0xd3: payload = 8; break;
                case 0xd4: payload = 2; break;  // fixext: type byte plus 1..16 data bytes
                case 0xd5: payload = 3; break;
                case 0xd6: payload = 5; break;
                case 0xd7: payload = 9; break;
                case 0xd8: payload = 17; break;
                case 0xdc: container = true, head = 3, length_at = 1, length_width = 2; break;  // array16
                case 0xdd: container = true, head = 5, length_at = 1, length_width = 4; break;  // array32
                case 0xde: container = true, per_entry = 2, head = 3, length_at = 1, length_width = 2; break;
                case 0xdf: container = true, per_entry = 2, head = 5, length_at = 1, length_width = 4; break;
                default: break;  // unreachable: every byte value is covered above
            }
        }
        if (n - pos < head) return error(ErrorCode::Truncated, at(pos) + "input ends inside a header");
        if (length_width != 0) {
            const std::uint64_t len = big_endian(pos + length_at, length_width);
            if (container) {
                count = len;
            } else {
                payload = len;
            }
        }
        const std::size_t header_at = pos;
        pos += head;
        const std::uint64_t remaining = n - pos;
        if (container) {
            if (open.size() + 1 > limits.max_depth) {
                return error(ErrorCode::Malformed,
                             at(header_at) + "nesting deeper than " + std::to_string(limits.max_depth));
            }
            if (count > container_limit) {
                return error(ErrorCode::TooLarge, at(header_at) + "container of " + std::to_string(count) +
                                                      " elements, over the limit " +
                                                      std::to_string(container_limit));
            }
            const std::uint64_t elements = count * per_entry;
            if (elements > remaining) {
                return error(ErrorCode::Truncated, at(header_at) + "container claims " + std::to_string(elements) +
                                                       " values but only " + std::to_string(remaining) +
                                                       " bytes remain");
            }
            if (elements > 0) {
                open.push_back(elements);
                continue;
            }
        } else {
            if (payload > remaining) {
                return error(ErrorCode::Truncated, at(header_at) + "value claims " + std::to_string(payload) +
                                                       " bytes but only " + std::to_string(remaining) + " remain");
            }
            pos += static_cast<std::size_t>(payload);
        }
        // One value is complete; it may complete its enclosing containers too.
        while (!open.empty() && --open.back() == 0) open.pop_back();
        if (open.empty()) break;
    }
    if (pos != n) {
        return error(ErrorCode::Malformed,
                     at(pos) + std::to_string(n - pos) + " trailing bytes after the message");
    }
    return std::nullopt;
}

// ------------------------------------------------------------------ decoder

// Thrown only inside this file and caught at the decode_* boundary: it unwinds
// from any depth of the schema walk without an error check after every field.
// Each level it passes through adds its own name on the way out, so a
// successful decode pays nothing for naming fields.
struct Failure {
    ErrorCode code;
    std::string what;
    std::string path;     // grows outwards: "key", "ops[0].key", ...
    bool rooted = false;  // a message or body name is in place; outer names are dropped

    void add_field(std::string_view name) {
        if (!rooted) prepend(name);
    }
    void add_index(std::size_t i) {
        if (!rooted) prepend("[" + std::to_string(i) + "]");
    }
    void add_root(std::string_view name) {
        if (!rooted) prepend(name);
        rooted = true;
    }
    std::string detail() const { return (path.empty() ? std::string("message") : path) + ": " + what; }

private:
    void prepend(std::string_view part) {
        const bool dot = !path.empty() && path.front() != '[';
        path = std::string(part) + (dot ? "." : "") + path;
    }
};

// Run fn, naming a field, list index or message in any Failure escaping it.
template <class Fn>
void in_field(const char* name, Fn&& fn) {
    try {
        fn();
    } catch (Failure& f) {
        f.add_field(name);
        throw;
    }
}
template <class Fn>
void in_index(std::size_t i, Fn&& fn) {
    try {
        fn();
    } catch (Failure& f) {
        f.add_index(i);
        throw;
    }
}
template <class Fn>
void in_root(const char* name, Fn&& fn) {
    try {
        fn();
    } catch (Failure& f) {
        f.add_root(name);
        throw;
    }
}

const char* type_name(msgpack::type::object_type t) {
    switch (t) {
        case msgpack::type::NIL: return "nil";
        case msgpack::type::BOOLEAN: return "bool";
        case msgpack::type::POSITIVE_INTEGER: return "unsigned integer";
        case msgpack::type::NEGATIVE_INTEGER: return "negative integer";
        case msgpack::type::FLOAT32: return "float32";
        case msgpack::type::FLOAT64: return "float64";
        case msgpack::type::STR: return "str";
        case msgpack::type::BIN: return "bin";
        case msgpack::type::ARRAY: return "array";
        case msgpack::type::MAP: return "map";
        case msgpack::type::EXT: return "ext";
    }
    return "unknown type";
}

class Decoder;

// Schema visitor that reads the fields of one struct from consecutive array
// elements.
class Fields {
public:
    Fields(Decoder& d, const msgpack::object* first) : d_(d), next_(first) {}

    template <class T>
    void operator()(const char* name, T& field);
    void operator()(const char* name, std::string& field, Str kind);
    void operator()(const char* name, std::optional<std::string>& field, Str kind);
    template <class T>
    void operator()(const char* name, std::vector<T>& field, Lim limit);
    void operator()(const char* name, SharedBatch& field, Lim limit);

private:
    Decoder& d_;
    const msgpack::object* next_;
};

class Decoder {
public:
    explicit Decoder(const CodecLimits& limits) : limits_(limits) {}

    [[noreturn]] static void fail(ErrorCode code, std::string what) { throw Failure{code, std::move(what), {}, false}; }

    template <class M>
    void top(const msgpack::object& o, Family family, M& out) {
        in_root(family_name(static_cast<std::uint64_t>(family)).data(), [&] { top_fields(o, family, out); });
    }

    void value(const msgpack::object& o, std::uint64_t& x) const {
        if (o.type != msgpack::type::POSITIVE_INTEGER) {
            fail(ErrorCode::WrongType, std::string("expected unsigned integer, got ") + type_name(o.type));
        }
        x = o.via.u64;
    }
    void value(const msgpack::object& o, std::int64_t& x) const {
        if (o.type == msgpack::type::NEGATIVE_INTEGER) {
            x = o.via.i64;
            return;
        }
        if (o.type != msgpack::type::POSITIVE_INTEGER) {
            fail(ErrorCode::WrongType, std::string("expected integer, got ") + type_name(o.type));
        }
        if (o.via.u64 > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            fail(ErrorCode::Malformed, std::to_string(o.via.u64) + " does not fit in a signed 64-bit integer");
        }
        x = static_cast<std::int64_t>(o.via.u64);
    }
    void value(const msgpack::object& o, std::uint32_t& x) const {
        std::uint64_t wide = 0;
        value(o, wide);
        if (wide > std::numeric_limits<std::uint32_t>::max()) {
            fail(ErrorCode::Malformed, std::to_string(wide) + " does not fit in 32 bits");
        }
        x = static_cast<std::uint32_t>(wide);
    }
    void value(const msgpack::object& o, bool& x) const {
        if (o.type != msgpack::type::BOOLEAN) fail(ErrorCode::WrongType, std::string("expected bool, got ") + type_name(o.type));
        x = o.via.boolean;
    }
    template <class E>
        requires std::is_enum_v<E>
    void value(const msgpack::object& o, E& e) const {
        std::uint64_t raw = 0;
        value(o, raw);
        if (!enum_known(std::type_identity<E>{}, raw)) {
            fail(ErrorCode::UnknownKind,
                 "unknown " + std::string(enum_type_name(std::type_identity<E>{})) + " value " + std::to_string(raw));
        }
        e = static_cast<E>(raw);
    }

    template <HasSchema T>
    void value(const msgpack::object& o, T& out) {
        const auto& a = array(o);
        expect_arity(a.size, arity(out), "fields");
        Fields f(*this, a.ptr);
        schema(f, out);
    }

    template <class... A>
    void value(const msgpack::object& o, std::variant<A...>& out) {
        const auto& a = array(o);
        if (a.size == 0) fail(ErrorCode::WrongArity, "empty array, expected [tag, fields...]");
        std::uint64_t tag = 0;
        in_field("tag", [&] { value(a.ptr[0], tag); });
        const bool found = (try_alternative<A>(a, tag, out) || ...);
        if (!found) fail(ErrorCode::UnknownKind, "unknown tag " + std::to_string(tag));
    }

    template <HasSchema T>
    void value(const msgpack::object& o, std::optional<T>& out) {
        if (o.type == msgpack::type::NIL) {
            out.reset();
            return;
        }
        value(o, out.emplace());
    }

    template <class T>
    void list(const msgpack::object& o, std::vector<T>& out, Lim limit) {
        const auto& a = array(o);
        const std::size_t max = list_limit(limit);
        if (a.size > max) {
            fail(ErrorCode::TooLarge,
                 "too large: " + std::to_string(a.size) + " elements, limit " + std::to_string(max));
        }
        // a.size was bounded by the remaining input in prescan and by the limit above.
        out.resize(a.size);
        for (std::uint32_t i = 0; i < a.size; ++i) {
            in_index(i, [&] { value(a.ptr[i], out[i]); });
        }
    }

    void bytes(const msgpack::object& o, std::string& out, Str kind) const {
        const char* data = nullptr;
        std::size_t size = 0;
        if (o.type == msgpack::type::BIN) {
            data = o.via.bin.ptr, size = o.via.bin.size;
        } else if (o.type == msgpack::type::STR) {
            data = o.via.str.ptr, size = o.via.str.size;
        } else {
            fail(ErrorCode::WrongType, std::string("expected bin or str, got ") + type_name(o.type));
        }
        const std::size_t max = string_limit(kind);
        if (size > max) {
            fail(ErrorCode::TooLarge, "too large: " + std::to_string(size) + " bytes, limit " + std::to_string(max));
        }
        out.assign(data, size);
    }

    void optional_bytes(const msgpack::object& o, std::optional<std::string>& out, Str kind) const {
        if (o.type == msgpack::type::NIL) {
            out.reset();
            return;
        }
        bytes(o, out.emplace(), kind);
    }

private:
    template <class M>
    void top_fields(const msgpack::object& o, Family family, M& out) {
        if (o.type != msgpack::type::ARRAY) fail(ErrorCode::WrongType, std::string("expected array, got ") + type_name(o.type));
        const auto& a = o.via.array;
        if (a.size == 0) fail(ErrorCode::WrongArity, "empty array, expected [version, kind, ...]");
        in_field("version", [&] {
            const msgpack::object& v = a.ptr[0];
            if (v.type == msgpack::type::NEGATIVE_INTEGER) {
                fail(ErrorCode::UnsupportedVersion, "version " + std::to_string(v.via.i64) + ", this codec speaks " +
                                                        std::to_string(kProtocolVersion));
            }
            if (v.type != msgpack::type::POSITIVE_INTEGER) {
                fail(ErrorCode::WrongType, std::string("expected unsigned integer, got ") + type_name(v.type));
            }
            if (v.via.u64 != kProtocolVersion) {
                fail(ErrorCode::UnsupportedVersion, "version " + std::to_string(v.via.u64) +
                                                        ", this codec speaks " + std::to_string(kProtocolVersion));
            }
        });
        if (a.size < 2) fail(ErrorCode::WrongArity, "1 element, expected [version, kind, ...]");
        in_field("kind", [&] {
            std::uint64_t kind = 0;
            value(a.ptr[1], kind);
            if (kind != static_cast<std::uint64_t>(family)) {
                const std::string_view other = family_name(kind);
                if (other.empty()) fail(ErrorCode::UnknownKind, "unknown message kind " + std::to_string(kind));
                fail(ErrorCode::UnknownKind, "got a " + std::string(other) + " (kind " + std::to_string(kind) + ")");
            }
        });
        expect_arity(a.size, 2 + arity(out), "elements");
        Fields f(*this, a.ptr + 2);
        schema(f, out);
    }


    const msgpack::object_array& array(const msgpack::object& o) const {
        if (o.type != msgpack::type::ARRAY) fail(ErrorCode::WrongType, std::string("expected array, got ") + type_name(o.type));
        return o.via.array;
    }

    void expect_arity(std::size_t got, std::size_t want, const char* what) const {
        if (got != want) {
            fail(ErrorCode::WrongArity,
                 std::to_string(got) + " " + what + ", expected " + std::to_string(want));
        }
    }

    template <class Alt, class V>
    bool try_alternative(const msgpack::object_array& a, std::uint64_t tag, V& out) {
        if (tag != Wire<Alt>::tag) return false;
        Alt& alt = out.template emplace<Alt>();
        auto fields = [&] {
            expect_arity(a.size - 1, arity(alt), "fields after the tag");
            Fields f(*this, a.ptr + 1);
            schema(f, alt);
        };
        if constexpr (kBodyVariant<V>) {
            in_root(Wire<Alt>::name, fields);
        } else {
            fields();
        }
        return true;
    }

    std::size_t list_limit(Lim limit) const {
        switch (limit) {
            case Lim::Ops: return limits_.max_ops_per_request;
            case Lim::Commands: return limits_.max_commands_per_batch;
            case Lim::Members: return limits_.max_members;
            case Lim::Other: return limits_.max_list_length;
        }
        return 0;
    }
    std::size_t string_limit(Str kind) const {
        switch (kind) {
            case Str::Key: case Str::Cluster: return limits_.max_key_bytes;
            case Str::Value: case Str::Text: return limits_.max_value_bytes;
            case Str::Chunk: return limits_.max_message_bytes;
        }
        return 0;
    }

    const CodecLimits& limits_;
};

template <class T>
void Fields::operator()(const char* name, T& field) {
    const msgpack::object& o = *next_++;
    in_field(name, [&] { d_.value(o, field); });
}
void Fields::operator()(const char* name, std::string& field, Str kind) {
    const msgpack::object& o = *next_++;
    in_field(name, [&] { d_.bytes(o, field, kind); });
}
void Fields::operator()(const char* name, std::optional<std::string>& field, Str kind) {
    const msgpack::object& o = *next_++;
    in_field(name, [&] { d_.optional_bytes(o, field, kind); });
}
template <class T>
void Fields::operator()(const char* name, std::vector<T>& field, Lim limit) {
    const msgpack::object& o = *next_++;
    in_field(name, [&] { d_.list(o, field, limit); });
}

void Fields::operator()(const char* name, SharedBatch& field, Lim limit) {
    Batch batch;
    (*this)(name, batch, limit);
    field = SharedBatch(std::move(batch));
}

// Strings point into the caller's buffer instead of being copied into the zone;
// the buffer outlives the object tree, which never leaves decode_top.
bool reference_input(msgpack::type::object_type /*type*/, std::size_t /*size*/, void* /*user*/) { return true; }

template <class M>
Decoded<M> decode_top(std::string_view bytes, const CodecLimits& limits, Family family) {
    if (bytes.size() > limits.max_message_bytes) {
        return error(ErrorCode::TooLarge, "message: " + std::to_string(bytes.size()) + " bytes, limit " +
                                              std::to_string(limits.max_message_bytes));
    }
    std::size_t values = 0;
    if (auto problem = prescan(bytes, limits, values)) return std::move(*problem);
    constexpr std::size_t kMsgpackMax = 0xffffffff;
    const std::size_t containers = std::min(max_container(limits), kMsgpackMax);
    const std::size_t strings = std::min(limits.max_message_bytes, kMsgpackMax);
    const msgpack::unpack_limit unpack_limits(containers, containers, strings, strings, strings, limits.max_depth);
    try {
        // Array elements are the zone's only contents (strings stay in the input),
        // so one chunk sized from the prescan count holds the whole tree.
        msgpack::zone zone((values + 4) * sizeof(msgpack::object));
        std::size_t offset = 0;
        bool referenced = false;
        const msgpack::object root = msgpack::unpack(zone, bytes.data(), bytes.size(), offset, referenced,
                                                     &reference_input, nullptr, unpack_limits);
        if (offset != bytes.size()) {
            return error(ErrorCode::Malformed, at(offset) + "trailing bytes after the message");
        }
        M out{};
        Decoder d(limits);
        d.top(root, family, out);
        return out;
    } catch (const Failure& f) {
        return error(f.code, f.detail());
    // prescan rules these out; they remain as a second line of defence.
    } catch (const msgpack::insufficient_bytes& e) {
        return error(ErrorCode::Truncated, std::string("msgpack: ") + e.what());
    } catch (const msgpack::depth_size_overflow& e) {
        return error(ErrorCode::Malformed, std::string("msgpack: ") + e.what());
    } catch (const msgpack::size_overflow& e) {
        return error(ErrorCode::TooLarge, std::string("msgpack: ") + e.what());
    } catch (const msgpack::type_error& e) {
        return error(ErrorCode::WrongType, std::string("msgpack: ") + e.what());
    } catch (const msgpack::parse_error& e) {
        return error(ErrorCode::Malformed, std::string("msgpack: ") + e.what());
    } catch (const std::bad_alloc&) {
        return error(ErrorCode::TooLarge, "out of memory while decoding");
    } catch (const std::exception& e) {
        return error(ErrorCode::Malformed, std::string("msgpack: ") + e.what());
    }
}

// ------------------------------------------------------------------ describe

// Printable, bounded rendering of binary bytes.
std::string show(std::string_view bytes) {
    constexpr std::size_t kShown = 24;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t i = 0; i < bytes.size() && i < kShown; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0x0f];
        }
    }
    out += '"';
    if (bytes.size() > kShown) out += "...(" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

const char* tx_state_name(TxState s) {
    switch (s) {
        case TxState::Unknown: return "Unknown";
        case TxState::Waiting: return "Waiting";
        case TxState::PreCommitted: return "PreCommitted";
        case TxState::PreAborted: return "PreAborted";
        case TxState::Committed: return "Committed";
        case TxState::Aborted: return "Aborted";
    }
    return "?";
}

const char* reason_name(VoteNoReason r) {
    switch (r) {
        case VoteNoReason::None: return "None";
        case VoteNoReason::WrongEpoch: return "WrongEpoch";
        case VoteNoReason::NotMember: return "NotMember";
        case VoteNoReason::Overloaded: return "Overloaded";
        case VoteNoReason::ViewChanging: return "ViewChanging";
        case VoteNoReason::TooLarge: return "TooLarge";
    }
    return "?";
}

const char* outcome_name(Outcome o) {
    switch (o) {
        case Outcome::Unknown: return "Unknown";
        case Outcome::Committed: return "Committed";
        case Outcome::Aborted: return "Aborted";
    }
    return "?";
}

// Lists show their first few items and a count of the rest.
template <class List, class Fn>
std::string show_list(const List& list, std::size_t shown, const char* sep, Fn&& item) {
    std::string out = "[";
    for (std::size_t i = 0; i < list.size() && i < shown; ++i) {
        if (i > 0) out += sep;
        out += item(list[i]);
    }
    if (list.size() > shown) out += std::string(sep) + "+" + std::to_string(list.size() - shown) + " more";
    return out + "]";
}

std::string show_batch(const Batch& batch) {
    return show_list(batch, 4, "; ", [](const Command& c) {
        return "c" + std::to_string(c.client) + "/r" + std::to_string(c.request) + " " +
               show_list(c.ops, 4, ", ", [](const Op& op) { return describe(op); });
    });
}

std::string show_members(const std::vector<Member>& members) {
    return show_list(members, 16, ",", [](const Member& m) {
        return std::to_string(m.node) + "." + std::to_string(m.incarnation);
    });
}

std::string show_txs(const std::vector<TxId>& txs) {
    return show_list(txs, 8, ",", [](const TxId& t) { return to_string(t); });
}

std::string show_ecr(const EpochClosingRecord& ecr) {
    return "<closes e" + std::to_string(ecr.closes) + " committed=" +
           show_list(ecr.committed, 8, ",",
                     [](const CommittedTx& c) { return to_string(c.tx) + "@" + to_string(c.final_ts); }) +
           " aborted=" + show_txs(ecr.aborted) + " next=e" + std::to_string(ecr.next.epoch) +
           show_members(ecr.next.members) + " base=" + to_string(ecr.next.base_ts) +
           " history=e" + std::to_string(ecr.next.history) + " birth=" +
           show_list(ecr.next.birth, 16, ",",
                     [](const BirthStamp& b) {
                         return std::to_string(b.node) + "." + std::to_string(b.incarnation) + "#" +
                                std::to_string(b.count);
                     }) +
           ">";
}

std::string body_details(const CanCommit& m) { return to_string(m.tx) + " batch=" + show_batch(*m.batch); }
std::string body_details(const Vote& m) {
    return to_string(m.tx) + (m.yes ? " yes" : " no") + " proposed=" + to_string(m.proposed) +
           (m.reason != VoteNoReason::None || !m.yes ? std::string(" reason=") + reason_name(m.reason) : "");
}
std::string body_details(const PreCommit& m) {
    return to_string(m.tx) + " " + to_string(m.ballot) + " final=" + to_string(m.final_ts);
}
std::string body_details(const PreAbort& m) { return to_string(m.tx) + " " + to_string(m.ballot); }
std::string body_details(const Ack& m) { return to_string(m.tx) + " " + to_string(m.ballot); }
std::string body_details(const Nack& m) {
    return to_string(m.tx) + " " + to_string(m.ballot) + " promised=" + to_string(m.promised);
}
std::string body_details(const DoCommit& m) { return to_string(m.tx) + " final=" + to_string(m.final_ts); }
std::string body_details(const DoAbort& m) { return to_string(m.tx); }
std::string body_details(const DecisionQuery& m) { return show_txs(m.txs); }
std::string body_details(const Decision& m) {
    return to_string(m.tx) + " " + outcome_name(m.outcome) + " final=" + to_string(m.final_ts);
}
std::string body_details(const StateReq& m) { return to_string(m.tx) + " " + to_string(m.ballot); }
std::string body_details(const StateResp& m) {
    return to_string(m.tx) + " " + to_string(m.ballot) + " state=" + tx_state_name(m.state) +
           " accepted=" + to_string(m.accepted) + " proposed=" + to_string(m.proposed) +
           " final=" + to_string(m.final_ts);
}
std::string body_details(const VcPrepare& m) { return to_string(m.ballot) + " target=e" + std::to_string(m.target); }
std::string body_details(const VcPromise& m) {
    return to_string(m.ballot) + " last_normal=e" + std::to_string(m.last_normal_epoch) +
           " accepted=" + to_string(m.accepted) + " ecr=" + (m.accepted_ecr ? show_ecr(*m.accepted_ecr) : "none") +
           " reports=" +
           show_list(m.reports, 8, ",",
                     [](const TxReport& r) { return to_string(r.tx) + ":" + tx_state_name(r.state); }) +
           " delivered=" + std::to_string(m.delivered);
}
std::string body_details(const VcAccept& m) { return to_string(m.ballot) + " ecr=" + show_ecr(m.ecr); }
std::string body_details(const VcAccepted& m) { return to_string(m.ballot); }
std::string body_details(const VcNack& m) {
    return to_string(m.ballot) + " promised=" + to_string(m.promised) + " installed=e" + std::to_string(m.installed);
}
std::string body_details(const NewView& m) { return show_ecr(m.ecr); }
std::string body_details(const RbPrepare& m) { return "e" + std::to_string(m.epoch); }
std::string body_details(const RbPromise& m) { return "e" + std::to_string(m.epoch) + " count=" + std::to_string(m.count); }
std::string body_details(const JoinReq& m) { return m.amnesiac ? "amnesiac" : "remembers promises"; }
std::string body_details(const SnapshotRequest& m) {
    return "e" + std::to_string(m.epoch) + " from_chunk=" + std::to_string(m.from_chunk) + " ask=" + std::to_string(m.ask);
}
std::string body_details(const SnapshotChunk& m) {
    return "e" + std::to_string(m.epoch) + " " + std::to_string(m.index) + "/" + std::to_string(m.total) + " (" +
           std::to_string(m.data.size()) + " bytes) ask=" + std::to_string(m.ask);
}
std::string body_details(const Heartbeat& m) {
    return "delivered=" + std::to_string(m.delivered) + " floors=" +
           show_list(m.floors, 16, ",", [](const DecidedFloor& f) {
               return std::to_string(f.coordinator) + "." + std::to_string(f.incarnation) +
                      "<=" + std::to_string(f.seq);
           });
}

}  // namespace

// ------------------------------------------------------------------ public API

std::string encode(const PeerMessage& msg) { return encode_top(msg.header.version, Family::Peer, msg); }
std::string encode(const ClientRequest& msg) { return encode_top(msg.version, Family::ClientRequest, msg); }
std::string encode(const ClientResponse& msg) { return encode_top(msg.version, Family::ClientResponse, msg); }
std::string encode(const Snapshot& snap) { return encode_top(kProtocolVersion, Family::Snapshot, snap); }
std::string encode(const DeliveryRecord& record) {
    return encode_top(kProtocolVersion, Family::DeliveryRecord, DeliveryTop{record});
}

Decoded<PeerMessage> decode_peer_message(std::string_view bytes, const CodecLimits& limits) {
    return decode_top<PeerMessage>(bytes, limits, Family::Peer);
}
Decoded<ClientRequest> decode_client_request(std::string_view bytes, const CodecLimits& limits) {
    return decode_top<ClientRequest>(bytes, limits, Family::ClientRequest);
}
Decoded<ClientResponse> decode_client_response(std::string_view bytes, const CodecLimits& limits) {
    return decode_top<ClientResponse>(bytes, limits, Family::ClientResponse);
}
Decoded<Snapshot> decode_snapshot(std::string_view bytes, const CodecLimits& limits) {
    return decode_top<Snapshot>(bytes, limits, Family::Snapshot);
}
Decoded<DeliveryRecord> decode_delivery_record(std::string_view bytes, const CodecLimits& limits) {
    auto top = decode_top<DeliveryTop>(bytes, limits, Family::DeliveryRecord);
    if (!top) return top.error();
    return std::move(top).value().record;
}

namespace {
std::string show_expiry(const Expiry& e) {
    switch (e.kind) {
        case ExpiryKind::None: return "no expiry";
        case ExpiryKind::Keep: return "keep expiry";
        case ExpiryKind::At: return "expire at " + std::to_string(e.ms);
        case ExpiryKind::After: return "expire after " + std::to_string(e.ms) + " ms";
    }
    return "?";
}
}  // namespace

std::string describe(const Op& op) {
    return std::visit(
        [](const auto& o) -> std::string {
            using T = std::remove_cvref_t<decltype(o)>;
            std::string out = std::string(Wire<T>::name) + "(";
            if constexpr (requires { o.key; }) out += show(o.key);
            if constexpr (std::is_same_v<T, Set>) {
                out += ", " + show(o.value);
                if (o.expiry.kind != ExpiryKind::None) out += ", " + show_expiry(o.expiry);
            } else if constexpr (std::is_same_v<T, Append>) {
                out += ", " + show(o.value);
            } else if constexpr (std::is_same_v<T, Expire>) {
                out += ", " + show_expiry(o.when);
                if (o.cond != ExpireCond::Always) out += " if " + std::to_string(static_cast<int>(o.cond));
            } else if constexpr (std::is_same_v<T, Purge>) {
                out += std::to_string(o.max);
            } else if constexpr (std::is_same_v<T, Incr>) {
                out += ", " + std::to_string(o.delta);
            } else if constexpr (std::is_same_v<T, Require>) {
                out += o.present ? ", present" : ", absent";
            } else if constexpr (std::is_same_v<T, Scan>) {
                out += std::to_string(o.cursor) + ", " + std::to_string(o.count);
            } else if constexpr (std::is_same_v<T, Cas>) {
                out += ", " + (o.expected ? show(*o.expected) : std::string("absent")) + " -> " + show(o.value);
            }
            return out + ")";
        },
        op);
}

std::string kind_name(const PeerBody& body) {
    return std::visit([](const auto& b) { return std::string(Wire<std::remove_cvref_t<decltype(b)>>::name); }, body);
}

std::string describe(const PeerBody& body) {
    return std::visit(
        [](const auto& b) {
            std::string details = body_details(b);
            std::string name = Wire<std::remove_cvref_t<decltype(b)>>::name;
            return details.empty() ? name : name + " " + details;
        },
        body);
}

}  // namespace tricache::protocol
