// Helpers for process tests of the Redis endpoint: a cluster with RESP
// listeners, redis-cli against one node, and a raw TCP connection for
// hand-made bytes.
#pragma once

#include <netinet/tcp.h>
#include <poll.h>

#include <limits>

#include "tests/process/harness.hpp"

namespace tricache::process_test {

inline const std::string kRedisCli = "/usr/bin/redis-cli";

inline LocalCluster::Options redis_cluster() {
    LocalCluster::Options o;
    o.resp = true;
    o.extra_toml = "[store]\nmax_entries = 100000\n";
    return o;
}

// redis-cli ARGS... against node `id`; stdout and stderr together. Not a
// terminal, so redis-cli prints raw replies: one line per element, errors as
// their text, nil as an empty line.
inline std::string cli(LocalCluster& c, protocol::NodeId id, std::vector<std::string> args) {
    std::vector<std::string> argv{kRedisCli, "-p", std::to_string(c.resp_port(id))};
    for (auto& a : args) argv.push_back(std::move(a));
    auto r = run_command(c.dir(), argv, {}, 20s);
    return r.out + r.err;
}

// A plain TCP connection for hand-made bytes.
class Tcp {
public:
    explicit Tcp(std::uint16_t port) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            throw std::runtime_error("cannot connect to the Redis endpoint");
        }
    }
    ~Tcp() {
        if (fd_ >= 0) close(fd_);
    }
    Tcp(const Tcp&) = delete;
    Tcp& operator=(const Tcp&) = delete;
    void send_all(const std::string& bytes) {
        std::size_t at = 0;
        while (at < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
            if (n <= 0) return;  // the node may close on a protocol error: fine
            at += static_cast<std::size_t>(n);
        }
    }
    // Reads until `want` bytes, the peer closes, or the bound passes.
    std::string read_some(std::size_t want, std::chrono::milliseconds bound = 5s) {
        std::string out;
        const auto until = Clock::now() + bound;
        while (out.size() < want && Clock::now() < until) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            char buf[4096];
            const ssize_t n = recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                closed_ = true;
                break;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
    // Drops the connection with a reset (SO_LINGER 0) instead of a FIN: the node
    // sees ECONNRESET, and no TIME_WAIT is left on this side.
    void abort() {
        linger l{1, 0};
        setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(fd_);
        fd_ = -1;
    }
    // True when the peer closes within the bound.
    bool closed_by_peer(std::chrono::milliseconds bound = 5s) {
        if (closed_) return true;
        read_some(std::numeric_limits<std::size_t>::max(), bound);
        return closed_;
    }

private:
    int fd_ = -1;
    bool closed_ = false;
};

}  // namespace tricache::process_test
