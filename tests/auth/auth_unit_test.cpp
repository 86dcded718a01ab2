// Key files, the ZAP decision and the CURVE parts of the cluster file, without
// processes or sockets (tests/process/auth_test.cpp runs them for real).
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "curve/keys.hpp"
#include "curve/secret_file.hpp"
#include "node/auth/secrets.hpp"
#include "node/auth/zap.hpp"
#include "node/config.hpp"

namespace tricache {
namespace {

using curve::FileError;

struct Dir {
    std::filesystem::path path;
    Dir() {
        std::string t = (std::filesystem::temp_directory_path() / "tricache-auth-XXXXXX").string();
        path = mkdtemp(t.data());
    }
    ~Dir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, const std::string& text, mode_t mode) const {
        const std::string p = (path / name).string();
        std::ofstream(p) << text;
        chmod(p.c_str(), mode);
        return p;
    }
};

curve::KeyPair pair() { return std::get<curve::KeyPair>(curve::generate()); }

FileError::Kind kind_of(const std::variant<curve::KeyPair, FileError>& r) {
    EXPECT_TRUE(std::holds_alternative<FileError>(r));
    return std::holds_alternative<FileError>(r) ? std::get<FileError>(r).kind : FileError::Kind::Empty;
}

TEST(KeyFiles, KeygenWritesASecretOnlyItsOwnerReadsAndThePublicHalfDerivesFromIt) {
    ASSERT_TRUE(curve::available());
    Dir d;
    const auto p = pair();
    const std::string base = (d.path / "n1").string();
    ASSERT_FALSE(curve::write_key_pair(base, p, false));
    struct stat st {};
    ASSERT_EQ(stat((base + ".key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777u, 0600u);
    auto read = curve::read_secret_key_file(base + ".key");
    ASSERT_TRUE(std::holds_alternative<curve::KeyPair>(read)) << std::get<FileError>(read).message;
    EXPECT_EQ(std::get<curve::KeyPair>(read).public_key, p.public_key);
    EXPECT_EQ(std::get<curve::KeyPair>(read).secret_key, p.secret_key);
    auto pub = curve::read_public_key_file(base + ".pub");
    ASSERT_TRUE(std::holds_alternative<std::string>(pub));
    EXPECT_EQ(std::get<std::string>(pub), p.public_key);
    EXPECT_TRUE(curve::write_key_pair(base, p, false).has_value()) << "never replaces a key without --force";
    EXPECT_FALSE(curve::write_key_pair(base, pair(), true).has_value());
}

TEST(KeyFiles, EachProblemIsANamedError) {
    Dir d;
    const auto p = pair();
    EXPECT_EQ(kind_of(curve::read_secret_key_file((d.path / "absent.key").string())), FileError::Kind::Missing);
    EXPECT_EQ(kind_of(curve::read_secret_key_file(d.file("wide.key", p.secret_key + "\n", 0644))),
              FileError::Kind::Permissions);
    EXPECT_EQ(kind_of(curve::read_secret_key_file(d.file("group.key", p.secret_key + "\n", 0640))),
              FileError::Kind::Permissions);
    EXPECT_EQ(kind_of(curve::read_secret_key_file(d.file("short.key", "abc\n", 0600))), FileError::Kind::Format);
    // 40 characters, but '"' is not in the Z85 alphabet.
    EXPECT_EQ(kind_of(curve::read_secret_key_file(d.file("bad.key", std::string(40, '"'), 0600))),
              FileError::Kind::Format);
    EXPECT_EQ(kind_of(curve::read_secret_key_file(d.file("empty.key", "\n", 0600))), FileError::Kind::Empty);
    const auto msg = std::get<FileError>(curve::read_secret_key_file(d.file("w2.key", p.secret_key, 0604))).message;
    EXPECT_NE(msg.find("mode 0604"), std::string::npos) << msg;
    EXPECT_TRUE(std::holds_alternative<curve::KeyPair>(
        curve::read_secret_key_file(d.file("ok.key", p.secret_key + "\n", 0400))));
}

TEST(KeyFiles, Z85KeysRoundTripAndMalformedOnesDoNotDecode) {
    const auto p = pair();
    auto raw = curve::decode_key(p.public_key);
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->size(), 32u);
    EXPECT_EQ(curve::encode_key(*raw), p.public_key);
    EXPECT_FALSE(curve::decode_key(p.public_key.substr(1)));
    EXPECT_FALSE(curve::decode_key(std::string(40, ' ')));
    EXPECT_EQ(curve::public_of(p.secret_key), p.public_key);
}

// ------------------------------------------------------------------ ZAP

struct Keys {
    curve::KeyPair node = pair();
    curve::KeyPair client = pair();
    curve::KeyPair stranger = pair();
    node::auth::Policy policy = node::auth::policy_from_z85({node.public_key}, {client.public_key});
    static std::string raw(const curve::KeyPair& p) { return *curve::decode_key(p.public_key); }
};

TEST(ZapDecision, EachDoorAdmitsOnlyItsOwnKeys) {
    using namespace node::auth;
    Keys k;
    EXPECT_TRUE(decide(k.policy, "CURVE", kPeerDomain, Keys::raw(k.node)).allow);
    EXPECT_TRUE(decide(k.policy, "CURVE", kClientDomain, Keys::raw(k.client)).allow);
    const auto client_as_peer = decide(k.policy, "CURVE", kPeerDomain, Keys::raw(k.client));
    EXPECT_FALSE(client_as_peer.allow) << "a client key is no peer";
    EXPECT_EQ(client_as_peer.door, Door::Peer);
    EXPECT_EQ(client_as_peer.reason, "unknown_key");
    EXPECT_FALSE(decide(k.policy, "CURVE", kClientDomain, Keys::raw(k.node)).allow) << "nodes are not clients";
    const auto stranger = decide(k.policy, "CURVE", kClientDomain, Keys::raw(k.stranger));
    EXPECT_FALSE(stranger.allow);
    EXPECT_EQ(stranger.door, Door::Client);
}

TEST(ZapDecision, OtherMechanismsDomainsAndKeyShapesAreRefused) {
    using namespace node::auth;
    Keys k;
    EXPECT_EQ(decide(k.policy, "NULL", kPeerDomain, "").reason, "not_curve");
    EXPECT_EQ(decide(k.policy, "PLAIN", kClientDomain, Keys::raw(k.client)).reason, "not_curve");
    const auto elsewhere = decide(k.policy, "CURVE", "", Keys::raw(k.node));
    EXPECT_FALSE(elsewhere.allow);
    EXPECT_FALSE(elsewhere.door.has_value());
    EXPECT_EQ(elsewhere.reason, "unknown_domain");
    EXPECT_FALSE(decide(k.policy, "CURVE", kPeerDomain, Keys::raw(k.node).substr(1)).allow);
    EXPECT_FALSE(decide(k.policy, "CURVE", kPeerDomain, k.node.public_key).allow) << "ZAP hands raw bytes, not Z85";
}

// ------------------------------------------------------------------ cluster file

std::string two_nodes(const std::string& key1, const std::string& key2, const std::string& extra = "") {
    std::string t = "cluster_id = \"c\"\n" + extra + "\n[[nodes]]\nid = 1\npeer = \"h:1\"\nclient = \"h:2\"\n";
    if (!key1.empty()) t += "curve_public = \"" + key1 + "\"\n";
    t += "[[nodes]]\nid = 2\npeer = \"h:3\"\nclient = \"h:4\"\n";
    if (!key2.empty()) t += "curve_public = \"" + key2 + "\"\n";
    return t;
}

std::string error_of(const node::ConfigResult& r) {
    return std::holds_alternative<node::ConfigError>(r) ? std::get<node::ConfigError>(r).to_string() : "";
}

TEST(CurveClusterFile, EveryNodeHasAKeyOrNoneDoes) {
    const auto a = pair(), b = pair(), c = pair();
    auto both = node::parse_cluster_config(two_nodes(a.public_key, b.public_key,
                                                     "[auth]\nclient_keys = [\"" + c.public_key + "\"]"));
    ASSERT_TRUE(std::holds_alternative<node::ClusterConfig>(both)) << error_of(both);
    EXPECT_TRUE(std::get<node::ClusterConfig>(both).curve());
    EXPECT_EQ(std::get<node::ClusterConfig>(both).client_keys, std::vector<std::string>{c.public_key});
    auto none = node::parse_cluster_config(two_nodes("", ""));
    ASSERT_TRUE(std::holds_alternative<node::ClusterConfig>(none));
    EXPECT_FALSE(std::get<node::ClusterConfig>(none).curve());

    EXPECT_EQ(error_of(node::parse_cluster_config(two_nodes(a.public_key, ""))).rfind("nodes[1].curve_public: missing", 0), 0u);
    EXPECT_EQ(error_of(node::parse_cluster_config(two_nodes("", b.public_key))).rfind("nodes[0].curve_public: missing", 0), 0u);
    EXPECT_EQ(error_of(node::parse_cluster_config(two_nodes(a.public_key, "nope"))).rfind("nodes[1].curve_public:", 0), 0u);
    EXPECT_EQ(error_of(node::parse_cluster_config(two_nodes(a.public_key, b.public_key, "[auth]\nclient_keys = [\"x\"]")))
                  .rfind("auth.client_keys[0]:", 0),
              0u);
    EXPECT_EQ(error_of(node::parse_cluster_config(two_nodes("", "", "[auth]\nclient_keys = [\"" + c.public_key + "\"]")))
                  .rfind("auth.client_keys: needs CURVE keys", 0),
              0u);
    EXPECT_EQ(error_of(node::parse_cluster_config(two_nodes("", "", "[auth]\nclients = []"))).rfind("auth.clients:", 0), 0u);
}

TEST(CurveClusterFile, TheNodesSecretKeyMustMatchItsPublicKeyInTheClusterFile) {
    Dir d;
    const auto a = pair(), b = pair();
    const auto cfg = std::get<node::ClusterConfig>(node::parse_cluster_config(two_nodes(a.public_key, b.public_key)));
    const std::string a_key = d.file("a.key", a.secret_key + "\n", 0600);
    auto ok = node::auth::load_node_keys(cfg, 1, a_key);
    ASSERT_TRUE(std::holds_alternative<std::optional<curve::KeyPair>>(ok));
    EXPECT_EQ(std::get<std::optional<curve::KeyPair>>(ok)->public_key, a.public_key);
    auto swapped = node::auth::load_node_keys(cfg, 2, a_key);
    ASSERT_TRUE(std::holds_alternative<node::ConfigError>(swapped));
    EXPECT_EQ(std::get<node::ConfigError>(swapped).field, "--curve-secret-file");
    EXPECT_NE(std::get<node::ConfigError>(swapped).message.find("wrong key file"), std::string::npos);
    EXPECT_TRUE(std::holds_alternative<node::ConfigError>(node::auth::load_node_keys(cfg, 1, "")));
    const auto plain = std::get<node::ClusterConfig>(node::parse_cluster_config(two_nodes("", "")));
    EXPECT_FALSE(std::get<std::optional<curve::KeyPair>>(node::auth::load_node_keys(plain, 1, "")).has_value());
    EXPECT_TRUE(std::holds_alternative<node::ConfigError>(node::auth::load_node_keys(plain, 1, a_key)))
        << "a key file for a cluster without keys is a mistake, not ignored";
}

TEST(RedisPassword, ComesFromAnOwnerOnlyFile) {
    Dir d;
    auto ok = node::auth::load_redis_password(d.file("pw", "s3cret\n", 0600));
    ASSERT_TRUE(std::holds_alternative<std::string>(ok));
    EXPECT_EQ(std::get<std::string>(ok), "s3cret");
    auto wide = node::auth::load_redis_password(d.file("pw2", "s3cret\n", 0644));
    ASSERT_TRUE(std::holds_alternative<node::ConfigError>(wide));
    EXPECT_EQ(std::get<node::ConfigError>(wide).field, "--redis-password-file");
    EXPECT_EQ(std::get<std::string>(node::auth::load_redis_password("")), "");
}

}  // namespace
}  // namespace tricache
