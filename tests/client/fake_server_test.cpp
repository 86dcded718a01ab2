// The client library against fake nodes: ROUTER sockets on 127.0.0.1 (port
// picked by the kernel) served by a thread that answers as a test tells it.
// Checks the whole retry loop: every retry is paced, every attempt carries the
// same (client id, request id), refusals come back at once when nothing may
// have been applied, and never when something may have.
#include "client/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include <zmq.hpp>

#include "protocol/codec.hpp"

namespace tricache::client {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;
using Clock = std::chrono::steady_clock;

struct Received {
    protocol::ClientId client = 0;
    protocol::RequestId request = 0;
    Clock::time_point at;
};

// What a fake node answers to its n-th request (from 0); nullopt: stays silent.
using Behaviour = std::function<std::optional<protocol::ClientResponseBody>(std::size_t n)>;

class FakeNode {
public:
    explicit FakeNode(Behaviour behaviour) : behaviour_(std::move(behaviour)), socket_(context_, zmq::socket_type::router) {
        socket_.set(zmq::sockopt::linger, 0);
        socket_.bind("tcp://127.0.0.1:0");
        endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeNode() {
        stop_ = true;
        thread_.join();
    }
    FakeNode(const FakeNode&) = delete;
    FakeNode& operator=(const FakeNode&) = delete;

    const std::string& endpoint() const { return endpoint_; }
    std::vector<Received> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }

private:
    void serve() {
        zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
        while (!stop_) {
            if (zmq::poll(&item, 1, 20ms) <= 0) continue;
            std::vector<zmq::message_t> frames;
            for (;;) {
                zmq::message_t m;
                if (!socket_.recv(m, zmq::recv_flags::dontwait)) break;
                const bool more = m.more();
                frames.push_back(std::move(m));
                if (!more) break;
            }
            if (frames.size() != 2) continue;
            auto req = protocol::decode_client_request(frames[1].to_string_view());
            if (!req) continue;
            std::size_t n = 0;
            {
                std::lock_guard lock(mutex_);
                n = received_.size();
                received_.push_back({req.value().client, req.value().request, Clock::now()});
            }
            auto body = behaviour_(n);
            if (!body) continue;
            const std::string reply =
                protocol::encode(protocol::ClientResponse{protocol::kProtocolVersion, req.value().client,
                                                          req.value().request, std::move(*body)});
            socket_.send(frames[0], zmq::send_flags::sndmore);
            socket_.send(zmq::const_buffer(reply.data(), reply.size()), zmq::send_flags::none);
        }
    }

    Behaviour behaviour_;
    zmq::context_t context_{1};
    zmq::socket_t socket_;
    std::string endpoint_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<Received> received_;
    std::thread thread_;
};

protocol::ClientResponseBody refuse(ErrorCode code, std::string detail = "fake") {
    return protocol::ErrorReply{code, std::move(detail)};
}
protocol::ClientResponseBody applied() { return protocol::OpsReply{{protocol::OpResult{true, std::nullopt}}}; }

Client connect(std::vector<std::string> servers, std::chrono::milliseconds attempt_timeout,
               std::chrono::milliseconds deadline) {
    Options o;
    o.servers = std::move(servers);
    o.attempt_timeout = attempt_timeout;
    o.deadline = deadline;
    o.jitter_seed = 11;
    auto c = Client::connect(o);
    if (!c) throw std::runtime_error(c.error().to_string());
    return std::move(c).value();
}

// Every copy the fake nodes saw is one request: the same client and request id.
void expect_one_request(const std::vector<Received>& seen, const Client& c) {
    ASSERT_FALSE(seen.empty());
    for (const auto& r : seen) {
        EXPECT_EQ(r.client, c.id());
        EXPECT_EQ(r.request, seen.front().request);
    }
}

// No two copies at one node closer together than `gap` (the pause floor).
void expect_paced(const std::vector<Received>& seen, std::chrono::milliseconds gap) {
    for (std::size_t i = 1; i < seen.size(); ++i) {
        EXPECT_GE(seen[i].at - seen[i - 1].at, gap) << "copies " << i - 1 << " and " << i;
    }
}

TEST(ClientRetries, ALoneRefusingNodeIsReportedAfterOneAttempt) {
    FakeNode node([](std::size_t) { return refuse(ErrorCode::NoQuorum, "no majority; never sent, not applied"); });
    auto c = connect({node.endpoint()}, 2s, 12s);
    const auto start = Clock::now();
    auto r = c.set("k", "v");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::NoQuorum) << r.error().to_string();
    EXPECT_LT(Clock::now() - start, 5s);  // not the 12 s deadline
    EXPECT_EQ(c.last_call().attempts, 1u);
    EXPECT_EQ(node.received().size(), 1u);
}

TEST(ClientRetries, EveryNodeRefusingIsReportedAfterOneRound) {
    FakeNode a([](std::size_t) { return refuse(ErrorCode::NotReady); });
    FakeNode b([](std::size_t) { return refuse(ErrorCode::NoQuorum); });
    auto c = connect({a.endpoint(), b.endpoint()}, 2s, 12s);
    auto r = c.set("k", "v");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::NoQuorum);
    EXPECT_EQ(c.last_call().attempts, 2u);
    EXPECT_EQ(c.last_call().rounds, 1u);
}

TEST(ClientRetries, ARefusalIsRetriedAtTheNextNode) {
    FakeNode a([](std::size_t) { return refuse(ErrorCode::NoQuorum); });
    FakeNode b([](std::size_t) { return applied(); });
    auto c = connect({a.endpoint(), b.endpoint()}, 2s, 12s);
    auto r = c.set("k", "v");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(c.last_call().attempts, 2u);
    expect_one_request({a.received().front(), b.received().front()}, c);
    // The next call starts at the node that answered.
    ASSERT_TRUE(c.set("k", "w"));
    EXPECT_EQ(c.last_call().attempts, 1u);
    EXPECT_EQ(c.totals().attempts, 3u);
    EXPECT_EQ(c.totals().calls, 2u);
}

TEST(ClientRetries, ARefusalAfterAnUnansweredCopyIsOutcomeUnknownAndRetriesArePaced) {
    // The first copy is never answered (it may be applied); every later copy is
    // refused at once. The old loop resent these without pause.
    FakeNode node([](std::size_t n) -> std::optional<protocol::ClientResponseBody> {
        if (n == 0) return std::nullopt;
        return refuse(ErrorCode::NoQuorum);
    });
    auto c = connect({node.endpoint()}, 100ms, 2s);
    const auto start = Clock::now();
    auto r = c.set("k", "v");
    const auto took = Clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::TimeoutOutcomeUnknown) << r.error().to_string();
    EXPECT_GE(took, 1900ms);  // kept trying to learn the outcome until the deadline
    EXPECT_LT(took, 5s);
    const auto seen = node.received();
    expect_one_request(seen, c);
    EXPECT_EQ(seen.size(), c.last_call().attempts);
    // 2 s, pauses from 25 ms doubling to at least 250 ms: a dozen or so copies.
    EXPECT_LT(c.last_call().attempts, 30u);
    EXPECT_GE(c.last_call().attempts, 3u);
    expect_paced(seen, 20ms);
}

TEST(ClientRetries, ASilentNodeIsResentTheSameRequestAtMostOncePerAttemptTimeout) {
    FakeNode node([](std::size_t) { return std::nullopt; });
    auto c = connect({node.endpoint()}, 200ms, 1500ms);
    auto r = c.set("k", "v");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::TimeoutOutcomeUnknown);
    const auto seen = node.received();
    expect_one_request(seen, c);
    EXPECT_EQ(seen.size(), c.last_call().attempts);
    EXPECT_LE(seen.size(), 8u);  // 1.5 s / 200 ms, plus a little
    expect_paced(seen, 200ms);
}

TEST(ClientRetries, OverloadedIsRetriedWithPausesUntilTheDeadlineAndNotCalledUnknown) {
    FakeNode node([](std::size_t) { return refuse(ErrorCode::Overloaded, "queue full"); });
    auto c = connect({node.endpoint()}, 1s, 1500ms);
    auto r = c.set("k", "v");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Overloaded) << r.error().to_string();
    const auto seen = node.received();
    expect_one_request(seen, c);
    EXPECT_GE(seen.size(), 3u);
    EXPECT_LT(seen.size(), 25u);
    expect_paced(seen, 20ms);
    EXPECT_GT(c.last_call().paused, 1000ms);  // most of the call was spent pausing
}

TEST(ClientRetries, ASilentNodeAndARefusingNodeGiveOutcomeUnknownNotTheRefusal) {
    FakeNode silent([](std::size_t) { return std::nullopt; });
    FakeNode refusing([](std::size_t) { return refuse(ErrorCode::NoQuorum); });
    auto c = connect({silent.endpoint(), refusing.endpoint()}, 150ms, 1500ms);
    auto r = c.set("k", "v");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::TimeoutOutcomeUnknown) << r.error().to_string();
    EXPECT_LT(c.last_call().attempts, 30u);
    expect_paced(refusing.received(), 20ms);
}

TEST(ClientRetries, ALateAnswerFromTheFirstNodeIsTakenWhileWaitingForTheSecond) {
    // Node a answers its copy after 300 ms, node b never: the call gets a's
    // success although it was waiting for b at the time.
    std::atomic<int> answered{0};
    FakeNode a([&](std::size_t) -> std::optional<protocol::ClientResponseBody> {
        std::this_thread::sleep_for(300ms);
        ++answered;
        return applied();
    });
    FakeNode b([](std::size_t) { return std::nullopt; });
    auto c = connect({a.endpoint(), b.endpoint()}, 100ms, 5s);
    const auto start = Clock::now();
    auto r = c.set("k", "v");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_LT(Clock::now() - start, 3s);
    EXPECT_EQ(answered.load(), 1);
}

}  // namespace
}  // namespace tricache::client
