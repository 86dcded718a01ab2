// A tiny manual network for rule-level scenario tests: every message is held
// until the test delivers, drops or duplicates it.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <set>
#include <vector>

#include "coordinator/engine.hpp"

namespace tricache::coordinator::testing {

struct InFlight {
    protocol::NodeId from = 0;
    protocol::NodeId to = 0;
    protocol::PeerMessage msg;
};

class Harness {
public:
    explicit Harness(std::size_t n, const std::function<void(EngineConfig&)>& tweak = {}) {
        for (std::size_t i = 1; i <= n; ++i) {
            EngineConfig c = base_config(i, n);
            if (tweak) tweak(c);
            configs_.push_back(c);
            nodes_.push_back(Engine::bootstrap(c));
        }
        replies_.resize(n);
        delivered_.resize(n);
    }

    static EngineConfig base_config(std::size_t i, std::size_t n) {
        EngineConfig c;
        c.self = static_cast<protocol::NodeId>(i);
        for (std::size_t j = 1; j <= n; ++j) c.cluster.push_back(static_cast<protocol::NodeId>(j));
        c.cluster_id = "test";
        c.store_limits = {8, 4096};
        c.record_deliveries = true;
        c.suspect_ms = 1u << 30;  // commit-path scenarios: no failure detection unless a test asks
        c.seed = 42 + i;
        return c;
    }

    // Faults: a crashed node takes no step and loses its memory; a cut link drops everything.
    void crash(protocol::NodeId id) { down_.insert(id); }
    void pause(protocol::NodeId id) { down_.insert(id); }    // no step, memory kept
    void resume(protocol::NodeId id) { down_.erase(id); }
    void restart(protocol::NodeId id, protocol::Incarnation inc) {
        down_.erase(id);
        nodes_.at(id - 1) = Engine::join(configs_.at(id - 1), inc);
    }
    void cut(protocol::NodeId a, protocol::NodeId b) {
        cut_.insert({a, b});
        cut_.insert({b, a});
    }
    void cut_one_way(protocol::NodeId from, protocol::NodeId to) { cut_.insert({from, to}); }
    void partition(const std::vector<protocol::NodeId>& side) {
        for (std::size_t a = 1; a <= nodes_.size(); ++a) {
            for (std::size_t b = 1; b <= nodes_.size(); ++b) {
                const bool in_a = std::count(side.begin(), side.end(), a) > 0;
                const bool in_b = std::count(side.begin(), side.end(), b) > 0;
                if (in_a != in_b) cut_.insert({static_cast<protocol::NodeId>(a), static_cast<protocol::NodeId>(b)});
            }
        }
    }
    void heal() { cut_.clear(); }
    bool reachable(protocol::NodeId from, protocol::NodeId to) const {
        return down_.count(from) == 0 && down_.count(to) == 0 && cut_.count({from, to}) == 0;
    }

    Engine& node(protocol::NodeId id) { return nodes_.at(id - 1); }
    std::uint64_t now() const { return now_; }

    void request(protocol::NodeId at, protocol::ClientId client, protocol::RequestId req,
                 std::vector<protocol::Op> ops) {
        protocol::ClientRequest r{protocol::kProtocolVersion, "test", client, req, protocol::OpsRequest{std::move(ops)}};
        node(at).on_client_request(r, now_);
        pump(at);
    }
    void request(protocol::NodeId at, const protocol::ClientRequest& r) {
        node(at).on_client_request(r, now_);
        pump(at);
    }

    // Delivers queued messages in FIFO order until none is left (or `max`
    // deliveries). `keep` returning false drops a message instead.
    std::size_t run(const std::function<bool(const InFlight&)>& keep = {}, std::size_t max = 100000) {
        std::size_t n = 0;
        while (!inflight_.empty() && n < max) {
            InFlight m = std::move(inflight_.front());
            inflight_.pop_front();
            ++n;
            if (keep && !keep(m)) continue;
            if (!reachable(m.from, m.to)) continue;
            node(m.to).on_message(m.msg, now_);
            pump(m.to);
        }
        return n;
    }

    // Advances time by `ms` and ticks every node, without delivering anything.
    void advance(std::uint64_t ms) {
        now_ += ms;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (down_.count(static_cast<protocol::NodeId>(i + 1)) != 0) continue;
            nodes_[i].on_tick(now_);
            pump(static_cast<protocol::NodeId>(i + 1));
        }
    }

    // Ticks and delivers until nothing moves (bounded).
    void settle(std::uint64_t step_ms = 10, int rounds = 200) {
        for (int i = 0; i < rounds; ++i) {
            advance(step_ms);
            run();
        }
    }

    std::deque<InFlight>& inflight() { return inflight_; }
    std::vector<protocol::ClientResponse>& replies(protocol::NodeId id) { return replies_.at(id - 1); }
    std::vector<DeliveredTx>& delivered(protocol::NodeId id) { return delivered_.at(id - 1); }
    std::vector<JournalEvent>& journal() { return journal_; }

    template <class M>
    std::size_t count_inflight() const {
        std::size_t n = 0;
        for (const auto& m : inflight_) n += std::holds_alternative<M>(m.msg.body) ? 1u : 0u;
        return n;
    }

private:
    void pump(protocol::NodeId id) {
        Output out = node(id).take_output();
        for (auto& m : out.messages) inflight_.push_back({id, m.to, std::move(m.msg)});
        for (auto& r : out.replies) replies_.at(id - 1).push_back(std::move(r));
        for (auto& d : out.delivered) delivered_.at(id - 1).push_back(std::move(d));
        for (auto& j : out.journal) journal_.push_back(std::move(j));
    }

    std::vector<EngineConfig> configs_;
    std::vector<Engine> nodes_;
    std::set<protocol::NodeId> down_;
    std::set<std::pair<protocol::NodeId, protocol::NodeId>> cut_;
    std::deque<InFlight> inflight_;
    std::vector<std::vector<protocol::ClientResponse>> replies_;
    std::vector<std::vector<DeliveredTx>> delivered_;
    std::vector<JournalEvent> journal_;
    std::uint64_t now_ = 1000;
};

// The seq of the n-th transaction a node coordinates in `epoch` (R-SEQ-EPOCH).
inline std::uint64_t seq_of(protocol::Epoch epoch, std::uint64_t n) { return (epoch << 32) + n; }

inline protocol::Op set(std::string k, std::string v) { return protocol::Set{std::move(k), std::move(v)}; }
inline protocol::Op get(std::string k) { return protocol::Get{std::move(k)}; }
inline protocol::Op del(std::string k) { return protocol::Del{std::move(k)}; }
inline protocol::Op cas(std::string k, std::optional<std::string> e, std::string v) {
    return protocol::Cas{std::move(k), std::move(e), std::move(v)};
}


// Shared by the scenario tests: what a reply is, what a message is, who is in a view.
inline const protocol::OpsReply* ops_reply(const protocol::ClientResponse& r) {
    return std::get_if<protocol::OpsReply>(&r.body);
}
inline const protocol::ErrorReply* error_reply(const protocol::ClientResponse& r) {
    return std::get_if<protocol::ErrorReply>(&r.body);
}
template <class M>
bool is(const InFlight& m) {
    return std::holds_alternative<M>(m.msg.body);
}
inline std::vector<protocol::NodeId> member_ids(const Engine& e) {
    std::vector<protocol::NodeId> ids;
    for (const auto& m : e.view().members) ids.push_back(m.node);
    return ids;
}

// Timeouts short enough that a scenario sees suspicion and view changes within a few hundred simulated ms.
inline void failure_detection(EngineConfig& c) {
    c.suspect_ms = 200;
    c.vc_timeout_ms = 150;
    c.vc_backoff_ms = 100;
    c.no_quorum_ms = 600;
    c.heartbeat_ms = 20;
    c.client_timeout_ms = 100000;
}

// Every node in `ids` is NORMAL in one epoch with equal logs and stores.
inline void expect_converged(Harness& h, const std::vector<protocol::NodeId>& ids) {
    const Engine& first = h.node(ids.front());
    for (protocol::NodeId n : ids) {
        const Engine& e = h.node(n);
        EXPECT_EQ(e.node_status(), NodeStatus::Normal) << "node " << n << " is " << to_string(e.node_status());
        EXPECT_EQ(e.view().epoch, first.view().epoch) << "node " << n;
        EXPECT_EQ(e.state().log_length(), first.state().log_length()) << "node " << n;
        EXPECT_EQ(e.state().log_hash(), first.state().log_hash()) << "node " << n;
        EXPECT_EQ(e.state().store().snapshot_mru_first(), first.state().store().snapshot_mru_first()) << "node " << n;
        EXPECT_EQ(e.state().store().digest(), first.state().store().digest()) << "node " << n;
        EXPECT_EQ(e.state().digest(), first.state().digest()) << "node " << n;  // expiries and apply clock too
    }
}

}  // namespace tricache::coordinator::testing
