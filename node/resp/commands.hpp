// The Redis command layer: turns one request (argv) into either an immediate
// reply or the engine requests that answer it and how to write that answer.
// Sans-IO like the engine: no sockets, no clocks; the listener carries the
// plan out. Every command that reads or changes the store becomes one
// OpsRequest, so it is one atomic, linearizable transaction (R-APPLY); only a
// connection in READONLY mode reads locally (LocalGetRequest, R-LOCAL-READ).
//
// Where a command is formed (plan_set, plan_incr, ...) is where expiry
// options will become fields of the operations once the store has TTLs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "node/resp/resp.hpp"
#include "protocol/messages.hpp"

namespace tricache::node::resp {

// One connection's state as commands see it.
struct Session {
    std::uint64_t id = 0;     // CLIENT ID
    int protocol = 2;         // HELLO 2 / HELLO 3
    bool readonly = false;    // READONLY: reads are local (one node, maybe stale)
    std::string name;         // CLIENT SETNAME
    bool in_multi = false;    // after MULTI: commands are queued, and EXEC refuses them all
    std::string_view password;    // the node's requirepass; empty: none, every connection is trusted
    bool authenticated = false;   // AUTH or HELLO ... AUTH succeeded (only matters with a password)
};

// What the node says about itself in INFO, CONFIG GET and HELLO.
struct NodeFacts {
    protocol::NodeId node = 0;
    std::string cluster_id;
    std::uint16_t port = 0;
    std::int64_t pid = 0;
    std::uint64_t max_entries = 0;
    std::uint64_t max_bytes = 0;
    std::uint64_t max_value_bytes = 0;
    std::uint64_t uptime_ms = 0;
    std::uint64_t connected_clients = 0;
    std::uint64_t total_connections = 0;
    std::uint64_t rejected_connections = 0;
    std::uint64_t total_commands = 0;
    std::uint64_t evicted_keys = 0;
    std::uint64_t expired_keys = 0;  // entries removed because they expired (R-TTL), since this node's last snapshot install
    std::uint64_t max_clients = 0;
    // The engine's counters and quorum view, the same numbers the metrics endpoint publishes.
    std::uint64_t transactions_committed = 0;
    std::uint64_t transactions_aborted = 0;
    std::uint64_t transactions_applied = 0;
    std::uint64_t view_changes_started = 0;
    std::uint64_t views_installed = 0;
    bool quorum_lost = false;
    std::uint64_t majority_unheard_ms = 0;
};

using Bodies = std::vector<protocol::ClientResponseBody>;

struct Plan {
    // With no requests: the complete reply. Otherwise empty.
    std::string reply;
    // Sent to the engine in this order; `finish` writes the reply from their
    // answers, in the same order.
    std::vector<protocol::ClientRequestBody> requests;
    std::function<void(Writer&, const Bodies&)> finish;
    int protocol = 2;          // the RESP version this reply is written in
    bool close_after = false;  // QUIT: close once this reply is sent
};

Plan plan_command(const std::vector<std::string>& argv, Session& session, const NodeFacts& facts);

// A tricache error as a RESP error with a stable first word (NOQUORUM,
// NOTREADY, TIMEOUT, TOOLARGE, OVERLOADED, ...).
void write_engine_error(Writer& w, const protocol::ErrorReply& e);

// Compares two secrets in time that depends on their lengths only, not on
// where they first differ.
bool same_secret(std::string_view a, std::string_view b);

// Redis's glob match (stringmatchlen): * ? [set] [^set] [a-z] and \ escapes.
bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false);

// The names of every command served, lower case, sorted.
std::vector<std::string> command_names();

}  // namespace tricache::node::resp
