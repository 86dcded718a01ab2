// The command layer without sockets: what each command asks of the engine,
// and the exact reply it writes from the engine's answer.
#include <gtest/gtest.h>

#include "node/resp/commands.hpp"

namespace tricache::node::resp {
namespace {

using namespace tricache::protocol;
using Argv = std::vector<std::string>;

struct Fixture {
    Session session;
    NodeFacts facts;
    Plan plan(const Argv& argv) { return plan_command(argv, session, facts); }
    // The reply of a command answered at once.
    std::string now(const Argv& argv) {
        Plan p = plan(argv);
        EXPECT_TRUE(p.requests.empty()) << argv[0];
        return p.reply;
    }
    // The ops of a command that is one transaction.
    std::vector<Op> ops(const Argv& argv) {
        Plan p = plan(argv);
        EXPECT_EQ(p.requests.size(), 1u);
        if (p.requests.size() != 1) return {};
        const auto* r = std::get_if<OpsRequest>(&p.requests[0]);
        EXPECT_NE(r, nullptr);
        return r == nullptr ? std::vector<Op>{} : r->ops;
    }
    // The reply written from the given results.
    std::string answer(const Argv& argv, std::vector<OpResult> results) {
        Plan p = plan(argv);
        std::string out;
        Writer w(out, p.protocol);
        p.finish(w, Bodies{OpsReply{std::move(results)}});
        return out;
    }
    std::string answer_body(const Argv& argv, ClientResponseBody body) {
        Plan p = plan(argv);
        std::string out;
        Writer w(out, p.protocol);
        Bodies bodies(p.requests.size(), body);
        p.finish(w, bodies);
        return out;
    }
};

OpResult ok(std::optional<std::string> v = std::nullopt) { return OpResult{true, std::move(v)}; }
OpResult no(std::optional<std::string> v = std::nullopt) { return OpResult{false, std::move(v)}; }

// A client library's MULTI ... EXEC: every command between them is only
// queued, and EXEC discards them all, so nothing runs behind the failed EXEC
// (found by the Node and Python client tests: commands ran one by one).
TEST(RespCommands, MultiQueuesAndExecAbortsWithNothingApplied) {
    Fixture f;
    EXPECT_EQ(f.now({"EXEC"}), "-ERR EXEC without MULTI\r\n");
    EXPECT_EQ(f.now({"DISCARD"}), "-ERR DISCARD without MULTI\r\n");
    EXPECT_EQ(f.now({"multi"}), "+OK\r\n");
    EXPECT_EQ(f.now({"MULTI"}), "-ERR MULTI calls can not be nested\r\n");
    EXPECT_EQ(f.now({"SET", "k", "v"}), "+QUEUED\r\n") << "queued, not sent to the engine";
    EXPECT_EQ(f.now({"INCR", "n"}), "+QUEUED\r\n");
    const std::string exec = f.now({"EXEC"});
    EXPECT_EQ(exec.rfind("-EXECABORT ", 0), 0u) << exec;
    EXPECT_NE(exec.find("none of the queued commands was applied"), std::string::npos) << exec;
    EXPECT_EQ(f.ops({"SET", "k", "v"}).size(), 1u) << "after EXEC, commands run again";
    EXPECT_EQ(f.now({"MULTI"}), "+OK\r\n");
    EXPECT_EQ(f.now({"GET", "k"}), "+QUEUED\r\n");
    EXPECT_EQ(f.now({"DISCARD"}), "+OK\r\n");
    EXPECT_EQ(f.ops({"GET", "k"}).size(), 1u) << "after DISCARD too";
}

TEST(RespCommands, ErrorsUseRedisTexts) {
    Fixture f;
    EXPECT_EQ(f.now({"FOO", "a", "b"}), "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    EXPECT_EQ(f.now({"nope"}), "-ERR unknown command 'nope', with args beginning with: \r\n");
    EXPECT_EQ(f.now({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
    EXPECT_EQ(f.now({"get", "a", "b"}), "-ERR wrong number of arguments for 'get' command\r\n");
    EXPECT_EQ(f.now({"MSET", "a"}), "-ERR wrong number of arguments for 'mset' command\r\n");
    EXPECT_EQ(f.now({"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command\r\n");
    EXPECT_EQ(f.now({"INCRBY", "a", "x"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(f.now({"INCRBY", "a", "01"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(f.now({"DECRBY", "a", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "NX", "XX"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "BOGUS"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
    EXPECT_EQ(f.now({"SELECT", "x"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(f.now({"SCAN", "x"}), "-ERR invalid cursor\r\n");
    EXPECT_EQ(f.now({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"CLIENT", "BOGUS"}), "-ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.\r\n");
    EXPECT_EQ(f.now({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
    EXPECT_EQ(f.now({"HELLO", "x"}), "-ERR Protocol version is not an integer or out of range\r\n");
    EXPECT_EQ(f.now({"AUTH", "pw"}),
              "-ERR AUTH <password> called without any password configured for the default user. Are you sure your "
              "configuration is correct?\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "PX", "-5"}), "-ERR invalid expire time in 'set' command\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "EX", "x"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "EX", "9223372036854776"}), "-ERR invalid expire time in 'set' command\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "EX", "10", "KEEPTTL"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "EX", "10", "PX", "5"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"SET", "a", "b", "EX"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"SETEX", "a", "0", "v"}), "-ERR invalid expire time in 'setex' command\r\n");
    EXPECT_EQ(f.now({"GETEX", "a", "PERSIST", "EX", "1"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"GETEX", "a", "EX", "0"}), "-ERR invalid expire time in 'getex' command\r\n");
    EXPECT_EQ(f.now({"EXPIRE", "a", "10", "NX", "XX"}),
              "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
    EXPECT_EQ(f.now({"EXPIRE", "a", "10", "GT", "LT"}), "-ERR GT and LT options at the same time are not compatible\r\n");
    EXPECT_EQ(f.now({"EXPIRE", "a", "10", "BOGUS"}), "-ERR Unsupported option BOGUS\r\n");
    EXPECT_EQ(f.now({"EXPIRE", "a", "x"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(f.now({"EXPIRE", "a", "9223372036854776"}), "-ERR invalid expire time in 'expire' command\r\n");
    // A newline in an argument never breaks the reply line.
    EXPECT_EQ(f.now({"x\r\ny"}), "-ERR unknown command 'x  y', with args beginning with: \r\n");
}

TEST(RespCommands, ConnectionCommands) {
    Fixture f;
    f.session.id = 42;
    EXPECT_EQ(f.now({"PING"}), "+PONG\r\n");
    EXPECT_EQ(f.now({"ping", "hi"}), "$2\r\nhi\r\n");
    EXPECT_EQ(f.now({"ECHO", "x"}), "$1\r\nx\r\n");
    EXPECT_EQ(f.now({"SELECT", "0"}), "+OK\r\n");
    EXPECT_EQ(f.now({"CLIENT", "GETNAME"}), "$-1\r\n");
    EXPECT_EQ(f.now({"CLIENT", "SETNAME", "me"}), "+OK\r\n");
    EXPECT_EQ(f.now({"CLIENT", "GETNAME"}), "$2\r\nme\r\n");
    EXPECT_EQ(f.now({"CLIENT", "ID"}), ":42\r\n");
    const Plan quit = f.plan({"QUIT"});
    EXPECT_EQ(quit.reply, "+OK\r\n");
    EXPECT_TRUE(quit.close_after);
    const std::string hello = f.now({"HELLO", "3"});
    EXPECT_EQ(f.session.protocol, 3);
    EXPECT_EQ(hello.rfind("%7\r\n$6\r\nserver\r\n", 0), 0u) << hello;
    EXPECT_EQ(f.now({"CLIENT", "GETNAME"}), "$2\r\nme\r\n");
    f.session.name.clear();
    EXPECT_EQ(f.now({"CLIENT", "GETNAME"}), "_\r\n");
    f.now({"HELLO", "2"});
    EXPECT_EQ(f.now({"CLIENT", "GETNAME"}), "$-1\r\n");
    EXPECT_EQ(f.now({"READONLY"}), "+OK\r\n");
    EXPECT_TRUE(f.session.readonly);
    EXPECT_EQ(f.now({"READWRITE"}), "+OK\r\n");
    EXPECT_FALSE(f.session.readonly);
}

TEST(RespCommands, StringCommandsFormOneTransactionEach) {
    Fixture f;
    EXPECT_EQ(f.ops({"GET", "k"}), (std::vector<Op>{Get{"k"}}));
    EXPECT_EQ(f.ops({"SET", "k", "v"}), (std::vector<Op>{Set{"k", "v"}}));
    EXPECT_EQ(f.ops({"SET", "k", "v", "nx"}), (std::vector<Op>{Require{"k", false}, Set{"k", "v"}}));
    EXPECT_EQ(f.ops({"SET", "k", "v", "XX", "GET"}), (std::vector<Op>{Get{"k"}, Require{"k", true}, Set{"k", "v"}}));
    EXPECT_EQ(f.ops({"GETDEL", "k"}), (std::vector<Op>{Get{"k"}, Del{"k"}}));
    EXPECT_EQ(f.ops({"MSET", "a", "1", "b", "2"}), (std::vector<Op>{Set{"a", "1"}, Set{"b", "2"}}));
    EXPECT_EQ(f.ops({"MSETNX", "a", "1", "b", "2"}),
              (std::vector<Op>{Require{"a", false}, Require{"b", false}, Set{"a", "1"}, Set{"b", "2"}}));
    EXPECT_EQ(f.ops({"DEL", "a", "b"}), (std::vector<Op>{Del{"a"}, Del{"b"}}));
    EXPECT_EQ(f.ops({"EXISTS", "a", "a"}), (std::vector<Op>{Exists{"a"}, Exists{"a"}}));
    EXPECT_EQ(f.ops({"INCR", "n"}), (std::vector<Op>{Incr{"n", 1}}));
    EXPECT_EQ(f.ops({"DECRBY", "n", "5"}), (std::vector<Op>{Incr{"n", -5}}));
    EXPECT_EQ(f.ops({"APPEND", "a", "x"}), (std::vector<Op>{Append{"a", "x"}}));
    EXPECT_EQ(f.ops({"DBSIZE"}), (std::vector<Op>{Count{}}));
    EXPECT_EQ(f.ops({"SCAN", "0", "COUNT", "5000"}), (std::vector<Op>{Scan{0, kMaxScanCount}}));
    EXPECT_EQ(f.ops({"FLUSHALL"}), (std::vector<Op>{Clear{}}));
}

TEST(RespCommands, RepliesFromResults) {
    Fixture f;
    EXPECT_EQ(f.answer({"GET", "k"}, {ok("v")}), "$1\r\nv\r\n");
    EXPECT_EQ(f.answer({"GET", "k"}, {no()}), "$-1\r\n");
    EXPECT_EQ(f.answer({"SET", "k", "v"}, {ok()}), "+OK\r\n");
    EXPECT_EQ(f.answer({"SET", "k", "v", "NX"}, {no(), no()}), "$-1\r\n");
    EXPECT_EQ(f.answer({"SET", "k", "v", "GET"}, {ok("old"), ok()}), "$3\r\nold\r\n");
    EXPECT_EQ(f.answer({"MSETNX", "a", "1", "b", "2"}, {ok(), no(), no(), no()}), ":0\r\n");
    EXPECT_EQ(f.answer({"MSETNX", "a", "1", "b", "2"}, {ok(), ok(), ok(), ok()}), ":1\r\n");
    EXPECT_EQ(f.answer({"MGET", "a", "b"}, {ok("1"), no()}), "*2\r\n$1\r\n1\r\n$-1\r\n");
    EXPECT_EQ(f.answer({"DEL", "a", "b", "c"}, {ok(), no(), ok()}), ":2\r\n");
    EXPECT_EQ(f.answer({"INCR", "n"}, {ok("11")}), ":11\r\n");
    EXPECT_EQ(f.answer({"INCR", "n"}, {no("abc")}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(f.answer({"INCR", "n"}, {no("9223372036854775807")}), "-ERR increment or decrement would overflow\r\n");
    EXPECT_EQ(f.answer({"APPEND", "a", "x"}, {ok("5")}), ":5\r\n");
    EXPECT_EQ(f.answer({"STRLEN", "a"}, {ok("hello")}), ":5\r\n");
    EXPECT_EQ(f.answer({"TYPE", "a"}, {ok()}), "+string\r\n");
    EXPECT_EQ(f.answer({"TYPE", "a"}, {no()}), "+none\r\n");
    EXPECT_EQ(f.answer({"DBSIZE"}, {ok("3")}), ":3\r\n");
    const std::string page = encode_scan_page(77, {"apple", "banana", "avocado"});
    EXPECT_EQ(f.answer({"SCAN", "0", "MATCH", "a*"}, {ok(page)}),
              "*2\r\n$2\r\n77\r\n*2\r\n$5\r\napple\r\n$7\r\navocado\r\n");
    EXPECT_EQ(f.answer({"SCAN", "0", "TYPE", "hash"}, {ok(page)}), "*2\r\n$2\r\n77\r\n*0\r\n");
}

TEST(RespCommands, ExpiryCommandsBecomeTtlOps) {
    Fixture f;
    const Expiry none{};
    EXPECT_EQ(f.ops({"SET", "k", "v"}), (std::vector<Op>{Set{"k", "v", none}}));
    EXPECT_EQ(f.ops({"SET", "k", "v", "EX", "10"}), (std::vector<Op>{Set{"k", "v", {ExpiryKind::After, 10000}}}));
    EXPECT_EQ(f.ops({"SET", "k", "v", "px", "250", "NX"}),
              (std::vector<Op>{Require{"k", false}, Set{"k", "v", {ExpiryKind::After, 250}}}));
    EXPECT_EQ(f.ops({"SET", "k", "v", "EXAT", "1700000000"}),
              (std::vector<Op>{Set{"k", "v", {ExpiryKind::At, 1700000000000}}}));
    EXPECT_EQ(f.ops({"SET", "k", "v", "PXAT", "1700000000123", "GET"}),
              (std::vector<Op>{Get{"k"}, Set{"k", "v", {ExpiryKind::At, 1700000000123}}}));
    EXPECT_EQ(f.ops({"SET", "k", "v", "KEEPTTL"}), (std::vector<Op>{Set{"k", "v", {ExpiryKind::Keep, 0}}}));
    EXPECT_EQ(f.ops({"SETEX", "k", "5", "v"}), (std::vector<Op>{Set{"k", "v", {ExpiryKind::After, 5000}}}));
    EXPECT_EQ(f.ops({"PSETEX", "k", "5", "v"}), (std::vector<Op>{Set{"k", "v", {ExpiryKind::After, 5}}}));
    EXPECT_EQ(f.ops({"GETEX", "k"}), (std::vector<Op>{Get{"k"}}));
    EXPECT_EQ(f.ops({"GETEX", "k", "PERSIST"}), (std::vector<Op>{Get{"k"}, Persist{"k"}}));
    EXPECT_EQ(f.ops({"GETEX", "k", "EX", "3"}),
              (std::vector<Op>{Get{"k"}, Expire{"k", {ExpiryKind::After, 3000}, ExpireCond::Always}}));
    EXPECT_EQ(f.ops({"EXPIRE", "k", "-1"}),
              (std::vector<Op>{Expire{"k", {ExpiryKind::After, -1000}, ExpireCond::Always}}));
    EXPECT_EQ(f.ops({"PEXPIRE", "k", "7", "gt"}), (std::vector<Op>{Expire{"k", {ExpiryKind::After, 7}, ExpireCond::Gt}}));
    EXPECT_EQ(f.ops({"EXPIREAT", "k", "9", "XX", "LT"}),
              (std::vector<Op>{Expire{"k", {ExpiryKind::At, 9000}, ExpireCond::XxLt}}));
    EXPECT_EQ(f.ops({"PEXPIREAT", "k", "9", "NX"}), (std::vector<Op>{Expire{"k", {ExpiryKind::At, 9}, ExpireCond::Nx}}));
    EXPECT_EQ(f.ops({"TTL", "k"}), (std::vector<Op>{Ttl{"k"}}));
    EXPECT_EQ(f.ops({"PERSIST", "k"}), (std::vector<Op>{Persist{"k"}}));
    // Redis's replies: -2 absent, -1 without expiry, seconds rounded to the nearest.
    EXPECT_EQ(f.answer({"TTL", "k"}, {no()}), ":-2\r\n");
    EXPECT_EQ(f.answer({"TTL", "k"}, {ok("-1")}), ":-1\r\n");
    EXPECT_EQ(f.answer({"TTL", "k"}, {ok("9500")}), ":10\r\n");
    EXPECT_EQ(f.answer({"TTL", "k"}, {ok("9499")}), ":9\r\n");
    EXPECT_EQ(f.answer({"PTTL", "k"}, {ok("9499")}), ":9499\r\n");
    EXPECT_EQ(f.answer({"EXPIRE", "k", "5"}, {ok()}), ":1\r\n");
    EXPECT_EQ(f.answer({"EXPIRE", "k", "5"}, {no()}), ":0\r\n");
    EXPECT_EQ(f.answer({"PERSIST", "k"}, {no()}), ":0\r\n");
    EXPECT_EQ(f.answer({"GETEX", "k", "EX", "3"}, {ok("v"), ok()}), "$1\r\nv\r\n");
    EXPECT_EQ(f.answer({"SETEX", "k", "5", "v"}, {ok()}), "+OK\r\n");
}

TEST(RespCommands, EngineErrorsKeepAStableFirstWord) {
    Fixture f;
    EXPECT_EQ(f.answer_body({"GET", "k"}, ErrorReply{ErrorCode::NoQuorum, "no majority"}), "-NOQUORUM no majority\r\n");
    EXPECT_EQ(f.answer_body({"GET", "k"}, ErrorReply{ErrorCode::NotReady, "joining"}), "-NOTREADY joining\r\n");
    EXPECT_EQ(f.answer_body({"SET", "k", "v"}, ErrorReply{ErrorCode::TimeoutOutcomeUnknown, "x"}),
              "-TIMEOUT outcome unknown: x\r\n");
    EXPECT_EQ(f.answer_body({"SET", "k", "v"}, ErrorReply{ErrorCode::TooLarge, "big"}), "-TOOLARGE big\r\n");
    EXPECT_EQ(f.answer_body({"SET", "k", "v"}, ErrorReply{ErrorCode::Overloaded, "busy"}), "-OVERLOADED busy\r\n");
}

TEST(RespCommands, ReadonlyReadsLocally) {
    Fixture f;
    f.now({"READONLY"});
    const Plan p = f.plan({"MGET", "a", "b"});
    ASSERT_EQ(p.requests.size(), 2u);
    EXPECT_EQ(std::get<LocalGetRequest>(p.requests[1]).key, "b");
    EXPECT_EQ(f.answer_body({"GET", "a"}, LocalGetReply{true, "v", 9}), "$1\r\nv\r\n");
    // Writes still go through the order.
    EXPECT_EQ(f.ops({"SET", "k", "v"}), (std::vector<Op>{Set{"k", "v"}}));
}

TEST(RespCommands, InfoAndConfigAreTruthful) {
    Fixture f;
    f.facts.max_bytes = 12345;
    const std::string cfg = f.now({"CONFIG", "GET", "maxmemory*"});
    EXPECT_EQ(cfg, "*4\r\n$9\r\nmaxmemory\r\n$5\r\n12345\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n");
    EXPECT_EQ(f.now({"CONFIG", "GET", "save", "appendonly"}),
              "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
    StatusReply s;
    s.epoch = 4;
    s.members = {{1, 1}, {2, 3}};
    s.ready = true;
    s.entries = 2;
    s.history = 1;
    const std::string info = f.answer_body({"INFO"}, s);
    for (const char* want : {"# Server", "# Clients", "# Memory", "maxmemory:12345", "maxmemory_policy:allkeys-lru",
                             "# Stats", "# Keyspace", "db0:keys=2,expires=0,avg_ttl=0", "# Cluster",
                             "tricache_epoch:4", "tricache_members:1.1,2.3", "tricache_history:1",
                             "tricache_ready:1"}) {
        EXPECT_NE(info.find(want), std::string::npos) << want;
    }
    EXPECT_EQ(f.answer_body({"WAIT", "1", "0"}, s), ":1\r\n");
}

TEST(RespGlob, RedisPatterns) {
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_TRUE(glob_match("a*c", "abbbc"));
    EXPECT_FALSE(glob_match("a*c", "abbb"));
    EXPECT_TRUE(glob_match("h?llo", "hello"));
    EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
    EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
    EXPECT_TRUE(glob_match("h[a-c]llo", "hbllo"));
    EXPECT_TRUE(glob_match("a\\*b", "a*b"));
    EXPECT_FALSE(glob_match("a\\*b", "axb"));
    EXPECT_TRUE(glob_match("MAX*", "maxmemory", true));
    EXPECT_TRUE(glob_match("*a*b*c*", "xxaxxbxxcxx"));
}

}  // namespace
}  // namespace tricache::node::resp

// ------------------------------------------------------------------ AUTH (requirepass)

namespace tricache::node::resp {
namespace {

constexpr const char* kNoAuth = "-NOAUTH Authentication required.\r\n";
constexpr const char* kWrongPass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

struct Locked : Fixture {
    Locked() { session.password = "s3cret"; }
};

TEST(RespAuth, WithAPasswordEveryCommandButAuthHelloAndQuitIsRefusedUntilAuth) {
    Locked f;
    EXPECT_EQ(f.now({"GET", "k"}), kNoAuth) << "nothing reaches the engine";
    EXPECT_EQ(f.now({"SET", "k", "v"}), kNoAuth);
    EXPECT_EQ(f.now({"PING"}), kNoAuth);
    EXPECT_EQ(f.now({"INFO"}), kNoAuth);
    EXPECT_EQ(f.now({"MULTI"}), kNoAuth);
    EXPECT_EQ(f.now({"EXEC"}), kNoAuth);
    // As in Redis, an unknown command or a wrong arity is reported as such first.
    EXPECT_EQ(f.now({"NOPE"}).rfind("-ERR unknown command 'NOPE'", 0), 0u);
    EXPECT_EQ(f.now({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
    const Plan quit = f.plan({"QUIT"});
    EXPECT_EQ(quit.reply, "+OK\r\n");
    EXPECT_TRUE(quit.close_after);
}

TEST(RespAuth, AuthTakesThePasswordAloneOrWithTheDefaultUser) {
    Locked f;
    EXPECT_EQ(f.now({"AUTH", "wrong"}), kWrongPass);
    EXPECT_EQ(f.now({"AUTH", "s3cre"}), kWrongPass) << "a prefix is not the password";
    EXPECT_EQ(f.now({"AUTH", "s3cret!"}), kWrongPass);
    EXPECT_EQ(f.now({"AUTH", "alice", "s3cret"}), kWrongPass) << "there is only the default user";
    EXPECT_EQ(f.now({"AUTH", "a", "b", "c"}), "-ERR syntax error\r\n");
    EXPECT_EQ(f.now({"GET", "k"}), kNoAuth) << "failed attempts authenticate nothing";
    EXPECT_EQ(f.now({"AUTH", "s3cret"}), "+OK\r\n");
    EXPECT_EQ(f.ops({"GET", "k"}).size(), 1u) << "authenticated: commands run";

    Locked g;
    EXPECT_EQ(g.now({"AUTH", "default", "s3cret"}), "+OK\r\n");
    EXPECT_EQ(g.now({"PING"}), "+PONG\r\n");
}

TEST(RespAuth, HelloAuthenticatesAndSwitchesProtocolOnlyWithTheRightPassword) {
    Locked f;
    const std::string no_hello = f.now({"HELLO", "3"});
    EXPECT_EQ(no_hello.rfind("-NOAUTH HELLO must be called with the client already authenticated", 0), 0u) << no_hello;
    EXPECT_EQ(f.session.protocol, 2);
    EXPECT_EQ(f.now({"HELLO", "3", "AUTH", "default", "nope"}), kWrongPass);
    EXPECT_EQ(f.session.protocol, 2) << "a failed HELLO AUTH does not switch protocol";
    EXPECT_EQ(f.now({"HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "me"}).rfind("%7\r\n", 0), 0u);
    EXPECT_EQ(f.session.protocol, 3);
    EXPECT_EQ(f.session.name, "me");
    EXPECT_EQ(f.now({"PING"}), "+PONG\r\n");
}

TEST(RespAuth, WithoutAPasswordTheRepliesStayAsBefore) {
    Fixture f;
    EXPECT_EQ(f.now({"PING"}), "+PONG\r\n");
    EXPECT_EQ(f.now({"AUTH", "pw"}).rfind("-ERR AUTH <password> called without any password configured", 0), 0u);
    EXPECT_EQ(f.now({"AUTH", "default", "anything"}), "+OK\r\n") << "the default user has no password";
    EXPECT_EQ(f.now({"HELLO", "3", "AUTH", "default", "x"}).rfind("%7\r\n", 0), 0u);
}

TEST(RespAuth, SecretsCompareWholly) {
    EXPECT_TRUE(same_secret("abc", "abc"));
    EXPECT_TRUE(same_secret("", ""));
    EXPECT_FALSE(same_secret("abc", "abd"));
    EXPECT_FALSE(same_secret("abc", "ab"));
    EXPECT_FALSE(same_secret("ab", "abc"));
    EXPECT_FALSE(same_secret(std::string("a\0b", 3), "a"));
}

}  // namespace
}  // namespace tricache::node::resp
