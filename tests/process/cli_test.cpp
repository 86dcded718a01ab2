// The tricache CLI: exit codes scripts rely on, and --json output that parses.
#include "tests/process/harness.hpp"

namespace tricache::process_test {
namespace {

class Cli {
public:
    explicit Cli(LocalCluster& cluster) : cluster_(cluster) {}
    CommandResult operator()(std::vector<std::string> args, std::vector<std::string> env = {}) {
        std::vector<std::string> argv{kCliBin};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(cluster_.dir(), argv, std::move(env), 20s);
    }
    std::vector<std::string> at(protocol::NodeId n, std::vector<std::string> args) const {
        std::vector<std::string> v{"--server", cluster_.client_addr(n)};
        v.insert(v.end(), args.begin(), args.end());
        return v;
    }

private:
    LocalCluster& cluster_;
};

// Validates JSON with Python's parser (python3 is a setup package) and checks keys.
bool json_has_keys(TempDir& dir, const std::string& json, const std::vector<std::string>& keys) {
    const std::string path = dir.fresh("json");
    write_file(path, json);
    std::string script = "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if all(k in d for k in sys.argv[2:]) else 3)";
    std::vector<std::string> argv{"/usr/bin/python3", "-c", script, path};
    argv.insert(argv.end(), keys.begin(), keys.end());
    return run_command(dir, argv, {}, 10s).code == 0;
}

TEST(ProcessCli, ExitCodesAndOutput) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    Cli cli(cluster);

    auto r = cli(cli.at(1, {"set", "a", "1"}));
    EXPECT_EQ(r.code, 0) << r.err;
    r = cli(cli.at(2, {"get", "a"}));
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "1\n");
    r = cli(cli.at(3, {"get", "zz"}));
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("not found"), std::string::npos);
    r = cli(cli.at(1, {"cas", "a", "wrong", "2"}));
    EXPECT_EQ(r.code, 1);
    r = cli(cli.at(1, {"cas", "a", "1", "2"}));
    EXPECT_EQ(r.code, 0) << r.err;
    r = cli(cli.at(1, {"cas", "--absent", "b", "x"}));
    EXPECT_EQ(r.code, 0) << r.err;
    r = cli(cli.at(1, {"cas", "--absent", "b", "y"}));
    EXPECT_EQ(r.code, 1);
    r = cli(cli.at(1, {"del", "b"}));
    EXPECT_EQ(r.code, 0);
    r = cli(cli.at(1, {"del", "b"}));
    EXPECT_EQ(r.code, 1);
    r = cli(cli.at(2, {"multi", "set", "m", "1", "get", "a", "del", "nothing", "cas-absent", "n", "v"}));
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("get a: 2"), std::string::npos) << r.out;
    r = cli(cli.at(3, {"get", "a", "--local"}));
    EXPECT_TRUE(r.code == 0 || r.code == 1) << r.err;  // local reads may be stale, never an error here

    // The server list from the environment, several at once.
    const std::string all = cluster.client_addr(1) + "," + cluster.client_addr(2);
    r = cli({"get", "a"}, {"TRICACHE_SERVER=" + all});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "2\n");

    // Usage errors: 2.
    EXPECT_EQ(cli({}).code, 2);
    EXPECT_EQ(cli(cli.at(1, {"frobnicate"})).code, 2);
    EXPECT_EQ(cli(cli.at(1, {"cas", "a", "b"})).code, 2);
    EXPECT_EQ(cli(cli.at(1, {"multi", "set", "a"})).code, 2);
    EXPECT_EQ(cli(cli.at(1, {"multi", "jump", "a"})).code, 2);
    EXPECT_EQ(cli({"get", "a"}, {"TRICACHE_SERVER="}).code, 2);
    EXPECT_EQ(cli({"--server", "nonsense", "get", "a"}).code, 2);

    // A named server error: 3, with the name on stderr.
    r = cli(cli.at(1, {"--cluster", "other", "get", "a"}));
    EXPECT_EQ(r.code, 3);
    EXPECT_NE(r.err.find("WRONG_CLUSTER"), std::string::npos) << r.err;
    r = cli(cli.at(1, {"admin", "rebootstrap"}));
    EXPECT_EQ(r.code, 3);
    r = cli(cli.at(1, {"set", "", "v"}));
    EXPECT_EQ(r.code, 3);
    EXPECT_NE(r.err.find("BAD_REQUEST"), std::string::npos) << r.err;

    // No answer: 4, outcome unknown.
    const auto dead = free_ports(1)[0];
    r = cli({"--server", "127.0.0.1:" + std::to_string(dead), "--timeout-ms", "300", "set", "a", "1"});
    EXPECT_EQ(r.code, 4);
    EXPECT_NE(r.err.find("TIMEOUT_OUTCOME_UNKNOWN"), std::string::npos) << r.err;

    // Admin through the CLI.
    r = cli(cli.at(1, {"admin", "isolate", "2"}));
    EXPECT_EQ(r.code, 0) << r.err;
    r = cli(cli.at(1, {"admin", "heal"}));
    EXPECT_EQ(r.code, 0) << r.err;
    r = cli(cli.at(1, {"admin", "log"}));
    EXPECT_EQ(r.code, 0) << r.err;
}

TEST(ProcessCli, JsonOutputParses) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    Cli cli(cluster);
    auto& dir = cluster.dir();

    // Values with quotes, backslashes, control bytes and non-UTF-8 bytes.
    const std::string nasty = std::string("q\"b\\s\x01\n\xff\xc3\xa9", 10);
    auto r = cli(cli.at(1, {"--json", "set", "nasty", nasty}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(json_has_keys(dir, r.out, {"op", "key", "ok"})) << r.out;
    r = cli(cli.at(2, {"--json", "get", "nasty"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(json_has_keys(dir, r.out, {"op", "key", "ok", "value"})) << r.out;
    r = cli(cli.at(3, {"--json", "multi", "get", "nasty", "set", "x", "1", "del", "y"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(json_has_keys(dir, r.out, {"results"})) << r.out;

    ASSERT_TRUE(cluster.wait_agree());
    for (protocol::NodeId n = 1; n <= 3; ++n) {
        r = cli(cli.at(n, {"--json", "status"}));
        ASSERT_EQ(r.code, 0) << r.err;
        EXPECT_TRUE(json_has_keys(dir, r.out,
                                  {"node", "epoch", "members", "ready", "delivered", "log_hash", "digest", "entries"}))
            << r.out;
        EXPECT_NE(r.out.find("\"node\":" + std::to_string(n)), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("\"entries\":2"), std::string::npos) << r.out;
    }
    // Errors in JSON mode are JSON too.
    r = cli(cli.at(1, {"--json", "--cluster", "other", "status"}));
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(json_has_keys(dir, r.out, {"error", "detail"})) << r.out;
}

}  // namespace
}  // namespace tricache::process_test
