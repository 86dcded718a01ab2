// CURVE and ZAP with real processes: a keyed cluster serves clients that hold
// the client key, and nothing else gets in: not a client without a key or with
// an unlisted one, not a rogue peer (the cluster's epoch and log stay put while
// it sends). A control run shows the same rogue does change an unkeyed cluster,
// so the secure run's silence is the keys' doing. Key file errors exit 2.
#include <sys/stat.h>

#include "curve/keys.hpp"
#include "harness.hpp"
#include "resp_harness.hpp"
#include "protocol/codec.hpp"

namespace tricache::process_test {
namespace {

curve::KeyPair fresh_pair() {
    auto made = curve::generate();
    if (auto* e = std::get_if<std::string>(&made)) throw std::runtime_error(*e);
    return std::get<curve::KeyPair>(made);
}

LocalCluster::Options secure(bool metrics = false) {
    LocalCluster::Options o;
    o.curve = true;
    o.metrics = metrics;
    return o;
}

// The environment that makes the CLI use the cluster's client key.
std::vector<std::string> cli_env(LocalCluster& c, const std::string& key_file) {
    std::string servers, keys;
    for (const auto& s : c.all_client_addrs()) servers += (servers.empty() ? "" : ",") + s;
    for (const auto& k : c.server_keys_for(c.all_client_addrs())) keys += (keys.empty() ? "" : ",") + k;
    return {"TRICACHE_SERVER=" + servers, "TRICACHE_SERVER_KEY=" + keys, "TRICACHE_CLIENT_KEY=" + key_file};
}

std::string write_pair(TempDir& dir, const std::string& name, const curve::KeyPair& pair) {
    const std::string base = dir.file(name);
    if (auto e = curve::write_key_pair(base, pair, true)) throw std::runtime_error(*e);
    return base + ".key";
}

// tricache_auth_refused_total{door="DOOR"} on node `id`'s metrics page; nullopt when unreadable.
std::optional<double> refused(LocalCluster& c, protocol::NodeId id, const std::string& door) {
    if (access("/usr/bin/curl", X_OK) != 0) return std::nullopt;
    auto r = run_command(c.dir(), {"/usr/bin/curl", "-sf", "--max-time", "5",
                                   "http://127.0.0.1:" + std::to_string(c.metrics_port(id)) + "/metrics"});
    const std::string series = "tricache_auth_refused_total{door=\"" + door + "\"} ";
    const auto at = r.out.find(series);
    if (r.code != 0 || at == std::string::npos) return std::nullopt;
    return std::stod(r.out.substr(at + series.size()));
}

TEST(Curve, AThreeNodeClusterServesTheCliThatHoldsTheClientKey) {
    LocalCluster cluster(secure());
    ASSERT_TRUE(cluster.wait_ready(30s));
    const std::string key = write_pair(cluster.dir(), "client", cluster.client_key_pair());
    const auto env = cli_env(cluster, key);
    auto set = run_command(cluster.dir(), {kCliBin, "set", "greeting", "hello"}, env);
    ASSERT_EQ(set.code, 0) << set.err;
    auto get = run_command(cluster.dir(), {kCliBin, "--server", cluster.client_addr(3), "--server-key",
                                           cluster.node_public_key(3), "get", "greeting"}, env);
    ASSERT_EQ(get.code, 0) << get.err;
    EXPECT_EQ(get.out, "hello\n");
    EXPECT_NE(cluster.log(1).find("event=curve"), std::string::npos);
    EXPECT_EQ(cluster.log(1).find("event=unauthenticated"), std::string::npos);
}

TEST(Curve, AClientWithoutAKeyOrWithAnUnlistedOneGetsNoAnswerAndIsCounted) {
    LocalCluster cluster(secure(true));
    ASSERT_TRUE(cluster.wait_ready(30s));
    const std::string rogue = write_pair(cluster.dir(), "rogue", fresh_pair());
    auto env = cli_env(cluster, rogue);
    const auto t0 = Clock::now();
    auto wrong = run_command(cluster.dir(), {kCliBin, "--timeout-ms", "2000", "set", "k", "wrong-key"}, env);
    EXPECT_EQ(wrong.code, 4) << "no answer: " << wrong.err;
    auto none = run_command(cluster.dir(), {kCliBin, "--timeout-ms", "2000", "--server", cluster.client_addr(1),
                                            "set", "k", "no-key"});
    EXPECT_EQ(none.code, 4) << "no answer: " << none.err;
    EXPECT_LT(Clock::now() - t0, 60s);
    // Neither write happened, as the cluster's own client sees.
    auto c = cluster.client_for(cluster.all_client_addrs());
    auto got = c.get("k");
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_FALSE(got.value().ok) << "a refused client wrote " << got.value().value.value_or("");
    // The unlisted key was refused by ZAP, the keyless handshake before it: both counted at the client door.
    EXPECT_TRUE(eventually([&] { return refused(cluster, 1, "client").value_or(0) >= 2; }, 20s))
        << "refused: " << refused(cluster, 1, "client").value_or(-1);
    EXPECT_EQ(refused(cluster, 1, "peer").value_or(-1), 0) << "the nodes themselves are never refused";
    EXPECT_NE(cluster.log(1).find("event=auth_refused door=client reason=unknown_key"), std::string::npos);
}

struct Snapshot {
    protocol::Epoch epoch = 0;
    std::uint64_t delivered = 0;
    std::uint64_t log_hash = 0;
};

std::vector<Snapshot> snapshots(const LocalCluster& c) {
    std::vector<Snapshot> all;
    for (std::size_t i = 1; i <= c.size(); ++i) {
        auto s = c.status(static_cast<protocol::NodeId>(i));
        all.push_back(s ? Snapshot{s->epoch, s->delivered, s->log_hash} : Snapshot{});
    }
    return all;
}

// A rogue that claims to be node 2 restarted: a JoinReq with a new incarnation
// makes the members run a view change to take "it" in (epoch up), and a
// CanCommit with its coordinator's ballot; sent to every node for `length`.
// `key`: none (plain PUSH) or a CURVE key pair no node lists.
void rogue_peer(const LocalCluster& c, std::optional<curve::KeyPair> key, std::chrono::milliseconds length) {
    zmq::context_t ctx{1};
    std::vector<zmq::socket_t> out;
    for (std::size_t i = 1; i <= c.size(); ++i) {
        const auto id = static_cast<protocol::NodeId>(i);
        zmq::socket_t s(ctx, zmq::socket_type::push);
        s.set(zmq::sockopt::linger, 0);
        if (key) {
            s.set(zmq::sockopt::curve_serverkey, c.node_public_key(id));  // public: a rogue may know it
            s.set(zmq::sockopt::curve_publickey, key->public_key);
            s.set(zmq::sockopt::curve_secretkey, key->secret_key);
        }
        s.connect(c.peer_endpoint(id));
        out.push_back(std::move(s));
    }
    const protocol::Incarnation fake = 0x7fff'0000'0000'0000ULL;
    const protocol::PeerMessage join{{protocol::kProtocolVersion, c.cluster_id(), 2, fake, 0}, protocol::JoinReq{true}};
    const std::string bytes = protocol::encode(join);
    const auto until = Clock::now() + length;
    while (Clock::now() < until) {
        for (auto& s : out) (void)s.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
        std::this_thread::sleep_for(20ms);
    }
}

::testing::AssertionResult unchanged(const std::vector<Snapshot>& before, const std::vector<Snapshot>& after) {
    for (std::size_t i = 0; i < before.size(); ++i) {
        if (before[i].epoch != after[i].epoch || before[i].delivered != after[i].delivered ||
            before[i].log_hash != after[i].log_hash) {
            return ::testing::AssertionFailure()
                   << "node " << i + 1 << ": epoch " << before[i].epoch << " -> " << after[i].epoch << ", delivered "
                   << before[i].delivered << " -> " << after[i].delivered;
        }
    }
    return ::testing::AssertionSuccess();
}

TEST(Curve, ARoguePeerWithoutAKeyWithAWrongOneOrWithTheClientKeyChangesNothing) {
    // Slow suspicion: the test asserts that no epoch moves for ~12 s, and on a
    // CPU-starved machine a node stalled past the default suspect_ms would be
    // suspected for real. A joiner (what the rogue poses as) is taken in at once
    // whatever suspect_ms says, so this takes nothing from the test.
    auto options = secure(true);
    options.extra_toml = "[timeouts]\nheartbeat_ms = 100\nsuspect_ms = 2000\n";
    LocalCluster cluster(options);
    ASSERT_TRUE(cluster.wait_ready(30s));
    ASSERT_TRUE(cluster.wait_agree());
    const auto before = snapshots(cluster);
    ASSERT_NE(before[0].epoch, 0u);
    // No key, an unlisted key, and the cluster's own client key: a client may not pose as a peer.
    const std::vector<std::pair<std::string, std::optional<curve::KeyPair>>> rogues{
        {"rogue without a key", std::nullopt},
        {"rogue with an unlisted key", fresh_pair()},
        {"rogue with the client key", cluster.client_key_pair()}};
    for (const auto& [what, key] : rogues) {
        rogue_peer(cluster, key, 3s);
        // Long enough for a view change the rogue might have started to show.
        std::this_thread::sleep_for(1s);
        const auto after = snapshots(cluster);
        EXPECT_TRUE(unchanged(before, after)) << what;
    }
    EXPECT_GE(refused(cluster, 1, "peer").value_or(0), 1) << "the keyed rogue is refused by ZAP and counted";
    EXPECT_EQ(cluster.log(1).find("cause=joiner"), std::string::npos) << cluster.log(1);
}

// The control: the same rogue against a cluster without keys gets a view change
// started, so the test above would see one if CURVE let the rogue in.
TEST(Curve, TheSameRogueChangesTheEpochOfAClusterWithoutKeys) {
    LocalCluster cluster(LocalCluster::Options{});
    ASSERT_TRUE(cluster.wait_ready(30s));
    const auto before = snapshots(cluster);
    EXPECT_NE(cluster.log(1).find("event=unauthenticated"), std::string::npos);
    bool moved = false;
    const auto until = Clock::now() + 30s;
    while (!moved && Clock::now() < until) {
        rogue_peer(cluster, std::nullopt, 1s);
        const auto now = snapshots(cluster);
        for (std::size_t i = 0; i < now.size(); ++i) moved = moved || now[i].epoch > before[i].epoch;
    }
    EXPECT_TRUE(moved) << "a rogue JoinReq should force a view change where nothing checks keys";
}

// --check-config reads the key file exactly as a start does, without binding.
struct KeyedConfig {
    TempDir dir;
    curve::KeyPair node1 = fresh_pair();
    curve::KeyPair node2 = fresh_pair();
    std::string config = dir.file("cluster.toml");
    KeyedConfig() {
        write_file(config, "cluster_id = \"tricache\"\n[[nodes]]\nid = 1\npeer = \"127.0.0.1:1\"\nclient = "
                           "\"127.0.0.1:2\"\ncurve_public = \"" + node1.public_key +
                               "\"\n[[nodes]]\nid = 2\npeer = \"127.0.0.1:3\"\nclient = \"127.0.0.1:4\"\n"
                               "curve_public = \"" + node2.public_key + "\"\n");
    }
    CommandResult check(const std::string& key_file) {
        std::vector<std::string> argv{kNodeBin, "--config", config, "--id", "1", "--check-config"};
        if (!key_file.empty()) {
            argv.emplace_back("--curve-secret-file");
            argv.push_back(key_file);
        }
        return run_command(dir, argv);
    }
};

TEST(CurveConfig, KeyFileErrorsAreNamedConfigErrorsWithExitTwo) {
    KeyedConfig k;
    const std::string good = write_pair(k.dir, "n1", k.node1);
    auto ok = k.check(good);
    EXPECT_EQ(ok.code, 0) << ok.err;

    chmod(good.c_str(), 0644);
    auto wide = k.check(good);
    EXPECT_EQ(wide.code, 2);
    EXPECT_NE(wide.err.find("config error: --curve-secret-file: '" + good + "' has mode 0644"), std::string::npos)
        << wide.err;

    const std::string garbage = k.dir.file("garbage.key");
    write_file(garbage, "this is not a key\n");
    chmod(garbage.c_str(), 0600);
    auto bad = k.check(garbage);
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("is not a CURVE key"), std::string::npos) << bad.err;

    auto missing = k.check(k.dir.file("nowhere.key"));
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;

    auto other = k.check(write_pair(k.dir, "n2", k.node2));
    EXPECT_EQ(other.code, 2);
    EXPECT_NE(other.err.find("wrong key file for this node"), std::string::npos) << other.err;

    auto absent = k.check("");
    EXPECT_EQ(absent.code, 2);
    EXPECT_NE(absent.err.find("--curve-secret-file: required"), std::string::npos) << absent.err;
}

TEST(CurveConfig, ANodeWithAGarbageKeyFileExitsTwoOnStart) {
    KeyedConfig k;
    const std::string garbage = k.dir.file("garbage.key");
    write_file(garbage, std::string(40, '"') + "\n");
    chmod(garbage.c_str(), 0600);
    Process node({kNodeBin, "--config", k.config, "--id", "1", "--bootstrap", "--curve-secret-file", garbage},
                 k.dir.file("out"), k.dir.file("err"));
    const auto code = node.wait_exit(20s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 2);
    EXPECT_NE(node.err().find("config error: --curve-secret-file"), std::string::npos) << node.err();
}

// The Redis endpoint with --redis-password-file, through redis-cli.
TEST(RedisAuthProcess, NothingButAuthHelloAndQuitUntilTheConnectionAuthenticates) {
    if (access(kRedisCli.c_str(), X_OK) != 0) GTEST_SKIP() << "redis-cli not installed";
    TempDir secrets;
    const std::string pw = secrets.file("redis-password");
    write_file(pw, "open sesame\n");
    chmod(pw.c_str(), 0600);
    LocalCluster::Options o = redis_cluster();
    o.node_args = {"--redis-password-file", pw};
    LocalCluster cluster(o);
    ASSERT_TRUE(cluster.wait_ready(30s));
    EXPECT_EQ(cli(cluster, 1, {"set", "k", "v"}).rfind("NOAUTH Authentication required.\n", 0), 0u);
    const std::string wrong = cli(cluster, 1, {"--no-auth-warning", "-a", "wrong", "set", "k", "v"});
    EXPECT_NE(wrong.find("WRONGPASS invalid username-password pair or user is disabled."), std::string::npos) << wrong;
    EXPECT_NE(wrong.find("NOAUTH"), std::string::npos) << "and the SET after the failed AUTH is refused: " << wrong;
    EXPECT_EQ(cli(cluster, 1, {"--no-auth-warning", "-a", "open sesame", "set", "k", "v"}), "OK\n");
    EXPECT_EQ(cli(cluster, 2, {"--no-auth-warning", "--user", "default", "--pass", "open sesame", "get", "k"}), "v\n");
    EXPECT_EQ(cli(cluster, 2, {"get", "k"}).rfind("NOAUTH Authentication required.\n", 0), 0u);
    auto c = cluster.client_for({cluster.client_addr(3)});
    auto got = c.get("k");
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got.value().value, "v") << "the write went through once authenticated";
}

}  // namespace
}  // namespace tricache::process_test
