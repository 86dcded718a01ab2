// The Redis endpoint of a node: one listening TCP socket and its connections,
// all served by the node's own event loop through one epoll descriptor (the
// loop polls it next to its ZeroMQ sockets). No thread per connection, no
// thread at all: the listener reads, parses, and hands engine requests to its
// owner; the owner hands the engine's replies back.
//
// Order: every connection answers its requests in the order they came, however
// the engine's answers arrive (a queue of reply slots per connection).
// Bounds: a connection stops being read while it has max_unanswered requests
// without a reply or more than max_output_bytes not yet written (TCP then
// pushes back on the client, as Redis's own pipelines see); a request over the
// parser's limits is a protocol error, answered and followed by a close, as
// Redis does; connections beyond max_clients get Redis's error and are closed.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "node/resp/commands.hpp"
#include "node/resp/resp.hpp"
#include "protocol/messages.hpp"

namespace tricache::node::resp {

struct ListenerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    ParserLimits parser;
    std::size_t max_clients = 10000;
    std::size_t max_unanswered = 1024;          // per connection
    std::size_t max_output_bytes = 8u << 20;    // per connection, before reading pauses
    std::uint64_t reply_deadline_ms = 10000;    // a request the engine never answers gets -TIMEOUT by then
    std::string cluster_id;
    protocol::ClientId client_id = 0;           // the client id every request of this listener carries
    std::string password;                       // requirepass: non-empty, every connection must AUTH first
};

struct ListenerCounters {
    std::uint64_t connections = 0;           // accepted, in total
    std::uint64_t rejected_connections = 0;  // over max_clients
    std::uint64_t commands = 0;
    std::uint64_t protocol_errors = 0;
    std::uint64_t engine_requests = 0;
    std::uint64_t replies_dropped = 0;       // their connection was gone
};

class Listener {
public:
    // The owner's side: submit sends one request to the engine; facts
    // describes the node for INFO and CONFIG.
    struct Hooks {
        std::function<void(protocol::ClientRequest&&)> submit;
        std::function<NodeFacts()> facts;
    };
    using Opened = std::variant<std::unique_ptr<Listener>, std::string>;
    static Opened open(ListenerOptions options, Hooks hooks, std::shared_ptr<spdlog::logger> log);

    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    ~Listener();

    int poll_fd() const { return epoll_fd_; }       // readable when any socket wants service
    std::uint16_t port() const { return options_.port; }
    // Serves every ready socket once (accept, read, parse, write). Bounded work per call.
    void service(std::uint64_t now_ms);
    // A reply the engine addressed to options.client_id.
    void on_reply(const protocol::ClientResponse& reply);
    // Writes what replies made ready, and answers requests past their deadline.
    void flush(std::uint64_t now_ms);

    std::size_t connected() const { return conns_.size(); }
    const ListenerCounters& counters() const { return counters_; }

private:
    struct Slot {
        std::uint64_t seq = 0;
        std::string bytes;  // the reply, once ready
        bool ready = false;
        std::size_t waiting = 0;
        Bodies bodies;
        std::function<void(Writer&, const Bodies&)> finish;
        int protocol = 2;
        bool close_after = false;
    };
    struct Conn {
        int fd = -1;
        std::uint64_t id = 0;
        RequestParser parser;
        Session session;
        std::deque<Slot> slots;
        std::uint64_t next_seq = 0;
        std::string out;
        std::size_t out_pos = 0;
        bool closing = false;   // write what is ready, then close; read nothing more
        bool dead = false;      // closed by the peer or an error: remove
        std::uint32_t events = 0;  // the epoll interest registered
        explicit Conn(ParserLimits limits) : parser(limits) {}
    };
    struct Route {
        std::uint64_t conn = 0;
        std::uint64_t seq = 0;
        std::size_t index = 0;
        std::uint64_t deadline_ms = 0;
    };

    Listener(ListenerOptions options, Hooks hooks, std::shared_ptr<spdlog::logger> log);
    void accept_all();
    void read_from(Conn& c);
    void process_input(Conn& c);
    bool accepting_input(const Conn& c) const;
    void run_command(Conn& c, std::vector<std::string>& argv);
    void complete(Conn& c, Slot& slot);
    void move_ready_output(Conn& c);
    void write_to(Conn& c);
    void update_interest(Conn& c);
    void close_conn(std::uint64_t id);
    void sweep_routes(std::uint64_t now_ms);

    ListenerOptions options_;
    Hooks hooks_;
    std::shared_ptr<spdlog::logger> log_;
    int listen_fd_ = -1;
    int epoll_fd_ = -1;
    std::uint64_t now_ms_ = 0;
    std::uint64_t next_conn_id_ = 1;
    protocol::RequestId next_request_ = 1;
    std::map<std::uint64_t, std::unique_ptr<Conn>> conns_;
    std::unordered_map<protocol::RequestId, Route> routes_;
    std::vector<std::uint64_t> touched_;  // connections with output to write or state to update
    std::uint64_t next_sweep_ms_ = 0;
    ListenerCounters counters_;
};

}  // namespace tricache::node::resp
