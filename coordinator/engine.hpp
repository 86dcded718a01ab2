// The sans-IO protocol engine of one node. It plays both roles: coordinator of
// the transactions its own clients start, and participant in everyone else's.
// Input: peer messages, client requests and ticks, each with the current time.
// Output: plain values (messages to send, replies, delivered transactions),
// drained with take_output(). The node process and the simulator drive this same
// class; nothing in it touches a socket, a clock, a thread or global state.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "coordinator/config.hpp"
#include "coordinator/flat_map.hpp"
#include "coordinator/hash.hpp"
#include "coordinator/node_set.hpp"
#include "coordinator/state_machine.hpp"
#include "protocol/messages.hpp"

namespace tricache::coordinator {

using BatchPtr = std::shared_ptr<const protocol::Batch>;

// The bytes a command counts against batch limits.
std::uint64_t command_bytes(const protocol::Command& c);

struct Outbound {
    protocol::NodeId to = 0;
    protocol::PeerMessage msg;
};

struct DeliveredTx {
    std::uint64_t index = 0;  // 1-based position in this node's log
    protocol::TxId tx;
    protocol::Timestamp final_ts;
    protocol::Epoch epoch = 0;
    BatchPtr batch;
};

// Protocol journal entries, for the checker (only when record_deliveries is set).
struct VotedEvent {
    protocol::TxId tx;
    protocol::Epoch epoch = 0;
    bool yes = false;
};
struct DecidedEvent {
    protocol::TxId tx;
    bool commit = false;
    protocol::Timestamp final_ts;
};
// This node installed a view; `ecr` is the record that closed the previous epoch.
struct ViewInstalledEvent {
    protocol::EpochClosingRecord ecr;
    bool member = false;
    bool full_state = false;  // applied the ECR on top of its own log (false: will sync by snapshot)
};
// This node replaced its state with a snapshot; its log continues from `log_length`.
struct SnapshotInstalledEvent {
    protocol::Epoch epoch = 0;
    std::uint64_t log_length = 0;
    std::uint64_t log_hash = 0;
};
// This node's proposal was chosen by a majority (at most one ECR per epoch: P8).
struct EcrChosenEvent {
    protocol::Ballot ballot;
    protocol::EpochClosingRecord ecr;
};
// This node, as proposer, picked the record it asks acceptors to accept at
// `ballot` (R-VC-DECIDE), from exactly these promises; the simulator's monitor
// judges the pick against them. `closes` is the instance (the proposer's epoch).
struct PromiseSeen {
    protocol::NodeId node = 0;
    protocol::Incarnation incarnation = 0;
    protocol::VcPromise promise;
};
struct EcrProposedEvent {
    protocol::Ballot ballot;
    protocol::Epoch closes = 0;
    std::vector<PromiseSeen> promises;
    protocol::EpochClosingRecord ecr;
};
using JournalEvent = std::variant<VotedEvent, DecidedEvent, ViewInstalledEvent, SnapshotInstalledEvent, EcrChosenEvent,
                                  EcrProposedEvent>;

// Why this node proposed a view change (R-SUSPECT, R-VC-RETRY), for the
// operator's log: a cluster that keeps changing views under load says which
// member looked silent and for how long. Always reported, unlike the journal.
struct ViewChangeCause {
    enum class Kind : std::uint8_t { Silent, Joiner, Retry };
    Kind kind = Kind::Silent;
    protocol::Epoch closes = 0;     // the epoch the proposal closes
    protocol::NodeId node = 0;      // Silent: the quietest member; Joiner: the node asking in
    std::uint64_t silent_ms = 0;    // Silent: how long it had been quiet
};
const char* cause_name(ViewChangeCause::Kind k);

struct Output {
    std::vector<Outbound> messages;
    std::vector<protocol::ClientResponse> replies;
    std::vector<DeliveredTx> delivered;
    std::vector<JournalEvent> journal;
    std::vector<ViewChangeCause> view_changes;
    bool empty() const {
        return messages.empty() && replies.empty() && delivered.empty() && journal.empty() && view_changes.empty();
    }
};

enum class NodeStatus : std::uint8_t { Normal, ViewChange, Syncing, Joining, NeedsRebootstrap };

// Plain counters of one incarnation, for the node's metrics (node/metrics/) and
// INFO. They only ever grow; nothing in the protocol reads them.
struct EngineStats {
    // Committed transactions this node coordinated, by operation count: [k]
    // counts those with more than 2^(k-1) and at most 2^k operations ([0]: one),
    // the last one everything larger.
    static constexpr std::size_t kOpsBuckets = 16;
    std::uint64_t tx_committed = 0;  // this node's own transactions, decided commit
    std::uint64_t tx_aborted = 0;    // this node's own transactions, aborted
    std::uint64_t ops_committed = 0;  // the operations in tx_committed
    std::array<std::uint64_t, kOpsBuckets> ops_per_tx{};
    std::uint64_t tx_applied = 0;             // transactions applied to this node's store, any coordinator
    std::uint64_t view_changes_started = 0;   // times this node froze its epoch for a view change
    std::uint64_t view_change_proposals = 0;  // of those, the ones this node proposed (R-VC-PREPARE)
    std::uint64_t views_installed = 0;        // views installed, rebootstraps' included
    std::uint64_t snapshots_installed = 0;
};
const char* to_string(NodeStatus s);

class Engine {
public:
    // Bootstrap start: epoch 1 is every node of the cluster at incarnation 1.
    static Engine bootstrap(EngineConfig config);
    // Any later start: the node has forgotten everything and must be re-added
    // by a view change before it serves (R-AMNESIA). `incarnation` must be new
    // (greater than 1, never reused), e.g. from a clock and a random number.
    static Engine join(EngineConfig config, protocol::Incarnation incarnation);

    // A CanCommit's batch is kept by sharing it, never copied.
    void on_message(const protocol::PeerMessage& msg, std::uint64_t now_ms);
    void on_client_request(const protocol::ClientRequest& req, std::uint64_t now_ms);
    // The same; the operations of a request that is queued are taken over instead of copied.
    void on_client_request(protocol::ClientRequest&& req, std::uint64_t now_ms);
    void on_tick(std::uint64_t now_ms);
    // R-TTL-STAMP: the node's wall clock (ms since the Unix epoch), which stamps
    // the commands this node batches from now on. The node sets it before each
    // input; without it the stamp is the time input plus config.wall_offset_ms.
    void set_wall_clock_ms(std::uint64_t wall_ms) { wall_ms_ = wall_ms; }
    // The stamp a command batched now would get.
    std::uint64_t wall_clock_ms() const;
    // Input that arrives together (R-BATCH-BURST): between begin_burst() and
    // end_burst() requests are admitted and queued as usual, but no transaction
    // of this node's starts; end_burst starts them, so the requests one pass of
    // the node's event loop read form one batch instead of a batch of one and a
    // queue. Bursts do not nest; the simulator never opens one.
    void begin_burst() { in_burst_ = true; }
    void end_burst(std::uint64_t now_ms);
    Output take_output();
    // The same, into `into`: its old contents are dropped and its vectors are
    // swapped with the engine's, so a caller that passes the same Output every
    // time lets both sides keep their capacity instead of allocating anew.
    void take_output(Output& into);

    // Inspection (status replies, simulator monitors, tests).
    protocol::StatusReply status() const;
    const protocol::View& view() const { return view_; }
    protocol::Incarnation incarnation() const { return incarnation_; }
    NodeStatus node_status() const { return status_; }
    const ReplicatedState& state() const { return state_; }
    const EngineConfig& config() const { return config_; }
    std::size_t undecided_count() const { return undecided_.size(); }
    std::size_t known_transactions() const { return txs_.size(); }
    std::size_t coordinating() const { return coord_.size(); }
    std::size_t queued_requests() const { return queue_.size(); }
    std::size_t waiting_clients() const { return waiting_.size(); }
    std::size_t in_doubt_requests() const { return in_doubt_.size(); }  // R-IN-DOUBT
    const EngineStats& stats() const { return stats_; }
    // R-NO-QUORUM, as the node's metrics show it: how long ago this node last
    // heard from a majority of C (itself included), and whether it refuses
    // requests for the lack of one right now. Read-only.
    std::uint64_t majority_unheard_ms(std::uint64_t now) const { return majority_silence_ms(now); }
    bool refusing_no_quorum(std::uint64_t now) const { return no_quorum_refusal(now).has_value(); }
    std::uint64_t clock() const { return clock_; }
    bool amnesiac() const { return amnesiac_; }
    bool full_state() const { return full_state_; }
    protocol::Ballot vc_promised() const { return vc_promised_; }
    // The smallest key among undecided transactions, if any (P8 delivery monitor).
    std::optional<protocol::Timestamp> min_undecided_key() const;
    // The engine's own bookkeeping agrees with itself (engine_audit.cpp): every
    // pending entry (undecided, committed-undelivered) has its transaction
    // record in the matching state and vice versa, and the coordinator's and
    // the request queue's counts match their tables. The first disagreement
    // found, or nothing. O(records); read-only.
    std::optional<std::string> check_bookkeeping() const;

private:
    struct TxRecord {
        protocol::TxId id;
        protocol::Epoch epoch = 0;
        protocol::TxState state = protocol::TxState::Unknown;
        bool voted_yes = false;
        protocol::VoteNoReason no_reason = protocol::VoteNoReason::None;
        protocol::Timestamp proposed;
        protocol::Timestamp final_ts;
        protocol::Ballot promised = protocol::kOriginalBallot;
        protocol::Ballot accepted = protocol::kNoBallot;
        BatchPtr batch;
        bool delivered = false;
        std::uint64_t undecided_since_ms = 0;
        std::uint64_t last_query_ms = 0;
    };
    enum class Phase : std::uint8_t { Voting, PreCommitting, Decided };
    struct CoordTx {
        protocol::TxId id;
        BatchPtr batch;
        Phase phase = Phase::Voting;
        NodeSet voted;  // by position in config_.cluster
        NodeSet acked;
        protocol::Timestamp max_proposal;
        protocol::VoteNoReason first_no = protocol::VoteNoReason::None;
        bool commit = false;
        protocol::Timestamp final_ts;
        std::uint64_t last_send_ms = 0;
    };
    // R-DECISION-FLOOR for one coordinator incarnation.
    struct Floor {
        std::uint64_t floor = 0;
        std::set<std::uint64_t> above;  // decided seqs > floor + 1
        void mark(std::uint64_t seq);
        bool covers(std::uint64_t seq) const { return seq <= floor || above.count(seq) > 0; }
    };
    using CoordKey = std::pair<protocol::NodeId, protocol::Incarnation>;
    struct QueuedRequest {
        protocol::Command command;
        std::uint64_t bytes = 0;
    };
    struct Waiting {
        std::uint64_t deadline_ms = 0;
    };
    using RequestKey = std::pair<protocol::ClientId, protocol::RequestId>;
    struct RequestKeyHash {
        std::size_t operator()(const RequestKey& k) const noexcept {
            return static_cast<std::size_t>(mix64(k.first * 0x9e3779b97f4a7c15ULL ^ k.second));
        }
    };

    Engine(EngineConfig config, protocol::Incarnation incarnation);

    void admit(const protocol::ClientRequest& req, std::vector<protocol::Op>* movable_ops, std::uint64_t now_ms);

    // Participant role.
    void handle(const protocol::PeerHeader& h, const protocol::CanCommit& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::Vote& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::PreCommit& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::Ack& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::Nack& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::DoCommit& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::DoAbort& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::DecisionQuery& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::Decision& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::Heartbeat& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::VcPrepare& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::VcPromise& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::VcAccept& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::VcAccepted& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::VcNack& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::NewView& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::RbPrepare& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::RbPromise& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::JoinReq& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::SnapshotRequest& m, std::uint64_t now);
    void handle(const protocol::PeerHeader& h, const protocol::SnapshotChunk& m, std::uint64_t now);
    template <class M>
    void handle(const protocol::PeerHeader&, const M&, std::uint64_t) {}  // StateReq/StateResp/PreAbort: unused

    // View change (view_change.cpp).
    void check_failures(std::uint64_t now);
    void start_view_change(const ViewChangeCause& cause, std::uint64_t now);
    void freeze_epoch(std::uint64_t now);
    void defer_to(const protocol::Ballot& b, std::uint64_t now);
    void drive_view_change(std::uint64_t now);
    protocol::VcPromise make_promise(const protocol::Ballot& b) const;
    void on_promise(protocol::NodeId from, protocol::Incarnation inc, const protocol::VcPromise& p, std::uint64_t now);
    void on_accepted(protocol::NodeId from, std::uint64_t now);
    protocol::EpochClosingRecord build_ecr(std::uint64_t now) const;
    EcrProposedEvent proposal_event() const;  // engine_audit.cpp
    void install(const protocol::EpochClosingRecord& ecr, std::uint64_t now);
    void apply_ecr(const protocol::EpochClosingRecord& ecr);
    void push_new_view(protocol::NodeId to, std::uint64_t now);
    void request_snapshot(std::uint64_t now);
    void install_snapshot(std::uint64_t now);
    void update_total_loss(std::uint64_t now);
    bool data_lost(std::uint64_t now) const;
    bool view_orphaned(std::uint64_t now) const;
    // R-LOSS-EVIDENCE: how long a sign of loss (an amnesiac JoinReq, a later
    // incarnation heard, a "none") counts. Each is repeated every join_retry_ms
    // at most (heartbeats are more frequent still), so the window always holds
    // two of every repeating sign, whatever the timers.
    std::uint64_t loss_evidence_ms() const { return 2 * std::max(config_.suspect_ms, config_.join_retry_ms); }
    std::string loss_reason() const;
    bool may_come_to_hold_snapshot(protocol::Epoch epoch) const;
    bool waits_on_other_donor(protocol::Epoch epoch, protocol::NodeId asker) const;
    protocol::NodeId snapshot_donor() const;
    void ask_snapshot_donor(std::uint32_t from_chunk);
    void leave_snapshot_donor();
    void note_snapshot_none(const protocol::PeerHeader& h, const protocol::SnapshotChunk& m, std::uint64_t now);
    std::vector<protocol::NodeId> snapshot_donors() const;
    bool rebootstrap(std::uint64_t now, std::string& detail);
    void drive_rebootstrap(std::uint64_t now);
    void finish_rebootstrap(std::uint64_t now);
    bool holds_rb_promise(std::uint64_t now) const { return rb_promise_ && now < rb_promise_->until_ms; }
    bool release_rb_promise(protocol::Epoch below, std::uint64_t now, const char* why);
    void install_rebootstrap(const protocol::EpochClosingRecord& ecr, std::uint64_t now);
    void advance_clock(std::uint64_t now) {
        // R-NO-QUORUM: a node that was not running (first call, or a stall such as a
        // paused process) has not been listening; the others' silence counts from now.
        // R-SUSPECT counts silence from then too: a machine starved for a moment
        // stalls every node at once, and each would otherwise suspect all others.
        if (!clock_started_ || now >= now_ms_ + config_.suspect_ms) contact_baseline_ms_ = listening_since_ms_ = now;
        clock_started_ = true;
        now_ms_ = std::max(now_ms_, now);
    }
    void requeue(const protocol::Batch& batch);
    void wait_for(const RequestKey& key, std::uint64_t now);
    // R-IN-DOUBT (clients.cpp).
    bool may_still_commit(const CoordTx& ct) const;
    void mark_in_doubt(const protocol::Batch& batch);
    void clear_in_doubt(const protocol::Batch& batch);
    void keep_in_doubt(const std::vector<RequestKey>& sorted_keys);
    void settle_in_doubt();
    // R-NO-QUORUM (clients.cpp).
    std::uint64_t majority_silence_ms(std::uint64_t now) const;
    std::optional<std::string> no_quorum_refusal(std::uint64_t now) const;
    void refuse_without_quorum(const std::string& why, std::uint64_t now);
    void refuse_queued(protocol::ErrorCode code, const std::string& detail);
    void abandon_clients(const std::string& why);
    void forget_history();
    bool can_vote() const;
    std::uint64_t random_below(std::uint64_t bound);
    std::size_t majority() const { return config_.cluster.size() / 2 + 1; }
    // Where `node` stands in C, or cluster.size() when it is not in C.
    std::size_t cluster_position(protocol::NodeId node) const {
        const auto it = std::lower_bound(config_.cluster.begin(), config_.cluster.end(), node);
        if (it == config_.cluster.end() || *it != node) return config_.cluster.size();
        return static_cast<std::size_t>(it - config_.cluster.begin());
    }
    void send_to(protocol::NodeId to, protocol::PeerBody body) { send(to, std::move(body)); }

    protocol::Vote cast_vote(protocol::NodeId coordinator_node, const protocol::PeerHeader& h,
                             const protocol::TxId& tx, BatchPtr batch, std::uint64_t now);
    void precommit_local(TxRecord& rec, protocol::Ballot b, protocol::Timestamp f);
    void learn_commit(const protocol::TxId& tx, protocol::Timestamp f);
    void learn_abort(const protocol::TxId& tx);
    void try_deliver();
    void observe(const protocol::Timestamp& ts);

    // Coordinator role.
    void start_batches(std::uint64_t now);
    void maybe_purge(std::uint64_t now);  // R-TTL-PURGE
    void on_vote(CoordTx& ct, protocol::NodeId from, const protocol::Vote& v, std::uint64_t now);
    void on_ack(CoordTx& ct, protocol::NodeId from, std::uint64_t now);
    void decide(CoordTx& ct, bool commit, std::uint64_t now);
    void abort_own(CoordTx& ct, std::uint64_t now);
    void count_commit(const protocol::Batch& batch);  // stats_ only
    void resend(std::uint64_t now);
    void reply(const RequestKey& key, protocol::ClientResponseBody body);
    void reply_error(const RequestKey& key, protocol::ErrorCode code, std::string detail);

    // Housekeeping.
    void send(protocol::NodeId to, protocol::PeerBody body);
    void broadcast_others(const protocol::PeerBody& body);
    void send_heartbeats(std::uint64_t now);
    void send_decision_queries(std::uint64_t now);
    void expire_clients(std::uint64_t now);
    void collect_garbage();
    void enter_view(const protocol::View& v, std::uint64_t now);
    bool is_member(protocol::NodeId node, protocol::Incarnation inc) const;
    bool is_member(protocol::NodeId node) const;
    std::optional<protocol::Incarnation> member_incarnation(protocol::NodeId node) const;
    bool is_stale(const protocol::TxId& tx) const;
    Floor& floor_of(const protocol::TxId& tx) { return floors_[{tx.coordinator, tx.incarnation}]; }
    void mark_decided(const protocol::TxId& tx) { floor_of(tx).mark(tx.seq); }
    protocol::Timestamp key_of(const TxRecord& rec) const;
    std::optional<protocol::ErrorCode> admission_error(const protocol::OpsRequest& req, std::string& detail) const;

    EngineConfig config_;
    protocol::Incarnation incarnation_;
    NodeStatus status_ = NodeStatus::Normal;
    protocol::View view_;
    std::uint64_t history_tag_ = 0;  // history_tag(view_), kept with it by enter_view (R-HISTORY)
    std::uint64_t clock_ = 0;
    std::uint64_t now_ms_ = 0;
    std::uint64_t next_seq_ = 1;

    ReplicatedState state_;
    std::map<protocol::TxId, TxRecord> txs_;
    std::set<std::pair<protocol::Timestamp, protocol::TxId>> undecided_;  // by key (R-DELIVER)
    std::set<std::pair<protocol::Timestamp, protocol::TxId>> committed_;  // committed, undelivered, by f
    std::map<protocol::TxId, CoordTx> coord_;
    std::uint32_t own_undecided_ = 0;
    bool in_burst_ = false;  // R-BATCH-BURST: batches wait for end_burst
    // No undecided record is due for a DecisionQuery before this time (a lower
    // bound: it may be early, never late), so most ticks skip the scan.
    std::uint64_t next_query_due_ms_ = 0;
    // The same for resend: no coordinated transaction is due before this time.
    // A record's last_send_ms only grows, so only a new record can lower it.
    std::uint64_t next_resend_due_ms_ = 0;
    // R-TTL-STAMP / R-TTL-PURGE.
    std::uint64_t wall_ms_ = 0;  // 0: not given by the driver
    bool purge_due_ = false;     // the next batch starts with a purge
    std::uint64_t last_purge_ms_ = 0;
    std::uint64_t purges_sent_ = 0;
    std::optional<protocol::TxId> purge_tx_;  // the latest purge's transaction

    std::map<CoordKey, Floor> floors_;                                   // mine
    std::map<protocol::NodeId, std::map<CoordKey, std::uint64_t>> peer_floors_;  // theirs, from heartbeats
    std::uint64_t last_heartbeat_ms_ = 0;
    std::uint64_t last_gc_ms_ = 0;

    std::deque<QueuedRequest> queue_;
    struct Queued {};
    FlatMap<RequestKey, Queued, RequestKeyHash> queued_;  // the keys in queue_: a request is queued at most once
    std::uint64_t hold_batches_until_ms_ = 0;
    // Every client request this node owes an answer. Unordered: whoever walks
    // it in bulk sorts the keys first, so replies still leave in key order.
    FlatMap<RequestKey, Waiting, RequestKeyHash> waiting_;
    // (deadline, key) in admission order; deadlines never decrease, so the
    // expired ones are at the front. Stale rows (answered, or re-admitted with
    // a later deadline) are skipped.
    std::deque<std::pair<std::uint64_t, RequestKey>> deadlines_;
    // R-IN-DOUBT: requests an attempt of which, coordinated here, may commit
    // while this node does not know its outcome. Never re-run, never refused as
    // "not applied"; usually empty.
    FlatMap<RequestKey, Queued, RequestKeyHash> in_doubt_;

    Output out_;
    EngineStats stats_;

    // ---- section 8 state
    bool amnesiac_ = false;    // R-AMNESIA: no promise, no accept until a view names this incarnation
    bool full_state_ = true;   // holds the complete log prefix of its epoch (false while syncing)
    protocol::Epoch last_normal_epoch_ = 0;
    protocol::Ballot vc_promised_;                               // never decreases in an incarnation
    protocol::Ballot vc_accepted_ballot_;                        // instance view_.epoch only
    std::optional<protocol::EpochClosingRecord> vc_accepted_ecr_;
    std::uint64_t vc_counter_seen_ = 0;
    std::optional<protocol::EpochClosingRecord> last_ecr_;       // the record that made view_
    std::uint64_t view_change_since_ms_ = 0;
    std::map<protocol::NodeId, std::uint64_t> last_heard_;
    std::map<protocol::NodeId, std::uint64_t> last_push_ms_;
    struct Seen {
        protocol::Incarnation incarnation = 0;
        std::uint64_t at_ms = 0;
    };
    std::map<protocol::NodeId, Seen> seen_;  // every node of C we heard from, any incarnation
    // R-NO-QUORUM: when this incarnation first saw time, or last resumed after a stall;
    // nobody counts as silent from before it.
    std::uint64_t contact_baseline_ms_ = 0;
    std::uint64_t listening_since_ms_ = 0;  // R-SUSPECT: the end of this node's last stall
    bool clock_started_ = false;
    protocol::Epoch max_epoch_seen_ = 0;
    NodeStatus status_before_loss_ = NodeStatus::Joining;
    // Why this node reports NEEDS_REBOOTSTRAP: R-TOTAL-LOSS (a majority's memory, or every member of
    // its view restarted) or R-DATA-LOSS (data).
    enum class Loss : std::uint8_t { None, Memory, Members, Data };
    Loss loss_ = Loss::None;
    struct Joiner {
        protocol::Incarnation incarnation = 0;
        std::uint64_t heard_ms = 0;
        bool amnesiac = true;
    };
    std::map<protocol::NodeId, Joiner> joiners_;
    // R-REBOOTSTRAP: this node's proposal of a new history, until a majority
    // of C promised it (then it is installed) or vc_timeout_ms passed.
    struct RbProposal {
        protocol::Epoch epoch = 0;
        std::uint64_t started_ms = 0;
        std::uint64_t last_sent_ms = 0;
        std::map<protocol::NodeId, protocol::BirthStamp> promised;  // becomes the new view's birth
    };
    std::optional<RbProposal> rb_proposal_;
    struct RbPromiseHeld {  // R-RB-PROMISE
        protocol::Epoch epoch = 0;
        std::uint64_t until_ms = 0;
        protocol::NodeId to = 0;  // the proposer; this node itself for its own proposal
        std::uint64_t count = 0;  // rb_promises_given_ when it was given
    };
    std::optional<RbPromiseHeld> rb_promise_;
    std::uint64_t rb_promises_given_ = 0;  // at this incarnation (R-HISTORY-ORDER)
    std::string rb_outcome_;  // how this node's last proposal ended, for status
    struct Proposal {
        protocol::Ballot ballot;
        bool accepting = false;
        std::map<protocol::NodeId, std::pair<protocol::Incarnation, protocol::VcPromise>> promises;
        std::set<protocol::NodeId> accepted;
        protocol::EpochClosingRecord ecr;
        std::uint64_t started_ms = 0;
    };
    std::optional<Proposal> proposal_;
    std::uint64_t next_attempt_ms_ = 0;  // back-off: no new attempt before this
    std::uint64_t last_join_ms_ = 0;
    std::uint64_t rng_state_ = 0;
    // Snapshot: what this node serves (frozen at install) and what it is fetching.
    protocol::Epoch frozen_epoch_ = 0;
    std::string frozen_snapshot_;
    // R-DATA-LOSS: the *none* answers one node gave in a row, from one incarnation.
    struct NoneStreak {
        protocol::Incarnation incarnation = 0;
        std::uint64_t asks_when_first_heard = 0;  // snapshot_asks_ when the first of them arrived
        std::uint64_t latest_ask = 0;             // the latest request one of them answers
        std::uint64_t heard_ms = 0;               // when the latest of them arrived
    };
    struct Fetch {
        protocol::Epoch epoch = 0;
        std::size_t donor_index = 0;
        std::uint32_t next_chunk = 0;
        std::uint32_t total = 0;
        std::string data;
        // A reordering network can deliver a window's chunks out of order: keep the
        // ones ahead of next_chunk (at most one window) instead of refetching them.
        std::map<std::uint32_t, std::string> ahead;
        bool progressed = false;  // a chunk arrived since the last request: the donor is alive
        std::uint64_t last_request_ms = 0;
        // R-DATA-LOSS: the first ask sent to the current donor; 0 while it is not
        // asked yet. Nonzero means this node waits on that donor: it takes chunks
        // only from it, answering an ask from then on, and says *none* to nobody else.
        std::uint64_t donor_first_ask = 0;
        // Askers held back while this node waited, answered *none* when it stops waiting.
        std::map<protocol::NodeId, std::uint64_t> deferred;
        std::map<protocol::NodeId, NoneStreak> nones;
    };
    std::optional<Fetch> fetch_;
    // Counts this incarnation's snapshot requests, across fetches, so that an echo
    // of an earlier fetch's ask can never pass for an answer to a later one.
    std::uint64_t snapshot_asks_ = 0;
};

}  // namespace tricache::coordinator
