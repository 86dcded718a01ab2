// Every message tricache speaks, as plain values. The codec (codec.hpp) maps
// them to msgpack; the engine (coordinator/) consumes and produces them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/types.hpp"

namespace tricache::protocol {

// ---------------------------------------------------------------- operations

struct Get {
    std::string key;
    friend bool operator==(const Get&, const Get&) = default;
};
// When an entry expires (R-TTL). Times are milliseconds; `At` is since the
// Unix epoch, `After` counts from the apply clock of the command that carries
// it (spec/PROTOCOL.md R-TTL-CLOCK), so every replica resolves it alike.
enum class ExpiryKind : std::uint8_t {
    None = 0,   // no expiry (a Set clears the key's expiry)
    Keep = 1,   // a Set keeps the key's current expiry (Redis KEEPTTL)
    At = 2,     // absolute: ms since the Unix epoch
    After = 3,  // relative: ms after the command's apply clock
};
struct Expiry {
    ExpiryKind kind = ExpiryKind::None;
    std::int64_t ms = 0;
    friend bool operator==(const Expiry&, const Expiry&) = default;
};
// Redis's EXPIRE options: only without an expiry (Nx), only with one (Xx),
// only to a later (Gt) or an earlier (Lt) time; no expiry counts as infinite.
// XxLt is Redis's XX LT: only with an expiry, and to an earlier time.
enum class ExpireCond : std::uint8_t { Always = 0, Nx = 1, Xx = 2, Gt = 3, Lt = 4, XxLt = 5 };

struct Set {
    std::string key;
    std::string value;
    Expiry expiry = {};  // None clears any expiry the key had, Keep keeps it
    friend bool operator==(const Set&, const Set&) = default;
};
struct Del {
    std::string key;
    friend bool operator==(const Del&, const Del&) = default;
};
// Set `value` if the current value equals `expected`, or if the key is absent
// when `expected` is empty (nullopt).
struct Cas {
    std::string key;
    std::optional<std::string> expected;
    std::string value;
    friend bool operator==(const Cas&, const Cas&) = default;
};
// Add `delta` to the key's value read as a decimal 64-bit integer (absent: 0).
struct Incr {
    std::string key;
    std::int64_t delta = 0;
    friend bool operator==(const Incr&, const Incr&) = default;
};
// Append `value` to the key's value (absent: the empty string).
struct Append {
    std::string key;
    std::string value;
    friend bool operator==(const Append&, const Append&) = default;
};
// Is the key there? Never changes recency.
struct Exists {
    std::string key;
    friend bool operator==(const Exists&, const Exists&) = default;
};
// A guard: the rest of its command runs only if the key is present (present =
// true) or absent (present = false). Never changes recency.
struct Require {
    std::string key;
    bool present = false;
    friend bool operator==(const Require&, const Require&) = default;
};
// How many entries the store holds.
struct Count {
    friend bool operator==(const Count&, const Count&) = default;
};
// One page of a walk over every key in a fixed order (kScanOrder, below) that
// no insertion, eviction or recency change disturbs. Never changes recency.
struct Scan {
    std::uint64_t cursor = 0;  // 0: from the start; otherwise the cursor a previous page returned
    std::uint32_t count = 0;   // keys wanted (at least 1 and at most kMaxScanCount are taken)
    friend bool operator==(const Scan&, const Scan&) = default;
};
// Remove every entry.
struct Clear {
    friend bool operator==(const Clear&, const Clear&) = default;
};
// Give a present key an expiry (`when` is At or After). A time at or before the
// apply clock removes the key at once, as Redis does.
struct Expire {
    std::string key;
    Expiry when = {};
    ExpireCond cond = ExpireCond::Always;
    friend bool operator==(const Expire&, const Expire&) = default;
};
// Remove a key's expiry.
struct Persist {
    std::string key;
    friend bool operator==(const Persist&, const Persist&) = default;
};
// How long a key has left. Never changes recency.
struct Ttl {
    std::string key;
    friend bool operator==(const Ttl&, const Ttl&) = default;
};
// Remove up to `max` expired entries (at least 1, at most kMaxPurge), earliest
// expiry first (then key bytes). The engine sends it itself (R-TTL-PURGE).
struct Purge {
    std::uint32_t max = 0;
    friend bool operator==(const Purge&, const Purge&) = default;
};
using Op = std::variant<Get, Set, Del, Cas, Incr, Append, Exists, Require, Count, Scan, Clear, Expire, Persist, Ttl,
                        Purge>;
inline constexpr std::uint32_t kMaxPurge = 1024;
// The client id of the engine's own Purge commands: refused from clients, never
// recorded in the retry table, never answered.
inline constexpr std::uint64_t kPurgeClient = ~std::uint64_t{0};

// Scan order: keys by scan_hash(key) (64-bit FNV-1a of the key bytes) ascending,
// equal hashes together. A page holds the keys with hash >= cursor, smallest
// first: `count` of them, plus every further key sharing the last one's hash.
// Its next cursor is the last hash + 1, or 0 when no key is left after it.
// A page also stops once its keys add up to kMaxScanPageBytes (its equal-hash
// group still completes it), so its result stays far below the codec's value limit.
inline constexpr std::uint32_t kMaxScanCount = 1024;
inline constexpr std::uint64_t kMaxScanPageBytes = 256u << 10;
// Append never builds a value longer than this: the codec's value limit, so
// every value in the store still fits a reply and a snapshot.
inline constexpr std::uint64_t kMaxAppendedValueBytes = 8u << 20;
constexpr std::uint64_t scan_hash(std::string_view key) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : key) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}
// A Scan result's value: the next cursor in decimal, then for each key a space,
// its length in decimal, a colon and its bytes ("17 1:a 3:foo").
std::string encode_scan_page(std::uint64_t next_cursor, const std::vector<std::string_view>& keys);
bool decode_scan_page(std::string_view text, std::uint64_t& next_cursor, std::vector<std::string>& keys);

// The key an op names; empty for the ops about the whole store (Count, Scan, Clear).
std::string_view op_key(const Op& op);
// Whether an op names a key (every op but Count, Scan and Clear).
bool op_has_key(const Op& op);
// The value bytes an op carries (Set, Cas, Append), for admission limits.
std::uint64_t op_value_bytes(const Op& op);
// Strict decimal int64 as Redis reads integers: optional '-', no leading zeros,
// no '+', no spaces, at most 20 characters.
bool parse_int64(std::string_view text, std::int64_t& out);

// One result per operation:
//   Get: ok = found, value = the value when found.
//   Set: ok = true.
//   Del: ok = the key existed.
//   Cas: ok = swapped; when not swapped, value = the current value (nullopt if absent).
//   Incr: ok = stored, value = the new value; otherwise ok = false and value =
//         the current value (not an integer, the sum overflows int64, or the
//         new entry does not fit the store), the key becoming MRU; or nullopt
//         (an absent key whose new entry does not fit the store).
//   Append: ok = stored, value = the new length in decimal; ok = false when the
//         new value would be over kMaxAppendedValueBytes or the entry over the
//         store's byte limit (then a present key only becomes MRU).
//   Exists: ok = present.  Require: ok = the condition holds; when it does not,
//         every later op of the command is skipped and has ok = false, no value.
//   Count: ok = true, value = the number of entries in decimal.
//   Scan: ok = true, value = encode_scan_page(next cursor, the page's keys).
//   Clear: ok = true, value = the number of entries removed in decimal.
//   Expire: ok = the key was present and the condition held (the expiry was
//         set, or the key removed for a time already past).
//   Persist: ok = the key was present and had an expiry (now removed).
//   Ttl: ok = present, value = the ms left in decimal, or "-1" without expiry.
//   Purge: ok = true, value = the number of entries removed in decimal.
// An expired entry is absent to every op (R-TTL-CLOCK).
struct OpResult {
    bool ok = false;
    std::optional<std::string> value;
    friend bool operator==(const OpResult&, const OpResult&) = default;
};

// One client request as it travels inside a transaction: the (client, request)
// pair lets every replica recognise a retry and answer it from its retry table.
struct Command {
    ClientId client = 0;
    RequestId request = 0;
    std::vector<Op> ops;  // applied atomically, in order, with no other op between them
    // R-TTL-STAMP: the coordinator's wall clock (ms since the Unix epoch) when
    // it put the command in a batch; part of the decided value.
    std::uint64_t stamp_ms = 0;
    friend bool operator==(const Command&, const Command&) = default;
};
using Batch = std::vector<Command>;

// A batch that every copy of its message shares. A coordinator sends the same
// batch to each participant and keeps it in its own state; sharing makes each
// of those copies a reference count instead of a copy of every command.
// Immutable once built. Compares, prints and encodes by content, exactly like
// the Batch it holds (the wire format does not know it is shared).
class SharedBatch {
public:
    SharedBatch() = default;  // the empty batch
    SharedBatch(Batch batch) : batch_(std::make_shared<const Batch>(std::move(batch))) {}  // implicit, like a Batch
    SharedBatch(std::initializer_list<Command> commands) : SharedBatch(Batch(commands)) {}
    explicit SharedBatch(std::shared_ptr<const Batch> batch) : batch_(std::move(batch)) {}

    const Batch& operator*() const { return batch_ ? *batch_ : empty_batch(); }
    const Batch* operator->() const { return &**this; }
    // The batch itself, to keep after the message is gone; never null.
    std::shared_ptr<const Batch> shared() const { return batch_ ? batch_ : std::make_shared<const Batch>(); }

    std::size_t size() const { return (**this).size(); }
    bool empty() const { return (**this).empty(); }
    const Command& operator[](std::size_t i) const { return (**this)[i]; }
    Batch::const_iterator begin() const { return (**this).begin(); }
    Batch::const_iterator end() const { return (**this).end(); }

    friend bool operator==(const SharedBatch& a, const SharedBatch& b) { return *a == *b; }

private:
    static const Batch& empty_batch() {
        static const Batch empty;
        return empty;
    }
    std::shared_ptr<const Batch> batch_;  // null for an empty batch: default construction allocates nothing
};

// ------------------------------------------------------------ client protocol

struct OpsRequest {  // one or several ops; linearizable; moves touched keys to MRU everywhere
    std::vector<Op> ops;
    friend bool operator==(const OpsRequest&, const OpsRequest&) = default;
};
struct LocalGetRequest {  // served from one node's store: no round, no recency change, maybe stale
    std::string key;
    friend bool operator==(const LocalGetRequest&, const LocalGetRequest&) = default;
};
struct StatusRequest {
    friend bool operator==(const StatusRequest&, const StatusRequest&) = default;
};
enum class AdminKind : std::uint8_t {
    Isolate = 1,      // drop traffic to and from `peers` at this node's transport (fault tests)
    Heal = 2,         // undo every Isolate
    Rebootstrap = 3,  // operator: start a new, empty cluster history
    DebugLog = 4,     // return this node's delivered-log hash chain
};
struct AdminRequest {
    AdminKind kind = AdminKind::Heal;
    std::vector<NodeId> peers;
    friend bool operator==(const AdminRequest&, const AdminRequest&) = default;
};
using ClientRequestBody = std::variant<OpsRequest, LocalGetRequest, StatusRequest, AdminRequest>;

struct ClientRequest {
    std::uint32_t version = kProtocolVersion;
    std::string cluster_id;
    ClientId client = 0;
    RequestId request = 0;
    ClientRequestBody body;
    friend bool operator==(const ClientRequest&, const ClientRequest&) = default;
};

struct OpsReply {
    std::vector<OpResult> results;
    friend bool operator==(const OpsReply&, const OpsReply&) = default;
};
struct LocalGetReply {
    bool found = false;
    std::string value;
    std::uint64_t delivered = 0;  // how many transactions this node had applied: the staleness label
    friend bool operator==(const LocalGetReply&, const LocalGetReply&) = default;
};
struct Member {
    NodeId node = 0;
    Incarnation incarnation = 0;
    friend auto operator<=>(const Member&, const Member&) = default;
};
struct StatusReply {
    NodeId node = 0;
    Incarnation incarnation = 0;
    Epoch epoch = 0;
    std::vector<Member> members;
    bool ready = false;
    std::string why_not_ready;  // empty when ready
    std::uint64_t delivered = 0;
    std::uint64_t log_hash = 0;
    std::uint64_t digest = 0;
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
    std::uint32_t in_flight = 0;
    Epoch history = 0;  // the epoch the node's history started at (R-HISTORY); 0: in none yet
    friend bool operator==(const StatusReply&, const StatusReply&) = default;
};
struct AdminReply {
    std::string message;
    std::vector<std::uint64_t> values;  // e.g. the hash chain for DebugLog
    friend bool operator==(const AdminReply&, const AdminReply&) = default;
};
struct ErrorReply {
    ErrorCode code = ErrorCode::BadRequest;
    std::string detail;
    friend bool operator==(const ErrorReply&, const ErrorReply&) = default;
};
using ClientResponseBody = std::variant<OpsReply, LocalGetReply, StatusReply, AdminReply, ErrorReply>;

struct ClientResponse {
    std::uint32_t version = kProtocolVersion;
    ClientId client = 0;
    RequestId request = 0;
    ClientResponseBody body;
    friend bool operator==(const ClientResponse&, const ClientResponse&) = default;
};

// -------------------------------------------------------------- peer protocol

// E3PC per-transaction state at one node.
enum class TxState : std::uint8_t {
    Unknown = 0,       // never heard of it (or forgot it after delivery everywhere)
    Waiting = 1,       // voted yes, uncertain (W)
    PreCommitted = 2,  // PC: committable, final timestamp known
    PreAborted = 3,    // PA
    Committed = 4,
    Aborted = 5,
};

enum class VoteNoReason : std::uint8_t {
    None = 0,
    WrongEpoch = 1,    // CanCommit stamped with an epoch the voter is not in
    NotMember = 2,     // voter or coordinator is not a member of the voter's view
    Overloaded = 3,    // the voter holds too many undecided transactions
    ViewChanging = 4,  // the voter promised a view change and votes on nothing of the old epoch
    TooLarge = 5,      // the batch exceeds the voter's limits
};

enum class Outcome : std::uint8_t { Unknown = 0, Committed = 1, Aborted = 2 };

// One promiser of the rebootstrap that started a history (R-HISTORY-ORDER):
// its incarnation and how many rebootstrap promises it had given at it.
struct BirthStamp {
    NodeId node = 0;
    Incarnation incarnation = 0;
    std::uint64_t count = 0;
    friend auto operator<=>(const BirthStamp&, const BirthStamp&) = default;
};

struct View {
    Epoch epoch = 0;
    std::vector<Member> members;  // sorted by node id
    Timestamp base_ts;            // every timestamp of this epoch is above it
    Epoch history = 0;            // the epoch its history started at (R-HISTORY); 0: none (an amnesiac node)
    std::vector<BirthStamp> birth;  // who started that history, sorted by node (R-HISTORY-ORDER)
    friend bool operator==(const View&, const View&) = default;
};

struct CommittedTx {
    TxId tx;
    Timestamp final_ts;
    Batch batch;
    friend bool operator==(const CommittedTx&, const CommittedTx&) = default;
};

// The value a view change decides: it settles every undecided transaction of
// the closed epoch and names the next view.
struct EpochClosingRecord {
    Epoch closes = 0;
    std::vector<CommittedTx> committed;  // sorted by final timestamp
    std::vector<TxId> aborted;
    View next;
    friend bool operator==(const EpochClosingRecord&, const EpochClosingRecord&) = default;
};

// What a promiser knows of one transaction of the epoch being closed.
struct TxReport {
    TxId tx;
    TxState state = TxState::Unknown;
    Ballot accepted;  // E3PC Last_Attempt
    Timestamp proposed;
    Timestamp final_ts;  // meaningful when PreCommitted or Committed
    Batch batch;
    friend bool operator==(const TxReport&, const TxReport&) = default;
};

struct CanCommit {
    TxId tx;
    SharedBatch batch;
    friend bool operator==(const CanCommit&, const CanCommit&) = default;
};
struct Vote {
    TxId tx;
    bool yes = false;
    Timestamp proposed;
    VoteNoReason reason = VoteNoReason::None;
    friend bool operator==(const Vote&, const Vote&) = default;
};
struct PreCommit {
    TxId tx;
    Ballot ballot;
    Timestamp final_ts;  // part of the E3PC value: recovery copies it, never recomputes it
    friend bool operator==(const PreCommit&, const PreCommit&) = default;
};
struct PreAbort {
    TxId tx;
    Ballot ballot;
    friend bool operator==(const PreAbort&, const PreAbort&) = default;
};
struct Ack {
    TxId tx;
    Ballot ballot;
    friend bool operator==(const Ack&, const Ack&) = default;
};
struct Nack {
    TxId tx;
    Ballot ballot;
    Ballot promised;
    friend bool operator==(const Nack&, const Nack&) = default;
};
struct DoCommit {
    TxId tx;
    Timestamp final_ts;
    friend bool operator==(const DoCommit&, const DoCommit&) = default;
};
struct DoAbort {
    TxId tx;
    friend bool operator==(const DoAbort&, const DoAbort&) = default;
};
struct DecisionQuery {  // batched: a node stuck undecided asks about all at once
    std::vector<TxId> txs;
    friend bool operator==(const DecisionQuery&, const DecisionQuery&) = default;
};
struct Decision {
    TxId tx;
    Outcome outcome = Outcome::Unknown;
    Timestamp final_ts;
    friend bool operator==(const Decision&, const Decision&) = default;
};
struct StateReq {
    TxId tx;
    Ballot ballot;
    friend bool operator==(const StateReq&, const StateReq&) = default;
};
struct StateResp {
    TxId tx;
    Ballot ballot;
    TxState state = TxState::Unknown;
    Ballot accepted;
    Timestamp proposed;
    Timestamp final_ts;
    friend bool operator==(const StateResp&, const StateResp&) = default;
};
struct VcPrepare {
    Ballot ballot;
    Epoch target = 0;  // the epoch this view change will install
    friend bool operator==(const VcPrepare&, const VcPrepare&) = default;
};
struct VcPromise {
    Ballot ballot;
    Epoch last_normal_epoch = 0;
    Ballot accepted;                                  // kNoBallot when nothing accepted
    std::optional<EpochClosingRecord> accepted_ecr;  // the value accepted at `accepted`
    std::vector<TxReport> reports;
    std::uint64_t delivered = 0;
    friend bool operator==(const VcPromise&, const VcPromise&) = default;
};
struct VcAccept {
    Ballot ballot;
    EpochClosingRecord ecr;
    friend bool operator==(const VcAccept&, const VcAccept&) = default;
};
struct VcAccepted {
    Ballot ballot;
    friend bool operator==(const VcAccepted&, const VcAccepted&) = default;
};
struct VcNack {
    Ballot ballot;
    Ballot promised;
    Epoch installed = 0;
    friend bool operator==(const VcNack&, const VcNack&) = default;
};
struct NewView {
    EpochClosingRecord ecr;
    friend bool operator==(const NewView&, const NewView&) = default;
};
// R-RB-PROMISE: an operator's rebootstrap proposes a new history at `epoch`;
// it is installed only once a majority of C promised it.
struct RbPrepare {
    Epoch epoch = 0;
    friend bool operator==(const RbPrepare&, const RbPrepare&) = default;
};
struct RbPromise {
    Epoch epoch = 0;
    std::uint64_t count = 0;  // the promiser's promises so far at its incarnation (R-HISTORY-ORDER)
    friend bool operator==(const RbPromise&, const RbPromise&) = default;
};
// "Add me to the view": from a restarted node (amnesiac: it remembers no promise,
// so it must not be counted in any quorum) or from a node left out of a view
// that still remembers its promises (amnesiac = false). Incarnation is in the header.
struct JoinReq {
    bool amnesiac = true;
    friend bool operator==(const JoinReq&, const JoinReq&) = default;
};
struct SnapshotRequest {
    Epoch epoch = 0;
    std::uint32_t from_chunk = 0;
    // R-DATA-LOSS: the asker's count of its snapshot requests; echoed by every
    // answer, so the asker can order a late "none" against its other answers.
    std::uint64_t ask = 0;
    friend bool operator==(const SnapshotRequest&, const SnapshotRequest&) = default;
};
struct SnapshotChunk {  // opaque slices of an encoded Snapshot
    Epoch epoch = 0;
    std::uint32_t index = 0;
    std::uint32_t total = 0;
    std::string data;
    std::uint64_t ask = 0;  // the `ask` of the request this answers
    friend bool operator==(const SnapshotChunk&, const SnapshotChunk&) = default;
};
// "I know the outcome of every transaction of `coordinator` (in its incarnation
// `incarnation`) with seq <= `seq`": lets coordinators stop resending decisions,
// lets everyone drop tombstones, and marks later copies of a CanCommit as stale.
struct DecidedFloor {
    NodeId coordinator = 0;
    Incarnation incarnation = 0;
    std::uint64_t seq = 0;
    friend bool operator==(const DecidedFloor&, const DecidedFloor&) = default;
};
struct Heartbeat {
    std::uint64_t delivered = 0;
    std::vector<DecidedFloor> floors;
    friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

using PeerBody = std::variant<CanCommit, Vote, PreCommit, PreAbort, Ack, Nack, DoCommit, DoAbort, DecisionQuery,
                              Decision, StateReq, StateResp, VcPrepare, VcPromise, VcAccept, VcAccepted, VcNack,
                              NewView, RbPrepare, RbPromise, JoinReq, SnapshotRequest, SnapshotChunk, Heartbeat>;

struct PeerHeader {
    std::uint32_t version = kProtocolVersion;
    std::string cluster_id;
    NodeId from = 0;
    Incarnation incarnation = 0;
    Epoch epoch = 0;
    Epoch history = 0;  // the sender's history (R-HISTORY); 0: it is in none
    std::uint64_t history_tag = 0;  // with `history`, its identity: a hash of its birth (R-HISTORY); 0: in none
    friend bool operator==(const PeerHeader&, const PeerHeader&) = default;
};

struct PeerMessage {
    PeerHeader header;
    PeerBody body;
    friend bool operator==(const PeerMessage&, const PeerMessage&) = default;
};

// ------------------------------------------------------------------ snapshot

struct RetryEntry {  // one row of the replicated client retry table
    ClientId client = 0;
    RequestId request = 0;
    std::vector<OpResult> results;
    friend bool operator==(const RetryEntry&, const RetryEntry&) = default;
};

// The state a rejoining node installs, frozen exactly at an epoch boundary.
struct Snapshot {
    Epoch epoch = 0;  // the first epoch whose transactions are NOT in it
    Timestamp base_ts;
    std::uint64_t max_entries = 0;
    std::uint64_t max_bytes = 0;
    std::vector<std::pair<std::string, std::string>> entries_mru_first;
    std::vector<RetryEntry> retries;
    std::uint64_t log_length = 0;
    std::uint64_t log_hash = 0;
    std::uint64_t apply_clock_ms = 0;                             // R-TTL-CLOCK
    std::vector<std::pair<std::string, std::uint64_t>> expiries;  // key, expiry (ms), by key
    friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

}  // namespace tricache::protocol
