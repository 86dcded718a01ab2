// node/metrics/ in-process: how requests are labelled and timed, and that what
// the exporter serves only ever grows, whatever its sources do.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "node/metrics/exporter.hpp"
#include "node/metrics/peer_traffic.hpp"
#include "node/metrics/request_stats.hpp"

namespace tricache::node::metrics {
namespace {

using namespace tricache::protocol;

ClientResponse reply(ClientId c, RequestId r, ClientResponseBody body) {
    return ClientResponse{kProtocolVersion, c, r, std::move(body)};
}
OpsReply one(bool ok) { return OpsReply{{OpResult{ok, std::nullopt}}}; }

std::size_t op_index(std::string_view name) {
    for (std::size_t i = 0; i < kOps; ++i) {
        if (op_name(i) == name) return i;
    }
    return kOps;
}
std::size_t result_index(std::string_view name) {
    for (std::size_t i = 0; i < kResults; ++i) {
        if (result_name(i) == name) return i;
    }
    return kResults;
}

TEST(RequestLabels, OperationsAndResultsAreNamedAsTheReadmeSays) {
    EXPECT_EQ(op_name(op_of(OpsRequest{{Get{"k"}}})), "get");
    EXPECT_EQ(op_name(op_of(OpsRequest{{Set{"k", "v"}}})), "set");
    EXPECT_EQ(op_name(op_of(OpsRequest{{Set{"k", "v"}, Get{"k"}}})), "multi");
    EXPECT_EQ(op_name(op_of(LocalGetRequest{"k"})), "local_get");
    EXPECT_EQ(op_name(op_of(StatusRequest{})), "status");
    EXPECT_EQ(op_name(op_of(AdminRequest{AdminKind::Heal, {}})), "admin");

    const auto get = op_index("get"), cas = op_index("cas"), multi = op_index("multi");
    EXPECT_EQ(result_name(result_of(one(true), get)), "ok");
    EXPECT_EQ(result_name(result_of(one(false), get)), "not_found");
    EXPECT_EQ(result_name(result_of(one(false), op_index("del"))), "not_found");
    EXPECT_EQ(result_name(result_of(one(false), cas)), "not_applied");
    EXPECT_EQ(result_name(result_of(OpsReply{{OpResult{false, {}}, OpResult{true, {}}}}, multi)), "ok");
    EXPECT_EQ(result_name(result_of(LocalGetReply{false, "", 3}, op_index("local_get"))), "not_found");
    EXPECT_EQ(result_name(result_of(ErrorReply{ErrorCode::NoQuorum, "x"}, get)), "NO_QUORUM");
    EXPECT_EQ(result_name(result_of(ErrorReply{ErrorCode::TimeoutOutcomeUnknown, "x"}, get)), "TIMEOUT_OUTCOME_UNKNOWN");
    EXPECT_EQ(result_name(result_of(ErrorReply{ErrorCode::Truncated, "x"}, get)), "other_error");
}

TEST(RequestStats, CountsEachAnsweredRequestOnceWithItsLatency) {
    RequestStats s;
    s.begin(Door::Native, 1, 1, OpsRequest{{Get{"k"}}}, 1000);
    s.begin(Door::Native, 1, 1, OpsRequest{{Get{"k"}}}, 5000);  // a retry: the first arrival counts
    s.begin(Door::Redis, 2, 1, OpsRequest{{Set{"k", "v"}}}, 1000);
    EXPECT_EQ(s.outstanding(), 2u);
    s.end(reply(1, 1, one(false)), 1300);  // 300 us
    s.end(reply(1, 1, one(false)), 1400);  // the same request answered again: not counted
    s.end(reply(9, 9, one(true)), 1400);   // never begun here: not counted
    s.end(reply(2, 1, ErrorReply{ErrorCode::NoQuorum, ""}), 2001000);  // 2 s
    EXPECT_EQ(s.outstanding(), 0u);
    const auto& c = s.counts();
    const auto native = static_cast<std::size_t>(Door::Native), redis = static_cast<std::size_t>(Door::Redis);
    EXPECT_EQ(c.requests[native][op_index("get")][result_index("not_found")], 1u);
    EXPECT_EQ(c.requests[redis][op_index("set")][result_index("NO_QUORUM")], 1u);
    EXPECT_EQ(c.latency[native][op_index("get")][2], 1u);   // (0.00025, 0.0005]
    EXPECT_EQ(c.latency[redis][op_index("set")][13], 1u);   // (1, 2.5]
    EXPECT_DOUBLE_EQ(c.latency_sum_seconds[native][op_index("get")], 0.0003);

    s.begin(Door::Native, 3, 1, StatusRequest{}, 10);
    s.begin(Door::Native, 3, 2, StatusRequest{}, 5000);
    s.forget_before(1000);  // the unanswered request of long ago is dropped, the recent one kept
    EXPECT_EQ(s.outstanding(), 1u);
}

std::uint16_t free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
    EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

std::string line_of(const std::string& text, const std::string& series) {
    const auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return "";
    return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(Exporter, CountersOnlyGrowAndGaugesFollow) {
    auto opened = Exporter::open("127.0.0.1", free_port(), Identity{4, "c", 77, 1.5});
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Exporter>>(opened)) << std::get<std::string>(opened);
    auto& e = *std::get<std::unique_ptr<Exporter>>(opened);
    NodeSample s;
    s.status.epoch = 3;
    s.status.ready = true;
    s.status.entries = 10;
    s.engine.tx_committed = 5;
    s.engine.ops_per_tx[0] = 5;
    s.engine.ops_committed = 5;
    s.evictions = 8;
    RequestStats requests;
    requests.begin(Door::Native, 1, 1, OpsRequest{{Get{"k"}}}, 0);
    requests.end(reply(1, 1, one(true)), 100);
    PeerTraffic peers;
    peers.drop(Direction::In, "wrong_cluster");
    HistogramCounts installs(snapshot_install_bounds());
    e.publish(s, requests.counts(), peers, installs);
    std::string t = e.text();
    EXPECT_NE(t.find("tricache_node_info{cluster=\"c\",incarnation=\"77\",node=\"4\"} 1"), std::string::npos) << t;
    EXPECT_EQ(line_of(t, "tricache_view_epoch"), "tricache_view_epoch 3");
    EXPECT_EQ(line_of(t, "tricache_ready"), "tricache_ready 1");
    EXPECT_EQ(line_of(t, "tricache_transactions_committed_total"), "tricache_transactions_committed_total 5");
    EXPECT_EQ(line_of(t, "tricache_store_evictions_total"), "tricache_store_evictions_total 8");
    EXPECT_EQ(line_of(t, "tricache_transaction_operations_count"), "tricache_transaction_operations_count 5");
    EXPECT_EQ(line_of(t, "tricache_requests_total{door=\"native\",op=\"get\",result=\"ok\"}"),
              "tricache_requests_total{door=\"native\",op=\"get\",result=\"ok\"} 1");
    EXPECT_EQ(line_of(t, "tricache_peer_messages_dropped_total{direction=\"in\",reason=\"wrong_cluster\"}"),
              "tricache_peer_messages_dropped_total{direction=\"in\",reason=\"wrong_cluster\"} 1");

    // The store restored from a snapshot counts evictions from zero again: the counter goes on from 8.
    s.evictions = 2;
    s.engine.tx_committed = 6;
    s.status.ready = false;
    s.status.epoch = 4;
    installs.observe(0.3);
    e.publish(s, requests.counts(), peers, installs);
    t = e.text();
    EXPECT_EQ(line_of(t, "tricache_store_evictions_total"), "tricache_store_evictions_total 10");
    EXPECT_EQ(line_of(t, "tricache_transactions_committed_total"), "tricache_transactions_committed_total 6");
    EXPECT_EQ(line_of(t, "tricache_ready"), "tricache_ready 0");
    EXPECT_EQ(line_of(t, "tricache_view_epoch"), "tricache_view_epoch 4");
    EXPECT_EQ(line_of(t, "tricache_snapshot_install_duration_seconds_count"),
              "tricache_snapshot_install_duration_seconds_count 1");
    e.publish(s, requests.counts(), peers, installs);  // nothing new: nothing added
    EXPECT_EQ(line_of(e.text(), "tricache_store_evictions_total"), "tricache_store_evictions_total 10");
}

TEST(Exporter, AnAddressInUseIsAnErrorNotACrash) {
    const std::uint16_t port = free_port();
    auto first = Exporter::open("127.0.0.1", port, Identity{});
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Exporter>>(first));
    auto second = Exporter::open("127.0.0.1", port, Identity{});
    ASSERT_TRUE(std::holds_alternative<std::string>(second));
    EXPECT_NE(std::get<std::string>(second).find("cannot serve metrics on 127.0.0.1:"), std::string::npos);
}

}  // namespace
}  // namespace tricache::node::metrics
