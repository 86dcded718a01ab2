// bench_failover: printed figures, never a timed test.
//  (a) simulated ms from a member's crash to the first write the survivors
//      commit and answer, for 3 and 5 nodes over several seeds, next to the
//      failure detector's timeout (suspect_ms); target: under 2 timeouts;
//  (b) how long a restarted node takes to serve again (simulated ms, and the
//      wall and CPU time every engine spent meanwhile) against the store size.
// Engines run with their default timeouts over a tiny in-process network with
// 1–3 ms latency, FIFO per link; time moves in 1 ms ticks.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/engine.hpp"

namespace {

using namespace tricache;
using namespace tricache::protocol;
using coordinator::Engine;
using coordinator::EngineConfig;
using SteadyClock = std::chrono::steady_clock;

std::uint64_t cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t splitmix(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Engines over a network that delivers every message after 1–3 ms, in order of
// arrival time. A crashed node takes no step; its messages in flight are lost.
class Net {
public:
    Net(std::size_t n, std::uint64_t seed, const store::Limits& limits) : rng_(seed) {
        for (std::size_t i = 1; i <= n; ++i) {
            EngineConfig c;
            c.self = static_cast<NodeId>(i);
            for (std::size_t j = 1; j <= n; ++j) c.cluster.push_back(static_cast<NodeId>(j));
            c.cluster_id = "bench";
            c.store_limits = limits;
            c.seed = seed * 131 + i;
            configs_.push_back(c);
            nodes_.push_back(Engine::bootstrap(c));
            up_.push_back(true);
        }
        replies_.resize(n);
    }

    Engine& node(NodeId id) { return nodes_.at(id - 1); }
    std::uint64_t now() const { return now_; }
    std::vector<ClientResponse>& replies(NodeId id) { return replies_.at(id - 1); }
    bool up(NodeId id) const { return up_.at(id - 1); }

    void crash(NodeId id) { up_.at(id - 1) = false; }
    void restart(NodeId id, Incarnation inc) {
        up_.at(id - 1) = true;
        nodes_.at(id - 1) = Engine::join(configs_.at(id - 1), inc);
    }

    void request(NodeId at, ClientId client, RequestId req, std::vector<Op> ops) {
        if (!up(at)) return;
        node(at).on_client_request(ClientRequest{kProtocolVersion, "bench", client, req, OpsRequest{std::move(ops)}},
                                   now_);
        pump(at);
    }

    // One millisecond: deliver what is due, then tick every live node.
    void step() {
        ++now_;
        while (!queue_.empty() && queue_.begin()->first.first <= now_) {
            auto it = queue_.begin();
            const auto [to, msg] = std::move(it->second);
            queue_.erase(it);
            if (!up(to)) continue;
            node(to).on_message(msg, now_);
            pump(to);
        }
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (!up_[i]) continue;
            nodes_[i].on_tick(now_);
            pump(static_cast<NodeId>(i + 1));
        }
    }

private:
    void pump(NodeId from) {
        coordinator::Output out = node(from).take_output();
        for (auto& m : out.messages) {
            if (!up(m.to)) continue;
            // Per-link FIFO, as over the node's TCP links: jitter never reorders one link.
            std::uint64_t& last = link_last_[{from, m.to}];
            const std::uint64_t at = std::max(last, now_ + 1 + splitmix(rng_) % 3);
            last = at;
            queue_.emplace(std::make_pair(at, seq_++), std::make_pair(m.to, std::move(m.msg)));
        }
        for (auto& r : out.replies) replies_.at(from - 1).push_back(std::move(r));
    }

    std::uint64_t rng_;
    std::uint64_t now_ = 1000;
    std::uint64_t seq_ = 0;
    std::vector<EngineConfig> configs_;
    std::vector<Engine> nodes_;
    std::vector<bool> up_;
    std::vector<std::vector<ClientResponse>> replies_;
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::pair<NodeId, PeerMessage>> queue_;
    std::map<std::pair<NodeId, NodeId>, std::uint64_t> link_last_;
};

bool is_ok(const ClientResponse& r) { return std::holds_alternative<OpsReply>(r.body); }

// (a) One run: steady writes at every survivor (one every 5 ms per node), crash
// the last node at a seed-dependent instant, and return the simulated ms until
// a survivor answers OK to a write.
std::optional<std::uint64_t> crash_to_first_write(std::size_t n, std::uint64_t seed) {
    Net net(n, seed, {100000, 64u << 20});
    std::uint64_t rng = seed;
    RequestId req = 0;
    auto load = [&] {
        if (net.now() % 5 != 0) return;
        for (NodeId id = 1; id < n; ++id) net.request(id, id, ++req, {Set{"k" + std::to_string(req % 100), "v"}});
    };
    const std::uint64_t warmup = 500 + splitmix(rng) % 200;
    for (std::uint64_t i = 0; i < warmup; ++i) {
        load();
        net.step();
    }
    const auto crashed = static_cast<NodeId>(n);
    net.crash(crashed);
    const std::uint64_t crash_at = net.now();
    std::vector<std::size_t> seen(n + 1, 0);
    for (NodeId id = 1; id < n; ++id) seen[id] = net.replies(id).size();
    for (std::uint64_t i = 0; i < 20000; ++i) {
        load();
        net.step();
        for (NodeId id = 1; id < n; ++id) {
            auto& r = net.replies(id);
            for (std::size_t k = seen[id]; k < r.size(); ++k) {
                // A write answered OK after the crash needed a view without the crashed node.
                if (is_ok(r[k]) && net.node(id).view().epoch > 1) return net.now() - crash_at;
            }
            seen[id] = r.size();
        }
    }
    return std::nullopt;
}

struct Rejoin {
    std::uint64_t sim_ms = 0;
    double wall_ms = 0, cpu_ms = 0;
    std::uint64_t entries = 0;
    bool converged = false;
};

// (b) Fill a 3-node store with `entries` 100-byte values, crash node 3, let the
// others remove it, restart it and time until it serves (NORMAL, same digest).
std::optional<Rejoin> rejoin_time(std::uint64_t entries, std::uint64_t seed) {
    const std::uint64_t per_entry = 16 + 100 + 48;
    Net net(3, seed, {entries + 16, (entries + 16) * per_entry * 2});
    const std::string value(100, 'x');
    const std::uint64_t per_request = 256;
    RequestId req = 0;
    std::uint64_t sent = 0;
    std::size_t answered = 0;
    while (answered < (entries + per_request - 1) / per_request) {
        // Keep a bounded number of fill requests outstanding per node.
        for (NodeId id = 1; id <= 3 && sent < entries; ++id) {
            if (net.node(id).waiting_clients() >= 64) continue;
            std::vector<Op> ops;
            for (std::uint64_t k = 0; k < per_request && sent < entries; ++k, ++sent) {
                ops.push_back(Set{"key" + std::to_string(sent), value});
            }
            net.request(id, id, ++req, std::move(ops));
        }
        net.step();
        answered = 0;
        for (NodeId id = 1; id <= 3; ++id) answered += net.replies(id).size();
        if (net.now() > 100000000) return std::nullopt;
    }
    for (int i = 0; i < 100; ++i) net.step();
    net.crash(3);
    for (int i = 0; i < 20000 && net.node(1).view().members.size() != 2; ++i) net.step();
    if (net.node(1).view().members.size() != 2) return std::nullopt;

    Rejoin r;
    r.entries = net.node(1).state().store().size();
    const auto wall0 = SteadyClock::now();
    const std::uint64_t cpu0 = cpu_ns();
    net.restart(3, 2);
    const std::uint64_t t0 = net.now();
    for (int i = 0; i < 200000; ++i) {
        net.step();
        const Engine& e = net.node(3);
        if (e.node_status() == coordinator::NodeStatus::Normal && e.full_state() && !e.amnesiac()) break;
    }
    r.sim_ms = net.now() - t0;
    r.cpu_ms = static_cast<double>(cpu_ns() - cpu0) / 1e6;
    r.wall_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - wall0).count();
    r.converged = net.node(3).node_status() == coordinator::NodeStatus::Normal &&
                  net.node(3).state().store().digest() == net.node(1).state().store().digest();
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tricache failover figures (simulated time over the real engine)"};
    std::uint64_t seeds = 10;
    std::vector<std::uint64_t> sizes{1000, 100000, 1000000};
    app.add_option("--seeds", seeds, "runs per cluster size for the crash-to-write figure");
    app.add_option("--sizes", sizes, "store sizes (entries of 100-byte values) for the rejoin figure");
    CLI11_PARSE(app, argc, argv);

    const EngineConfig defaults;
    std::printf("defaults: suspect_ms=%llu heartbeat_ms=%llu vc_timeout_ms=%llu vc_backoff_ms=%llu\n",
                static_cast<unsigned long long>(defaults.suspect_ms),
                static_cast<unsigned long long>(defaults.heartbeat_ms),
                static_cast<unsigned long long>(defaults.vc_timeout_ms),
                static_cast<unsigned long long>(defaults.vc_backoff_ms));
    std::printf("\n(a) crash of one member -> first write answered OK by a survivor (simulated ms)\n");
    for (std::size_t n : {std::size_t{3}, std::size_t{5}}) {
        std::vector<std::uint64_t> t;
        std::size_t stuck = 0;
        for (std::uint64_t s = 1; s <= seeds; ++s) {
            if (auto ms = crash_to_first_write(n, s)) {
                t.push_back(*ms);
            } else {
                ++stuck;
            }
        }
        std::sort(t.begin(), t.end());
        if (t.empty()) {
            std::printf("  n=%zu: no run recovered (%zu stuck)\n", n, stuck);
            continue;
        }
        const double limit = 2.0 * static_cast<double>(defaults.suspect_ms);
        std::printf("  n=%zu seeds=%llu: min %llu  median %llu  max %llu ms  (= %.2f / %.2f / %.2f suspect_ms; "
                    "target < 2)  %s%s\n",
                    n, static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(t.front()),
                    static_cast<unsigned long long>(t[t.size() / 2]), static_cast<unsigned long long>(t.back()),
                    static_cast<double>(t.front()) / static_cast<double>(defaults.suspect_ms),
                    static_cast<double>(t[t.size() / 2]) / static_cast<double>(defaults.suspect_ms),
                    static_cast<double>(t.back()) / static_cast<double>(defaults.suspect_ms),
                    static_cast<double>(t.back()) < limit ? "met" : "MISSED",
                    stuck != 0 ? " (some runs never recovered)" : "");
    }
    std::printf("\n(b) restarted node: restart -> serving again (3 nodes, 100-byte values)\n");
    for (std::uint64_t size : sizes) {
        auto r = rejoin_time(size, 7);
        if (!r) {
            std::printf("  %8llu entries: setup failed\n", static_cast<unsigned long long>(size));
            continue;
        }
        std::printf("  %8llu entries: %6llu simulated ms, %9.1f ms wall, %9.1f ms CPU (all engines)%s\n",
                    static_cast<unsigned long long>(r->entries), static_cast<unsigned long long>(r->sim_ms),
                    r->wall_ms, r->cpu_ms, r->converged ? "" : "  NOT CONVERGED");
    }
    return 0;
}
