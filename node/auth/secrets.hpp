// The node's own secrets, read from files named on its command line (never
// from the shared cluster file): its CURVE secret key and its Redis password.
// Every problem is a ConfigError naming the option, so main exits 2 with it.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "curve/keys.hpp"
#include "node/config.hpp"

namespace tricache::node::auth {

// The node's key pair, checked against the cluster file: nullopt when the
// cluster has no CURVE keys (and no file was named), else the pair from
// `secret_file` whose public half must be nodes[self].curve_public.
std::variant<std::optional<curve::KeyPair>, ConfigError> load_node_keys(const ClusterConfig& cluster,
                                                                        protocol::NodeId self,
                                                                        const std::string& secret_file);

// The Redis endpoint's password (requirepass): empty when no file is named.
std::variant<std::string, ConfigError> load_redis_password(const std::string& password_file);

}  // namespace tricache::node::auth
