#include "node/resp/listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <utility>

namespace tricache::node::resp {
namespace {

constexpr std::uint64_t kListenId = 0;
constexpr int kMaxEvents = 256;
constexpr std::size_t kReadChunk = 64u << 10;
constexpr int kReadsPerEvent = 4;   // then the loop's other sockets get a turn
constexpr int kAcceptsPerCall = 256;
constexpr std::uint64_t kSweepEveryMs = 1000;

bool is_info_or_config(const std::string& name) {
    const auto eq = [&](std::string_view w) {
        return name.size() == w.size() && std::equal(name.begin(), name.end(), w.begin(), [](char a, char b) {
                   return (a | 0x20) == b;
               });
    };
    return eq("info") || eq("config") || eq("hello");
}

}  // namespace

Listener::Opened Listener::open(ListenerOptions options, Hooks hooks, std::shared_ptr<spdlog::logger> log) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options.port);
    if (const int rc = getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return "cannot resolve Redis endpoint host '" + options.host + "': " + gai_strerror(rc);
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
    const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("cannot open the Redis endpoint socket: ") + std::strerror(errno);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 511) != 0) {
        const std::string why = std::strerror(errno);
        close(fd);
        return "cannot listen on the Redis endpoint " + options.host + ":" + port + ": " + why;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
        if (bound.ss_family == AF_INET) options.port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        if (bound.ss_family == AF_INET6) options.port = ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    }
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        close(fd);
        return std::string("epoll_create1: ") + std::strerror(errno);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenId;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    std::unique_ptr<Listener> l(new Listener(std::move(options), std::move(hooks), std::move(log)));
    l->listen_fd_ = fd;
    l->epoll_fd_ = ep;
    return l;
}

Listener::Listener(ListenerOptions options, Hooks hooks, std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)), hooks_(std::move(hooks)), log_(std::move(log)) {}

Listener::~Listener() {
    for (auto& [id, c] : conns_) close(c->fd);
    if (listen_fd_ >= 0) close(listen_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
}

void Listener::service(std::uint64_t now_ms) {
    now_ms_ = now_ms;
    std::array<epoll_event, kMaxEvents> events{};
    const int n = epoll_wait(epoll_fd_, events.data(), kMaxEvents, 0);
    for (int i = 0; i < n; ++i) {
        const std::uint64_t id = events[static_cast<std::size_t>(i)].data.u64;
        const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
        if (id == kListenId) {
            accept_all();
            continue;
        }
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        Conn& c = *it->second;
        if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
            if (accepting_input(c)) {
                read_from(c);
            } else if ((what & (EPOLLHUP | EPOLLERR)) != 0) {
                c.dead = true;  // gone while we were not reading from it
            }
        }
        if ((what & EPOLLOUT) != 0 && !c.dead) write_to(c);
        touched_.push_back(id);
    }
    flush(now_ms);
}

void Listener::accept_all() {
    for (int i = 0; i < kAcceptsPerCall; ++i) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
                log_->warn("event=resp_accept_failed error=\"{}\"", std::strerror(errno));
            }
            return;
        }
        if (conns_.size() >= options_.max_clients) {
            static constexpr std::string_view kFull = "-ERR max number of clients reached\r\n";
            (void)send(fd, kFull.data(), kFull.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            ++counters_.rejected_connections;
            continue;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto conn = std::make_unique<Conn>(options_.parser);
        conn->fd = fd;
        conn->id = next_conn_id_++;
        conn->session.id = conn->id;
        conn->session.password = options_.password;  // a view of options_, which outlives every connection
        conn->events = EPOLLIN;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = conn->id;
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        ++counters_.connections;
        conns_.emplace(conn->id, std::move(conn));
    }
}

bool Listener::accepting_input(const Conn& c) const {
    return !c.closing && !c.dead && c.slots.size() < options_.max_unanswered &&
           c.out.size() - c.out_pos < options_.max_output_bytes;
}

void Listener::read_from(Conn& c) {
    std::array<char, kReadChunk> buf;  // NOLINT: filled by recv before use
    for (int i = 0; i < kReadsPerEvent && accepting_input(c); ++i) {
        const ssize_t got = recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (got == 0) {  // the client closed: like Redis, its unsent replies go nowhere
            c.dead = true;
            return;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            c.dead = true;
            return;
        }
        c.parser.feed(std::string_view(buf.data(), static_cast<std::size_t>(got)));
        process_input(c);
        if (static_cast<std::size_t>(got) < buf.size()) return;
    }
}

void Listener::process_input(Conn& c) {
    std::vector<std::string> argv;
    std::string error;
    while (accepting_input(c)) {
        const auto status = c.parser.next(argv, error);
        if (status == RequestParser::Status::NeedMore) return;
        if (status == RequestParser::Status::Error) {
            ++counters_.protocol_errors;
            log_->debug("event=resp_protocol_error conn={} error=\"{}\"", c.id, error);
            Slot s;
            s.seq = c.next_seq++;
            Writer(s.bytes, c.session.protocol).error("ERR " + error);
            s.ready = true;
            s.close_after = true;
            c.slots.push_back(std::move(s));
            c.closing = true;
            move_ready_output(c);
            return;
        }
        run_command(c, argv);
    }
}

void Listener::run_command(Conn& c, std::vector<std::string>& argv) {
    ++counters_.commands;
    const NodeFacts facts = is_info_or_config(argv[0]) && hooks_.facts ? hooks_.facts() : NodeFacts{};
    Plan plan = plan_command(argv, c.session, facts);
    Slot s;
    s.seq = c.next_seq++;
    s.protocol = plan.protocol;
    s.close_after = plan.close_after;
    if (plan.close_after) c.closing = true;
    if (plan.requests.empty()) {
        s.bytes = std::move(plan.reply);
        s.ready = true;
        c.slots.push_back(std::move(s));
        move_ready_output(c);
        return;
    }
    const std::size_t n = plan.requests.size();
    s.waiting = n;
    s.bodies.resize(n);
    s.finish = std::move(plan.finish);
    const std::uint64_t seq = s.seq;
    c.slots.push_back(std::move(s));
    for (std::size_t i = 0; i < n; ++i) {
        const protocol::RequestId rid = next_request_++;
        routes_[rid] = Route{c.id, seq, i, now_ms_ + options_.reply_deadline_ms};
        ++counters_.engine_requests;
        hooks_.submit(protocol::ClientRequest{protocol::kProtocolVersion, options_.cluster_id, options_.client_id, rid,
                                              std::move(plan.requests[i])});
    }
}

void Listener::complete(Conn& c, Slot& slot) {
    Writer w(slot.bytes, slot.protocol);
    slot.finish(w, slot.bodies);
    slot.ready = true;
    slot.bodies.clear();
    slot.finish = nullptr;
    (void)c;
}

void Listener::on_reply(const protocol::ClientResponse& reply) {
    const auto r = routes_.find(reply.request);
    if (r == routes_.end()) {
        ++counters_.replies_dropped;
        return;
    }
    const Route route = r->second;
    routes_.erase(r);
    const auto it = conns_.find(route.conn);
    if (it == conns_.end()) {
        ++counters_.replies_dropped;
        return;
    }
    Conn& c = *it->second;
    assert(!c.slots.empty() && route.seq >= c.slots.front().seq);
    Slot& slot = c.slots[static_cast<std::size_t>(route.seq - c.slots.front().seq)];
    slot.bodies[route.index] = reply.body;
    if (--slot.waiting == 0) complete(c, slot);
    touched_.push_back(c.id);
}

void Listener::move_ready_output(Conn& c) {
    while (!c.slots.empty() && c.slots.front().ready) {
        Slot& s = c.slots.front();
        c.out += s.bytes;
        if (s.close_after) c.closing = true;
        c.slots.pop_front();
    }
}

void Listener::write_to(Conn& c) {
    while (c.out_pos < c.out.size()) {
        const ssize_t sent = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            c.dead = true;
            return;
        }
        c.out_pos += static_cast<std::size_t>(sent);
    }
    if (c.out_pos == c.out.size()) {
        c.out.clear();
        c.out_pos = 0;
    } else if (c.out_pos > (1u << 20)) {
        c.out.erase(0, c.out_pos);
        c.out_pos = 0;
    }
    if (c.closing && c.slots.empty() && c.out.empty()) c.dead = true;
}

void Listener::update_interest(Conn& c) {
    std::uint32_t want = 0;
    if (accepting_input(c)) want |= EPOLLIN;
    if (c.out_pos < c.out.size()) want |= EPOLLOUT;
    if (want == c.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = c.id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) == 0) c.events = want;
}

void Listener::close_conn(std::uint64_t id) {
    const auto it = conns_.find(id);
    if (it == conns_.end()) return;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second->fd, nullptr);
    close(it->second->fd);
    conns_.erase(it);
}

void Listener::sweep_routes(std::uint64_t now_ms) {
    for (auto it = routes_.begin(); it != routes_.end();) {
        if (it->second.deadline_ms > now_ms) {
            ++it;
            continue;
        }
        const Route route = it->second;
        it = routes_.erase(it);
        const auto c = conns_.find(route.conn);
        if (c == conns_.end()) continue;
        Slot& slot = c->second->slots[static_cast<std::size_t>(route.seq - c->second->slots.front().seq)];
        slot.bodies[route.index] =
            protocol::ErrorReply{protocol::ErrorCode::TimeoutOutcomeUnknown, "no answer from the engine in time"};
        if (--slot.waiting == 0) complete(*c->second, slot);
        touched_.push_back(route.conn);
    }
}

void Listener::flush(std::uint64_t now_ms) {
    now_ms_ = now_ms;
    if (now_ms >= next_sweep_ms_) {
        sweep_routes(now_ms);
        next_sweep_ms_ = now_ms + kSweepEveryMs;
    }
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    // Serving one connection may submit requests, never touch another one.
    std::vector<std::uint64_t> ids;
    ids.swap(touched_);
    for (const std::uint64_t id : ids) {
        const auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        Conn& c = *it->second;
        if (!c.dead) {
            move_ready_output(c);
            process_input(c);  // input held back by the bounds may now proceed
            write_to(c);
        }
        if (c.dead) {
            close_conn(id);
        } else {
            update_interest(c);
        }
    }
}

}  // namespace tricache::node::resp
