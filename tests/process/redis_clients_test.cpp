// Redis clients and tools other than the ones in redis_test.cpp, against the
// Redis endpoints of a 3-node cluster. Each test skips (never fails) when its
// client is not installed.
#include <cstdlib>
#include <map>
#include <set>

#include "tests/process/resp_harness.hpp"

namespace tricache::process_test {
namespace {

const std::string kNodeClientDir = kSourceDir + "/tests/process/node_client";

// The first executable called `name` on PATH, or "" (posix_spawn takes a path).
std::string on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

TEST(ProcessRedisClients, NodeRedisClientOnTwoNodes) {
    const std::string node = on_path("node");
    if (node.empty()) GTEST_SKIP() << "node not installed (bash scripts/setup)";
    TempDir probe;
    if (run_command(probe, {node, "-e", "require(process.argv[1])", kNodeClientDir + "/node_modules/redis"}).code != 0) {
        GTEST_SKIP() << "the npm package redis does not load from " << kNodeClientDir << " (bash scripts/setup)";
    }
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    auto r = run_command(c.dir(),
                         {node, kNodeClientDir + "/redis_node_client.js", std::to_string(c.resp_port(1)),
                          std::to_string(c.resp_port(3))},
                         {}, 60s);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("node redis client: all checks passed"), std::string::npos) << r.out << r.err;
    std::printf("%s", r.out.c_str());
    EXPECT_TRUE(c.wait_agree());
}

const std::string kRedisBenchmark = "/usr/bin/redis-benchmark";

// redis-benchmark --csv: test name -> requests per second.
std::map<std::string, double> benchmark_rows(const std::string& csv) {
    std::map<std::string, double> rows;
    std::istringstream lines(csv);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> cells;
        std::istringstream fields(line);
        for (std::string cell; std::getline(fields, cell, ',');) {
            if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
            cells.push_back(cell);
        }
        if (cells.size() < 2 || cells[0] == "test") continue;
        char* end = nullptr;
        const double rps = std::strtod(cells[1].c_str(), &end);
        if (end != cells[1].c_str()) rows[cells[0]] = rps;
    }
    return rows;
}

// redis-benchmark against node `id` of a fresh 3-node cluster, with and
// without pipelining. redis-benchmark exits at once, non-zero, on an error
// reply or a closed connection, so a clean exit with every row printed means
// every request was answered without error. One node per test: on CI's
// throttled machine (about 900 requests/s without pipelining, 9000 with
// -P 16, MSET slower) one node's run takes most of a minute.
// Under AddressSanitizer the nodes are several times slower again: that pass
// looks for memory errors, not throughput: a fifth of the requests, a fifth
// of the pipelining connections, twice the failure-detection timeout.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kBenchmarkShare = 5;
#else
constexpr int kBenchmarkShare = 1;
#endif

void benchmark_node(protocol::NodeId id) {
    if (access(kRedisBenchmark.c_str(), X_OK) != 0) GTEST_SKIP() << "redis-benchmark not installed (bash scripts/setup)";
    // This is the Redis door under load, not failure detection: on a starved
    // machine 300 ms of silence happens without any fault, and the view change
    // it starts is answered NOTREADY to clients, as it should be. The timeouts
    // are what such a machine needs.
    auto o = redis_cluster();
    o.extra_toml += "[timeouts]\nheartbeat_ms = 50\nsuspect_ms = " + std::to_string(1500 * (kBenchmarkShare > 1 ? 2 : 1)) +
                    "\n";
    LocalCluster c(o);
    ASSERT_TRUE(c.wait_ready());
    const std::vector<std::string> tests = {"SET", "GET", "INCR", "MSET (10 keys)"};
    for (const char* pipeline : {"1", "16"}) {
        const bool pipelined = std::string(pipeline) != "1";
        const std::string requests = std::to_string((pipelined ? 20000 : 2000) / kBenchmarkShare);
        const std::string connections = std::to_string(pipelined ? 20 / kBenchmarkShare : 20);
        SCOPED_TRACE("node " + std::to_string(id) + ", -P " + pipeline);
        auto r = run_command(c.dir(),
                             {kRedisBenchmark, "-h", "127.0.0.1", "-p", std::to_string(c.resp_port(id)), "-t",
                              "set,get,incr,mset", "-n", requests, "-c", connections, "-P", pipeline, "-r", "10000", "--csv"},
                             {}, 80s);
        ASSERT_EQ(r.code, 0) << r.out << r.err;
        for (const char* bad : {"Error", "error"}) EXPECT_EQ(r.err.find(bad), std::string::npos) << r.err;
        const auto rows = benchmark_rows(r.out);
        for (const auto& t : tests) {
            auto it = rows.find(t);
            ASSERT_NE(it, rows.end()) << t << " missing from\n" << r.out;
            EXPECT_GT(it->second, 0.0) << t;
            std::printf("node %u -P %s %-15s %9.0f requests/s\n", static_cast<unsigned>(id), pipeline, t.c_str(),
                        it->second);
        }
        EXPECT_EQ(rows.size(), tests.size()) << r.out;
    }
    // The load through one node changed the same replicated store everywhere.
    EXPECT_TRUE(c.wait_agree());
    const std::string size = cli(c, 1, {"DBSIZE"});
    EXPECT_EQ(cli(c, 2, {"DBSIZE"}), size);
    EXPECT_EQ(cli(c, 3, {"DBSIZE"}), size);
}

TEST(ProcessRedisClients, RedisBenchmarkOnNode1FinishesWithoutErrors) { benchmark_node(1); }
TEST(ProcessRedisClients, RedisBenchmarkOnNode2FinishesWithoutErrors) { benchmark_node(2); }
TEST(ProcessRedisClients, RedisBenchmarkOnNode3FinishesWithoutErrors) { benchmark_node(3); }

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

TEST(ProcessRedisClients, AMinorityNodeAnswersNoQuorumAndTheMajorityServes) {
    if (access(kRedisCli.c_str(), X_OK) != 0) GTEST_SKIP() << "redis-cli not installed (bash scripts/setup)";
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    ASSERT_EQ(cli(c, 1, {"SET", "before", "1"}), "OK\n");
    ASSERT_TRUE(partition(c, {{1}, {2, 3}}));
    // Node 1 refuses once it has heard from no majority for no_quorum_ms.
    ASSERT_TRUE(eventually([&] { return starts_with(cli(c, 1, {"GET", "before"}), "NOQUORUM"); }, 15s))
        << cli(c, 1, {"GET", "before"});
    for (const std::vector<std::string>& cmd : {std::vector<std::string>{"GET", "before"},
                                                std::vector<std::string>{"SET", "refused", "x"}}) {
        SCOPED_TRACE(cmd[0]);
        const auto start = Clock::now();
        const std::string reply = cli(c, 1, cmd);
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        EXPECT_TRUE(starts_with(reply, "NOQUORUM ")) << reply;
        // Refused at once rather than held until a timeout (no_quorum_ms is 1 s; a wide margin for a busy machine).
        EXPECT_LT(took, 5s) << reply;
        std::printf("minority %s: %lld ms: %s", cmd[0].c_str(), static_cast<long long>(took.count()), reply.c_str());
    }
    // The majority side serves once it has left node 1 out of its view.
    ASSERT_TRUE(eventually([&] { return cli(c, 2, {"SET", "during", "2"}) == "OK\n"; }, 20s))
        << cli(c, 2, {"SET", "during", "2"});
    EXPECT_EQ(cli(c, 3, {"GET", "during"}), "2\n");
    EXPECT_EQ(cli(c, 3, {"GET", "before"}), "1\n");
    EXPECT_EQ(cli(c, 2, {"INCR", "n"}), "1\n");

    ASSERT_TRUE(heal(c));
    ASSERT_TRUE(c.wait_ready(30s));
    ASSERT_TRUE(c.wait_agree());
    for (protocol::NodeId id = 1; id <= 3; ++id) {
        SCOPED_TRACE("node " + std::to_string(id));
        EXPECT_EQ(cli(c, id, {"MGET", "before", "during", "refused", "n"}), "1\n2\n\n1\n");
    }
}

// The Redis endpoint's INFO field `name` at node `id`, or "" when absent.
std::string info_field(LocalCluster& c, protocol::NodeId id, const std::string& name) {
    const std::string info = cli(c, id, {"INFO"});
    const auto at = info.find(name + ":");
    if (at == std::string::npos) return "";
    const auto end = info.find_first_of("\r\n", at);
    return info.substr(at + name.size() + 1, end - at - name.size() - 1);
}

TEST(ProcessRedisClients, TenThousandDroppedConnectionsLoseNoAcknowledgedWrite) {
    if (access(kRedisCli.c_str(), X_OK) != 0) GTEST_SKIP() << "redis-cli not installed (bash scripts/setup)";
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    const std::uint16_t port = c.resp_port(1);
    // One well-behaved connection writes throughout; each write counts once its +OK is read.
    Tcp writer(port);
    std::vector<std::string> acknowledged;
    int acknowledged_incrs = 0;
    auto write_one = [&](int i) {
        const std::string key = "ack:" + std::to_string(i);
        const std::string value = "v" + std::to_string(i);
        writer.send_all("*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n$" +
                        std::to_string(value.size()) + "\r\n" + value + "\r\n*2\r\n$4\r\nINCR\r\n$5\r\nacked\r\n");
        const std::string want = "+OK\r\n:" + std::to_string(acknowledged_incrs + 1) + "\r\n";
        const std::string got = writer.read_some(want.size(), 10s);
        if (got != want) return false;
        acknowledged.push_back(key);
        ++acknowledged_incrs;
        return true;
    };
    // The storm: every kind of half-finished client, dropped with a FIN or a reset.
    const std::vector<std::string> partials = {
        "",                                        // connect and leave
        "*3\r\n$3\r\nSET\r\n$5\r\nstorm\r\n$2\r\nv",  // cut inside a bulk
        "*2\r\n$4\r\nINCR\r\n$5\r\nstorm\r\n",      // a whole command, reply never read
        "*5\r\n",                                  // only an array header
        "*2\r\n$3\r\nGET\r\n$100\r\nabc",          // bulk shorter than announced
        "*1\r\n$4\r\nPI",                          // cut inside a command name
        "GET sto",                                 // an inline command without its newline
    };
    constexpr int kConnections = 10000;
    const auto until = Clock::now() + 90s;
    int opened = 0;
    for (; opened < kConnections && Clock::now() < until; ++opened) {
        Tcp t(port);
        t.send_all(partials[static_cast<std::size_t>(opened) % partials.size()]);
        if (opened % 2 == 1) t.abort();  // the others close with a FIN in the destructor
        if (opened % 100 == 0) {
            ASSERT_TRUE(write_one(opened / 100)) << "write " << opened / 100 << " not acknowledged";
        }
    }
    EXPECT_EQ(opened, kConnections) << "the storm did not finish within its bound";
    ASSERT_TRUE(c.node(1).running()) << c.log(1);
    // The node has let go of every dropped connection: only the writer and INFO's own remain.
    EXPECT_TRUE(eventually([&] { return info_field(c, 1, "connected_clients") == "2"; }, 20s))
        << "connected_clients " << info_field(c, 1, "connected_clients");
    EXPECT_EQ(info_field(c, 1, "rejected_connections"), "0");
    // Every acknowledged write is there, read through another node.
    ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>((kConnections + 99) / 100));
    auto native = c.client_for({c.client_addr(2)});
    for (std::size_t i = 0; i < acknowledged.size(); ++i) {
        auto got = native.get(acknowledged[i]);
        ASSERT_TRUE(got) << got.error().to_string();
        const std::string want = "v" + acknowledged[i].substr(4);
        EXPECT_EQ(got.value(), (protocol::OpResult{true, want})) << acknowledged[i];
    }
    EXPECT_EQ(cli(c, 3, {"GET", "acked"}), std::to_string(acknowledged_incrs) + "\n");
    // The writer's connection still serves after the storm.
    ASSERT_TRUE(write_one(kConnections));
    EXPECT_TRUE(c.wait_agree());
}

}  // namespace
}  // namespace tricache::process_test
