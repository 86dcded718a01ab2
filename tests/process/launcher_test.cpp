// scripts/cluster: up, a second up, status, addr, partition/heal, down, in a
// temporary run dir with a custom base port.
#include <random>

#include "tests/process/harness.hpp"

namespace tricache::process_test {
namespace {

// Kills whatever node pids the run dir still records, even if the test failed.
class RunDirGuard {
public:
    explicit RunDirGuard(std::filesystem::path dir) : dir_(std::move(dir)) {}
    ~RunDirGuard() {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
            const auto name = e.path().filename().string();
            if (name.rfind("node-", 0) != 0 || e.path().extension() != ".pid") continue;
            const pid_t pid = static_cast<pid_t>(std::atol(read_file(e.path().string()).c_str()));
            // Only our own nodes: the cmdline must name the binary.
            if (pid > 0 && read_file("/proc/" + std::to_string(pid) + "/cmdline").find("tricache-node") !=
                               std::string::npos) {
                ::kill(pid, SIGCONT);
                ::kill(pid, SIGKILL);
            }
        }
    }
    RunDirGuard(const RunDirGuard&) = delete;
    RunDirGuard& operator=(const RunDirGuard&) = delete;

private:
    std::filesystem::path dir_;
};

TEST(ProcessLauncher, UpStatusPartitionDownCycle) {
    TempDir dir;
    const std::string run = dir.file("run");
    RunDirGuard guard(run);
    const std::string script = kSourceDir + "/scripts/cluster";
    const std::vector<std::string> env{"TRICACHE_RUN_DIR=" + run, "TRICACHE_BIN_DIR=" + kBuildDir};
    // A base port in a range the kernel does not hand out for port 0, so
    // parallel tests do not collide with it.
    std::random_device rd;
    const int base = 20000 + static_cast<int>(rd() % 9000);
    auto sh = [&](std::vector<std::string> args) {
        std::vector<std::string> argv{"/bin/bash", script};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(dir, argv, env, 60s);
    };

    auto up = sh({"up", "-n", "3", "--base-port", std::to_string(base), "--max-entries", "50"});
    ASSERT_EQ(up.code, 0) << up.out << up.err;
    EXPECT_NE(up.out.find("cluster up: 3 nodes"), std::string::npos) << up.out;
    const std::string config = read_file(run + "/cluster.toml");
    EXPECT_NE(config.find("max_entries = 50"), std::string::npos) << config;

    auto again = sh({"up", "--base-port", std::to_string(base)});
    EXPECT_EQ(again.code, 0);
    EXPECT_NE(again.out.find("already running"), std::string::npos) << again.out;

    auto addr = sh({"addr", "2"});
    ASSERT_EQ(addr.code, 0) << addr.err;
    ASSERT_EQ(addr.out.rfind("127.0.0.1:", 0), 0u) << addr.out;
    const std::string server = addr.out.substr(0, addr.out.find('\n'));
    const int port = std::atoi(server.substr(server.find(':') + 1).c_str());
    EXPECT_GE(port, base);

    auto set = run_command(dir, {kCliBin, "--server", server, "set", "k", "v"}, {}, 20s);
    EXPECT_EQ(set.code, 0) << set.err;

    // Every node has a Redis endpoint; what the native client wrote, redis-cli reads.
    auto resp = sh({"addr", "3", "--resp"});
    ASSERT_EQ(resp.code, 0) << resp.err;
    ASSERT_EQ(resp.out.rfind("127.0.0.1:", 0), 0u) << resp.out;
    const std::string resp_port = resp.out.substr(resp.out.find(':') + 1, resp.out.find('\n') - resp.out.find(':') - 1);
    EXPECT_NE(resp_port, std::to_string(port));
    if (access("/usr/bin/redis-cli", X_OK) == 0) {
        auto got = run_command(dir, {"/usr/bin/redis-cli", "-p", resp_port, "GET", "k"}, {}, 20s);
        EXPECT_EQ(got.out, "v\n") << got.err;
    }

    // And a metrics endpoint, serving Prometheus text.
    auto metrics = sh({"addr", "1", "--metrics"});
    ASSERT_EQ(metrics.code, 0) << metrics.err;
    ASSERT_EQ(metrics.out.rfind("127.0.0.1:", 0), 0u) << metrics.out;
    if (access("/usr/bin/curl", X_OK) == 0) {
        const std::string url = "http://" + metrics.out.substr(0, metrics.out.find('\n')) + "/metrics";
        auto page = run_command(dir, {"/usr/bin/curl", "-sS", "--fail", "--max-time", "5", url}, {}, 20s);
        EXPECT_EQ(page.code, 0) << page.err;
        EXPECT_NE(page.out.find("\ntricache_ready 1"), std::string::npos) << page.out.substr(0, 2000);
    }

    // Status: one row per node, all up, and the agreement line once they converge.
    bool agreed = eventually(
        [&] {
            auto st = sh({"status"});
            return st.code == 0 && st.out.find("all 3 answering nodes agree") != std::string::npos;
        },
        10s);
    auto st = sh({"status"});
    EXPECT_TRUE(agreed) << st.out;
    EXPECT_NE(st.out.find("log_hash"), std::string::npos) << st.out;
    for (const char* row : {"\n1 ", "\n2 ", "\n3 "}) EXPECT_NE(st.out.find(row), std::string::npos) << st.out;

    auto part = sh({"partition", "1", "2,3"});
    EXPECT_EQ(part.code, 0) << part.err;
    auto heal = sh({"heal"});
    EXPECT_EQ(heal.code, 0) << heal.err;
    auto bad = sh({"partition", "1,9"});
    EXPECT_NE(bad.code, 0);

    auto logs = sh({"logs", "1"});
    EXPECT_NE(logs.out.find("event=start"), std::string::npos);
    EXPECT_NE(logs.out.find("event=isolate"), std::string::npos);

    auto down = sh({"down"});
    EXPECT_EQ(down.code, 0) << down.err;
    EXPECT_NE(down.out.find("stopped 3"), std::string::npos) << down.out;
    auto after = sh({"status"});
    EXPECT_EQ(after.code, 0);
    EXPECT_EQ(after.out.find(" yes "), std::string::npos) << after.out;
    auto down_again = sh({"down"});
    EXPECT_EQ(down_again.code, 0);
    EXPECT_NE(down_again.out.find("no cluster running"), std::string::npos);
    EXPECT_NE(sh({"bogus"}).code, 0);
}

// up --secure: a CURVE cluster whose printed export lines are all the CLI
// needs; without them the CLI gets no answer, and redis-cli needs the password.
TEST(ProcessLauncher, SecureUpPrintsTheExportsThatLetTheCliIn) {
    TempDir dir;
    const std::string run = dir.file("run");
    RunDirGuard guard(run);
    const std::string script = kSourceDir + "/scripts/cluster";
    const std::vector<std::string> env{"TRICACHE_RUN_DIR=" + run, "TRICACHE_BIN_DIR=" + kBuildDir};
    std::random_device rd;
    const int base = 20000 + static_cast<int>(rd() % 9000);
    auto sh = [&](std::vector<std::string> args) {
        std::vector<std::string> argv{"/bin/bash", script};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(dir, argv, env, 60s);
    };
    auto up = sh({"up", "--secure", "--base-port", std::to_string(base)});
    ASSERT_EQ(up.code, 0) << up.out << up.err;
    EXPECT_NE(read_file(run + "/cluster.toml").find("curve_public = "), std::string::npos);
    // The export lines, as a shell would take them.
    std::vector<std::string> exports;
    std::istringstream lines(up.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("export ", 0) != 0) continue;
        std::string kv = line.substr(7);
        const auto eq = kv.find('=');
        std::string value = kv.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
        exports.push_back(kv.substr(0, eq + 1) + value);
    }
    ASSERT_EQ(exports.size(), 4u) << up.out;
    auto set = run_command(dir, {kCliBin, "set", "k", "v"}, exports);
    EXPECT_EQ(set.code, 0) << set.err;
    std::vector<std::string> servers_only;
    for (const auto& e : exports) {
        if (e.rfind("TRICACHE_SERVER=", 0) == 0) servers_only.push_back(e);
    }
    auto keyless = run_command(dir, {kCliBin, "--timeout-ms", "1500", "get", "k"}, servers_only);
    EXPECT_EQ(keyless.code, 4) << "no answer without the client key: " << keyless.out << keyless.err;
    auto status = sh({"status"});
    EXPECT_NE(status.out.find("all 3 answering nodes agree"), std::string::npos) << status.out << status.err;
    auto down = sh({"down"});
    EXPECT_EQ(down.code, 0);
}

}  // namespace
}  // namespace tricache::process_test
