#include "node/auth/secrets.hpp"

#include "curve/secret_file.hpp"

namespace tricache::node::auth {

std::variant<std::optional<curve::KeyPair>, ConfigError> load_node_keys(const ClusterConfig& cluster,
                                                                        protocol::NodeId self,
                                                                        const std::string& secret_file) {
    const std::string field = "--curve-secret-file";
    if (!cluster.curve()) {
        if (secret_file.empty()) return std::optional<curve::KeyPair>{};
        return ConfigError{field, "the cluster file gives the nodes no CURVE keys (nodes[].curve_public): add them, "
                                  "or start without this option"};
    }
    if (secret_file.empty()) {
        return ConfigError{field, "required: the cluster file gives the nodes CURVE keys (nodes[].curve_public), so "
                                  "this node needs its secret key file (tricache keygen NAME writes NAME.key)"};
    }
    if (!curve::available()) return ConfigError{field, "this libzmq has no CURVE support (it needs libsodium)"};
    auto read = curve::read_secret_key_file(secret_file);
    if (const auto* e = std::get_if<curve::FileError>(&read)) return ConfigError{field, e->message};
    auto pair = std::get<curve::KeyPair>(std::move(read));
    const NodeEntry* me = cluster.find(self);
    if (me == nullptr) return ConfigError{"--id", "node " + std::to_string(self) + " is not in the cluster"};
    if (pair.public_key != me->curve_public) {
        return ConfigError{field, "'" + secret_file + "' is the secret key of public key " + pair.public_key +
                                      ", but the cluster file gives node " + std::to_string(self) + " curve_public " +
                                      me->curve_public + ": wrong key file for this node?"};
    }
    return std::optional<curve::KeyPair>{std::move(pair)};
}

std::variant<std::string, ConfigError> load_redis_password(const std::string& password_file) {
    if (password_file.empty()) return std::string{};
    auto read = curve::read_text_file(password_file, true);
    if (const auto* e = std::get_if<curve::FileError>(&read)) return ConfigError{"--redis-password-file", e->message};
    return std::get<std::string>(std::move(read));
}

}  // namespace tricache::node::auth
