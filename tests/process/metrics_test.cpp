// The metrics endpoint end to end: every node's text passes `promtool check
// metrics` and says what `status` and Redis INFO say; a real Prometheus,
// started here on 127.0.0.1 with a generated config, scrapes a 3-node cluster,
// sees the committed-transactions counter rise under load, a node that lost its
// majority, a killed node's target go down and come back with a new
// incarnation. Skipped when promtool, prometheus or curl is not installed
// (scripts/setup installs them).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace tricache::process_test {
namespace {

const std::string kPromtool = "/usr/bin/promtool";
const std::string kPrometheus = "/usr/bin/prometheus";
const std::string kCurl = "/usr/bin/curl";

bool installed(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// GET over HTTP with curl; nullopt when it fails (connection refused, timeout).
std::optional<std::string> http_get(TempDir& dir, const std::string& url, std::vector<std::string> data = {}) {
    std::vector<std::string> argv{kCurl, "-sS", "--fail", "--max-time", "3"};
    if (!data.empty()) argv.emplace_back("-G");
    for (auto& d : data) {
        argv.emplace_back("--data-urlencode");
        argv.push_back(std::move(d));
    }
    argv.push_back(url);
    auto r = run_command(dir, argv, {}, 10s);
    if (r.code != 0) return std::nullopt;
    return r.out;
}

std::string metrics_url(const LocalCluster& c, protocol::NodeId id) {
    return "http://127.0.0.1:" + std::to_string(c.metrics_port(id)) + "/metrics";
}

// The value of one unlabelled series (or one with exactly `labels`) in text exposition.
std::optional<double> sample_value(const std::string& text, const std::string& series) {
    std::size_t at = 0;
    while ((at = text.find(series + " ", at)) != std::string::npos) {
        if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
        at += series.size();
    }
    return std::nullopt;
}

// Redis INFO's `field:value` lines.
std::map<std::string, std::string> info_fields(const std::string& info) {
    std::map<std::string, std::string> out;
    std::size_t at = 0;
    while (at < info.size()) {
        std::size_t end = info.find('\n', at);
        if (end == std::string::npos) end = info.size();
        std::string line = info.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (const auto colon = line.find(':'); colon != std::string::npos && line[0] != '#') {
            out[line.substr(0, colon)] = line.substr(colon + 1);
        }
        at = end + 1;
    }
    return out;
}

// One result of a Prometheus instant query: its labels (as JSON text) and value.
struct QueryResult {
    std::string metric;
    std::string value;
};

// Reads the vector results of /api/v1/query without a JSON library: each is
// {"metric":{...},"value":[TIME,"VALUE"]} and label objects have no nesting.
std::vector<QueryResult> parse_vector(const std::string& body) {
    std::vector<QueryResult> out;
    std::size_t at = 0;
    while ((at = body.find("\"metric\":{", at)) != std::string::npos) {
        const std::size_t close = body.find('}', at);
        const std::size_t value = body.find("\"value\":[", close);
        if (close == std::string::npos || value == std::string::npos) break;
        const std::size_t q1 = body.find('"', body.find(',', value));
        const std::size_t q2 = body.find('"', q1 + 1);
        out.push_back({body.substr(at + 9, close - at - 8), body.substr(q1 + 1, q2 - q1 - 1)});
        at = q2;
    }
    return out;
}

// A Prometheus server in a temporary directory, scraping the given targets every second.
class PrometheusServer {
public:
    PrometheusServer(TempDir& dir, const std::vector<std::uint16_t>& target_ports) : dir_(dir) {
        port_ = free_ports(1).front();
        std::string targets;
        for (auto p : target_ports) targets += (targets.empty() ? "" : ", ") + ("'127.0.0.1:" + std::to_string(p) + "'");
        const std::string config = dir.file("prometheus.yml");
        write_file(config, "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
                           "scrape_configs:\n  - job_name: tricache\n    static_configs:\n      - targets: [" +
                               targets + "]\n");
        process_ = std::make_unique<Process>(
            std::vector<std::string>{kPrometheus, "--config.file=" + config,
                                     "--storage.tsdb.path=" + dir.file("prometheus-data"),
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
            dir.file("prometheus.out"), dir.file("prometheus.log"));
    }
    ~PrometheusServer() { process_->kill_now(); }  // always, whatever the test did
    PrometheusServer(const PrometheusServer&) = delete;
    PrometheusServer& operator=(const PrometheusServer&) = delete;

    std::string api(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    std::optional<std::string> targets() { return http_get(dir_, api("/api/v1/targets")); }
    std::vector<QueryResult> query(const std::string& promql) {
        auto body = http_get(dir_, api("/api/v1/query"), {"query=" + promql});
        if (!body || body->find("\"status\":\"success\"") == std::string::npos) return {};
        return parse_vector(*body);
    }
    // The value of a query that yields one sample, if it does.
    std::optional<double> scalar(const std::string& promql) {
        auto r = query(promql);
        if (r.size() != 1) return std::nullopt;
        return std::stod(r[0].value);
    }
    std::string log() const { return process_->err(); }

private:
    TempDir& dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<Process> process_;
};

std::string instance(const LocalCluster& c, protocol::NodeId id) {
    return "127.0.0.1:" + std::to_string(c.metrics_port(id));
}

TEST(Metrics, EveryNodePassesPromtoolAndAgreesWithStatusAndInfo) {
    if (!installed(kPromtool) || !installed(kCurl)) GTEST_SKIP() << "promtool or curl not installed";
    LocalCluster::Options o;
    o.resp = true;
    o.metrics = true;
    LocalCluster cluster(o);
    ASSERT_TRUE(cluster.wait_ready());
    {
        auto c = cluster.client_for({cluster.client_addr(1)});
        for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.set("k" + std::to_string(i), "v"));
        ASSERT_TRUE(c.get("k1"));
        ASSERT_TRUE(c.get("absent"));
    }
    auto redis = run_command(cluster.dir(), {"/usr/bin/redis-cli", "-p", std::to_string(cluster.resp_port(2)), "GET",
                                             "k3"});
    ASSERT_EQ(redis.code, 0) << redis.err;
    ASSERT_TRUE(cluster.wait_agree());
    std::this_thread::sleep_for(600ms);  // the loop publishes every 250 ms

    for (protocol::NodeId id = 1; id <= 3; ++id) {
        SCOPED_TRACE("node " + std::to_string(id));
        auto text = http_get(cluster.dir(), metrics_url(cluster, id));
        ASSERT_TRUE(text.has_value());
        const std::string file = cluster.dir().fresh("metrics") + ".txt";
        write_file(file, *text);
        auto check = run_command(cluster.dir(), {"/bin/sh", "-c", kPromtool + " check metrics < " + file});
        EXPECT_EQ(check.code, 0) << check.out << check.err;

        for (const char* name :
             {"tricache_requests_total", "tricache_request_duration_seconds_bucket",
              "tricache_transactions_committed_total", "tricache_transactions_aborted_total",
              "tricache_transaction_operations_bucket", "tricache_transactions_in_flight",
              "tricache_view_changes_started_total", "tricache_views_installed_total", "tricache_view_epoch",
              "tricache_history_epoch", "tricache_view_members", "tricache_ready", "tricache_quorum_lost",
              "tricache_majority_unheard_seconds", "tricache_snapshot_sent_bytes_total",
              "tricache_snapshot_received_bytes_total", "tricache_snapshot_install_duration_seconds_bucket",
              "tricache_peer_messages_total", "tricache_peer_bytes_total", "tricache_store_entries",
              "tricache_store_bytes", "tricache_store_evictions_total", "tricache_store_expirations_total",
              "tricache_client_connections", "tricache_node_info"}) {
            EXPECT_NE(text->find(std::string("\n") + name), std::string::npos) << name;
        }
        EXPECT_NE(text->find("tricache_node_info{cluster=\"tricache\",incarnation=\"1\",node=\"" +
                             std::to_string(id) + "\"} 1"),
                  std::string::npos);

        // The same numbers as `status` and INFO (nothing runs now, so nothing moves).
        auto s = cluster.status(id);
        ASSERT_TRUE(s.has_value());
        auto info = run_command(cluster.dir(),
                                {"/usr/bin/redis-cli", "-p", std::to_string(cluster.resp_port(id)), "INFO"});
        ASSERT_EQ(info.code, 0) << info.err;
        auto f = info_fields(info.out);
        std::this_thread::sleep_for(300ms);  // the status requests above are published too, not the numbers below
        text = http_get(cluster.dir(), metrics_url(cluster, id));
        ASSERT_TRUE(text.has_value());
        EXPECT_EQ(sample_value(*text, "tricache_view_epoch"), static_cast<double>(s->epoch));
        EXPECT_EQ(f["tricache_epoch"], std::to_string(s->epoch));
        EXPECT_EQ(sample_value(*text, "tricache_view_members"), static_cast<double>(s->members.size()));
        EXPECT_EQ(sample_value(*text, "tricache_ready"), 1.0);
        EXPECT_EQ(f["tricache_ready"], "1");
        EXPECT_EQ(sample_value(*text, "tricache_store_entries"), static_cast<double>(s->entries));
        EXPECT_EQ(f["db0"], "keys=" + std::to_string(s->entries) + ",expires=0,avg_ttl=0");
        EXPECT_EQ(sample_value(*text, "tricache_log_transactions"), static_cast<double>(s->delivered));
        EXPECT_EQ(f["tricache_delivered"], std::to_string(s->delivered));
        EXPECT_EQ(std::to_string(static_cast<std::uint64_t>(
                      sample_value(*text, "tricache_transactions_committed_total").value_or(-1))),
                  f["tricache_transactions_committed"]);
        EXPECT_EQ(sample_value(*text, "tricache_quorum_lost"), 0.0);
        EXPECT_EQ(f["tricache_quorum_lost"], "0");
    }
    // Node 1 coordinated the native requests: 20 SETs, a GET that found, one that did not.
    auto text = http_get(cluster.dir(), metrics_url(cluster, 1));
    ASSERT_TRUE(text.has_value());
    EXPECT_EQ(sample_value(*text, "tricache_requests_total{door=\"native\",op=\"set\",result=\"ok\"}"), 20.0);
    EXPECT_EQ(sample_value(*text, "tricache_requests_total{door=\"native\",op=\"get\",result=\"not_found\"}"), 1.0);
    EXPECT_GE(sample_value(*text, "tricache_transactions_committed_total").value_or(0), 22.0);
    EXPECT_GE(sample_value(*text, "tricache_client_connections_accepted_total{door=\"native\"}").value_or(0), 1.0);
    auto text2 = http_get(cluster.dir(), metrics_url(cluster, 2));
    ASSERT_TRUE(text2.has_value());
    EXPECT_EQ(sample_value(*text2, "tricache_requests_total{door=\"redis\",op=\"get\",result=\"ok\"}"), 1.0);
}

TEST(Metrics, PrometheusScrapesTheClusterSeesLoadLostMajorityAndRestart) {
    if (!installed(kPrometheus) || !installed(kCurl)) GTEST_SKIP() << "prometheus or curl not installed";
    LocalCluster::Options o;
    o.metrics = true;
    LocalCluster cluster(o);
    ASSERT_TRUE(cluster.wait_ready());
    PrometheusServer prom(cluster.dir(), {cluster.metrics_port(1), cluster.metrics_port(2), cluster.metrics_port(3)});

    // All three targets up, by the targets API and by `up`.
    ASSERT_TRUE(eventually(
        [&] {
            auto t = prom.targets();
            if (!t) return false;
            std::size_t up = 0;
            for (std::size_t at = 0; (at = t->find("\"health\":\"up\"", at)) != std::string::npos; ++at) ++up;
            return up == 3;
        },
        30s))
        << prom.log();
    ASSERT_TRUE(eventually([&] { return prom.scalar("sum(up{job=\"tricache\"})") == 3.0; }, 10s));

    // Under load through every node, the committed-transactions counter rises at each.
    std::atomic<bool> stop{false};
    std::vector<std::thread> load;
    for (protocol::NodeId id = 1; id <= 3; ++id) {
        load.emplace_back([&, id] {
            auto c = cluster.client_for({cluster.client_addr(id)}, 2s);
            for (int i = 0; !stop && i < 100000; ++i) (void)c.set("load" + std::to_string(id), std::to_string(i));
        });
    }
    auto committed = [&](protocol::NodeId id) {
        return prom.scalar("tricache_transactions_committed_total{instance=\"" + instance(cluster, id) + "\"}");
    };
    std::map<protocol::NodeId, double> first;
    const bool seen_first = eventually(
        [&] {
            for (protocol::NodeId id = 1; id <= 3; ++id) {
                auto v = committed(id);
                if (!v || *v <= 0) return false;
                first[id] = *v;
            }
            return true;
        },
        15s);
    const bool rose = seen_first && eventually(
                                        [&] {
                                            for (protocol::NodeId id = 1; id <= 3; ++id) {
                                                auto v = committed(id);
                                                if (!v || *v <= first[id]) return false;
                                            }
                                            return true;
                                        },
                                        15s);
    stop = true;
    for (auto& t : load) t.join();
    ASSERT_TRUE(seen_first) << "no committed transactions scraped";
    ASSERT_TRUE(rose) << "the committed counter did not rise at every node";
    EXPECT_TRUE(eventually([&] { return prom.scalar("min(rate(tricache_transactions_applied_total[5s])) > 0").has_value(); }, 10s));

    // Node 3 cut off from the others: from the metrics alone, it has lost its majority.
    auto admin = [&](protocol::NodeId at, protocol::AdminRequest req) {
        auto c = cluster.client_for({cluster.client_addr(at)}, 2s);
        return static_cast<bool>(c.admin(std::move(req)));
    };
    ASSERT_TRUE(admin(3, {protocol::AdminKind::Isolate, {1, 2}}));
    ASSERT_TRUE(admin(1, {protocol::AdminKind::Isolate, {3}}));
    ASSERT_TRUE(admin(2, {protocol::AdminKind::Isolate, {3}}));
    EXPECT_TRUE(eventually(
        [&] { return prom.scalar("tricache_quorum_lost{instance=\"" + instance(cluster, 3) + "\"}") == 1.0; }, 15s));
    EXPECT_TRUE(eventually(
        [&] {
            auto v = prom.scalar("tricache_majority_unheard_seconds{instance=\"" + instance(cluster, 3) + "\"}");
            return v && *v >= 1.0;
        },
        10s));
    EXPECT_TRUE(eventually([&] { return prom.scalar("sum(tricache_quorum_lost)") == 1.0; }, 5s));
    for (protocol::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(admin(id, {protocol::AdminKind::Heal, {}}));
    EXPECT_TRUE(eventually([&] { return prom.scalar("sum(tricache_quorum_lost)") == 0.0; }, 20s));
    ASSERT_TRUE(cluster.wait_ready(30s));

    // A killed node's target goes down; restarted, it is up with a new incarnation.
    cluster.node(3).kill_now();
    const std::string up3 = "up{instance=\"" + instance(cluster, 3) + "\"}";
    EXPECT_TRUE(eventually([&] { return prom.scalar(up3) == 0.0; }, 15s));
    EXPECT_TRUE(eventually([&] { return prom.scalar("sum(up{job=\"tricache\"})") == 2.0; }, 5s));
    cluster.start(3, false);
    EXPECT_TRUE(eventually([&] { return prom.scalar(up3) == 1.0; }, 20s));
    EXPECT_TRUE(eventually(
        [&] {
            auto r = prom.query("tricache_node_info{node=\"3\"}");
            return r.size() == 1 && r[0].metric.find("\"incarnation\":\"1\"") == std::string::npos &&
                   r[0].metric.find("\"incarnation\":\"") != std::string::npos;
        },
        15s));
    EXPECT_TRUE(cluster.wait_ready(30s));
    EXPECT_TRUE(eventually(
        [&] { return prom.scalar("tricache_ready{instance=\"" + instance(cluster, 3) + "\"}") == 1.0; }, 15s));
    EXPECT_TRUE(eventually(
        [&] {
            auto v = prom.scalar("tricache_snapshots_installed_total{instance=\"" + instance(cluster, 3) + "\"}");
            return v && *v >= 1.0;
        },
        10s));
}

}  // namespace
}  // namespace tricache::process_test
