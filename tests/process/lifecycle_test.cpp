// Starting and stopping the node process: configuration errors name their
// field and exit 2, a taken address exits 1, SIGTERM/SIGINT stop it cleanly.
#include <csignal>

#include "tests/process/harness.hpp"

namespace tricache::process_test {
namespace {

std::string three_nodes(const std::vector<std::uint16_t>& p) {
    std::string t = "cluster_id = \"t\"\n";
    for (std::size_t i = 0; i < 3; ++i) {
        t += "[[nodes]]\nid = " + std::to_string(i + 1) + "\npeer = \"127.0.0.1:" + std::to_string(p[2 * i]) +
             "\"\nclient = \"127.0.0.1:" + std::to_string(p[2 * i + 1]) + "\"\n";
    }
    return t;
}

struct BadConfig {
    const char* name;
    std::string toml;
    std::vector<std::string> extra_args;
    std::string field;  // must appear in the error
};

TEST(ProcessLifecycle, ConfigErrorsNameTheFieldAndExit2) {
    TempDir dir;
    const auto p = free_ports(6);
    const std::string ok = three_nodes(p);
    auto replace = [](std::string s, const std::string& from, const std::string& to) {
        const auto at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        if (at != std::string::npos) s.replace(at, from.size(), to);
        return s;
    };
    const std::vector<BadConfig> cases = {
        {"duplicate ids", replace(ok, "id = 3", "id = 2"), {}, "nodes[2].id"},
        {"id not in the cluster", ok, {"--id", "7"}, "--id"},
        {"missing endpoint", replace(ok, "client = \"127.0.0.1:" + std::to_string(p[1]) + "\"", ""), {}, "nodes[0].client"},
        {"malformed endpoint", replace(ok, "127.0.0.1:" + std::to_string(p[2]), "127.0.0.1:notaport"), {},
         "nodes[1].peer"},
        {"shared endpoint", replace(ok, std::to_string(p[3]), std::to_string(p[0])), {}, "nodes[1].client"},
        {"zero entries", ok + "[store]\nmax_entries = 0\n", {}, "store.max_entries"},
        {"zero bytes", ok + "[store]\nmax_bytes = 0\n", {}, "store.max_bytes"},
        {"negative timeout", ok + "[timeouts]\nclient_timeout_ms = -5\n", {}, "timeouts.client_timeout_ms"},
        {"zero batch", ok + "[batch]\nmax_in_flight = 0\n", {}, "batch.max_in_flight"},
        {"misspelt field", ok + "[store]\nmax_entires = 10\n", {}, "store.max_entires"},
        {"wrong type", ok + "[store]\nmax_entries = \"many\"\n", {}, "store.max_entries"},
        {"missing cluster id", replace(ok, "cluster_id = \"t\"", ""), {}, "cluster_id"},
        {"no nodes", "cluster_id = \"t\"\n", {}, "nodes"},
        {"not TOML", "cluster_id = \n[[", {}, ""},  // named by file:line:column
        {"override to zero", ok, {"--max-entries", "0"}, "--max-entries"},
        {"suspicion faster than heartbeats", ok + "[timeouts]\nheartbeat_ms = 50\nsuspect_ms = 50\n", {},
         "timeouts.suspect_ms"},
        {"message limit below value limit", ok + "[limits]\nmax_message_bytes = 1000\n", {}, "limits.max_message_bytes"},
    };
    for (const auto& tc : cases) {
        SCOPED_TRACE(tc.name);
        const std::string path = dir.fresh("bad") + ".toml";
        write_file(path, tc.toml);
        std::vector<std::string> argv{kNodeBin, "--config", path};
        bool has_id = false;
        for (const auto& a : tc.extra_args) has_id = has_id || a == "--id";
        if (!has_id) argv.insert(argv.end(), {"--id", "1"});
        argv.insert(argv.end(), tc.extra_args.begin(), tc.extra_args.end());
        auto r = run_command(dir, argv, {}, 10s);
        EXPECT_EQ(r.code, 2) << r.err;
        const std::string field = tc.field.empty() ? path + ":1:" : tc.field;
        EXPECT_NE(r.err.find("config error: " + field), std::string::npos) << r.err;
    }
    // The same file without the fault starts (checked without binding).
    write_file(dir.file("ok.toml"), ok);
    auto r = run_command(dir, {kNodeBin, "--config", dir.file("ok.toml"), "--id", "2", "--check-config"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto missing = run_command(dir, {kNodeBin, "--config", dir.file("nope.toml"), "--id", "1"});
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("--config"), std::string::npos) << missing.err;
    auto usage = run_command(dir, {kNodeBin, "--id", "1"});
    EXPECT_EQ(usage.code, 2);
}

TEST(ProcessLifecycle, SigtermAndSigintStopTheNodeCleanly) {
    for (int sig : {SIGTERM, SIGINT}) {
        SCOPED_TRACE(sig == SIGTERM ? "SIGTERM" : "SIGINT");
        LocalCluster cluster({});
        ASSERT_TRUE(cluster.wait_ready());
        auto c = cluster.client_for({cluster.client_addr(2)});
        ASSERT_TRUE(c.set("k", "v"));
        cluster.node(2).signal(sig);
        const auto start = Clock::now();
        auto code = cluster.node(2).wait_exit(3s);
        ASSERT_TRUE(code.has_value()) << "did not stop within 3 s";
        EXPECT_EQ(*code, 0);
        EXPECT_LT(Clock::now() - start, 2s);
        const std::string log = cluster.log(2);
        EXPECT_NE(log.find(std::string("event=stop signal=") + (sig == SIGTERM ? "SIGTERM" : "SIGINT")),
                  std::string::npos)
            << log;
        // The others did not notice anything they cannot live with.
        EXPECT_TRUE(cluster.node(1).running());
        EXPECT_TRUE(cluster.node(3).running());
    }
}

TEST(ProcessLifecycle, AddressInUseExits1WithALogLine) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    // A second node 1 on the same config cannot bind.
    TempDir dir;
    auto r = run_command(dir, {kNodeBin, "--config", cluster.config_path(), "--id", "1", "--bootstrap"}, {}, 10s);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("event=start_failed"), std::string::npos) << r.err;
    // The original is unharmed.
    auto c = cluster.client_for({cluster.client_addr(1)});
    EXPECT_TRUE(c.set("k", "v"));
}

TEST(ProcessLifecycle, NodeWithoutBootstrapStartsAsAJoiner) {
    // Today's engine keeps a joiner NOT_READY until view changes re-add it; with
    // view changes it becomes ready. Either way it answers status, never as
    // incarnation 1, and its log says it joined.
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    cluster.node(3).kill_now();
    cluster.start(3, false);
    std::optional<protocol::StatusReply> s;
    ASSERT_TRUE(eventually([&] { return (s = cluster.status(3)).has_value(); }, 10s));
    EXPECT_GT(s->incarnation, 1u);
    EXPECT_NE(cluster.log(3).find("mode=join"), std::string::npos);
}

}  // namespace
}  // namespace tricache::process_test
