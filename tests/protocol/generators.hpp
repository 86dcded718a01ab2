// rapidcheck generators for every protocol value, biased towards edge cases:
// empty and maximum-size keys and values, bytes 0x00 and 0xFF, integers 0 and
// their type's maximum, optionals present and absent, lists empty and full.
//
// Every generator takes a Sizes describing the largest key, value and list it
// may produce; limits_for(sizes) gives CodecLimits whose maxima are exactly
// those, so maximum-size cases sit on the limit and stay cheap.
//
// Usage:
//   auto msg = *tricache::protocol::gen::peer_message();
//   auto vote = *tricache::protocol::gen::peer_message_with<Vote>(sizes);
//   RC_GTEST_PROP(Suite, Name, (const PeerMessage& m)) { ... }  // Arbitrary, default Sizes
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/codec.hpp"
#include "protocol/messages.hpp"

namespace tricache::protocol::gen {

struct Sizes {
    std::size_t max_key = 16;
    std::size_t max_value = 48;
    std::size_t max_text = 24;  // cluster ids, status and error text
    std::size_t max_list = 3;   // every list: ops, commands, members, reports, ...
};

// CodecLimits that accept exactly what generators with `sizes` produce, and
// nothing larger.
inline CodecLimits limits_for(const Sizes& sizes) {
    CodecLimits limits;
    limits.max_key_bytes = std::max(sizes.max_key, sizes.max_text);  // cluster ids count as keys
    limits.max_value_bytes = std::max(sizes.max_value, sizes.max_text);
    limits.max_ops_per_request = sizes.max_list;
    limits.max_commands_per_batch = sizes.max_list;
    limits.max_members = sizes.max_list;
    limits.max_list_length = sizes.max_list;
    return limits;
}

// ------------------------------------------------------------------ scalars

inline rc::Gen<std::uint64_t> u64() {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    return rc::gen::weightedOneOf<std::uint64_t>({
        {3, rc::gen::element<std::uint64_t>(0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffffULL,
                                            0x100000000ULL, kMax - 1, kMax)},
        {2, rc::gen::inRange<std::uint64_t>(0, 1000)},
        {2, rc::gen::inRange<std::uint64_t>(0, kMax)},
    });
}

inline rc::Gen<std::uint32_t> u32() {
    constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();
    return rc::gen::weightedOneOf<std::uint32_t>({
        {3, rc::gen::element<std::uint32_t>(0, 1, 127, 128, 255, 256, 65535, 65536, kMax - 1, kMax)},
        {2, rc::gen::inRange<std::uint32_t>(0, 100)},
        {2, rc::gen::inRange<std::uint32_t>(0, kMax)},
    });
}

inline rc::Gen<bool> boolean() { return rc::gen::element(false, true); }

inline rc::Gen<char> byte() {
    return rc::gen::weightedOneOf<char>({
        {2, rc::gen::element('\0', static_cast<char>(0xff), static_cast<char>(0x80), '"', '\\')},
        {3, rc::gen::inRange<char>('a', static_cast<char>('z' + 1))},
        {3, rc::gen::cast<char>(rc::gen::inRange<int>(-128, 128))},
    });
}

// Binary strings of 0..max bytes; empty and exactly-max are frequent.
inline rc::Gen<std::string> bytes(std::size_t max) {
    return rc::gen::weightedOneOf<std::string>({
        {1, rc::gen::just(std::string())},
        {1, rc::gen::container<std::string>(max, byte())},
        {1, rc::gen::map(byte(), [max](char c) { return std::string(max, c); })},
        {4, rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, max + 1),
                            [](std::size_t n) { return rc::gen::container<std::string>(n, byte()); })},
    });
}

template <class T>
rc::Gen<std::optional<T>> optional(rc::Gen<T> inner) {
    return rc::gen::weightedOneOf<std::optional<T>>({
        {1, rc::gen::just(std::optional<T>())},
        {2, rc::gen::map(std::move(inner), [](T v) { return std::optional<T>(std::move(v)); })},
    });
}

// Lists of 0..max elements; empty and exactly-max are frequent.
template <class T>
rc::Gen<std::vector<T>> list(std::size_t max, rc::Gen<T> item) {
    return rc::gen::weightedOneOf<std::vector<T>>({
        {1, rc::gen::just(std::vector<T>())},
        {1, rc::gen::container<std::vector<T>>(max, item)},
        {3, rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, max + 1),
                            [item](std::size_t n) { return rc::gen::container<std::vector<T>>(n, item); })},
    });
}

template <class E>
rc::Gen<E> enumeration();
template <>
inline rc::Gen<TxState> enumeration<TxState>() {
    return rc::gen::element(TxState::Unknown, TxState::Waiting, TxState::PreCommitted, TxState::PreAborted,
                            TxState::Committed, TxState::Aborted);
}
template <>
inline rc::Gen<VoteNoReason> enumeration<VoteNoReason>() {
    return rc::gen::element(VoteNoReason::None, VoteNoReason::WrongEpoch, VoteNoReason::NotMember,
                            VoteNoReason::Overloaded, VoteNoReason::ViewChanging, VoteNoReason::TooLarge);
}
template <>
inline rc::Gen<Outcome> enumeration<Outcome>() {
    return rc::gen::element(Outcome::Unknown, Outcome::Committed, Outcome::Aborted);
}
template <>
inline rc::Gen<AdminKind> enumeration<AdminKind>() {
    return rc::gen::element(AdminKind::Isolate, AdminKind::Heal, AdminKind::Rebootstrap, AdminKind::DebugLog);
}
template <>
inline rc::Gen<ExpiryKind> enumeration<ExpiryKind>() {
    return rc::gen::element(ExpiryKind::None, ExpiryKind::Keep, ExpiryKind::At, ExpiryKind::After);
}
template <>
inline rc::Gen<ExpireCond> enumeration<ExpireCond>() {
    return rc::gen::element(ExpireCond::Always, ExpireCond::Nx, ExpireCond::Xx, ExpireCond::Gt, ExpireCond::Lt,
                            ExpireCond::XxLt);
}
template <>
inline rc::Gen<ErrorCode> enumeration<ErrorCode>() {
    return rc::gen::element(ErrorCode::NoQuorum, ErrorCode::TimeoutOutcomeUnknown, ErrorCode::NotReady,
                            ErrorCode::BadRequest, ErrorCode::TooLarge, ErrorCode::WrongCluster, ErrorCode::Aborted,
                            ErrorCode::Overloaded, ErrorCode::NeedsRebootstrap, ErrorCode::Truncated,
                            ErrorCode::WrongType, ErrorCode::WrongArity, ErrorCode::UnknownKind,
                            ErrorCode::UnsupportedVersion, ErrorCode::Malformed);
}

// ------------------------------------------------------------------ identifiers

inline rc::Gen<Timestamp> timestamp() {
    return rc::gen::build<Timestamp>(rc::gen::set(&Timestamp::counter, u64()), rc::gen::set(&Timestamp::node, u32()));
}
inline rc::Gen<Ballot> ballot() {
    return rc::gen::build<Ballot>(rc::gen::set(&Ballot::counter, u64()), rc::gen::set(&Ballot::node, u32()));
}
inline rc::Gen<TxId> tx_id() {
    return rc::gen::build<TxId>(rc::gen::set(&TxId::coordinator, u32()), rc::gen::set(&TxId::incarnation, u64()),
                                rc::gen::set(&TxId::seq, u64()));
}
inline rc::Gen<Member> member() {
    return rc::gen::build<Member>(rc::gen::set(&Member::node, u32()), rc::gen::set(&Member::incarnation, u64()));
}

// ------------------------------------------------------------------ operations

inline rc::Gen<Expiry> expiry() {
    return rc::gen::build<Expiry>(rc::gen::set(&Expiry::kind, enumeration<ExpiryKind>()),
                                  rc::gen::set(&Expiry::ms, rc::gen::arbitrary<std::int64_t>()));
}

inline rc::Gen<Op> op(const Sizes& s = {}) {
    return rc::gen::oneOf(
        rc::gen::cast<Op>(rc::gen::build<Get>(rc::gen::set(&Get::key, bytes(s.max_key)))),
        rc::gen::cast<Op>(rc::gen::build<Set>(rc::gen::set(&Set::key, bytes(s.max_key)),
                                              rc::gen::set(&Set::value, bytes(s.max_value)),
                                              rc::gen::set(&Set::expiry, expiry()))),
        rc::gen::cast<Op>(rc::gen::build<Del>(rc::gen::set(&Del::key, bytes(s.max_key)))),
        rc::gen::cast<Op>(rc::gen::build<Cas>(rc::gen::set(&Cas::key, bytes(s.max_key)),
                                              rc::gen::set(&Cas::expected, optional(bytes(s.max_value))),
                                              rc::gen::set(&Cas::value, bytes(s.max_value)))),
        rc::gen::cast<Op>(rc::gen::build<Incr>(rc::gen::set(&Incr::key, bytes(s.max_key)),
                                               rc::gen::set(&Incr::delta, rc::gen::arbitrary<std::int64_t>()))),
        rc::gen::cast<Op>(rc::gen::build<Append>(rc::gen::set(&Append::key, bytes(s.max_key)),
                                                 rc::gen::set(&Append::value, bytes(s.max_value)))),
        rc::gen::cast<Op>(rc::gen::build<Exists>(rc::gen::set(&Exists::key, bytes(s.max_key)))),
        rc::gen::cast<Op>(rc::gen::build<Require>(rc::gen::set(&Require::key, bytes(s.max_key)),
                                                  rc::gen::set(&Require::present, boolean()))),
        rc::gen::just(Op{Count{}}),
        rc::gen::cast<Op>(rc::gen::build<Scan>(rc::gen::set(&Scan::cursor, u64()), rc::gen::set(&Scan::count, u32()))),
        rc::gen::just(Op{Clear{}}),
        rc::gen::cast<Op>(rc::gen::build<Expire>(rc::gen::set(&Expire::key, bytes(s.max_key)),
                                                 rc::gen::set(&Expire::when, expiry()),
                                                 rc::gen::set(&Expire::cond, enumeration<ExpireCond>()))),
        rc::gen::cast<Op>(rc::gen::build<Persist>(rc::gen::set(&Persist::key, bytes(s.max_key)))),
        rc::gen::cast<Op>(rc::gen::build<Ttl>(rc::gen::set(&Ttl::key, bytes(s.max_key)))),
        rc::gen::cast<Op>(rc::gen::build<Purge>(rc::gen::set(&Purge::max, u32()))));
}
inline rc::Gen<OpResult> op_result(const Sizes& s = {}) {
    return rc::gen::build<OpResult>(rc::gen::set(&OpResult::ok, boolean()),
                                    rc::gen::set(&OpResult::value, optional(bytes(s.max_value))));
}
inline rc::Gen<Command> command(const Sizes& s = {}) {
    return rc::gen::build<Command>(rc::gen::set(&Command::client, u64()), rc::gen::set(&Command::request, u64()),
                                   rc::gen::set(&Command::ops, list(s.max_list, op(s))),
                                   rc::gen::set(&Command::stamp_ms, u64()));
}
inline rc::Gen<Batch> batch(const Sizes& s = {}) { return list(s.max_list, command(s)); }

// ------------------------------------------------------------------ view change pieces

inline rc::Gen<BirthStamp> birth_stamp() {
    return rc::gen::build<BirthStamp>(rc::gen::set(&BirthStamp::node, u32()),
                                      rc::gen::set(&BirthStamp::incarnation, u64()),
                                      rc::gen::set(&BirthStamp::count, u64()));
}
inline rc::Gen<View> view(const Sizes& s = {}) {
    return rc::gen::build<View>(rc::gen::set(&View::epoch, u64()),
                                rc::gen::set(&View::members, list(s.max_list, member())),
                                rc::gen::set(&View::base_ts, timestamp()),
                                rc::gen::set(&View::history, u64()),
                                rc::gen::set(&View::birth, list(s.max_list, birth_stamp())));
}
inline rc::Gen<CommittedTx> committed_tx(const Sizes& s = {}) {
    return rc::gen::build<CommittedTx>(rc::gen::set(&CommittedTx::tx, tx_id()),
                                       rc::gen::set(&CommittedTx::final_ts, timestamp()),
                                       rc::gen::set(&CommittedTx::batch, batch(s)));
}
inline rc::Gen<EpochClosingRecord> epoch_closing_record(const Sizes& s = {}) {
    return rc::gen::build<EpochClosingRecord>(
        rc::gen::set(&EpochClosingRecord::closes, u64()),
        rc::gen::set(&EpochClosingRecord::committed, list(s.max_list, committed_tx(s))),
        rc::gen::set(&EpochClosingRecord::aborted, list(s.max_list, tx_id())),
        rc::gen::set(&EpochClosingRecord::next, view(s)));
}
inline rc::Gen<TxReport> tx_report(const Sizes& s = {}) {
    return rc::gen::build<TxReport>(rc::gen::set(&TxReport::tx, tx_id()),
                                    rc::gen::set(&TxReport::state, enumeration<TxState>()),
                                    rc::gen::set(&TxReport::accepted, ballot()),
                                    rc::gen::set(&TxReport::proposed, timestamp()),
                                    rc::gen::set(&TxReport::final_ts, timestamp()),
                                    rc::gen::set(&TxReport::batch, batch(s)));
}
inline rc::Gen<DecidedFloor> decided_floor() {
    return rc::gen::build<DecidedFloor>(rc::gen::set(&DecidedFloor::coordinator, u32()),
                                        rc::gen::set(&DecidedFloor::incarnation, u64()),
                                        rc::gen::set(&DecidedFloor::seq, u64()));
}

// ------------------------------------------------------------------ peer bodies

// body<T>(sizes): a generator for one PeerBody, client request or client
// response alternative.
template <class T>
rc::Gen<T> body(const Sizes& s = {});

template <>
inline rc::Gen<CanCommit> body<CanCommit>(const Sizes& s) {
    return rc::gen::build<CanCommit>(rc::gen::set(&CanCommit::tx, tx_id()), rc::gen::set(&CanCommit::batch, batch(s)));
}
template <>
inline rc::Gen<Vote> body<Vote>(const Sizes&) {
    return rc::gen::build<Vote>(rc::gen::set(&Vote::tx, tx_id()), rc::gen::set(&Vote::yes, boolean()),
                                rc::gen::set(&Vote::proposed, timestamp()),
                                rc::gen::set(&Vote::reason, enumeration<VoteNoReason>()));
}
template <>
inline rc::Gen<PreCommit> body<PreCommit>(const Sizes&) {
    return rc::gen::build<PreCommit>(rc::gen::set(&PreCommit::tx, tx_id()), rc::gen::set(&PreCommit::ballot, ballot()),
                                     rc::gen::set(&PreCommit::final_ts, timestamp()));
}
template <>
inline rc::Gen<PreAbort> body<PreAbort>(const Sizes&) {
    return rc::gen::build<PreAbort>(rc::gen::set(&PreAbort::tx, tx_id()), rc::gen::set(&PreAbort::ballot, ballot()));
}
template <>
inline rc::Gen<Ack> body<Ack>(const Sizes&) {
    return rc::gen::build<Ack>(rc::gen::set(&Ack::tx, tx_id()), rc::gen::set(&Ack::ballot, ballot()));
}
template <>
inline rc::Gen<Nack> body<Nack>(const Sizes&) {
    return rc::gen::build<Nack>(rc::gen::set(&Nack::tx, tx_id()), rc::gen::set(&Nack::ballot, ballot()),
                                rc::gen::set(&Nack::promised, ballot()));
}
template <>
inline rc::Gen<DoCommit> body<DoCommit>(const Sizes&) {
    return rc::gen::build<DoCommit>(rc::gen::set(&DoCommit::tx, tx_id()),
                                    rc::gen::set(&DoCommit::final_ts, timestamp()));
}
template <>
inline rc::Gen<DoAbort> body<DoAbort>(const Sizes&) {
    return rc::gen::build<DoAbort>(rc::gen::set(&DoAbort::tx, tx_id()));
}
template <>
inline rc::Gen<DecisionQuery> body<DecisionQuery>(const Sizes& s) {
    return rc::gen::build<DecisionQuery>(rc::gen::set(&DecisionQuery::txs, list(s.max_list, tx_id())));
}
template <>
inline rc::Gen<Decision> body<Decision>(const Sizes&) {
    return rc::gen::build<Decision>(rc::gen::set(&Decision::tx, tx_id()),
                                    rc::gen::set(&Decision::outcome, enumeration<Outcome>()),
                                    rc::gen::set(&Decision::final_ts, timestamp()));
}
template <>
inline rc::Gen<StateReq> body<StateReq>(const Sizes&) {
    return rc::gen::build<StateReq>(rc::gen::set(&StateReq::tx, tx_id()), rc::gen::set(&StateReq::ballot, ballot()));
}
template <>
inline rc::Gen<StateResp> body<StateResp>(const Sizes&) {
    return rc::gen::build<StateResp>(
        rc::gen::set(&StateResp::tx, tx_id()), rc::gen::set(&StateResp::ballot, ballot()),
        rc::gen::set(&StateResp::state, enumeration<TxState>()), rc::gen::set(&StateResp::accepted, ballot()),
        rc::gen::set(&StateResp::proposed, timestamp()), rc::gen::set(&StateResp::final_ts, timestamp()));
}
template <>
inline rc::Gen<VcPrepare> body<VcPrepare>(const Sizes&) {
    return rc::gen::build<VcPrepare>(rc::gen::set(&VcPrepare::ballot, ballot()),
                                     rc::gen::set(&VcPrepare::target, u64()));
}
template <>
inline rc::Gen<VcPromise> body<VcPromise>(const Sizes& s) {
    return rc::gen::build<VcPromise>(rc::gen::set(&VcPromise::ballot, ballot()),
                                     rc::gen::set(&VcPromise::last_normal_epoch, u64()),
                                     rc::gen::set(&VcPromise::accepted, ballot()),
                                     rc::gen::set(&VcPromise::accepted_ecr, optional(epoch_closing_record(s))),
                                     rc::gen::set(&VcPromise::reports, list(s.max_list, tx_report(s))),
                                     rc::gen::set(&VcPromise::delivered, u64()));
}
template <>
inline rc::Gen<VcAccept> body<VcAccept>(const Sizes& s) {
    return rc::gen::build<VcAccept>(rc::gen::set(&VcAccept::ballot, ballot()),
                                    rc::gen::set(&VcAccept::ecr, epoch_closing_record(s)));
}
template <>
inline rc::Gen<VcAccepted> body<VcAccepted>(const Sizes&) {
    return rc::gen::build<VcAccepted>(rc::gen::set(&VcAccepted::ballot, ballot()));
}
template <>
inline rc::Gen<VcNack> body<VcNack>(const Sizes&) {
    return rc::gen::build<VcNack>(rc::gen::set(&VcNack::ballot, ballot()), rc::gen::set(&VcNack::promised, ballot()),
                                  rc::gen::set(&VcNack::installed, u64()));
}
template <>
inline rc::Gen<NewView> body<NewView>(const Sizes& s) {
    return rc::gen::build<NewView>(rc::gen::set(&NewView::ecr, epoch_closing_record(s)));
}
template <>
inline rc::Gen<RbPrepare> body<RbPrepare>(const Sizes&) {
    return rc::gen::build<RbPrepare>(rc::gen::set(&RbPrepare::epoch, u64()));
}
template <>
inline rc::Gen<RbPromise> body<RbPromise>(const Sizes&) {
    return rc::gen::build<RbPromise>(rc::gen::set(&RbPromise::epoch, u64()), rc::gen::set(&RbPromise::count, u64()));
}
template <>
inline rc::Gen<JoinReq> body<JoinReq>(const Sizes&) {
    return rc::gen::build<JoinReq>(rc::gen::set(&JoinReq::amnesiac, boolean()));
}
template <>
inline rc::Gen<SnapshotRequest> body<SnapshotRequest>(const Sizes&) {
    return rc::gen::build<SnapshotRequest>(rc::gen::set(&SnapshotRequest::epoch, u64()),
                                           rc::gen::set(&SnapshotRequest::from_chunk, u32()),
                                           rc::gen::set(&SnapshotRequest::ask, u64()));
}
template <>
inline rc::Gen<SnapshotChunk> body<SnapshotChunk>(const Sizes& s) {
    return rc::gen::build<SnapshotChunk>(
        rc::gen::set(&SnapshotChunk::epoch, u64()), rc::gen::set(&SnapshotChunk::index, u32()),
        rc::gen::set(&SnapshotChunk::total, u32()), rc::gen::set(&SnapshotChunk::data, bytes(s.max_value)),
        rc::gen::set(&SnapshotChunk::ask, u64()));
}
template <>
inline rc::Gen<Heartbeat> body<Heartbeat>(const Sizes& s) {
    return rc::gen::build<Heartbeat>(rc::gen::set(&Heartbeat::delivered, u64()),
                                     rc::gen::set(&Heartbeat::floors, list(s.max_list, decided_floor())));
}

// ------------------------------------------------------------------ client bodies

template <>
inline rc::Gen<OpsRequest> body<OpsRequest>(const Sizes& s) {
    return rc::gen::build<OpsRequest>(rc::gen::set(&OpsRequest::ops, list(s.max_list, op(s))));
}
template <>
inline rc::Gen<LocalGetRequest> body<LocalGetRequest>(const Sizes& s) {
    return rc::gen::build<LocalGetRequest>(rc::gen::set(&LocalGetRequest::key, bytes(s.max_key)));
}
template <>
inline rc::Gen<StatusRequest> body<StatusRequest>(const Sizes&) {
    return rc::gen::just(StatusRequest{});
}
template <>
inline rc::Gen<AdminRequest> body<AdminRequest>(const Sizes& s) {
    return rc::gen::build<AdminRequest>(rc::gen::set(&AdminRequest::kind, enumeration<AdminKind>()),
                                        rc::gen::set(&AdminRequest::peers, list(s.max_list, u32())));
}
template <>
inline rc::Gen<OpsReply> body<OpsReply>(const Sizes& s) {
    return rc::gen::build<OpsReply>(rc::gen::set(&OpsReply::results, list(s.max_list, op_result(s))));
}
template <>
inline rc::Gen<LocalGetReply> body<LocalGetReply>(const Sizes& s) {
    return rc::gen::build<LocalGetReply>(rc::gen::set(&LocalGetReply::found, boolean()),
                                         rc::gen::set(&LocalGetReply::value, bytes(s.max_value)),
                                         rc::gen::set(&LocalGetReply::delivered, u64()));
}
template <>
inline rc::Gen<StatusReply> body<StatusReply>(const Sizes& s) {
    return rc::gen::build<StatusReply>(
        rc::gen::set(&StatusReply::node, u32()), rc::gen::set(&StatusReply::incarnation, u64()),
        rc::gen::set(&StatusReply::epoch, u64()), rc::gen::set(&StatusReply::members, list(s.max_list, member())),
        rc::gen::set(&StatusReply::ready, boolean()), rc::gen::set(&StatusReply::why_not_ready, bytes(s.max_text)),
        rc::gen::set(&StatusReply::delivered, u64()), rc::gen::set(&StatusReply::log_hash, u64()),
        rc::gen::set(&StatusReply::digest, u64()), rc::gen::set(&StatusReply::entries, u64()),
        rc::gen::set(&StatusReply::bytes, u64()), rc::gen::set(&StatusReply::in_flight, u32()),
        rc::gen::set(&StatusReply::history, u64()));
}
template <>
inline rc::Gen<AdminReply> body<AdminReply>(const Sizes& s) {
    return rc::gen::build<AdminReply>(rc::gen::set(&AdminReply::message, bytes(s.max_text)),
                                      rc::gen::set(&AdminReply::values, list(s.max_list, u64())));
}
template <>
inline rc::Gen<ErrorReply> body<ErrorReply>(const Sizes& s) {
    return rc::gen::build<ErrorReply>(rc::gen::set(&ErrorReply::code, enumeration<ErrorCode>()),
                                      rc::gen::set(&ErrorReply::detail, bytes(s.max_text)));
}

// Any alternative of a variant, each equally likely.
template <class Variant>
struct AnyOf;
template <class... A>
struct AnyOf<std::variant<A...>> {
    static rc::Gen<std::variant<A...>> gen(const Sizes& s) {
        return rc::gen::oneOf(rc::gen::cast<std::variant<A...>>(body<A>(s))...);
    }
};

inline rc::Gen<PeerBody> peer_body(const Sizes& s = {}) { return AnyOf<PeerBody>::gen(s); }
inline rc::Gen<ClientRequestBody> client_request_body(const Sizes& s = {}) {
    return AnyOf<ClientRequestBody>::gen(s);
}
inline rc::Gen<ClientResponseBody> client_response_body(const Sizes& s = {}) {
    return AnyOf<ClientResponseBody>::gen(s);
}

// ------------------------------------------------------------------ messages

inline rc::Gen<PeerHeader> peer_header(const Sizes& s = {}) {
    return rc::gen::build<PeerHeader>(rc::gen::set(&PeerHeader::cluster_id, bytes(s.max_text)),
                                      rc::gen::set(&PeerHeader::from, u32()),
                                      rc::gen::set(&PeerHeader::incarnation, u64()),
                                      rc::gen::set(&PeerHeader::epoch, u64()),
                                      rc::gen::set(&PeerHeader::history, u64()),
                                      rc::gen::set(&PeerHeader::history_tag, u64()));
}

inline rc::Gen<PeerMessage> peer_message_from(rc::Gen<PeerBody> bodies, const Sizes& s = {}) {
    return rc::gen::build<PeerMessage>(rc::gen::set(&PeerMessage::header, peer_header(s)),
                                       rc::gen::set(&PeerMessage::body, std::move(bodies)));
}
inline rc::Gen<PeerMessage> peer_message(const Sizes& s = {}) { return peer_message_from(peer_body(s), s); }
template <class T>
rc::Gen<PeerMessage> peer_message_with(const Sizes& s = {}) {
    return peer_message_from(rc::gen::cast<PeerBody>(body<T>(s)), s);
}

inline rc::Gen<ClientRequest> client_request_from(rc::Gen<ClientRequestBody> bodies, const Sizes& s = {}) {
    return rc::gen::build<ClientRequest>(
        rc::gen::set(&ClientRequest::cluster_id, bytes(s.max_text)), rc::gen::set(&ClientRequest::client, u64()),
        rc::gen::set(&ClientRequest::request, u64()), rc::gen::set(&ClientRequest::body, std::move(bodies)));
}
inline rc::Gen<ClientRequest> client_request(const Sizes& s = {}) {
    return client_request_from(client_request_body(s), s);
}
template <class T>
rc::Gen<ClientRequest> client_request_with(const Sizes& s = {}) {
    return client_request_from(rc::gen::cast<ClientRequestBody>(body<T>(s)), s);
}

inline rc::Gen<ClientResponse> client_response_from(rc::Gen<ClientResponseBody> bodies) {
    return rc::gen::build<ClientResponse>(rc::gen::set(&ClientResponse::client, u64()),
                                          rc::gen::set(&ClientResponse::request, u64()),
                                          rc::gen::set(&ClientResponse::body, std::move(bodies)));
}
inline rc::Gen<ClientResponse> client_response(const Sizes& s = {}) {
    return client_response_from(client_response_body(s));
}
template <class T>
rc::Gen<ClientResponse> client_response_with(const Sizes& s = {}) {
    return client_response_from(rc::gen::cast<ClientResponseBody>(body<T>(s)));
}

inline rc::Gen<RetryEntry> retry_entry(const Sizes& s = {}) {
    return rc::gen::build<RetryEntry>(rc::gen::set(&RetryEntry::client, u64()),
                                      rc::gen::set(&RetryEntry::request, u64()),
                                      rc::gen::set(&RetryEntry::results, list(s.max_list, op_result(s))));
}

inline rc::Gen<Snapshot> snapshot(const Sizes& s = {}) {
    auto entry = rc::gen::pair(bytes(s.max_key), bytes(s.max_value));
    return rc::gen::build<Snapshot>(
        rc::gen::set(&Snapshot::epoch, u64()), rc::gen::set(&Snapshot::base_ts, timestamp()),
        rc::gen::set(&Snapshot::max_entries, u64()), rc::gen::set(&Snapshot::max_bytes, u64()),
        rc::gen::set(&Snapshot::entries_mru_first, list(s.max_list, entry)),
        rc::gen::set(&Snapshot::retries, list(s.max_list, retry_entry(s))),
        rc::gen::set(&Snapshot::log_length, u64()), rc::gen::set(&Snapshot::log_hash, u64()),
        rc::gen::set(&Snapshot::apply_clock_ms, u64()),
        rc::gen::set(&Snapshot::expiries, list(s.max_list, rc::gen::pair(bytes(s.max_key), u64()))));
}

}  // namespace tricache::protocol::gen

// ------------------------------------------------------------------ rapidcheck hooks

namespace rc {
template <>
struct Arbitrary<tricache::protocol::PeerMessage> {
    static Gen<tricache::protocol::PeerMessage> arbitrary() { return tricache::protocol::gen::peer_message(); }
};
template <>
struct Arbitrary<tricache::protocol::ClientRequest> {
    static Gen<tricache::protocol::ClientRequest> arbitrary() { return tricache::protocol::gen::client_request(); }
};
template <>
struct Arbitrary<tricache::protocol::ClientResponse> {
    static Gen<tricache::protocol::ClientResponse> arbitrary() { return tricache::protocol::gen::client_response(); }
};
template <>
struct Arbitrary<tricache::protocol::Snapshot> {
    static Gen<tricache::protocol::Snapshot> arbitrary() { return tricache::protocol::gen::snapshot(); }
};
template <>
struct Arbitrary<tricache::protocol::Op> {
    static Gen<tricache::protocol::Op> arbitrary() { return tricache::protocol::gen::op(); }
};
}  // namespace rc

// Counterexamples print readably instead of as "<???>".
namespace tricache::protocol {
inline void showValue(const Op& op, std::ostream& os) { os << describe(op); }
inline void showValue(const PeerMessage& m, std::ostream& os) {
    os << "PeerMessage{cluster=" << m.header.cluster_id.size() << "B from=" << m.header.from
       << " inc=" << m.header.incarnation << " epoch=" << m.header.epoch << " " << describe(m.body) << "}";
}
inline void showValue(const ClientRequest& m, std::ostream& os) {
    os << "ClientRequest{c" << m.client << "/r" << m.request << " body#" << m.body.index() << "}";
}
inline void showValue(const ClientResponse& m, std::ostream& os) {
    os << "ClientResponse{c" << m.client << "/r" << m.request << " body#" << m.body.index() << "}";
}
inline void showValue(const Snapshot& m, std::ostream& os) {
    os << "Snapshot{epoch=" << m.epoch << " entries=" << m.entries_mru_first.size()
       << " retries=" << m.retries.size() << "}";
}
}  // namespace tricache::protocol
