// The simulated transport between engines: per directed link (from -> to) an
// ordered queue of in-flight peer messages, each with the simulated time at
// which it becomes ready. Faults are per link and direction (loss, duplication,
// a delay range whose randomness reorders, clogging) plus per-node pauses.
// Messages travel as values; no byte ever leaves the process.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/messages.hpp"
#include "sim/rng.hpp"

namespace tricache::sim {

using protocol::NodeId;

inline constexpr std::uint64_t kForever = std::numeric_limits<std::uint64_t>::max();

struct InFlight {
    std::uint64_t seq = 0;       // network-wide send order: the tie-breaker everywhere
    std::uint64_t ready_ms = 0;  // automatic mode delivers it at or after this time
    // On the heap, never null: a queue closes a gap (a message taken from its
    // middle) by moving small records, not whole messages.
    std::unique_ptr<protocol::PeerMessage> msg;
};

struct LinkFaults {
    double loss = 0.0;       // probability that a send is lost
    double duplicate = 0.0;  // probability that a send arrives twice
    std::uint64_t delay_min_ms = 1;
    std::uint64_t delay_max_ms = 1;
    std::uint64_t clogged_until_ms = 0;  // nothing is delivered on this link before then
    bool blocked = false;                // partition or cut: every send is lost, queued messages wait
};

struct NodeFaults {
    std::uint64_t paused_until_ms = 0;  // the node takes no step before then (kForever: until resumed)
    bool up = true;                     // false while crashed: no step, nothing sent to or from it
};

struct Link {
    NodeId from = 0;
    NodeId to = 0;
    friend bool operator==(const Link&, const Link&) = default;
};

struct NetworkCounters {
    std::uint64_t sent = 0;        // sends asked of the network
    std::uint64_t lost = 0;        // dropped by loss, a blocked link, or the Drop verb
    std::uint64_t duplicated = 0;  // extra copies, by fault or the Duplicate verb
    std::uint64_t delivered = 0;
    std::uint64_t codec_round_trips = 0;
};

class Network {
public:
    explicit Network(std::uint32_t nodes);

    std::uint32_t nodes() const { return nodes_; }
    LinkFaults& faults(Link link) { return faults_[index(link)]; }
    const LinkFaults& faults(Link link) const { return faults_[index(link)]; }
    NodeFaults& node(NodeId n) { return node_faults_[n - 1]; }
    const NodeFaults& node(NodeId n) const { return node_faults_[n - 1]; }
    bool can_step(NodeId n, std::uint64_t now_ms) const {
        const NodeFaults& f = node(n);
        return f.up && now_ms >= f.paused_until_ms;
    }
    bool clogged(Link link, std::uint64_t now_ms) const { return now_ms < faults(link).clogged_until_ms; }

    // Applies the link's loss, duplication and delay draws from `rng`, and with
    // probability `codec_rate` passes the message through the codec first.
    // Returns the codec failure, if the round trip broke the message.
    std::optional<std::string> send(Link link, protocol::PeerMessage&& msg, std::uint64_t now_ms, Rng& rng,
                                    double codec_rate);

    const std::deque<InFlight>& queue(Link link) const { return queues_[index(link)]; }
    std::size_t pending(Link link) const { return queue(link).size(); }
    std::size_t pending_total() const;

    // Manual verbs on the k-th oldest message of a non-empty link (k modulo the
    // queue length), ignoring ready times and clogs.
    InFlight take(Link link, std::uint64_t k);
    void drop(Link link, std::uint64_t k);
    void duplicate(Link link, std::uint64_t k);

    // The first non-empty link at or after `start` in the fixed cyclic order
    // (1->2, 1->3, ..., 2->1, ...) that satisfies `accept`. Lets a generated
    // schedule address "a link" without knowing which ones hold messages.
    std::optional<Link> find_link(Link start, const std::function<bool(Link)>& accept) const;

    // The link whose head is the oldest message in flight (queues are in send
    // order) among links that satisfy `accept`.
    std::optional<Link> oldest_link(const std::function<bool(Link)>& accept) const;

    // Automatic mode, in two steps so that each ready message is delivered
    // where it lies, never moved: collect_ready finds every message ready by
    // `now_ms` on a link that is neither clogged nor blocked and whose
    // destination can step, in (ready time, send order) order, and returns how
    // many; ready_link/ready_message give the i-th; remove_ready then drops
    // them all. In between only send() may touch the network: it appends, so
    // the collected messages keep their places.
    std::size_t collect_ready(std::uint64_t now_ms);
    Link ready_link(std::size_t i) const { return link_at(ready_keys_.at(i).queue); }
    InFlight& ready_message(std::size_t i) {
        const ReadyKey& k = ready_keys_.at(i);
        return queues_[k.queue][k.at];
    }
    void remove_ready();

    // Ends every fault: links unclogged, unblocked, lossless, duplicate-free
    // with a fixed one-millisecond delay; every node unpaused. Queued messages
    // stay queued.
    void heal();

    // Partitions and cuts only: every link unblocked, other faults kept.
    void unblock_all();
    // The node is down: every message queued to or from it is dropped (its
    // engine is gone, and a connection to it would be reset).
    void crash(NodeId n);
    void restart(NodeId n) { node(n).up = true; }
    bool blocked(Link link) const { return faults(link).blocked; }

    const NetworkCounters& counters() const { return counters_; }
    void count_delivered() { ++counters_.delivered; }

private:
    // One ready message, for collect_ready's sort: (ready, seq) is a total order.
    struct ReadyKey {
        std::uint64_t ready_ms;
        std::uint64_t seq;
        std::size_t queue;
        std::size_t at;
    };

    // Inline: faults() and blocked() run for every send and every delivery.
    std::size_t index(Link link) const {
        assert(link.from >= 1 && link.from <= nodes_ && link.to >= 1 && link.to <= nodes_);
        assert(link.from != link.to);
        return std::size_t{link.from - 1} * nodes_ + (link.to - 1);
    }
    Link link_at(std::size_t i) const {
        return Link{static_cast<NodeId>(i / nodes_) + 1, static_cast<NodeId>(i % nodes_) + 1};
    }

    std::uint32_t nodes_;
    std::vector<std::deque<InFlight>> queues_;  // by index(link); self-links stay empty
    // By index(link): at most the earliest ready time in that queue (kForever
    // when empty), so collect_ready skips, without a look inside, every queue
    // that holds nothing ready yet. Removals may leave it low, never high.
    std::vector<std::uint64_t> min_ready_;
    std::vector<LinkFaults> faults_;
    std::vector<NodeFaults> node_faults_;
    std::uint64_t next_seq_ = 1;
    NetworkCounters counters_;
    // collect_ready's results, kept to spare an allocation every simulated ms.
    std::vector<ReadyKey> ready_keys_;
    struct Touched {
        std::size_t queue;
        std::size_t taken;  // how many of its messages were collected
    };
    std::vector<Touched> ready_queues_;
    bool collected_ = false;  // between collect_ready and remove_ready
};

}  // namespace tricache::sim
