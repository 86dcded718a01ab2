// tricache-redis-wait: closed-loop load against Redis where every write waits for
// its replicas, the reference bench/run puts beside a tricache cluster.
//   tricache-redis-wait --port P --connections 50 --seconds 5 --op set --wait-replicas 2
// Each connection has one operation in flight: `SET key value` followed, in the
// same write, by `WAIT <replicas> <timeout>`; the operation is done when both
// replies are in (so its latency is the round trip of a write acknowledged by
// the replicas). `--op get` sends plain GETs. Keys are "key:%012d" over
// --keys, as redis-benchmark's -r names them. One thread, one poll(2) over all
// connections; hiredis only parses the replies.
#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct ReaderDeleter {
    void operator()(redisReader* r) const { redisReaderFree(r); }
};

struct Conn {
    int fd = -1;
    std::unique_ptr<redisReader, ReaderDeleter> reader;
    std::string out;
    std::size_t out_pos = 0;
    int replies_due = 0;
    Clock::time_point sent;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    const auto idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
    return v[idx];
}

// The RESP encoding of one command (what redisFormatCommandArgv produces, written out).
void append_command(std::string& out, const std::vector<std::string>& argv) {
    out += '*' + std::to_string(argv.size()) + "\r\n";
    for (const auto& a : argv) {
        out += '$' + std::to_string(a.size()) + "\r\n";
        out += a;
        out += "\r\n";
    }
}

int open_connection(const std::string& host, int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tricache-redis-wait: Redis load where every SET is followed by WAIT"};
    std::string host = "127.0.0.1", op = "set";
    int port = 6379;
    std::size_t connections = 50;
    double seconds = 5, warmup = 1;
    std::uint64_t keys = 100000, value_bytes = 100, seed = 1;
    int wait_replicas = 2, wait_timeout_ms = 0;
    app.add_option("--host", host, "Redis address (IPv4)");
    app.add_option("--port", port, "Redis port")->required();
    app.add_option("--connections,-c", connections, "concurrent connections, one operation in flight each")
        ->check(CLI::Range(1, 4096));
    app.add_option("--seconds", seconds, "measured duration")->check(CLI::Range(0.1, 600.0));
    app.add_option("--warmup", warmup, "unmeasured lead-in")->check(CLI::Range(0.0, 60.0));
    app.add_option("--op", op, "set (followed by WAIT) or get")->check(CLI::IsMember({"set", "get"}));
    app.add_option("--wait-replicas", wait_replicas, "WAIT's replica count; 0 sends no WAIT");
    app.add_option("--wait-timeout-ms", wait_timeout_ms, "WAIT's timeout (0: wait for ever, as the issue asks)");
    app.add_option("--keys", keys, "key space (uniform)")->check(CLI::Range(1u, 100000000u));
    app.add_option("--value-bytes", value_bytes, "value size")->check(CLI::Range(0u, 1u << 20));
    app.add_option("--seed", seed, "key choice");
    CLI11_PARSE(app, argc, argv);

    std::vector<Conn> conns(connections);
    for (auto& c : conns) {
        c.fd = open_connection(host, port);
        if (c.fd < 0) {
            std::fprintf(stderr, "tricache-redis-wait: cannot connect to %s:%d: %s\n", host.c_str(), port,
                         std::strerror(errno));
            return 1;
        }
        c.reader.reset(redisReaderCreate());
    }
    const bool waits = op == "set" && wait_replicas > 0;
    const std::string value(value_bytes, 'v');
    const std::string wait_n = std::to_string(wait_replicas), wait_t = std::to_string(wait_timeout_ms);
    std::mt19937_64 rng(seed);
    char key[32];
    auto start_op = [&](Conn& c) {
        std::snprintf(key, sizeof key, "key:%012llu", static_cast<unsigned long long>(rng() % keys));
        c.out.clear();
        c.out_pos = 0;
        if (op == "set") {
            append_command(c.out, {"SET", key, value});
            if (waits) append_command(c.out, {"WAIT", wait_n, wait_t});
        } else {
            append_command(c.out, {"GET", key});
        }
        c.replies_due = waits ? 2 : 1;
        c.sent = Clock::now();
    };
    // Writes what is pending; false when the connection failed.
    auto write_some = [](Conn& c) {
        while (c.out_pos < c.out.size()) {
            const ssize_t n = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            c.out_pos += static_cast<std::size_t>(n);
        }
        return true;
    };

    std::vector<double> latency_us;
    std::uint64_t short_waits = 0, errors = 0;
    const auto t0 = Clock::now();
    const auto measure_from = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<pollfd> fds(connections);
    for (std::size_t i = 0; i < connections; ++i) {
        fds[i] = {conns[i].fd, POLLIN, 0};
        start_op(conns[i]);
        if (!write_some(conns[i])) return 1;
    }
    char buf[16384];
    while (Clock::now() < end) {
        for (std::size_t i = 0; i < connections; ++i) {
            fds[i].events = static_cast<short>(POLLIN | (conns[i].out_pos < conns[i].out.size() ? POLLOUT : 0));
        }
        if (poll(fds.data(), fds.size(), 10) < 0 && errno != EINTR) return 1;
        for (std::size_t i = 0; i < connections; ++i) {
            Conn& c = conns[i];
            if ((fds[i].revents & (POLLERR | POLLHUP)) != 0) {
                std::fprintf(stderr, "tricache-redis-wait: connection %zu closed\n", i);
                return 1;
            }
            if ((fds[i].revents & POLLOUT) != 0 && !write_some(c)) return 1;
            if ((fds[i].revents & POLLIN) == 0) continue;
            const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
            if (n <= 0) {
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                std::fprintf(stderr, "tricache-redis-wait: connection %zu lost\n", i);
                return 1;
            }
            redisReaderFeed(c.reader.get(), buf, static_cast<std::size_t>(n));
            void* r = nullptr;
            while (redisReaderGetReply(c.reader.get(), &r) == REDIS_OK && r != nullptr) {
                const auto* reply = static_cast<redisReply*>(r);
                const bool counted = c.sent >= measure_from;
                if (reply->type == REDIS_REPLY_ERROR && counted) ++errors;
                if (waits && c.replies_due == 1 && reply->type == REDIS_REPLY_INTEGER && reply->integer < wait_replicas &&
                    counted) {
                    ++short_waits;
                }
                freeReplyObject(r);
                r = nullptr;
                if (--c.replies_due > 0) continue;
                const auto now = Clock::now();
                if (counted) latency_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
                if (now < end) {
                    start_op(c);
                    if (!write_some(c)) return 1;
                }
            }
        }
    }
    for (auto& c : conns) close(c.fd);
    const double mx = latency_us.empty() ? 0 : *std::max_element(latency_us.begin(), latency_us.end());
    const double p50 = percentile(latency_us, 50), p90 = percentile(latency_us, 90), p99 = percentile(latency_us, 99),
                 p999 = percentile(latency_us, 99.9);
    std::printf("redis-wait: op=%s connections=%zu wait_replicas=%d seconds=%.1f ok=%zu ops_per_s=%.0f p50_us=%.0f "
                "p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f short_waits=%llu errors=%llu\n",
                op.c_str(), connections, waits ? wait_replicas : 0, seconds, latency_us.size(),
                static_cast<double>(latency_us.size()) / seconds, p50, p90, p99, p999, mx,
                static_cast<unsigned long long>(short_waits), static_cast<unsigned long long>(errors));
    return 0;
}
