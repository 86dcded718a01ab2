// Hostile input over real sockets: a client gets the named error, a peer's
// junk is dropped with a log line, and the node keeps serving and loses nothing.
#include <algorithm>

#include "tests/process/harness.hpp"

namespace tricache::process_test {
namespace {

using protocol::ErrorCode;

// 1.5 MiB: above max_key_bytes + max_value_bytes, so the engine's own
// TOO_LARGE is reachable below it; ZeroMQ cuts frames above twice this.
constexpr std::size_t kMaxMessage = 1572864;

LocalCluster::Options hostile_cluster() {
    LocalCluster::Options o;
    o.extra_toml = "[limits]\nmax_message_bytes = " + std::to_string(kMaxMessage) + "\n";
    return o;
}

std::string bin(std::string_view s) {  // msgpack bin 8
    std::string out{'\xc4', static_cast<char>(s.size())};
    return out + std::string(s);
}

struct Expect {
    const char* name;
    std::vector<std::string> frames;
    ErrorCode code;
    std::string detail_prefix;  // "" = any
};

bool has_decoder_prefix(const std::string& detail) {
    for (const char* n : {"TRUNCATED:", "WRONG_TYPE:", "WRONG_ARITY:", "UNKNOWN_KIND:", "UNSUPPORTED_VERSION:",
                          "MALFORMED:", "TOO_LARGE:"}) {
        if (detail.rfind(n, 0) == 0) return true;
    }
    return false;
}

TEST(ProcessHostileInput, ClientGetsNamedErrorsAndTheNodeKeepsServing) {
    LocalCluster cluster(hostile_cluster());
    ASSERT_TRUE(cluster.wait_ready());
    auto c = cluster.client_for({cluster.client_addr(1)});
    ASSERT_TRUE(c.set("keep", "me"));

    const std::string good = protocol::encode(protocol::ClientRequest{
        protocol::kProtocolVersion, "tricache", 7, 1, protocol::OpsRequest{{protocol::Get{"keep"}}}});
    const std::string header = std::string("\x96\x01\x02", 3) + bin("tricache") + "\x07\x01";
    protocol::PeerMessage peer{{protocol::kProtocolVersion, "tricache", 2, 1, 1}, protocol::Heartbeat{}};

    const std::vector<Expect> cases = {
        {"garbage", {"hello, tricache?"}, ErrorCode::BadRequest, ""},
        {"empty frame", {""}, ErrorCode::BadRequest, ""},
        {"truncated", {good.substr(0, good.size() - 3)}, ErrorCode::BadRequest, "TRUNCATED:"},
        {"unknown body kind", {header + "\x91\x63"}, ErrorCode::BadRequest, "UNKNOWN_KIND:"},
        {"peer message on the client port", {protocol::encode(peer)}, ErrorCode::BadRequest, "UNKNOWN_KIND:"},
        {"unsupported version", {std::string("\x96\x09\x02", 3) + bin("tricache") + "\x07\x01\x91\x03"},
         ErrorCode::BadRequest, "UNSUPPORTED_VERSION:"},
        {"wrong type", {std::string("\x96\x01\x02\x05\x07\x01\x91\x03", 8)}, ErrorCode::BadRequest, "WRONG_TYPE:"},
        {"over the codec limit", {std::string(kMaxMessage + 1000, 'x')}, ErrorCode::TooLarge, "TOO_LARGE:"},
        {"two payload frames", {good, good}, ErrorCode::BadRequest, "expected exactly one payload frame"},
    };
    for (const auto& tc : cases) {
        SCOPED_TRACE(tc.name);
        RawSocket s(zmq::socket_type::dealer, "tcp://" + cluster.client_addr(1));
        for (std::size_t i = 0; i < tc.frames.size(); ++i) s.send(tc.frames[i], i + 1 < tc.frames.size());
        auto r = s.recv_response(5s);
        ASSERT_TRUE(r) << "no reply";
        const auto* e = std::get_if<protocol::ErrorReply>(&r->body);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->code, tc.code) << protocol::error_name(e->code) << ": " << e->detail;
        if (tc.detail_prefix.empty()) {
            EXPECT_TRUE(has_decoder_prefix(e->detail)) << e->detail;
        } else {
            EXPECT_EQ(e->detail.rfind(tc.detail_prefix, 0), 0u) << e->detail;
        }
        EXPECT_GT(e->detail.size(), tc.detail_prefix.size()) << "the decoder's detail is missing";
    }

    // Well-formed requests the engine refuses by rule keep their ids.
    struct Ruled {
        const char* name;
        protocol::ClientRequest req;
        ErrorCode code;
    };
    const std::vector<Ruled> ruled = {
        {"wrong cluster", {protocol::kProtocolVersion, "other", 9, 3, protocol::OpsRequest{{protocol::Get{"k"}}}},
         ErrorCode::WrongCluster},
        {"empty key", {protocol::kProtocolVersion, "tricache", 9, 4, protocol::OpsRequest{{protocol::Get{""}}}},
         ErrorCode::BadRequest},
        {"no operations", {protocol::kProtocolVersion, "tricache", 9, 5, protocol::OpsRequest{{}}},
         ErrorCode::BadRequest},
        {"value over max_value_bytes",
         {protocol::kProtocolVersion, "tricache", 9, 6,
          protocol::OpsRequest{{protocol::Set{"big", std::string((1u << 20) + 1000, 'v')}}}},
         ErrorCode::TooLarge},
        {"isolate from an unknown node",
         {protocol::kProtocolVersion, "tricache", 9, 7, protocol::AdminRequest{protocol::AdminKind::Isolate, {42}}},
         ErrorCode::BadRequest},
        {"isolate naming another cluster",
         {protocol::kProtocolVersion, "other", 9, 8, protocol::AdminRequest{protocol::AdminKind::Heal, {}}},
         ErrorCode::WrongCluster},
    };
    for (const auto& tc : ruled) {
        SCOPED_TRACE(tc.name);
        RawSocket s(zmq::socket_type::dealer, "tcp://" + cluster.client_addr(1));
        s.send(protocol::encode(tc.req));
        auto r = s.recv_response(5s);
        ASSERT_TRUE(r) << "no reply";
        EXPECT_EQ(r->client, tc.req.client);
        EXPECT_EQ(r->request, tc.req.request);
        const auto* e = std::get_if<protocol::ErrorReply>(&r->body);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->code, tc.code) << protocol::error_name(e->code) << ": " << e->detail;
    }

    // A frame far over the socket limit: ZeroMQ drops that connection, not the node.
    {
        RawSocket s(zmq::socket_type::dealer, "tcp://" + cluster.client_addr(1));
        s.send(std::string(3 * kMaxMessage, 'x'));
        EXPECT_FALSE(s.recv(500ms).has_value());
    }

    // A REQ client (empty delimiter frame) is answered too.
    {
        RawSocket s(zmq::socket_type::req, "tcp://" + cluster.client_addr(1));
        s.send(good);
        auto r = s.recv_response(5s);
        ASSERT_TRUE(r);
        const auto* ops = std::get_if<protocol::OpsReply>(&r->body);
        ASSERT_NE(ops, nullptr);
        EXPECT_EQ(ops->results.at(0).value, "me");
    }

    // Still serving, nothing lost.
    auto after = c.get("keep");
    ASSERT_TRUE(after) << after.error().to_string();
    EXPECT_EQ(after.value().value, "me");
    ASSERT_TRUE(c.set("more", "x"));
    ASSERT_TRUE(cluster.wait_agree());
    EXPECT_TRUE(cluster.node(1).running());
    EXPECT_NE(cluster.log(1).find("event=client_reject code=BAD_REQUEST"), std::string::npos);
}

// A log line that reports at least one suppressed line before it.
bool reports_suppressed(const std::string& log) {
    for (auto at = log.find("suppressed="); at != std::string::npos; at = log.find("suppressed=", at + 1)) {
        const char c = at + 11 < log.size() ? log[at + 11] : '0';
        if (c >= '1' && c <= '9') return true;
    }
    return false;
}

TEST(ProcessHostileInput, PeerJunkIsDroppedWithRateLimitedLogLines) {
    LocalCluster cluster(hostile_cluster());
    ASSERT_TRUE(cluster.wait_ready());
    auto c = cluster.client_for({cluster.client_addr(1)});
    ASSERT_TRUE(c.set("keep", "me"));

    const protocol::PeerMessage heartbeat{{protocol::kProtocolVersion, "tricache", 2, 1, 1}, protocol::Heartbeat{}};
    auto with_header = [&](std::string cluster_id, protocol::NodeId from) {
        protocol::PeerMessage m = heartbeat;
        m.header.cluster_id = std::move(cluster_id);
        m.header.from = from;
        return protocol::encode(m);
    };
    const std::string valid = protocol::encode(heartbeat);
    {
        RawSocket s(zmq::socket_type::push, cluster.peer_endpoint(1));
        s.send("certainly not msgpack");
        s.send(valid.substr(0, valid.size() / 2));
        s.send(with_header("other-cluster", 2));
        s.send(with_header("tricache", 99));  // not a configured node
        s.send(with_header("tricache", 1));   // claims to be the receiver itself
        s.send(protocol::encode(protocol::ClientRequest{protocol::kProtocolVersion, "tricache", 1, 1,
                                                        protocol::StatusRequest{}}));
        s.send(valid, true);  // two frames: peers send one
        s.send(valid);
        s.send(std::string(kMaxMessage + 10, 'x'));  // over the codec limit
        ASSERT_TRUE(eventually([&] {
            const auto log = cluster.log(1);
            return log.find("reason=wrong_cluster") != std::string::npos &&
                   log.find("reason=TOO_LARGE") != std::string::npos;
        }));
    }
    const std::string log = cluster.log(1);
    for (const char* reason : {"reason=TRUNCATED", "reason=wrong_cluster", "reason=unknown_node",
                               "reason=UNKNOWN_KIND", "reason=multipart", "reason=TOO_LARGE"}) {
        EXPECT_NE(log.find(reason), std::string::npos) << reason << " not logged:\n" << log;
    }

    // A flood is logged at a bounded rate.
    const auto lines_before = std::count(log.begin(), log.end(), '\n');
    {
        RawSocket s(zmq::socket_type::push, cluster.peer_endpoint(1));
        for (int i = 0; i < 2000; ++i) s.send("junk");
        // Wait until the node has read them: it logs a suppressed count on the next allowed line.
        std::this_thread::sleep_for(1100ms);
        s.send("junk");
        ASSERT_TRUE(eventually([&] { return reports_suppressed(cluster.log(1)); }));
    }
    const std::string flooded = cluster.log(1);
    const auto added = std::count(flooded.begin(), flooded.end(), '\n') - lines_before;
    EXPECT_LT(added, 40) << "2000 junk messages produced " << added << " log lines";

    // Still serving, nothing lost, replicas agree.
    EXPECT_TRUE(cluster.node(1).running());
    auto after = c.get("keep");
    ASSERT_TRUE(after) << after.error().to_string();
    EXPECT_EQ(after.value().value, "me");
    ASSERT_TRUE(c.set("more", "x"));
    ASSERT_TRUE(cluster.wait_agree());
}

}  // namespace
}  // namespace tricache::process_test
