// tricache-demo: three engines in one process, wired by in-memory queues whose
// every message goes through the real msgpack codec. It shows the commit path,
// the total order and the replicated LRU before the networked node exists.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "coordinator/engine.hpp"
#include "protocol/codec.hpp"

namespace {

using namespace tricache;
using protocol::NodeId;

struct Wire {
    NodeId to;
    std::string bytes;
};

class DemoCluster {
public:
    DemoCluster(std::size_t n, store::Limits limits) {
        for (NodeId i = 1; i <= n; ++i) {
            coordinator::EngineConfig c;
            c.self = i;
            c.cluster_id = "demo";
            for (NodeId j = 1; j <= n; ++j) c.cluster.push_back(j);
            c.store_limits = limits;
            engines_.push_back(coordinator::Engine::bootstrap(c));
        }
    }

    protocol::ClientResponse call(NodeId at, protocol::ClientRequestBody body) {
        protocol::ClientRequest req{protocol::kProtocolVersion, "demo", 1, ++next_request_, std::move(body)};
        // The request crosses the client codec too.
        auto decoded = protocol::decode_client_request(protocol::encode(req));
        engines_[at - 1].on_client_request(decoded.value(), now_);
        for (int round = 0; round < 1000; ++round) {
            pump_all();
            if (auto r = take_reply(at)) return *r;
            if (queue_.empty()) {
                now_ += 10;
                for (auto& e : engines_) e.on_tick(now_);
            }
            while (!queue_.empty()) {
                Wire w = std::move(queue_.front());
                queue_.pop_front();
                auto msg = protocol::decode_peer_message(w.bytes);
                if (!msg) {
                    std::fprintf(stderr, "decode failed: %s\n", std::string(protocol::error_name(msg.error().code)).c_str());
                    continue;
                }
                engines_[w.to - 1].on_message(msg.value(), now_);
                pump_all();
            }
        }
        return {protocol::kProtocolVersion, 1, next_request_, protocol::ErrorReply{protocol::ErrorCode::TimeoutOutcomeUnknown, "demo gave up"}};
    }

    void print_status() const {
        std::printf("  %-5s %-6s %-10s %-18s %-18s %s\n", "node", "epoch", "delivered", "log hash", "digest", "contents (MRU first)");
        for (const auto& e : engines_) {
            auto s = e.status();
            std::string contents;
            for (const auto& [k, v] : e.state().store().snapshot_mru_first()) contents += k + "=" + v + " ";
            std::printf("  %-5u %-6llu %-10llu %016llx   %016llx   %s\n", s.node,
                        static_cast<unsigned long long>(s.epoch), static_cast<unsigned long long>(s.delivered),
                        static_cast<unsigned long long>(s.log_hash), static_cast<unsigned long long>(s.digest),
                        contents.c_str());
        }
    }

private:
    void pump_all() {
        for (auto& e : engines_) {
            auto out = e.take_output();
            for (auto& m : out.messages) queue_.push_back({m.to, protocol::encode(m.msg)});
            for (auto& r : out.replies) replies_.push_back({e.config().self, std::move(r)});
        }
    }
    std::optional<protocol::ClientResponse> take_reply(NodeId at) {
        for (auto it = replies_.begin(); it != replies_.end(); ++it) {
            if (it->first == at && it->second.request == next_request_) {
                auto r = std::move(it->second);
                replies_.erase(it);
                return r;
            }
        }
        return std::nullopt;
    }

    std::vector<coordinator::Engine> engines_;
    std::deque<Wire> queue_;
    std::vector<std::pair<NodeId, protocol::ClientResponse>> replies_;
    std::uint64_t now_ = 1;
    protocol::RequestId next_request_ = 0;
};

std::string show(const protocol::ClientResponse& r) {
    if (const auto* ops = std::get_if<protocol::OpsReply>(&r.body)) {
        std::string s;
        for (const auto& x : ops->results) {
            s += x.ok ? "ok" : "no";
            if (x.value) s += "(" + *x.value + ")";
            s += " ";
        }
        return s;
    }
    if (const auto* lg = std::get_if<protocol::LocalGetReply>(&r.body)) {
        return (lg->found ? "found(" + lg->value + ")" : std::string("absent")) + " [local, as of " +
               std::to_string(lg->delivered) + " transactions]";
    }
    if (const auto* e = std::get_if<protocol::ErrorReply>(&r.body)) {
        return std::string(protocol::error_name(e->code)) + ": " + e->detail;
    }
    return "?";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tricache-demo: a 3-node cluster in one process, through the real engine and codec"};
    std::uint64_t entries = 3;
    app.add_option("--max-entries", entries, "store capacity in entries (small, so evictions show)");
    CLI11_PARSE(app, argc, argv);

    DemoCluster cluster(3, {entries, 1u << 20});
    using namespace tricache::protocol;
    struct Step {
        NodeId node;
        const char* what;
        ClientRequestBody body;
    };
    std::vector<Step> steps = {
        {1, "SET a 1", OpsRequest{{Set{"a", "1"}}}},
        {2, "SET b 2", OpsRequest{{Set{"b", "2"}}}},
        {3, "SET c 3", OpsRequest{{Set{"c", "3"}}}},
        {1, "GET a (moves a to most recently used on every node)", OpsRequest{{Get{"a"}}}},
        {2, "SET d 4 (evicts the least recently used: b)", OpsRequest{{Set{"d", "4"}}}},
        {3, "CAS a 1 -> 10", OpsRequest{{Cas{"a", std::string("1"), "10"}}}},
        {1, "multi: DEL c, SET e 5, GET b", OpsRequest{{Del{"c"}, Set{"e", "5"}, Get{"b"}}}},
        {2, "local GET a (no round, no recency change)", LocalGetRequest{"a"}},
    };
    for (auto& s : steps) {
        auto r = cluster.call(s.node, s.body);
        std::printf("node %u <- %-55s => %s\n", s.node, s.what, show(r).c_str());
    }
    std::printf("\nEvery node applied the same transactions in the same order:\n");
    cluster.print_status();
    return 0;
}
