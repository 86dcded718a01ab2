// The Redis endpoint over real sockets: redis-cli (Debian redis-tools) and the
// Python redis client against a 3-node cluster, exact replies compared; a
// 10,000-command --pipe; hostile bytes that must never take a node down.
#include <set>

#include "node/resp/commands.hpp"
#include "tests/process/resp_harness.hpp"

namespace tricache::process_test {
namespace {

TEST(ProcessRedis, RedisCliCommandsThroughDifferentNodes) {
    if (access(kRedisCli.c_str(), X_OK) != 0) GTEST_SKIP() << "redis-cli not installed (bash scripts/setup)";
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    struct Step {
        protocol::NodeId node;
        std::vector<std::string> args;
        std::string reply;
    };
    const std::vector<Step> steps = {
        {1, {"PING"}, "PONG\n"},
        {2, {"ECHO", "hi there"}, "hi there\n"},
        {1, {"SET", "greeting", "hello"}, "OK\n"},
        {2, {"GET", "greeting"}, "hello\n"},
        {3, {"STRLEN", "greeting"}, "5\n"},
        {3, {"APPEND", "greeting", " world"}, "11\n"},
        {1, {"GET", "greeting"}, "hello world\n"},
        {2, {"SET", "greeting", "x", "NX"}, "\n"},
        {3, {"SET", "fresh", "1", "NX"}, "OK\n"},
        {1, {"SET", "absent", "1", "XX"}, "\n"},
        {2, {"SET", "fresh", "2", "XX", "GET"}, "1\n"},
        {3, {"GETDEL", "fresh"}, "2\n"},
        {1, {"GET", "fresh"}, "\n"},
        {2, {"INCR", "n"}, "1\n"},
        {3, {"INCRBY", "n", "41"}, "42\n"},
        {1, {"DECR", "n"}, "41\n"},
        {2, {"DECRBY", "n", "-9"}, "50\n"},
        {3, {"INCR", "greeting"}, "ERR value is not an integer or out of range\n"},
        {1, {"SET", "big", "9223372036854775807"}, "OK\n"},
        {2, {"INCR", "big"}, "ERR increment or decrement would overflow\n"},
        {3, {"MSET", "a", "1", "b", "2", "c", "3"}, "OK\n"},
        {1, {"MGET", "a", "b", "nope", "c"}, "1\n2\n\n3\n"},
        {2, {"MSETNX", "c", "x", "d", "4"}, "0\n"},
        {3, {"EXISTS", "d"}, "0\n"},
        {1, {"MSETNX", "d", "4", "e", "5"}, "1\n"},
        {2, {"EXISTS", "a", "d", "e", "nope", "a"}, "4\n"},
        {3, {"TYPE", "a"}, "string\n"},
        {1, {"TYPE", "nope"}, "none\n"},
        {2, {"DEL", "a", "b", "nope"}, "2\n"},
        {3, {"UNLINK", "c"}, "1\n"},
        {1, {"DBSIZE"}, "5\n"},  // greeting n big d e
        {2, {"SELECT", "0"}, "OK\n"},
        {3, {"SELECT", "1"}, "ERR DB index is out of range\n"},
        {1, {"CONFIG", "GET", "maxmemory-policy"}, "maxmemory-policy\nallkeys-lru\n"},
        {2, {"CONFIG", "GET", "save"}, "save\n\n"},
        {3, {"CONFIG", "GET", "appendonly"}, "appendonly\nno\n"},
        {1, {"WAIT", "2", "0"}, "2\n"},
        {2, {"NOSUCH", "x"}, "ERR unknown command 'NOSUCH', with args beginning with: 'x' \n"},
        {3, {"GET"}, "ERR wrong number of arguments for 'get' command\n"},
        {1, {"SET", "k", "v", "EX", "0"}, "ERR invalid expire time in 'set' command\n"},
        {2, {"PTTL", "nope"}, "-2\n"},
        {2, {"AUTH", "secret"},
         "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
         "configuration is correct?\n"},
        {3, {"HELLO", "4"}, "NOPROTO unsupported protocol version\n"},
        {1, {"COMMAND", "COUNT"}, std::to_string(node::resp::command_names().size()) + "\n"},
        {2, {"FLUSHALL"}, "OK\n"},
        {3, {"DBSIZE"}, "0\n"},
        {1, {"GET", "greeting"}, "\n"},
    };
    for (const auto& s : steps) {
        // redis-cli's raw output ends an error with an empty line, as it does against Redis.
        const bool error = s.reply.rfind("ERR ", 0) == 0 || s.reply.rfind("NOPROTO ", 0) == 0;
        std::string line;
        for (const auto& a : s.args) line += a + " ";
        SCOPED_TRACE("node " + std::to_string(s.node) + ": " + line);
        EXPECT_EQ(cli(c, s.node, s.args), error ? s.reply + "\n" : s.reply);
    }
    // INFO: the sections, and the cluster as this node sees it.
    const std::string info = cli(c, 2, {"INFO"});
    for (const char* want : {"# Server", "# Clients", "# Memory", "maxmemory_policy:allkeys-lru", "# Stats",
                             "# Keyspace", "# Cluster", "tricache_members:1.1,2.1,3.1", "tricache_ready:1"}) {
        EXPECT_NE(info.find(want), std::string::npos) << want << " in\n" << info;
    }
    EXPECT_TRUE(c.wait_agree());
}

TEST(ProcessRedis, Resp3ReadonlyAndScan) {
    if (access(kRedisCli.c_str(), X_OK) != 0) GTEST_SKIP() << "redis-cli not installed (bash scripts/setup)";
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    // RESP3 through redis-cli -3: maps and nulls as RESP3 types.
    EXPECT_EQ(cli(c, 1, {"-3", "SET", "k", "v"}), "OK\n");
    EXPECT_EQ(cli(c, 1, {"-3", "GET", "missing"}), "\n");
    EXPECT_EQ(cli(c, 2, {"-3", "GET", "k"}), "v\n");
    // SCAN from node 3 walks every key exactly once across pages.
    std::set<std::string> written;
    std::vector<std::string> mset{"MSET"};
    for (int i = 0; i < 57; ++i) {
        mset.push_back("key:" + std::to_string(i));
        mset.push_back(std::to_string(i));
        written.insert("key:" + std::to_string(i));
    }
    ASSERT_EQ(cli(c, 1, mset), "OK\n");
    std::multiset<std::string> seen;
    std::string cursor = "0";
    int pages = 0;
    do {
        const std::string out = cli(c, 3, {"SCAN", cursor, "MATCH", "key:*", "COUNT", "7"});
        std::istringstream lines(out);
        std::getline(lines, cursor);
        for (std::string k; std::getline(lines, k);) seen.insert(k);
        ASSERT_LT(++pages, 100) << "SCAN does not end";
    } while (cursor != "0");
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), written);
    EXPECT_EQ(seen.size(), written.size()) << "a key came twice";
    EXPECT_GE(pages, 57 / 7);
}

TEST(ProcessRedis, PipeOfTenThousandCommands) {
    if (access(kRedisCli.c_str(), X_OK) != 0) GTEST_SKIP() << "redis-cli not installed (bash scripts/setup)";
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    std::string input;
    for (int i = 0; i < 5000; ++i) {
        input += "SET pipe:" + std::to_string(i) + " v" + std::to_string(i) + "\r\n";
        input += "INCR pipe:counter\r\n";
    }
    const std::string path = c.dir().file("pipe.txt");
    write_file(path, input);
    auto r = run_command(c.dir(),
                         {"/bin/sh", "-c", kRedisCli + " -p " + std::to_string(c.resp_port(1)) + " --pipe < " + path},
                         {}, 60s);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("errors: 0, replies: 10000"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(cli(c, 2, {"GET", "pipe:counter"}), "5000\n");
    EXPECT_EQ(cli(c, 3, {"GET", "pipe:4999"}), "v4999\n");
    EXPECT_EQ(cli(c, 3, {"DBSIZE"}), "5001\n");
    EXPECT_TRUE(c.wait_agree());
}

TEST(ProcessRedis, PipelinedRepliesComeInOrderOnOneConnection) {
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    Tcp t(c.resp_port(2));
    // One write holding commands answered at once and commands the engine
    // answers later: the replies must still come in request order.
    std::string batch;
    std::string expected;
    for (int i = 0; i < 300; ++i) {
        batch += "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(std::to_string(i).size()) + "\r\n" +
                 std::to_string(i) + "\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        expected += "+OK\r\n+PONG\r\n$" + std::to_string(std::to_string(i).size()) + "\r\n" + std::to_string(i) + "\r\n";
    }
    t.send_all(batch);
    EXPECT_EQ(t.read_some(expected.size(), 20s), expected);
}

TEST(ProcessRedis, HostileBytesNeverTakeTheNodeDown) {
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    const std::uint16_t port = c.resp_port(1);
    {
        Tcp t(port);
        t.send_all("*1\r\n$4\r\nPING\r\n");
        ASSERT_EQ(t.read_some(7), "+PONG\r\n");
        t.send_all("*3\r\n$3\r\nSET\r\n$4\r\nkeep\r\n$2\r\nme\r\n");
        ASSERT_EQ(t.read_some(5), "+OK\r\n");
    }
    struct Case {
        const char* name;
        std::string bytes;
        std::string reply;  // then the node closes the connection
    };
    const std::vector<Case> cases = {
        {"huge multibulk count", "*99999999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
        {"huge bulk length", "*1\r\n$99999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"negative bulk length", "*1\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"not a bulk", "*2\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
        {"endless inline", std::string(70000, 'A'), "-ERR Protocol error: too big inline request\r\n"},
        {"endless count line", "*" + std::string(70000, '7'), "-ERR Protocol error: too big mbulk count string\r\n"},
        {"unbalanced quotes", "SET \"k v\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
    };
    for (const auto& tc : cases) {
        SCOPED_TRACE(tc.name);
        Tcp t(port);
        t.send_all(tc.bytes);
        EXPECT_EQ(t.read_some(tc.reply.size()), tc.reply);
        EXPECT_TRUE(t.closed_by_peer()) << "the connection stays open after a protocol error";
    }
    // Binary garbage with newlines: each line is an (unknown) inline command.
    {
        std::mt19937 rng(7);
        std::string junk;
        for (int i = 0; i < 20000; ++i) junk += static_cast<char>(rng() % 256);
        Tcp t(port);
        t.send_all(junk);
        t.read_some(1, 2s);
    }
    // Truncated requests, then the connection dropped mid-request.
    for (const std::string partial : {"*3\r\n$3\r\nSET\r\n$1\r\nk", "*2\r\n$3\r\nGET", "*5\r\n", "*1\r\n$100\r\nabc"}) {
        Tcp t(port);
        t.send_all(partial);
    }
    // Many connections opened and dropped, some with a request in flight.
    for (int i = 0; i < 3000; ++i) {
        Tcp t(port);
        if (i % 3 == 0) t.send_all("*2\r\n$4\r\nINCR\r\n$5\r\nstorm\r\n");
    }
    ASSERT_TRUE(c.node(1).running()) << c.log(1);
    Tcp t(port);
    t.send_all("*2\r\n$3\r\nGET\r\n$4\r\nkeep\r\n");
    EXPECT_EQ(t.read_some(8), "$2\r\nme\r\n");
    auto native = c.client_for({c.client_addr(2)});
    auto got = native.get("keep");
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got.value(), (protocol::OpResult{true, std::string("me")}));
    EXPECT_TRUE(c.wait_agree());
}

TEST(ProcessRedis, PythonRedisClientOnTwoNodes) {
    TempDir probe;
    if (run_command(probe, {"/usr/bin/python3", "-c", "import redis"}).code != 0) {
        GTEST_SKIP() << "python3-redis not installed (bash scripts/setup)";
    }
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    auto r = run_command(c.dir(),
                         {"/usr/bin/python3", kSourceDir + "/tests/process/redis_py_client.py",
                          std::to_string(c.resp_port(1)), std::to_string(c.resp_port(3))},
                         {}, 60s);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("python redis client: all checks passed"), std::string::npos) << r.out << r.err;
    EXPECT_TRUE(c.wait_agree());
}

}  // namespace
}  // namespace tricache::process_test
