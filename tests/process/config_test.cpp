// The cluster-file parser in-process (the process tests cover it end to end).
#include <gtest/gtest.h>

#include "node/config.hpp"
#include "node/server.hpp"

namespace tricache::node {
namespace {

constexpr const char* kGood = R"(
cluster_id = "prod"
[store]
max_entries = 10
max_bytes = 4096
[timeouts]
resend_ms = 11
heartbeat_ms = 12
query_ms = 13
client_timeout_ms = 14
suspect_ms = 100
vc_timeout_ms = 101
vc_backoff_ms = 102
no_quorum_ms = 103
join_retry_ms = 104
[batch]
max_batch_commands = 15
max_in_flight = 3
[limits]
snapshot_chunk_bytes = 1000
snapshot_window = 2
[[nodes]]
id = 3
peer = "10.0.0.3:7000"
client = "tcp://10.0.0.3:7001"
[[nodes]]
id = 1
peer = "10.0.0.1:7000"
client = "10.0.0.1:7001"
)";

TEST(NodeConfig, ParsesEveryFieldIntoTheEngineConfig) {
    auto r = parse_cluster_config(kGood);
    ASSERT_TRUE(std::holds_alternative<ClusterConfig>(r)) << std::get<ConfigError>(r).to_string();
    const auto& c = std::get<ClusterConfig>(r);
    EXPECT_EQ(c.cluster_id, "prod");
    ASSERT_EQ(c.nodes.size(), 2u);
    EXPECT_EQ(c.nodes[0].peer, "tcp://10.0.0.3:7000");
    EXPECT_EQ(c.nodes[1].client, "tcp://10.0.0.1:7001");
    auto ec = engine_config(c, 1, 99);
    EXPECT_EQ(ec.self, 1u);
    EXPECT_EQ(ec.cluster_id, "prod");
    EXPECT_EQ(ec.cluster, (std::vector<protocol::NodeId>{1, 3}));
    EXPECT_EQ(ec.store_limits.max_entries, 10u);
    EXPECT_EQ(ec.store_limits.max_bytes, 4096u);
    EXPECT_EQ(ec.resend_ms, 11u);
    EXPECT_EQ(ec.heartbeat_ms, 12u);
    EXPECT_EQ(ec.query_ms, 13u);
    EXPECT_EQ(ec.client_timeout_ms, 14u);
    EXPECT_EQ(ec.max_batch_commands, 15u);
    EXPECT_EQ(ec.max_in_flight, 3u);
    EXPECT_EQ(ec.suspect_ms, 100u);
    EXPECT_EQ(ec.vc_timeout_ms, 101u);
    EXPECT_EQ(ec.vc_backoff_ms, 102u);
    EXPECT_EQ(ec.no_quorum_ms, 103u);
    EXPECT_EQ(ec.join_retry_ms, 104u);
    EXPECT_EQ(ec.snapshot_chunk_bytes, 1000u);
    EXPECT_EQ(ec.snapshot_window, 2u);
    EXPECT_EQ(ec.seed, 99u);
    EXPECT_FALSE(check_self(c, 3).has_value());
    ASSERT_TRUE(check_self(c, 2).has_value());
    EXPECT_EQ(check_self(c, 2)->field, "--id");
}

TEST(NodeConfig, OverridesApplyAndAreValidated) {
    auto c = std::get<ClusterConfig>(parse_cluster_config(kGood));
    Overrides o;
    o.max_entries = 77;
    o.client_timeout_ms = 500;
    EXPECT_FALSE(apply_overrides(c, o).has_value());
    EXPECT_EQ(c.engine.store_limits.max_entries, 77u);
    EXPECT_EQ(c.engine.client_timeout_ms, 500u);
    Overrides zero;
    zero.max_bytes = 0;
    auto e = apply_overrides(c, zero);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "--max-bytes");
}

TEST(NodeConfig, EndpointsAreNormalised) {
    EXPECT_EQ(normalize_endpoint("h:1"), "tcp://h:1");
    EXPECT_EQ(normalize_endpoint("tcp://127.0.0.1:65535"), "tcp://127.0.0.1:65535");
    EXPECT_FALSE(normalize_endpoint("h"));
    EXPECT_FALSE(normalize_endpoint(":80"));
    EXPECT_FALSE(normalize_endpoint("h:0"));
    EXPECT_FALSE(normalize_endpoint("h:65536"));
    EXPECT_FALSE(normalize_endpoint("h:8x"));
    EXPECT_FALSE(normalize_endpoint("a b:80"));
}

// metrics = "HOST:PORT" is optional per node, normalised like every endpoint,
// and a bad or shared one names its field.
TEST(NodeConfig, MetricsEndpointIsOptionalAndChecked) {
    const std::string base = R"(
cluster_id = "m"
[[nodes]]
id = 1
peer = "127.0.0.1:7000"
client = "127.0.0.1:7001"
)";
    auto plain = parse_cluster_config(base);
    ASSERT_TRUE(std::holds_alternative<ClusterConfig>(plain)) << std::get<ConfigError>(plain).to_string();
    EXPECT_EQ(std::get<ClusterConfig>(plain).nodes[0].metrics, "");

    auto with = parse_cluster_config(base + "metrics = \"127.0.0.1:9100\"\n");
    ASSERT_TRUE(std::holds_alternative<ClusterConfig>(with)) << std::get<ConfigError>(with).to_string();
    EXPECT_EQ(std::get<ClusterConfig>(with).nodes[0].metrics, "tcp://127.0.0.1:9100");

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"metrics = \"127.0.0.1\"\n", "is not HOST:PORT"},
        {"metrics = \"127.0.0.1:0\"\n", "is not HOST:PORT"},
        {"metrics = \"127.0.0.1:99999\"\n", "is not HOST:PORT"},
        {"metrics = 9100\n", "must be a string"},
        {"metrics = \"127.0.0.1:7001\"\n", "already used by nodes[0].client"},
    };
    for (const auto& [line, message] : bad) {
        auto r = parse_cluster_config(base + line);
        ASSERT_TRUE(std::holds_alternative<ConfigError>(r)) << line;
        const auto& e = std::get<ConfigError>(r);
        EXPECT_EQ(e.field, "nodes[0].metrics") << line;
        EXPECT_NE(e.message.find(message), std::string::npos) << line << " -> " << e.message;
    }
}

TEST(NodeConfig, DecodeErrorsMapToClientCodes) {
    using protocol::ErrorCode;
    EXPECT_EQ(client_code_for_decode_error(ErrorCode::TooLarge), ErrorCode::TooLarge);
    for (auto c : {ErrorCode::Truncated, ErrorCode::WrongType, ErrorCode::WrongArity, ErrorCode::UnknownKind,
                   ErrorCode::UnsupportedVersion, ErrorCode::Malformed}) {
        EXPECT_EQ(client_code_for_decode_error(c), ErrorCode::BadRequest) << protocol::error_name(c);
    }
}

TEST(NodeConfig, RateLimitedLogAllowsABurstPerWindowAndCountsTheRest) {
    RateLimitedLog log(2, 1000);
    std::uint64_t suppressed = 0;
    EXPECT_TRUE(log.allow(5000, suppressed));
    EXPECT_TRUE(log.allow(5001, suppressed));
    EXPECT_FALSE(log.allow(5002, suppressed));
    EXPECT_FALSE(log.allow(5999, suppressed));
    EXPECT_TRUE(log.allow(6000, suppressed));
    EXPECT_EQ(suppressed, 2u);
    EXPECT_TRUE(log.allow(6001, suppressed));
    EXPECT_EQ(suppressed, 0u);
}

}  // namespace
}  // namespace tricache::node
