#include "node/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "curve/keys.hpp"

namespace tricache::node {
namespace {

using protocol::NodeId;

std::string join_ids(const std::vector<NodeEntry>& nodes) {
    std::string s;
    for (const auto& n : nodes) {
        if (!s.empty()) s += ", ";
        s += std::to_string(n.id);
    }
    return s;
}

std::string dotted(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

// Rejects keys the format does not have: a misspelt limit must not silently
// fall back to its default.
std::optional<ConfigError> only_known(const toml::table& t, std::string_view prefix,
                                      std::initializer_list<std::string_view> known) {
    for (auto&& [k, v] : t) {
        (void)v;
        if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
            std::string list;
            for (auto x : known) list += (list.empty() ? "" : ", ") + std::string(x);
            return ConfigError{dotted(prefix, k.str()), "unknown field (expected one of: " + list + ")"};
        }
    }
    return std::nullopt;
}

// Reads an optional positive integer field into `out` (left alone when absent).
template <class T>
std::optional<ConfigError> read_positive(const toml::table& t, std::string_view prefix, std::string_view key, T& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const std::string field = dotted(prefix, key);
    const auto* i = n->as_integer();
    if (i == nullptr) return ConfigError{field, "must be an integer"};
    const std::int64_t v = i->get();
    if (v <= 0) return ConfigError{field, "must be greater than 0 (got " + std::to_string(v) + ")"};
    if (static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) {
        return ConfigError{field, "too large (at most " + std::to_string(std::numeric_limits<T>::max()) + ")"};
    }
    out = static_cast<T>(v);
    return std::nullopt;
}

const toml::table* section(const toml::table& root, std::string_view name, std::optional<ConfigError>& err) {
    const toml::node* n = root.get(name);
    if (n == nullptr) return nullptr;
    const auto* t = n->as_table();
    if (t == nullptr) err = ConfigError{std::string(name), "must be a table ([" + std::string(name) + "])"};
    return t;
}

std::optional<ConfigError> read_nodes(const toml::table& root, ClusterConfig& out) {
    const toml::node* n = root.get("nodes");
    if (n == nullptr) return ConfigError{"nodes", "missing: list every node as a [[nodes]] table"};
    const auto* arr = n->as_array();
    if (arr == nullptr) return ConfigError{"nodes", "must be an array of tables ([[nodes]])"};
    if (arr->empty()) return ConfigError{"nodes", "empty: a cluster needs at least one node"};
    if (arr->size() > protocol::CodecLimits{}.max_members) {
        return ConfigError{"nodes", "at most " + std::to_string(protocol::CodecLimits{}.max_members) + " nodes"};
    }
    std::map<NodeId, std::size_t> seen_ids;
    std::map<std::string, std::string> seen_endpoints;  // endpoint -> field that first used it
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string prefix = "nodes[" + std::to_string(i) + "]";
        const auto* t = (*arr)[i].as_table();
        if (t == nullptr) return ConfigError{prefix, "must be a table with id, peer and client"};
        if (auto e = only_known(*t, prefix, {"id", "peer", "client", "resp", "metrics", "curve_public"})) return e;
        NodeEntry entry;
        const toml::node* id = t->get("id");
        if (id == nullptr) return ConfigError{prefix + ".id", "missing"};
        if (auto e = read_positive(*t, prefix, "id", entry.id)) return e;
        if (auto [it, fresh] = seen_ids.emplace(entry.id, i); !fresh) {
            return ConfigError{prefix + ".id", "duplicate id " + std::to_string(entry.id) + " (also nodes[" +
                                                   std::to_string(it->second) + "].id)"};
        }
        for (std::string_view key : {"peer", "client", "resp", "metrics"}) {
            const std::string field = prefix + "." + std::string(key);
            const toml::node* ep = t->get(key);
            if (ep == nullptr && (key == "resp" || key == "metrics")) continue;  // optional: no Redis or HTTP endpoint
            if (ep == nullptr) return ConfigError{field, "missing endpoint (HOST:PORT)"};
            const auto text = ep->value<std::string>();
            if (!text || !ep->is_string()) return ConfigError{field, "must be a string HOST:PORT"};
            auto norm = normalize_endpoint(*text);
            if (!norm) return ConfigError{field, "'" + *text + "' is not HOST:PORT or tcp://HOST:PORT"};
            if (auto [it, fresh] = seen_endpoints.emplace(*norm, field); !fresh) {
                return ConfigError{field, "endpoint " + *norm + " is already used by " + it->second};
            }
            (key == "peer"     ? entry.peer
             : key == "client" ? entry.client
             : key == "resp"   ? entry.resp
                               : entry.metrics) = *norm;
        }
        if (const toml::node* key = t->get("curve_public")) {
            const auto text = key->value<std::string>();
            if (!text || !key->is_string() || !curve::is_z85_key(*text)) {
                return ConfigError{prefix + ".curve_public",
                                   "must be a CURVE public key: 40 Z85 characters (the NAME.pub tricache keygen writes)"};
            }
            entry.curve_public = *text;
        }
        out.nodes.push_back(std::move(entry));
    }
    // Either every link is CURVE or none is: a node without a key could neither
    // be reached by the others nor reach them.
    const bool first_has = !out.nodes.front().curve_public.empty();
    for (std::size_t i = 0; i < out.nodes.size(); ++i) {
        if (out.nodes[i].curve_public.empty() == first_has) {
            const std::size_t with = first_has ? 0 : i;
            return ConfigError{"nodes[" + std::to_string(first_has ? i : 0) + "].curve_public",
                               "missing: nodes[" + std::to_string(with) +
                                   "] has a CURVE key, so every node needs one (or none)"};
        }
    }
    return std::nullopt;
}

std::optional<ConfigError> read_auth(const toml::table& root, ClusterConfig& out) {
    std::optional<ConfigError> err;
    const toml::table* s = section(root, "auth", err);
    if (err) return err;
    if (s == nullptr) return std::nullopt;
    if (auto e = only_known(*s, "auth", {"client_keys"})) return e;
    const toml::node* n = s->get("client_keys");
    if (n == nullptr) return std::nullopt;
    const auto* arr = n->as_array();
    if (arr == nullptr) return ConfigError{"auth.client_keys", "must be an array of Z85 public keys"};
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto text = (*arr)[i].value<std::string>();
        if (!text || !(*arr)[i].is_string() || !curve::is_z85_key(*text)) {
            return ConfigError{"auth.client_keys[" + std::to_string(i) + "]",
                               "must be a CURVE public key: 40 Z85 characters (the NAME.pub tricache keygen writes)"};
        }
        out.client_keys.push_back(*text);
    }
    if (!out.client_keys.empty() && !out.curve()) {
        return ConfigError{"auth.client_keys", "needs CURVE keys for the nodes too (nodes[].curve_public)"};
    }
    return std::nullopt;
}

std::optional<ConfigError> read_root(const toml::table& root, ClusterConfig& out) {
    if (auto e = only_known(root, "", {"cluster_id", "nodes", "store", "timeouts", "batch", "limits", "auth"})) return e;

    const toml::node* cid = root.get("cluster_id");
    if (cid == nullptr) return ConfigError{"cluster_id", "missing"};
    if (!cid->is_string()) return ConfigError{"cluster_id", "must be a string"};
    out.cluster_id = *cid->value<std::string>();
    if (out.cluster_id.empty()) return ConfigError{"cluster_id", "must not be empty"};
    if (out.cluster_id.size() > 255) return ConfigError{"cluster_id", "longer than 255 bytes"};

    if (auto e = read_nodes(root, out)) return e;
    if (auto e = read_auth(root, out)) return e;

    auto& ec = out.engine;
    std::optional<ConfigError> err;
    if (const auto* s = section(root, "store", err)) {
        if (auto e = only_known(*s, "store", {"max_entries", "max_bytes"})) return e;
        if (auto e = read_positive(*s, "store", "max_entries", ec.store_limits.max_entries)) return e;
        if (auto e = read_positive(*s, "store", "max_bytes", ec.store_limits.max_bytes)) return e;
    }
    if (err) return err;
    if (const auto* s = section(root, "timeouts", err)) {
        if (auto e = only_known(*s, "timeouts",
                                {"resend_ms", "heartbeat_ms", "query_ms", "client_timeout_ms", "tick_ms", "suspect_ms",
                                 "vc_timeout_ms", "vc_backoff_ms", "no_quorum_ms", "join_retry_ms"}))
            return e;
        if (auto e = read_positive(*s, "timeouts", "resend_ms", ec.resend_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "heartbeat_ms", ec.heartbeat_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "query_ms", ec.query_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "client_timeout_ms", ec.client_timeout_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "tick_ms", out.transport.tick_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "suspect_ms", ec.suspect_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "vc_timeout_ms", ec.vc_timeout_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "vc_backoff_ms", ec.vc_backoff_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "no_quorum_ms", ec.no_quorum_ms)) return e;
        if (auto e = read_positive(*s, "timeouts", "join_retry_ms", ec.join_retry_ms)) return e;
    }
    if (err) return err;
    if (const auto* s = section(root, "batch", err)) {
        if (auto e = only_known(*s, "batch", {"max_batch_commands", "max_batch_bytes", "max_in_flight", "max_undecided"}))
            return e;
        if (auto e = read_positive(*s, "batch", "max_batch_commands", ec.max_batch_commands)) return e;
        if (auto e = read_positive(*s, "batch", "max_batch_bytes", ec.max_batch_bytes)) return e;
        if (auto e = read_positive(*s, "batch", "max_in_flight", ec.max_in_flight)) return e;
        if (auto e = read_positive(*s, "batch", "max_undecided", ec.max_undecided)) return e;
    }
    if (err) return err;
    if (const auto* s = section(root, "limits", err)) {
        if (auto e = only_known(*s, "limits",
                                {"max_key_bytes", "max_value_bytes", "max_ops_per_request", "max_queued_requests",
                                 "max_message_bytes", "max_pending_replies", "peer_send_hwm", "client_hwm",
                                 "snapshot_chunk_bytes", "snapshot_window"}))
            return e;
        if (auto e = read_positive(*s, "limits", "max_key_bytes", ec.max_key_bytes)) return e;
        if (auto e = read_positive(*s, "limits", "max_value_bytes", ec.max_value_bytes)) return e;
        if (auto e = read_positive(*s, "limits", "max_ops_per_request", ec.max_ops_per_request)) return e;
        if (auto e = read_positive(*s, "limits", "max_queued_requests", ec.max_queued_requests)) return e;
        if (auto e = read_positive(*s, "limits", "snapshot_chunk_bytes", ec.snapshot_chunk_bytes)) return e;
        if (auto e = read_positive(*s, "limits", "snapshot_window", ec.snapshot_window)) return e;
        auto& tl = out.transport;
        if (auto e = read_positive(*s, "limits", "max_message_bytes", tl.max_message_bytes)) return e;
        if (auto e = read_positive(*s, "limits", "max_pending_replies", tl.max_pending_replies)) return e;
        if (auto e = read_positive(*s, "limits", "peer_send_hwm", tl.peer_send_hwm)) return e;
        if (auto e = read_positive(*s, "limits", "client_hwm", tl.client_hwm)) return e;
    }
    if (err) return err;
    return std::nullopt;
}

// Relations between fields, checked after the file and again after overrides.
std::optional<ConfigError> check_consistency(const ClusterConfig& c) {
    const auto& ec = c.engine;
    if (ec.store_limits.max_entries == 0) return ConfigError{"store.max_entries", "must be greater than 0"};
    if (ec.store_limits.max_bytes == 0) return ConfigError{"store.max_bytes", "must be greater than 0"};
    if (ec.client_timeout_ms == 0) return ConfigError{"timeouts.client_timeout_ms", "must be greater than 0"};
    if (ec.max_batch_commands == 0) return ConfigError{"batch.max_batch_commands", "must be greater than 0"};
    if (ec.max_in_flight == 0) return ConfigError{"batch.max_in_flight", "must be greater than 0"};
    // A request the engine admits must also fit through the transport.
    if (ec.max_value_bytes + ec.max_key_bytes >= c.transport.max_message_bytes) {
        return ConfigError{"limits.max_message_bytes",
                           "must exceed max_key_bytes + max_value_bytes (" +
                               std::to_string(ec.max_key_bytes + ec.max_value_bytes) + ")"};
    }
    // A member that heartbeats on time must never look silent.
    if (ec.suspect_ms <= ec.heartbeat_ms) {
        return ConfigError{"timeouts.suspect_ms",
                           "must exceed timeouts.heartbeat_ms (" + std::to_string(ec.heartbeat_ms) + ")"};
    }
    // Snapshot chunks travel as peer messages.
    if (ec.snapshot_chunk_bytes + 4096 >= c.transport.max_message_bytes) {
        return ConfigError{"limits.snapshot_chunk_bytes", "must be well below limits.max_message_bytes"};
    }
    const protocol::CodecLimits defaults;
    if (ec.max_key_bytes > defaults.max_key_bytes) {
        return ConfigError{"limits.max_key_bytes", "at most " + std::to_string(defaults.max_key_bytes) + " (codec limit)"};
    }
    if (ec.max_value_bytes > defaults.max_value_bytes) {
        return ConfigError{"limits.max_value_bytes",
                           "at most " + std::to_string(defaults.max_value_bytes) + " (codec limit)"};
    }
    if (ec.max_ops_per_request > defaults.max_ops_per_request) {
        return ConfigError{"limits.max_ops_per_request",
                           "at most " + std::to_string(defaults.max_ops_per_request) + " (codec limit)"};
    }
    if (c.transport.max_message_bytes > defaults.max_message_bytes) {
        return ConfigError{"limits.max_message_bytes",
                           "at most " + std::to_string(defaults.max_message_bytes) + " (codec limit)"};
    }
    if (ec.max_batch_commands > defaults.max_commands_per_batch) {
        return ConfigError{"batch.max_batch_commands",
                           "at most " + std::to_string(defaults.max_commands_per_batch) + " (codec limit)"};
    }
    return std::nullopt;
}

}  // namespace

const NodeEntry* ClusterConfig::find(protocol::NodeId id) const {
    for (const auto& n : nodes) {
        if (n.id == id) return &n;
    }
    return nullptr;
}

std::optional<std::pair<std::string, std::uint16_t>> split_endpoint(std::string_view endpoint) {
    auto norm = normalize_endpoint(endpoint);
    if (!norm) return std::nullopt;
    const std::string_view rest = std::string_view(*norm).substr(6);  // after "tcp://"
    const auto colon = rest.rfind(':');
    unsigned port = 0;
    std::from_chars(rest.data() + colon + 1, rest.data() + rest.size(), port);
    return std::make_pair(std::string(rest.substr(0, colon)), static_cast<std::uint16_t>(port));
}

std::optional<std::string> normalize_endpoint(std::string_view text) {
    constexpr std::string_view scheme = "tcp://";
    if (text.substr(0, scheme.size()) == scheme) text.remove_prefix(scheme.size());
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const std::string_view host = text.substr(0, colon);
    const std::string_view port = text.substr(colon + 1);
    if (host.find_first_of(" /\t") != std::string_view::npos) return std::nullopt;
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    return "tcp://" + std::string(host) + ":" + std::to_string(value);
}

ConfigResult parse_cluster_config(std::string_view toml_text, std::string_view source) {
    toml::table root;
    try {
        root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return ConfigError{std::string(source) + ":" + std::to_string(where.line) + ":" + std::to_string(where.column),
                           "not valid TOML: " + std::string(e.description())};
    }
    ClusterConfig out;
    if (auto e = read_root(root, out)) return *e;
    if (auto e = check_consistency(out)) return *e;
    return out;
}

ConfigResult load_cluster_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return ConfigError{"--config", "cannot read '" + path + "'"};
    std::ostringstream text;
    text << in.rdbuf();
    return parse_cluster_config(text.str(), path);
}

std::optional<ConfigError> apply_overrides(ClusterConfig& config, const Overrides& o) {
    auto& ec = config.engine;
    if (o.max_entries) ec.store_limits.max_entries = *o.max_entries;
    if (o.max_bytes) ec.store_limits.max_bytes = *o.max_bytes;
    if (o.client_timeout_ms) ec.client_timeout_ms = *o.client_timeout_ms;
    if (o.max_batch_commands) {
        if (*o.max_batch_commands > std::numeric_limits<std::uint32_t>::max())
            return ConfigError{"--max-batch-commands", "too large"};
        ec.max_batch_commands = static_cast<std::uint32_t>(*o.max_batch_commands);
    }
    if (o.max_in_flight) {
        if (*o.max_in_flight > std::numeric_limits<std::uint32_t>::max()) return ConfigError{"--max-in-flight", "too large"};
        ec.max_in_flight = static_cast<std::uint32_t>(*o.max_in_flight);
    }
    if (auto e = check_consistency(config)) {
        // Name the flag when the flag is what broke it.
        if (o.max_entries && e->field == "store.max_entries") e->field = "--max-entries";
        if (o.max_bytes && e->field == "store.max_bytes") e->field = "--max-bytes";
        if (o.client_timeout_ms && e->field == "timeouts.client_timeout_ms") e->field = "--client-timeout-ms";
        if (o.max_batch_commands && e->field == "batch.max_batch_commands") e->field = "--max-batch-commands";
        if (o.max_in_flight && e->field == "batch.max_in_flight") e->field = "--max-in-flight";
        return e;
    }
    return std::nullopt;
}

std::optional<ConfigError> check_self(const ClusterConfig& config, protocol::NodeId self) {
    if (config.find(self) == nullptr) {
        return ConfigError{"--id", "node " + std::to_string(self) + " is not in the cluster (nodes: " +
                                       join_ids(config.nodes) + ")"};
    }
    return std::nullopt;
}

coordinator::EngineConfig engine_config(const ClusterConfig& config, protocol::NodeId self, std::uint64_t seed) {
    coordinator::EngineConfig ec = config.engine;
    ec.self = self;
    ec.cluster_id = config.cluster_id;
    ec.cluster.clear();
    for (const auto& n : config.nodes) ec.cluster.push_back(n.id);
    std::sort(ec.cluster.begin(), ec.cluster.end());
    ec.seed = seed;
    ec.record_deliveries = false;
    return ec;
}

protocol::CodecLimits codec_limits(const ClusterConfig& config) {
    protocol::CodecLimits l;
    l.max_message_bytes = static_cast<std::size_t>(config.transport.max_message_bytes);
    return l;
}

}  // namespace tricache::node
