// The simulated clients and the history they produce. Each client has at most
// one request it is waiting for; it may send that request again (same request
// id) to any node, and every attempt and every answer is recorded for the
// checker, on history time (see Cluster::history_time).
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checker/history.hpp"
#include "protocol/messages.hpp"

namespace tricache::sim {

using protocol::NodeId;

struct ClientCounters {
    std::uint64_t requests = 0;  // distinct requests started
    std::uint64_t attempts = 0;  // sends, retries included
    std::uint64_t ok = 0;
    std::uint64_t fail = 0;
    std::uint64_t info = 0;
    std::uint64_t local_reads = 0;
    std::uint64_t unmatched_replies = 0;  // answers to attempts nobody waits for any more
};

// What one answer meant to its client.
enum class ReplyKind : std::uint8_t { Ok, Fail, Info, LocalRead, Ignored };

struct ReplyEvent {
    ReplyKind kind = ReplyKind::Ignored;
    std::uint32_t slot = 0;
    bool finished_wait = false;  // the client stopped waiting because of it
};

class Clients {
public:
    Clients(std::uint32_t count, protocol::ClientId first_id, std::string cluster_id);

    std::uint32_t count() const { return static_cast<std::uint32_t>(slots_.size()); }
    protocol::ClientId id(std::uint32_t slot) const { return slots_.at(slot).id; }
    bool waiting(std::uint32_t slot) const {
        assert(slot < slots_.size());
        return (waiting_[slot / 64] >> (slot % 64)) & 1u;
    }
    bool any_waiting() const;
    // The first slot at or after `from` that is not waiting (count() if none).
    // A runner that visits idle slots every millisecond skips waiting ones in words.
    std::uint32_t next_idle(std::uint32_t from) const;
    // The history time at which the client last sent something, for give-up timers.
    std::uint64_t last_send_time(std::uint32_t slot) const { return slots_.at(slot).last_send; }
    // Whether the slot's last request can be sent again (an ops request).
    bool can_retry(std::uint32_t slot) const;
    // Nodes the current request was already sent to.
    const std::vector<NodeId>& tried(std::uint32_t slot) const { return slots_.at(slot).tried; }
    // The node the latest attempt went to (0: none): the connection the client waits on.
    NodeId last_node(std::uint32_t slot) const { return slots_.at(slot).last_node; }
    std::uint32_t attempts(std::uint32_t slot) const { return slots_.at(slot).attempts; }
    // How the client's last wait ended (Ignored: it has not ended, or it gave up).
    ReplyKind last_reply(std::uint32_t slot) const { return slots_.at(slot).last_reply; }
    // The client has acted on its last reply (it will not retry it).
    void settle(std::uint32_t slot) { slots_.at(slot).last_reply = ReplyKind::Ignored; }

    // A new request from an idle client, with a fresh request id; records the
    // invocation. `wrong_cluster` names another cluster (an admission test).
    // `history`: which of the cluster's histories the node is in (0 until a
    // rebootstrap); the attempt and its answer are recorded there.
    protocol::ClientRequest start(std::uint32_t slot, NodeId node, protocol::ClientRequestBody body,
                                  bool wrong_cluster, std::uint64_t time, std::size_t history = 0);
    // The slot's last ops request again, same request id, to `node`.
    protocol::ClientRequest retry(std::uint32_t slot, NodeId node, std::uint64_t time, std::size_t history = 0);
    // The client stops waiting; its attempts stay open (an answer may still
    // come, and is recorded) and count as "never answered" otherwise.
    void give_up(std::uint32_t slot);
    // The node crashed: no attempt it holds will ever be answered. Forgetting
    // them keeps a later answer from that node's next incarnation, to a retry of
    // the same request, from being matched to a dead attempt of another history.
    void forget_attempts_at(NodeId node);

    // `node_start_index`: where the replying node's current log begins (past 0
    // once it installed a snapshot), the floor of a local read's staleness label.
    // `node_history`: the history the node is in now. If it changed history (a
    // rebootstrap) since the attempt was sent, a local read it serves is not
    // recorded (its position belongs to a log the attempt's history lacks). Any
    // other answer is judged in the attempt's own history: a node never carries
    // a request into another history (R-HISTORY).
    ReplyEvent on_reply(NodeId node, const protocol::ClientResponse& response, std::uint64_t time,
                        std::uint64_t node_start_index, std::size_t node_history = 0);
    // A rebootstrap started a new, empty history (its index is returned):
    // every waiting client gives up, as when an operator restarts the cache.
    // Answers to earlier attempts are still recorded in their own history.
    std::size_t begin_new_history();

    const checker::History& history(std::size_t index = 0) const { return histories_.at(index); }
    std::size_t histories() const { return histories_.size(); }
    // The first recording error of any history.
    checker::CheckResult recording_error() const;
    const ClientCounters& counters() const { return counters_; }
    // A human description of every client still waiting, for liveness reports.
    std::string describe_waiting() const;

private:
    struct Open {  // one attempt that has not been answered yet
        protocol::RequestId request = 0;
        NodeId node = 0;
        std::uint64_t sent = 0;
        bool local_read = false;
        std::string key;  // local reads
        std::size_t history = 0;
    };
    struct Slot {
        protocol::ClientId id = 0;
        protocol::RequestId next_request = 1;
        std::optional<protocol::ClientRequest> current;
        std::vector<NodeId> tried;
        NodeId last_node = 0;
        std::uint64_t first_send = 0;
        std::uint64_t last_send = 0;
        std::uint32_t attempts = 0;
        ReplyKind last_reply = ReplyKind::Ignored;
        // Attempts of this client not answered yet, in send order. Per slot,
        // not one map for all: an answer names its client, and a client has few.
        std::vector<Open> open;
    };

    void set_waiting(std::uint32_t slot, bool on);

    std::string cluster_id_;
    protocol::ClientId first_id_;
    std::vector<Slot> slots_;
    // Bit s: slot s waits for an answer. Kept apart from the slots, so a
    // scan for idle slots reads a few words instead of every slot.
    std::vector<std::uint64_t> waiting_;
    std::vector<checker::History> histories_;  // by the cluster's history index
    ClientCounters counters_;
};

}  // namespace tricache::sim
