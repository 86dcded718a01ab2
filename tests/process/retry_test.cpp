// Client retries against a real partitioned cluster: a node cut off from the
// majority is refused promptly (NO_QUORUM, CLI exit 3) rather than retried
// until the deadline, a client that also knows a majority node gets through
// it, and a call that spans the partition's start makes a bounded number of
// attempts (the old loop made tens of thousands).
#include "tests/process/harness.hpp"

namespace tricache::process_test {
namespace {

using protocol::ErrorCode;

// Node `id` says it is not ready (it has left the view it served).
bool not_ready(const LocalCluster& cluster, protocol::NodeId id) {
    auto s = cluster.status(id);
    return s && !s->ready;
}

TEST(ProcessRetries, TheCliAgainstAMinorityNodeExitsThreeWithNoQuorumPromptly) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    ASSERT_TRUE(partition(cluster, {{1}, {2, 3}}));
    ASSERT_TRUE(eventually([&] { return not_ready(cluster, 1); }, 10s)) << "node 1 never noticed the partition";
    const auto start = Clock::now();
    auto r = run_command(cluster.dir(), {kCliBin, "--server", cluster.client_addr(1), "set", "kp1", "v"}, {}, 20s);
    const auto took = Clock::now() - start;
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_NE(r.err.find("NO_QUORUM"), std::string::npos) << r.err;
    // no_quorum_ms (1 s) plus a pause, and a generous margin; the deadline is 12 s.
    EXPECT_LT(took, 5s) << r.err;
    std::printf("CLI against the minority: exit %d in %lld ms: %s", r.code,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
                r.err.c_str());
    // The majority side still serves.
    auto c = cluster.client_for({cluster.client_addr(2)});
    auto set = c.set("kp2", "v");
    EXPECT_TRUE(set) << set.error().to_string();
}

TEST(ProcessRetries, AClientWithAMinorityAndAMajorityServerGetsThroughTheMajority) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    ASSERT_TRUE(partition(cluster, {{1}, {2, 3}}));
    ASSERT_TRUE(eventually([&] { return not_ready(cluster, 1); }, 10s));
    auto c = cluster.client_for({cluster.client_addr(1), cluster.client_addr(2)}, 10s);  // the minority first
    const auto start = Clock::now();
    auto set = c.set("k", "through-the-majority");
    ASSERT_TRUE(set) << set.error().to_string();
    EXPECT_LT(Clock::now() - start, 5s);
    EXPECT_GE(c.last_call().attempts, 1u);
    EXPECT_LT(c.last_call().attempts, 10u);
    auto get = c.get("k");
    ASSERT_TRUE(get) << get.error().to_string();
    EXPECT_EQ(get.value().value, "through-the-majority");
    EXPECT_EQ(c.last_call().attempts, 1u) << "the next call starts at the node that answered";
}

TEST(ProcessRetries, ACallSpanningThePartitionsStartMakesBoundedAttemptsAndNeverClaimsNotApplied) {
    // Nodes give up on a waiting request after 1 s, so within the call's 3 s
    // node 1 answers every kind of thing: silence, TIMEOUT_OUTCOME_UNKNOWN for
    // a copy caught in a transaction it cannot finish, NO_QUORUM to the rest.
    LocalCluster cluster({.nodes = 3, .cluster_id = "tricache", .extra_toml = "[timeouts]\nclient_timeout_ms = 1000\n"});
    ASSERT_TRUE(cluster.wait_ready());
    client::Options o;
    o.servers = {cluster.client_addr(1)};
    o.attempt_timeout = 500ms;
    o.deadline = 3s;
    auto connected = client::Client::connect(o);
    ASSERT_TRUE(connected);
    auto& c = connected.value();
    ASSERT_TRUE(c.set("warm", "up"));
    ASSERT_TRUE(partition(cluster, {{1}, {2, 3}}));
    const auto start = Clock::now();
    auto r = c.set("kp", "v");
    const auto took = Clock::now() - start;
    ASSERT_FALSE(r) << "a minority node applied a write";
    // NO_QUORUM only if node 1 refused the request before it ever sent it.
    EXPECT_TRUE(r.error().code == ErrorCode::TimeoutOutcomeUnknown || r.error().code == ErrorCode::NoQuorum)
        << r.error().to_string();
    EXPECT_LT(took, 5s);
    EXPECT_LT(c.last_call().attempts, 100u) << r.error().to_string();
    std::printf("partition-start call: %s; %zu attempt(s) in %lld ms\n", r.error().to_string().c_str(),
                c.last_call().attempts,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    // Healed, the cluster serves again.
    ASSERT_TRUE(heal(cluster));
    ASSERT_TRUE(cluster.wait_ready());
}

}  // namespace
}  // namespace tricache::process_test
