// tricache-bench: closed-loop load over real sockets against a running cluster.
//   tricache-bench --server HOST:PORT [--server ...] --connections 16 --seconds 10
//                  --get 50 --set 45 --del 5 --local 0 --keys 10000 --value-bytes 100
// Each connection is one DEALER with its own client id and one request in
// flight; connections are spread over the servers round-robin. One thread,
// one poll(2) over every socket's ZMQ_FD, so a wake-up touches only the
// sockets that have something (zmq::poll would ask all of them, twice, each
// costing system calls: the load generator then ate a third of the machine).
// Prints throughput and latency percentiles per op kind.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <poll.h>

#include <zmq.hpp>

#include "client/client.hpp"
#include "protocol/codec.hpp"

namespace {

using namespace tricache;
using Clock = std::chrono::steady_clock;

enum Kind : std::size_t { kGet, kSet, kDel, kLocal, kKinds };
constexpr const char* kKindName[kKinds] = {"get", "set", "del", "local-get"};

struct Conn {
    zmq::socket_t socket;
    protocol::ClientId client = 0;
    protocol::RequestId request = 0;
    Kind kind = kGet;
    Clock::time_point sent;
    bool busy = false;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    const auto idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
    return v[idx];
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tricache-bench: load generator against a running tricache cluster"};
    std::vector<std::string> servers;
    std::string cluster = "tricache";
    std::size_t connections = 16;
    double seconds = 10, warmup = 1;
    unsigned get_pct = 50, set_pct = 50, del_pct = 0, local_pct = 0;
    std::uint64_t keys = 10000, value_bytes = 100, timeout_ms = 10000, seed = 1;
    app.add_option("--server,-s", servers, "node client address HOST:PORT (repeat)")->required()->delimiter(',');
    app.add_option("--cluster", cluster, "cluster id");
    app.add_option("--connections,-c", connections, "concurrent connections, one request in flight each")
        ->check(CLI::Range(1, 4096));
    app.add_option("--seconds", seconds, "measured duration")->check(CLI::Range(0.1, 600.0));
    app.add_option("--warmup", warmup, "unmeasured lead-in")->check(CLI::Range(0.0, 60.0));
    app.add_option("--get", get_pct, "percent linearizable GETs");
    app.add_option("--set", set_pct, "percent SETs");
    app.add_option("--del", del_pct, "percent DELs");
    app.add_option("--local", local_pct, "percent local GETs");
    app.add_option("--keys", keys, "key space (uniform)")->check(CLI::Range(1u, 100000000u));
    app.add_option("--value-bytes", value_bytes, "value size")->check(CLI::Range(0u, 1u << 20));
    app.add_option("--timeout-ms", timeout_ms, "a request unanswered this long is counted and abandoned");
    app.add_option("--seed", seed, "key and op choice");
    CLI11_PARSE(app, argc, argv);
    const unsigned total_pct = get_pct + set_pct + del_pct + local_pct;
    if (total_pct == 0) {
        std::fprintf(stderr, "tricache-bench: the op mix is empty\n");
        return 2;
    }

    zmq::context_t ctx(1);
    std::vector<Conn> conns;
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < connections; ++i) {
        auto endpoint = client::server_endpoint(servers[i % servers.size()]);
        if (!endpoint) {
            std::fprintf(stderr, "tricache-bench: bad server '%s'\n", servers[i % servers.size()].c_str());
            return 2;
        }
        Conn c{zmq::socket_t(ctx, zmq::socket_type::dealer), rng() | 1, 0, kGet, {}, false};
        c.socket.set(zmq::sockopt::linger, 0);
        c.socket.connect(*endpoint);
        conns.push_back(std::move(c));
    }
    const std::string value(value_bytes, 'v');
    auto pick_kind = [&]() {
        const auto r = static_cast<unsigned>(rng() % total_pct);
        if (r < get_pct) return kGet;
        if (r < get_pct + set_pct) return kSet;
        if (r < get_pct + set_pct + del_pct) return kDel;
        return kLocal;
    };
    auto send = [&](Conn& c) {
        c.kind = pick_kind();
        std::string key = "k" + std::to_string(rng() % keys);
        protocol::ClientRequest req{protocol::kProtocolVersion, cluster, c.client, ++c.request, {}};
        switch (c.kind) {
            case kGet: req.body = protocol::OpsRequest{{protocol::Get{std::move(key)}}}; break;
            case kSet: req.body = protocol::OpsRequest{{protocol::Set{std::move(key), value}}}; break;
            case kDel: req.body = protocol::OpsRequest{{protocol::Del{std::move(key)}}}; break;
            default: req.body = protocol::LocalGetRequest{std::move(key)}; break;
        }
        const std::string bytes = protocol::encode(req);
        c.sent = Clock::now();
        c.busy = c.socket.send(zmq::const_buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait).has_value();
    };

    std::vector<std::vector<double>> latency_us(kKinds);
    std::map<std::string, std::uint64_t> errors;
    std::uint64_t abandoned = 0;
    const auto start = Clock::now();
    const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (auto& c : conns) send(c);
    // ZMQ_FD only says "look again": a socket is drained until EAGAIN when its
    // descriptor fires, and every socket is drained now and then in case a
    // send consumed the wake-up of a late reply (one to an abandoned request).
    std::vector<pollfd> fds;
    for (auto& c : conns) fds.push_back({c.socket.get(zmq::sockopt::fd), POLLIN, 0});
    constexpr auto kSweepEvery = std::chrono::milliseconds(100);
    auto next_sweep = Clock::now() + kSweepEvery;
    auto drain = [&](Conn& c) {
        zmq::message_t m;
        while (c.socket.recv(m, zmq::recv_flags::dontwait)) {
            auto d = protocol::decode_client_response(m.to_string_view());
            if (!d || d.value().request != c.request || !c.busy) continue;  // late: already abandoned
            const auto t = Clock::now();
            if (c.sent >= measure_from) {
                if (const auto* e = std::get_if<protocol::ErrorReply>(&d.value().body)) {
                    ++errors[std::string(protocol::error_name(e->code))];
                } else {
                    latency_us[c.kind].push_back(std::chrono::duration<double, std::micro>(t - c.sent).count());
                }
            }
            c.busy = false;
        }
    };
    while (Clock::now() < end) {
        (void)poll(fds.data(), fds.size(), 10);
        const auto now = Clock::now();
        const bool sweep = now >= next_sweep;
        if (sweep) next_sweep = now + kSweepEvery;
        for (std::size_t i = 0; i < conns.size(); ++i) {
            Conn& c = conns[i];
            if (sweep || (fds[i].revents & POLLIN) != 0) drain(c);
            if (c.busy && now - c.sent > std::chrono::milliseconds(timeout_ms)) {
                if (c.sent >= measure_from) ++abandoned;
                c.busy = false;
            }
            if (!c.busy && now < end) send(c);
        }
    }

    std::vector<double> all;
    for (const auto& v : latency_us) all.insert(all.end(), v.begin(), v.end());
    std::uint64_t error_count = 0;
    for (const auto& [name, n] : errors) error_count += n;
    std::printf("tricache-bench: %zu connections over %zu server(s), %.1f s measured, keys %llu, value %llu B, "
                "mix get %u%% set %u%% del %u%% local %u%%\n",
                connections, servers.size(), seconds, static_cast<unsigned long long>(keys),
                static_cast<unsigned long long>(value_bytes), get_pct, set_pct, del_pct, local_pct);
    std::printf("throughput: %.0f ok replies/s (%zu ok, %llu errors, %llu unanswered)\n",
                static_cast<double>(all.size()) / seconds, all.size(), static_cast<unsigned long long>(error_count),
                static_cast<unsigned long long>(abandoned));
    std::printf("%-10s %9s %9s %9s %9s %9s %9s   (latency, microseconds)\n", "op", "count", "p50", "p90", "p99",
                "p99.9", "max");
    auto row = [](const char* name, std::vector<double> v) {
        if (v.empty()) return;
        const double mx = *std::max_element(v.begin(), v.end());
        std::printf("%-10s %9zu %9.0f %9.0f %9.0f %9.0f %9.0f\n", name, v.size(), percentile(v, 50),
                    percentile(v, 90), percentile(v, 99), percentile(v, 99.9), mx);
    };
    for (std::size_t k = 0; k < kKinds; ++k) row(kKindName[k], latency_us[k]);
    row("all", all);
    for (const auto& [name, n] : errors) std::printf("error %s: %llu\n", name.c_str(), static_cast<unsigned long long>(n));
    return 0;
}
