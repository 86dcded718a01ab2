// The cluster file (TOML) a node starts from, checked before anything binds.
// Every error names the field it is about, so an operator can fix the file
// without reading code. See README "Cluster file" for the format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "coordinator/config.hpp"
#include "protocol/codec.hpp"
#include "protocol/types.hpp"

namespace tricache::node {

struct NodeEntry {
    protocol::NodeId id = 0;
    std::string peer;    // ZeroMQ endpoint, always "tcp://HOST:PORT" after parsing
    std::string client;  // ZeroMQ endpoint, always "tcp://HOST:PORT" after parsing
    std::string resp;    // Redis (RESP) endpoint, "tcp://HOST:PORT"; empty: none (optional)
    std::string metrics; // Prometheus HTTP endpoint, "tcp://HOST:PORT"; empty: none (optional)
    std::string curve_public;  // the node's CURVE public key, Z85; empty: no keys (every node or none has one)
};

// Resource limits of the process itself (not of the protocol).
struct TransportLimits {
    std::uint64_t max_message_bytes = 16u << 20;  // codec limit and ZMQ_MAXMSGSIZE on both endpoints
    std::uint64_t max_pending_replies = 100000;   // (client, request) -> routing id entries
    std::uint64_t peer_send_hwm = 10000;          // messages queued per peer before sends are dropped
    std::uint64_t client_hwm = 10000;             // per client connection, either direction
    std::uint64_t tick_ms = 5;                    // how often the engine gets a tick when idle
};

struct ClusterConfig {
    std::string cluster_id;
    std::vector<NodeEntry> nodes;  // in file order
    coordinator::EngineConfig engine;  // self, cluster and cluster_id filled by engine_config()
    TransportLimits transport;
    // [auth] client_keys: Z85 public keys of the clients the native endpoint admits.
    std::vector<std::string> client_keys;

    // True when the nodes have CURVE keys: every peer and native-client socket then runs CURVE.
    bool curve() const { return !nodes.empty() && !nodes.front().curve_public.empty(); }
    const NodeEntry* find(protocol::NodeId id) const;
};

struct ConfigError {
    std::string field;    // e.g. "nodes[2].peer", "store.max_entries", "--id"
    std::string message;  // what is wrong with it
    std::string to_string() const { return field + ": " + message; }
};

using ConfigResult = std::variant<ClusterConfig, ConfigError>;

// Parses and validates a whole cluster file. `source` names the file in errors.
ConfigResult parse_cluster_config(std::string_view toml_text, std::string_view source = "config");
ConfigResult load_cluster_config(const std::string& path);

// Command-line overrides, applied after the file and validated like it.
struct Overrides {
    std::optional<std::uint64_t> max_entries;
    std::optional<std::uint64_t> max_bytes;
    std::optional<std::uint64_t> client_timeout_ms;
    std::optional<std::uint64_t> max_batch_commands;
    std::optional<std::uint64_t> max_in_flight;
};
std::optional<ConfigError> apply_overrides(ClusterConfig& config, const Overrides& overrides);

// Checks that `self` is one of the configured nodes.
std::optional<ConfigError> check_self(const ClusterConfig& config, protocol::NodeId self);

// The engine's view of the configuration for node `self`.
coordinator::EngineConfig engine_config(const ClusterConfig& config, protocol::NodeId self, std::uint64_t seed);

// The decoder limits this node applies to everything it receives.
protocol::CodecLimits codec_limits(const ClusterConfig& config);

// "HOST:PORT" or "tcp://HOST:PORT" -> "tcp://HOST:PORT"; nullopt when malformed.
std::optional<std::string> normalize_endpoint(std::string_view text);
// "HOST:PORT" or "tcp://HOST:PORT" -> (HOST, PORT); nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> split_endpoint(std::string_view endpoint);

}  // namespace tricache::node
