// A real 3-node cluster answers every kind of request through the client
// library, from every node, and all replicas end in the same state.
#include <csignal>

#include "tests/process/harness.hpp"

namespace tricache::process_test {
namespace {

using protocol::ErrorCode;

TEST(ProcessCluster, EveryRequestKindFromEveryNodeAndReplicasAgree) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    std::uint64_t expected_entries = 0;
    for (protocol::NodeId n = 1; n <= 3; ++n) {
        SCOPED_TRACE("node " + std::to_string(n));
        auto c = cluster.client_for({cluster.client_addr(n)});
        const std::string k = "key" + std::to_string(n);

        auto set = c.set(k, "v1");
        ASSERT_TRUE(set) << set.error().to_string();
        EXPECT_TRUE(set.value().ok);

        auto get = c.get(k);
        ASSERT_TRUE(get) << get.error().to_string();
        EXPECT_TRUE(get.value().ok);
        EXPECT_EQ(get.value().value, "v1");

        auto missing = c.get("absent-" + k);
        ASSERT_TRUE(missing);
        EXPECT_FALSE(missing.value().ok);

        auto cas_wrong = c.cas(k, std::string("nope"), "v2");
        ASSERT_TRUE(cas_wrong);
        EXPECT_FALSE(cas_wrong.value().ok);
        EXPECT_EQ(cas_wrong.value().value, "v1");  // the current value comes back
        auto cas_right = c.cas(k, std::string("v1"), "v2");
        ASSERT_TRUE(cas_right);
        EXPECT_TRUE(cas_right.value().ok);
        auto cas_absent = c.cas("new-" + k, std::nullopt, "fresh");
        ASSERT_TRUE(cas_absent);
        EXPECT_TRUE(cas_absent.value().ok);
        auto cas_absent_again = c.cas("new-" + k, std::nullopt, "again");
        ASSERT_TRUE(cas_absent_again);
        EXPECT_FALSE(cas_absent_again.value().ok);

        auto multi = c.multi({protocol::Set{"m-" + k, "x"}, protocol::Get{k}, protocol::Del{"new-" + k},
                              protocol::Get{"new-" + k}});
        ASSERT_TRUE(multi) << multi.error().to_string();
        ASSERT_EQ(multi.value().size(), 4u);
        EXPECT_TRUE(multi.value()[0].ok);
        EXPECT_EQ(multi.value()[1].value, "v2");
        EXPECT_TRUE(multi.value()[2].ok);
        EXPECT_FALSE(multi.value()[3].ok);

        auto del = c.del("m-" + k);
        ASSERT_TRUE(del);
        EXPECT_TRUE(del.value().ok);
        auto del_again = c.del("m-" + k);
        ASSERT_TRUE(del_again);
        EXPECT_FALSE(del_again.value().ok);

        // The coordinator has applied it before answering, so its own store has it.
        auto local = c.local_get(k);
        ASSERT_TRUE(local) << local.error().to_string();
        EXPECT_TRUE(local.value().found);
        EXPECT_EQ(local.value().value, "v2");
        EXPECT_GT(local.value().delivered, 0u);

        auto status = c.status();
        ASSERT_TRUE(status) << status.error().to_string();
        EXPECT_EQ(status.value().node, n);
        EXPECT_TRUE(status.value().ready);
        expected_entries += 1;  // k survives; new-k and m-k were deleted
    }
    // A write through one node is read through another (one total order).
    auto c1 = cluster.client_for({cluster.client_addr(1)});
    auto c3 = cluster.client_for({cluster.client_addr(3)});
    ASSERT_TRUE(c1.set("shared", "from-1"));
    auto read = c3.get("shared");
    ASSERT_TRUE(read);
    EXPECT_EQ(read.value().value, "from-1");
    expected_entries += 1;

    ASSERT_TRUE(cluster.wait_agree());
    auto s = cluster.status(2);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->entries, expected_entries);
}

TEST(ProcessCluster, RetryOfTheSameRequestOnAnotherNodeIsAppliedOnce) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    // Set-if-absent reveals a second application: it would fail the second time.
    protocol::ClientRequest req{protocol::kProtocolVersion, "tricache", 4242, 1,
                                protocol::OpsRequest{{protocol::Cas{"once", std::nullopt, "v"}}}};
    const std::string bytes = protocol::encode(req);
    for (protocol::NodeId n : {1u, 2u, 3u}) {
        SCOPED_TRACE("node " + std::to_string(n));
        RawSocket s(zmq::socket_type::dealer, "tcp://" + cluster.client_addr(n));
        s.send(bytes);
        auto r = s.recv_response(5s);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->client, 4242u);
        EXPECT_EQ(r->request, 1u);
        const auto* ops = std::get_if<protocol::OpsReply>(&r->body);
        ASSERT_NE(ops, nullptr);
        ASSERT_EQ(ops->results.size(), 1u);
        EXPECT_TRUE(ops->results[0].ok) << "applied twice: the retry was not recognised";
    }
    ASSERT_TRUE(cluster.wait_agree());
}

TEST(ProcessCluster, ClientFailsOverFromADeadAddressToALiveNode) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    const auto dead = free_ports(1)[0];
    client::Options o;
    o.servers = {"127.0.0.1:" + std::to_string(dead), cluster.client_addr(2)};
    o.attempt_timeout = 3s;
    o.deadline = 20s;
    auto c = client::Client::connect(o);
    ASSERT_TRUE(c);
    auto start = Clock::now();
    auto r = c.value().set("k", "v");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_GE(Clock::now() - start, 3s);  // it did wait for the dead address first
    // The next request starts at the node that answered: no wait for the dead one.
    start = Clock::now();
    ASSERT_TRUE(c.value().get("k"));
    EXPECT_LT(Clock::now() - start, 2500ms);
}

TEST(ProcessCluster, NoAnswerIsReportedAsOutcomeUnknown) {
    const auto dead = free_ports(2);
    client::Options o;
    o.servers = {"127.0.0.1:" + std::to_string(dead[0]), "127.0.0.1:" + std::to_string(dead[1])};
    o.attempt_timeout = 100ms;
    o.deadline = 600ms;
    auto c = client::Client::connect(o);
    ASSERT_TRUE(c);
    const auto start = Clock::now();
    auto r = c.value().set("k", "v");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::TimeoutOutcomeUnknown);
    EXPECT_TRUE(r.error().outcome_unknown());
    EXPECT_LT(Clock::now() - start, 3s);
}

TEST(ProcessCluster, BadServerAddressIsAnErrorValue) {
    client::Options o;
    o.servers = {"no-port-here"};
    auto c = client::Client::connect(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ErrorCode::BadRequest);
    EXPECT_NE(c.error().detail.find("no-port-here"), std::string::npos);
}

TEST(ProcessCluster, IsolateAndHealAreAnsweredByTheTransport) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    auto c = cluster.client_for({cluster.client_addr(1)});
    auto bad = c.admin({protocol::AdminKind::Isolate, {9}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::BadRequest);
    auto iso = c.admin({protocol::AdminKind::Isolate, {2, 3}});
    ASSERT_TRUE(iso) << iso.error().to_string();
    EXPECT_EQ(iso.value().values, (std::vector<std::uint64_t>{2, 3}));
    auto heal = c.admin({protocol::AdminKind::Heal, {}});
    ASSERT_TRUE(heal) << heal.error().to_string();
    auto log = c.admin({protocol::AdminKind::DebugLog, {}});  // goes to the engine
    ASSERT_TRUE(log) << log.error().to_string();
    EXPECT_NE(cluster.log(1).find("event=isolate isolated_from=2,3"), std::string::npos);
    EXPECT_NE(cluster.log(1).find("event=heal"), std::string::npos);
    // Healed: the cluster commits again.
    ASSERT_TRUE(cluster.wait_ready());
    auto r = c.set("after-heal", "1");
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_TRUE(cluster.wait_agree());
}

// The whole machine stalls (every node paused at once, longer than
// suspect_ms, as a CPU-starved container does): when it resumes, nobody was
// silent while the others listened, so the view stays (R-SUSPECT). The
// timeouts leave room for a slow machine's own scheduling hiccups.
TEST(ProcessCluster, EveryNodeStalledAtOnceResumesInTheSameView) {
    LocalCluster cluster({.extra_toml = "[timeouts]\nheartbeat_ms = 100\nsuspect_ms = 2000\n"});
    ASSERT_TRUE(cluster.wait_ready());
    const protocol::Epoch before = cluster.status(1)->epoch;
    for (protocol::NodeId n = 1; n <= 3; ++n) cluster.node(n).signal(SIGSTOP);
    std::this_thread::sleep_for(4500ms);
    for (protocol::NodeId n = 1; n <= 3; ++n) cluster.node(n).signal(SIGCONT);
    {
        auto c = cluster.client_for(cluster.all_client_addrs());
        auto r = c.set("after", "stall");
        ASSERT_TRUE(r) << r.error().to_string();
    }
    // Nothing to wait for: the absence of a view change is judged after
    // longer than suspect_ms of running, when any suspicion would have fired.
    std::this_thread::sleep_for(2500ms);
    ASSERT_TRUE(cluster.wait_ready());
    for (protocol::NodeId n = 1; n <= 3; ++n) {
        auto s = cluster.status(n);
        ASSERT_TRUE(s);
        EXPECT_EQ(s->epoch, before) << "node " << n << " changed view after a stall of all\n" << cluster.log(n);
        EXPECT_EQ(cluster.log(n).find("event=view_change_proposed"), std::string::npos)
            << "node " << n << " proposed a view change after a stall of all";
    }
    ASSERT_TRUE(cluster.wait_agree());
}

// R-TOTAL-LOSS, R-REBOOTSTRAP, R-HISTORY-ORDER with real processes: node 3 is
// paused (SIGSTOP) while 1 and 2 are killed and restarted, which leaves a
// majority without memory. The operator rebootstraps at node 1, and 1 and 2
// serve the new, empty history. Node 3 resumes still in the old one; it must
// cross into the new one (newer by birth), be re-added and sync, and never
// serve the old data again.
TEST(ProcessCluster, PausedSurvivorOfATotalLossCrossesIntoTheRebootstrappedHistory) {
    LocalCluster cluster({});
    ASSERT_TRUE(cluster.wait_ready());
    {
        auto c = cluster.client_for({cluster.client_addr(3)});
        auto r = c.set("old", "1");
        ASSERT_TRUE(r) << r.error().to_string();
    }
    cluster.node(3).signal(SIGSTOP);
    cluster.node(1).kill_now();
    cluster.node(2).kill_now();
    cluster.start(1, false);
    cluster.start(2, false);
    const auto needs_rebootstrap = [&](protocol::NodeId n) {
        auto s = cluster.status(n);
        return s && s->why_not_ready.find("needs rebootstrap") != std::string::npos;
    };
    ASSERT_TRUE(eventually([&] { return needs_rebootstrap(1); }, 30s)) << cluster.log(1);
    auto c1 = cluster.client_for({cluster.client_addr(1)});
    auto proposed = c1.admin({protocol::AdminKind::Rebootstrap, {}});
    ASSERT_TRUE(proposed) << proposed.error().to_string();
    const auto ready = [&](protocol::NodeId n) {
        auto s = cluster.status(n);
        return s && s->ready;
    };
    ASSERT_TRUE(eventually([&] { return ready(1) && ready(2); }, 30s)) << cluster.log(1);
    const protocol::Epoch history = cluster.status(1)->history;
    EXPECT_GT(history, 1u) << "a new history";
    {
        auto c = cluster.client_for({cluster.client_addr(1), cluster.client_addr(2)});
        auto r = c.set("new", "2");
        ASSERT_TRUE(r) << r.error().to_string();
    }

    cluster.node(3).signal(SIGCONT);
    ASSERT_TRUE(cluster.wait_ready(40s));
    for (protocol::NodeId n = 1; n <= 3; ++n) {
        auto s = cluster.status(n);
        ASSERT_TRUE(s);
        EXPECT_EQ(s->history, history) << "node " << n;
    }
    auto c3 = cluster.client_for({cluster.client_addr(3)});
    auto fresh = c3.get("new");
    ASSERT_TRUE(fresh) << fresh.error().to_string();
    EXPECT_EQ(fresh.value().value, "2");
    auto gone = c3.get("old");
    ASSERT_TRUE(gone) << gone.error().to_string();
    EXPECT_FALSE(gone.value().ok) << "the old history's data is not served";
    ASSERT_TRUE(cluster.wait_agree());
}

}  // namespace
}  // namespace tricache::process_test
