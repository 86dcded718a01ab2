// Real-process fault test. Five tricache-node processes on 127.0.0.1, each
// writing a delivery log, serve concurrent clients (set/get/del/cas/multi and
// local gets) while a nemesis SIGKILLs and restarts nodes, pauses them with
// SIGSTOP past suspect_ms, and partitions the cluster through admin isolate.
// Afterwards every fault is repaired, the cluster must come back to one epoch
// with all five members, and the independent checker judges what happened:
// the delivery logs must form one total order (P3, P4, snapshot points on the
// log hash chain), every node must hold the state that replaying that order
// gives (P5, P6), and the clients' history must be linearizable against it,
// local reads included (P7).
//
// The nemesis is random from a printed seed; processes and threads keep real
// time, so a seed names a run's fault plan, not an exact replay.
//   TRICACHE_NEMESIS_SEED=N      fault plan and workload seed (random otherwise)
//   TRICACHE_NEMESIS_SECONDS=S   length of the fault phase (default 25; 150 with TRICACHE_SOAK=1)
//   TRICACHE_NEMESIS_KEEP=DIR    keep logs and delivery logs under DIR even when the run passes
// A failing run always keeps them (the path is printed).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <variant>

#include "checker/checks.hpp"
#include "checker/global_log.hpp"
#include "checker/history.hpp"
#include "checker/replay.hpp"
#include "coordinator/hash.hpp"
#include "coordinator/state_machine.hpp"
#include "curve/keys.hpp"
#include "node/delivery_log.hpp"
#include "sim/convert.hpp"
#include "store/lru_store.hpp"
#include "tests/process/harness.hpp"

namespace tricache::process_test {
namespace {

using protocol::ErrorCode;
using protocol::NodeId;

constexpr NodeId kNodes = 5;
constexpr std::size_t kMaxFaulty = 2;  // a minority of five

std::optional<std::uint64_t> env_u64(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::strtoull(v, nullptr, 10);
}

struct Settings {
    std::uint64_t seed = 0;
    std::chrono::milliseconds run{25000};
    std::size_t clients = 4;
    std::size_t keys = 80;  // a bit more than the store holds, so LRU evictions happen
    std::uint64_t max_entries = 50;
    std::uint64_t max_bytes = 4096;  // values up to ~60 bytes: the byte limit bites too
    std::uint64_t client_timeout_ms = 2000;
    // A paused node reads a request only after SIGCONT and answers within
    // client_timeout_ms from then; waiting longer than pause + that keeps a
    // client from moving on while its old attempt can still arrive somewhere
    // (a retry table remembers only a client's last 64 requests).
    std::chrono::milliseconds max_pause{1200};
    std::chrono::milliseconds attempt_timeout{4500};
    std::uint32_t max_attempts = 4;
    std::string keep_dir;
    bool curve = false;  // every node, and every client, with CURVE keys (ZAP admitting only them)

    static Settings from_env() {
        Settings s;
        s.seed = env_u64("TRICACHE_NEMESIS_SEED").value_or(std::random_device{}() | 1u);
        const bool soak = std::getenv("TRICACHE_SOAK") != nullptr && std::string(std::getenv("TRICACHE_SOAK")) == "1";
        s.run = std::chrono::seconds(env_u64("TRICACHE_NEMESIS_SECONDS").value_or(soak ? 150 : 25));
        if (const char* k = std::getenv("TRICACHE_NEMESIS_KEEP")) s.keep_dir = k;
        return s;
    }
};

// The history's clock: monotonic microseconds since the test began.
class Stopwatch {
public:
    std::uint64_t us() const {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count());
    }
    std::string stamp() const {
        char buf[32];
        std::snprintf(buf, sizeof buf, "t=%.3fs", static_cast<double>(us()) / 1e6);
        return buf;
    }

private:
    Clock::time_point start_ = Clock::now();
};

// Timestamped lines from every thread, printed when the run fails.
class EventLog {
public:
    explicit EventLog(const Stopwatch& watch) : watch_(watch) {}
    void add(const std::string& line) {
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back(watch_.stamp() + " " + line);
    }
    std::string dump() const {
        std::lock_guard<std::mutex> lock(mu_);
        std::string out;
        for (const auto& l : lines_) out += "  " + l + "\n";
        return out;
    }

private:
    const Stopwatch& watch_;
    mutable std::mutex mu_;
    std::vector<std::string> lines_;
};

// A small, fast generator: the test's randomness comes only from the seed.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() {
        s_ += 0x9e3779b97f4a7c15ULL;
        return coordinator::mix64(s_);
    }
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
    bool chance(std::uint64_t percent) { return below(100) < percent; }

private:
    std::uint64_t s_;
};

// ------------------------------------------------------------------ cluster

// Five nodes with delivery logs. Every process is SIGKILLed and reaped when
// the cluster goes out of scope (Process's destructor), whatever happened.
class NemesisCluster {
public:
    explicit NemesisCluster(const Settings& s) {
        const auto ports = free_ports(2 * kNodes);
        if (s.curve) {
            client_pair_ = make_pair();
            for (NodeId id = 1; id <= kNodes; ++id) {
                node_pairs_.push_back(make_pair());
                if (auto e = curve::write_key_pair(key_base(id), node_pairs_.back(), true)) throw std::runtime_error(*e);
            }
        }
        std::string toml = "cluster_id = \"nemesis\"\n\n[store]\nmax_entries = " + std::to_string(s.max_entries) +
                           "\nmax_bytes = " + std::to_string(s.max_bytes) +
                           "\n\n[timeouts]\nheartbeat_ms = 25\nsuspect_ms = 300\nclient_timeout_ms = " +
                           std::to_string(s.client_timeout_ms) + "\n";
        for (NodeId i = 0; i < kNodes; ++i) {
            client_ports_.push_back(ports[2 * i + 1]);
            toml += "\n[[nodes]]\nid = " + std::to_string(i + 1) + "\npeer = \"127.0.0.1:" +
                    std::to_string(ports[2 * i]) + "\"\nclient = \"127.0.0.1:" + std::to_string(ports[2 * i + 1]) +
                    "\"\n";
            if (s.curve) toml += "curve_public = \"" + node_pairs_[i].public_key + "\"\n";
        }
        if (s.curve) toml += "\n[auth]\nclient_keys = [\"" + client_pair_.public_key + "\"]\n";
        config_path_ = dir_.file("cluster.toml");
        write_file(config_path_, toml);
        procs_.resize(kNodes);
        for (NodeId id = 1; id <= kNodes; ++id) start(id, true);
    }

    void start(NodeId id, bool bootstrap) {
        std::vector<std::string> argv{kNodeBin, "--config", config_path_, "--id", std::to_string(id),
                                      "--delivery-log", delivery_dir(), "--log-level", "info"};
        if (bootstrap) argv.emplace_back("--bootstrap");
        if (!node_pairs_.empty()) {
            argv.emplace_back("--curve-secret-file");
            argv.push_back(key_base(id) + ".key");
        }
        procs_.at(id - 1) = std::make_unique<Process>(argv, log_path(id), log_path(id));
    }
    Process& proc(NodeId id) { return *procs_.at(id - 1); }

    std::string endpoint(NodeId id) const { return "tcp://127.0.0.1:" + std::to_string(client_ports_.at(id - 1)); }
    std::vector<std::string> endpoints() const {
        std::vector<std::string> v;
        for (NodeId id = 1; id <= kNodes; ++id) v.push_back(endpoint(id));
        return v;
    }
    // The CURVE keys a client needs, server keys in endpoints() order; nullopt without CURVE.
    std::optional<client::CurveKeys> client_keys() const {
        if (node_pairs_.empty()) return std::nullopt;
        client::CurveKeys k{client_pair_.public_key, client_pair_.secret_key, {}};
        for (const auto& p : node_pairs_) k.server_keys.push_back(p.public_key);
        return k;
    }
    std::string delivery_dir() const { return dir_.file("delivery"); }
    std::string log_path(NodeId id) const { return dir_.file("node-" + std::to_string(id) + ".log"); }
    const std::filesystem::path& dir() const { return dir_.path(); }

    // A fresh client per call: dropping it with linger 0 discards anything
    // still queued, so a request to a dead node never reaches its successor.
    std::optional<protocol::StatusReply> status(NodeId id, std::chrono::milliseconds bound = 400ms) const {
        auto c = one_shot(id, bound);
        if (!c) return std::nullopt;
        auto s = c->status(client::OneNode{0});
        if (!s) return std::nullopt;
        return s.value();
    }
    bool admin(NodeId id, protocol::AdminRequest req, std::chrono::milliseconds bound = 600ms) const {
        auto c = one_shot(id, bound);
        return c && c->admin(std::move(req), client::OneNode{0}).ok();
    }

private:
    std::optional<client::Client> one_shot(NodeId id, std::chrono::milliseconds bound) const {
        client::Options o;
        o.servers = {endpoint(id)};
        o.cluster_id = "nemesis";
        o.attempt_timeout = bound;
        o.deadline = bound;
        if (auto k = client_keys()) {
            o.curve = *k;
            o.curve->server_keys = {k->server_keys.at(id - 1)};
        }
        auto c = client::Client::connect(o);
        if (!c) return std::nullopt;
        return std::move(c).value();
    }

    static curve::KeyPair make_pair() {
        auto made = curve::generate();
        if (auto* e = std::get_if<std::string>(&made)) throw std::runtime_error(*e);
        return std::get<curve::KeyPair>(made);
    }
    std::string key_base(NodeId id) const { return dir_.file("node-" + std::to_string(id) + "-key"); }

    TempDir dir_;
    std::string config_path_;
    std::vector<std::uint16_t> client_ports_;
    std::vector<std::unique_ptr<Process>> procs_;
    std::vector<curve::KeyPair> node_pairs_;  // empty: no CURVE
    curve::KeyPair client_pair_;
};

// Every node answers, is ready in the same epoch, and that epoch's view has
// all five nodes at the incarnations they report.
::testing::AssertionResult all_ready(const NemesisCluster& cluster, std::vector<protocol::StatusReply>* out = nullptr) {
    std::vector<protocol::StatusReply> all;
    std::string why;
    for (NodeId id = 1; id <= kNodes; ++id) {
        auto s = cluster.status(id);
        if (!s) {
            why += "node " + std::to_string(id) + " does not answer; ";
            continue;
        }
        all.push_back(*s);
        why += "node " + std::to_string(id) + " epoch " + std::to_string(s->epoch) + " " +
               (s->ready ? "ready" : "not ready (" + s->why_not_ready + ")") + " members " +
               std::to_string(s->members.size()) + "; ";
    }
    bool ok = all.size() == kNodes;
    for (const auto& s : all) {
        ok = ok && s.ready && s.epoch == all[0].epoch && s.members.size() == kNodes;
        for (const auto& other : all) {
            const bool named = std::any_of(s.members.begin(), s.members.end(), [&](const protocol::Member& m) {
                return m.node == other.node && m.incarnation == other.incarnation;
            });
            ok = ok && named;
        }
    }
    if (!ok) return ::testing::AssertionFailure() << why;
    if (out) *out = std::move(all);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult wait_all_ready(const NemesisCluster& cluster, std::chrono::milliseconds bound) {
    const auto until = Clock::now() + bound;
    ::testing::AssertionResult last = ::testing::AssertionFailure() << "never checked";
    while (Clock::now() < until) {
        last = all_ready(cluster);
        if (last) return last;
        std::this_thread::sleep_for(100ms);
    }
    return last;
}

// ------------------------------------------------------------------ clients

// One history event as a thread saw it; replayed into one History at the end.
struct HistoryEvent {
    enum class Kind : std::uint8_t { Invoke, Complete, LocalRead } kind = Kind::Invoke;
    checker::Invoke invoke;
    checker::Complete complete;
    checker::LocalRead read;
};

struct ClientCounters {
    std::uint64_t ok = 0, fail = 0, info = 0;  // logical requests
    std::uint64_t attempts = 0, unsent = 0, late_replies = 0;
    std::uint64_t local_ok = 0, local_refused = 0;
    std::map<std::string, std::uint64_t> errors;      // every ErrorReply, by name
    std::map<std::string, std::uint64_t> unexpected;  // replies this workload should never get
};

// One client: its own id, one DEALER per node, one request at a time, each
// attempt of it recorded as the checker defines: Ok = a result, Fail = a named
// error that means "not applied", Info = TIMEOUT_OUTCOME_UNKNOWN or no answer.
// A retry goes to another node with the same request id.
class Workload {
public:
    Workload(std::vector<std::string> endpoints, const std::optional<client::CurveKeys>& keys, protocol::ClientId id,
             std::uint64_t seed, const Settings& settings, const Stopwatch& watch)
        : id_(id), rng_(seed), settings_(settings), watch_(watch) {
        for (const auto& e : endpoints) {
            zmq::socket_t s(context_, zmq::socket_type::dealer);
            s.set(zmq::sockopt::linger, 0);
            // Only to connected nodes: nothing waits in a queue for a dead
            // node and reaches its restarted successor much later.
            s.set(zmq::sockopt::immediate, 1);
            s.set(zmq::sockopt::reconnect_ivl, 50);
            s.set(zmq::sockopt::reconnect_ivl_max, 200);
            if (keys) {
                s.set(zmq::sockopt::curve_serverkey, keys->server_keys.at(sockets_.size()));
                s.set(zmq::sockopt::curve_publickey, keys->public_key);
                s.set(zmq::sockopt::curve_secretkey, keys->secret_key);
            }
            s.connect(e);
            sockets_.push_back(std::move(s));
        }
    }

    void run(const std::atomic<bool>& stop) {
        while (!stop.load()) {
            const std::uint64_t pick = rng_.below(100);
            const NodeId node = random_node();
            if (pick < 20) {
                local_get(node, key(rng_.below(settings_.keys)));
            } else {
                request(random_ops(pick), node, &stop);
            }
        }
    }

    // One logical request with retries on other nodes; its outcome as recorded.
    checker::Outcome request(std::vector<protocol::Op> ops, NodeId first, const std::atomic<bool>* stop) {
        const protocol::RequestId rid = ++next_request_;
        const std::string bytes =
            protocol::encode(protocol::ClientRequest{protocol::kProtocolVersion, "nemesis", id_, rid,
                                                     protocol::OpsRequest{ops}});
        const std::vector<checker::Op> cops = sim::to_checker(ops);
        NodeId node = first;
        std::uint32_t attempts = 0;
        bool any_info = false;
        const auto give_up = Clock::now() + settings_.max_attempts * settings_.attempt_timeout;
        for (std::uint32_t tries = 0; attempts < settings_.max_attempts && Clock::now() < give_up; ++tries) {
            if (tries > 0 && stop && stop->load()) break;
            if (tries > 0) node = other_node(node);
            const std::uint64_t t0 = watch_.us();
            if (!send(node, bytes)) {
                ++counters_.unsent;
                std::this_thread::sleep_for(20ms);
                continue;
            }
            ++attempts;
            ++counters_.attempts;
            HistoryEvent inv;
            inv.invoke = checker::Invoke{t0, id_, rid, node, cops};
            events_.push_back(std::move(inv));
            auto body = await(rid, Clock::now() + settings_.attempt_timeout);
            const std::uint64_t t1 = watch_.us();
            auto complete = [&](checker::Outcome o, std::vector<checker::OpResult> results = {}) {
                HistoryEvent done;
                done.kind = HistoryEvent::Kind::Complete;
                done.complete = checker::Complete{t1, id_, rid, o, std::move(results)};
                events_.push_back(std::move(done));
            };
            if (!body) {
                complete(checker::Outcome::Info);
                any_info = true;
                continue;
            }
            if (const auto* r = std::get_if<protocol::OpsReply>(&*body)) {
                if (r->results.size() != ops.size()) {
                    ++counters_.unexpected["OpsReply with " + std::to_string(r->results.size()) + " results for " +
                                           std::to_string(ops.size()) + " ops"];
                    complete(checker::Outcome::Info);
                    ++counters_.info;
                    return checker::Outcome::Info;
                }
                learn(ops, r->results);
                complete(checker::Outcome::Ok, sim::to_checker(r->results));
                ++counters_.ok;
                return checker::Outcome::Ok;
            }
            const auto* e = std::get_if<protocol::ErrorReply>(&*body);
            if (e == nullptr) {
                ++counters_.unexpected["reply of another kind"];
                complete(checker::Outcome::Info);
                ++counters_.info;
                return checker::Outcome::Info;
            }
            const std::string name(protocol::error_name(e->code));
            ++counters_.errors[name];
            switch (e->code) {
                case ErrorCode::TimeoutOutcomeUnknown:
                    complete(checker::Outcome::Info);
                    any_info = true;
                    continue;
                case ErrorCode::NoQuorum:
                case ErrorCode::NotReady:
                case ErrorCode::Overloaded:
                case ErrorCode::Aborted:
                    complete(checker::Outcome::Fail);
                    std::this_thread::sleep_for(std::chrono::milliseconds(rng_.between(20, 80)));
                    continue;
                case ErrorCode::TooLarge:
                case ErrorCode::BadRequest:
                case ErrorCode::WrongCluster:
                    // Definitely not applied, but this workload never earns them.
                    ++counters_.unexpected[name + ": " + e->detail];
                    complete(checker::Outcome::Fail);
                    ++counters_.fail;
                    return any_info ? checker::Outcome::Info : checker::Outcome::Fail;
                default:
                    ++counters_.unexpected[name + ": " + e->detail];
                    complete(checker::Outcome::Info);
                    ++counters_.info;
                    return checker::Outcome::Info;
            }
        }
        if (attempts == 0) return checker::Outcome::Fail;  // never sent: not in the history at all
        ++(any_info ? counters_.info : counters_.fail);
        return any_info ? checker::Outcome::Info : checker::Outcome::Fail;
    }

    // One attempt, no retry: a local read that fails tells nothing.
    std::optional<protocol::LocalGetReply> local_get(NodeId node, const std::string& k) {
        const protocol::RequestId rid = ++next_request_;
        const std::string bytes = protocol::encode(
            protocol::ClientRequest{protocol::kProtocolVersion, "nemesis", id_, rid, protocol::LocalGetRequest{k}});
        const std::uint64_t t0 = watch_.us();
        if (!send(node, bytes)) {
            ++counters_.unsent;
            std::this_thread::sleep_for(10ms);
            return std::nullopt;
        }
        auto body = await(rid, Clock::now() + settings_.attempt_timeout);
        const std::uint64_t t1 = watch_.us();
        if (body) {
            if (const auto* r = std::get_if<protocol::LocalGetReply>(&*body)) {
                HistoryEvent read;
                read.kind = HistoryEvent::Kind::LocalRead;
                read.read = checker::LocalRead{t0, t1, node, k, r->found, r->value, r->delivered, 0};
                events_.push_back(std::move(read));
                ++counters_.local_ok;
                return *r;
            }
            if (const auto* e = std::get_if<protocol::ErrorReply>(&*body)) {
                ++counters_.errors["local " + std::string(protocol::error_name(e->code))];
            }
        }
        ++counters_.local_refused;
        return std::nullopt;
    }

    static std::string key(std::uint64_t i) {
        const std::string n = std::to_string(i);
        return (n.size() < 2 ? "k0" : "k") + n;
    }

    const std::vector<HistoryEvent>& events() const { return events_; }
    const ClientCounters& counters() const { return counters_; }
    protocol::ClientId id() const { return id_; }

private:
    NodeId random_node() { return static_cast<NodeId>(1 + rng_.below(kNodes)); }
    NodeId other_node(NodeId not_this) {
        const auto step = static_cast<NodeId>(1 + rng_.below(kNodes - 1));
        return static_cast<NodeId>((not_this - 1 + step) % kNodes + 1);
    }

    std::string fresh_value() {
        std::string v = "c" + std::to_string(id_ % 1000) + "-" + std::to_string(next_request_) + "-" +
                        std::to_string(++value_counter_);
        v.append(rng_.below(40), 'v');
        return v;
    }

    protocol::Op random_op(std::uint64_t kind) {
        std::string k = key(rng_.below(settings_.keys));
        switch (kind) {
            case 0: return protocol::Get{std::move(k)};
            case 1: return protocol::Set{std::move(k), fresh_value()};
            case 2: return protocol::Del{std::move(k)};
            default: {
                // Mostly the value last seen, so some swaps succeed.
                std::optional<std::string> expected;
                const auto roll = rng_.below(100);
                if (roll < 65) {
                    if (auto it = known_.find(k); it != known_.end()) expected = it->second;
                } else if (roll < 85) {
                    expected = "stale-" + std::to_string(rng_.below(5));
                }
                return protocol::Cas{std::move(k), std::move(expected), fresh_value()};
            }
        }
    }

    // pick in [20, 100): get 20, set 25, del 10, cas 15, multi 10.
    std::vector<protocol::Op> random_ops(std::uint64_t pick) {
        if (pick < 40) return {random_op(0)};
        if (pick < 65) return {random_op(1)};
        if (pick < 75) return {random_op(2)};
        if (pick < 90) return {random_op(3)};
        std::vector<protocol::Op> ops;
        const auto n = rng_.between(2, 4);
        for (std::uint64_t i = 0; i < n; ++i) ops.push_back(random_op(rng_.below(4)));
        return ops;
    }

    // What this client saw last per key: the expected value of later CASes.
    void learn(const std::vector<protocol::Op>& ops, const std::vector<protocol::OpResult>& results) {
        for (std::size_t i = 0; i < ops.size(); ++i) {
            const auto& r = results[i];
            std::visit(
                [&](const auto& op) {
                    using T = std::decay_t<decltype(op)>;
                    if constexpr (std::is_same_v<T, protocol::Get>) {
                        known_[op.key] = r.ok ? r.value : std::nullopt;
                    } else if constexpr (std::is_same_v<T, protocol::Set>) {
                        known_[op.key] = op.value;
                    } else if constexpr (std::is_same_v<T, protocol::Del>) {
                        known_[op.key] = std::nullopt;
                    } else if constexpr (std::is_same_v<T, protocol::Cas>) {
                        known_[op.key] = r.ok ? std::optional<std::string>(op.value) : r.value;
                    }  // the workload sends no other op
                },
                ops[i]);
        }
    }

    bool send(NodeId node, const std::string& bytes) {
        try {
            return sockets_.at(node - 1)
                .send(zmq::const_buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait)
                .has_value();
        } catch (const zmq::error_t&) {
            return false;
        }
    }

    // The reply to `rid` from any node; replies to earlier requests are late and dropped.
    std::optional<protocol::ClientResponseBody> await(protocol::RequestId rid, Clock::time_point until) {
        std::vector<zmq_pollitem_t> items;
        for (auto& s : sockets_) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
        for (;;) {
            const auto now = Clock::now();
            if (now >= until) return std::nullopt;
            try {
                zmq::poll(items, std::chrono::duration_cast<std::chrono::milliseconds>(until - now) + 1ms);
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR) return std::nullopt;
            }
            for (std::size_t i = 0; i < items.size(); ++i) {
                if ((items[i].revents & ZMQ_POLLIN) == 0) continue;
                zmq::message_t msg;
                for (;;) {
                    try {
                        if (!sockets_[i].recv(msg, zmq::recv_flags::dontwait)) break;
                    } catch (const zmq::error_t&) {
                        break;
                    }
                    auto d = protocol::decode_client_response(msg.to_string_view());
                    if (!d) {
                        ++counters_.unexpected["undecodable reply"];
                        continue;
                    }
                    auto resp = std::move(d).value();
                    if (resp.client == id_ && resp.request == rid) return std::move(resp.body);
                    ++counters_.late_replies;
                }
            }
        }
    }

    protocol::ClientId id_;
    Rng rng_;
    const Settings& settings_;
    const Stopwatch& watch_;
    zmq::context_t context_{1};
    std::vector<zmq::socket_t> sockets_;
    protocol::RequestId next_request_ = 0;
    std::uint64_t value_counter_ = 0;
    std::map<std::string, std::optional<std::string>> known_;
    std::vector<HistoryEvent> events_;
    ClientCounters counters_;
};

// ------------------------------------------------------------------ nemesis

class Nemesis {
public:
    Nemesis(NemesisCluster& cluster, const Settings& settings, EventLog& log)
        : cluster_(cluster), settings_(settings), log_(log), rng_(settings.seed ^ 0x6e656d65736973ULL),
          nodes_(kNodes) {}

    // Faults until `until`, then repairs everything: resume, heal, restart.
    void run(Clock::time_point until) {
        auto next_action = Clock::now() + 1s;
        while (Clock::now() < until) {
            const auto now = Clock::now();
            watch_processes();
            undo_due(now);
            track_rejoins();
            retry_heals();
            if (now >= next_action) {
                act();
                next_action = Clock::now() + std::chrono::milliseconds(rng_.between(200, 1200));
            }
            std::this_thread::sleep_for(40ms);
        }
        repair();
    }

    std::uint64_t long_partitions() const { return long_partitions_; }
    // Things that must never happen: a node exiting on its own, a restart that never binds.
    const std::vector<std::string>& problems() const { return problems_; }
    std::string summary() const {
        return std::to_string(kills_) + " kills, " + std::to_string(pauses_) + " pauses, " +
               std::to_string(partitions_) + " partitions (" + std::to_string(long_partitions_) +
               " held >= 1.8 s), " + std::to_string(rejoins_) + " rejoins seen (slowest " +
               std::to_string(slowest_rejoin_ms_) + " ms)";
    }

private:
    enum class State : std::uint8_t { Up, Dead, Rejoining, Paused };
    struct Node {
        State state = State::Up;
        Clock::time_point undo_at{};
        Clock::time_point since{};
        bool isolating = false;  // this process drops traffic from some peers
        std::uint32_t start_failures = 0;
    };

    Node& node(NodeId id) { return nodes_.at(id - 1); }
    static std::string name(NodeId id) { return "node " + std::to_string(id); }

    std::size_t faulty() const {
        std::size_t n = minority_.size();
        for (NodeId id = 1; id <= kNodes; ++id) {
            if (nodes_[id - 1].state != State::Up && minority_.count(id) == 0) ++n;
        }
        return n;
    }
    std::vector<NodeId> healthy() const {
        std::vector<NodeId> v;
        for (NodeId id = 1; id <= kNodes; ++id) {
            if (nodes_[id - 1].state == State::Up && minority_.count(id) == 0) v.push_back(id);
        }
        return v;
    }
    NodeId pick(const std::vector<NodeId>& from) { return from.at(rng_.below(from.size())); }

    void watch_processes() {
        for (NodeId id = 1; id <= kNodes; ++id) {
            Node& n = node(id);
            if (n.state != State::Up && n.state != State::Rejoining) continue;
            auto& p = cluster_.proc(id);
            const auto code = p.wait_exit(0ms);
            if (!code) continue;
            const bool early = n.state == State::Rejoining && Clock::now() - n.since < 2s;
            if (early && *code == 1 && n.start_failures < 5) {
                // The port of the killed process may not be free yet: try again.
                ++n.start_failures;
                log_.add(name(id) + " restart failed (exit 1), retrying");
                cluster_.start(id, false);
                continue;
            }
            const std::string what = name(id) + " exited on its own with status " + std::to_string(*code) +
                                     " (see its log)";
            log_.add("PROBLEM " + what);
            problems_.push_back(what);
            n.state = State::Dead;  // restarted by undo/repair, so the run can still be checked
            n.undo_at = Clock::now();
            n.isolating = false;
        }
    }

    void undo_due(Clock::time_point now) {
        for (NodeId id = 1; id <= kNodes; ++id) {
            Node& n = node(id);
            if (n.state == State::Dead && now >= n.undo_at) restart(id);
            if (n.state == State::Paused && now >= n.undo_at) resume(id);
        }
        if (!minority_.empty() && now >= heal_at_) heal();
    }

    void restart(NodeId id) {
        cluster_.start(id, false);
        Node& n = node(id);
        n.state = State::Rejoining;
        n.since = Clock::now();
        n.start_failures = 0;
        log_.add("restart " + name(id) + " (no --bootstrap)");
    }

    void resume(NodeId id) {
        cluster_.proc(id).signal(SIGCONT);
        node(id).state = State::Up;
        log_.add("SIGCONT " + name(id));
    }

    void track_rejoins() {
        for (NodeId id = 1; id <= kNodes; ++id) {
            Node& n = node(id);
            if (n.state != State::Rejoining) continue;
            auto s = cluster_.status(id, 300ms);
            if (!s || !s->ready) continue;
            const bool member = std::any_of(s->members.begin(), s->members.end(), [&](const protocol::Member& m) {
                return m.node == id && m.incarnation == s->incarnation;
            });
            if (!member) continue;
            const auto took =
                static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - n.since)
                                               .count());
            slowest_rejoin_ms_ = std::max(slowest_rejoin_ms_, took);
            ++rejoins_;
            n.state = State::Up;
            log_.add(name(id) + " re-added (incarnation " + std::to_string(s->incarnation) + ", epoch " +
                     std::to_string(s->epoch) + ") after " + std::to_string(took) + " ms");
        }
    }

    void retry_heals() {
        if (!minority_.empty()) return;
        for (NodeId id = 1; id <= kNodes; ++id) {
            Node& n = node(id);
            if (!n.isolating || n.state == State::Paused || n.state == State::Dead) continue;
            if (cluster_.admin(id, {protocol::AdminKind::Heal, {}})) {
                n.isolating = false;
                log_.add("heal " + name(id) + " (late)");
            }
        }
    }

    void act() {
        const std::size_t budget = kMaxFaulty - std::min(kMaxFaulty, faulty());
        const auto candidates = healthy();
        if (budget == 0 || candidates.empty()) return;
        const auto roll = rng_.below(3);
        if (roll == 0) {
            const NodeId id = pick(candidates);
            cluster_.proc(id).kill_now();
            Node& n = node(id);
            n.state = State::Dead;
            n.isolating = false;
            n.undo_at = Clock::now() + std::chrono::milliseconds(rng_.between(300, 2000));
            ++kills_;
            log_.add("SIGKILL " + name(id));
        } else if (roll == 1) {
            const NodeId id = pick(candidates);
            cluster_.proc(id).signal(SIGSTOP);
            Node& n = node(id);
            n.state = State::Paused;
            n.undo_at = Clock::now() + std::chrono::milliseconds(rng_.between(
                                           400, static_cast<std::uint64_t>(settings_.max_pause.count())));
            ++pauses_;
            log_.add("SIGSTOP " + name(id));
        } else if (minority_.empty()) {
            partition(budget, candidates);
        }
    }

    // Isolates a minority: one node, two nodes each on its own, or a 2|3 split.
    void partition(std::size_t budget, const std::vector<NodeId>& candidates) {
        std::vector<NodeId> pool = candidates;
        const std::size_t k = std::min<std::size_t>({budget, pool.size(), 1 + rng_.below(2)});
        std::set<NodeId> chosen;
        while (chosen.size() < k) chosen.insert(pool.at(rng_.below(pool.size())));
        const bool together = k == 2 && rng_.chance(50);
        std::vector<std::set<NodeId>> sides;
        if (together) {
            sides.push_back(chosen);
        } else {
            for (NodeId id : chosen) sides.push_back({id});
        }
        std::set<NodeId> rest;
        for (NodeId id = 1; id <= kNodes; ++id) {
            if (chosen.count(id) == 0) rest.insert(id);
        }
        sides.push_back(rest);
        std::string text;
        for (const auto& side : sides) {
            text += text.empty() ? "" : " | ";
            for (NodeId id : side) text += std::to_string(id);
        }
        log_.add("partition " + text);
        for (const auto& side : sides) {
            for (NodeId id : side) {
                Node& n = node(id);
                // A paused or dead node is not asked: the request would wait in
                // its socket and isolate it long after the heal.
                if (n.state == State::Paused || n.state == State::Dead) continue;
                protocol::AdminRequest req{protocol::AdminKind::Isolate, {}};
                for (NodeId other = 1; other <= kNodes; ++other) {
                    if (side.count(other) == 0) req.peers.push_back(other);
                }
                n.isolating = true;  // even unanswered, it may have been applied
                if (!cluster_.admin(id, req)) log_.add("isolate at " + name(id) + " not acknowledged");
            }
        }
        minority_ = chosen;
        partition_started_ = Clock::now();
        heal_at_ = partition_started_ + std::chrono::milliseconds(rng_.between(500, 3000));
        ++partitions_;
    }

    void heal() {
        log_.add("heal");
        // R-NO-QUORUM: held well past no_quorum_ms (1 s, the default), the minority must have refused.
        if (Clock::now() - partition_started_ >= std::chrono::milliseconds(1800)) ++long_partitions_;
        minority_.clear();
        for (NodeId id = 1; id <= kNodes; ++id) {
            Node& n = node(id);
            if (!n.isolating || n.state == State::Paused || n.state == State::Dead) continue;
            if (cluster_.admin(id, {protocol::AdminKind::Heal, {}})) {
                n.isolating = false;
            } else {
                log_.add("heal at " + name(id) + " not acknowledged; will retry");
            }
        }
    }

    void repair() {
        log_.add("nemesis ends: repairing");
        for (NodeId id = 1; id <= kNodes; ++id) {
            if (node(id).state == State::Paused) resume(id);
        }
        minority_.clear();
        for (NodeId id = 1; id <= kNodes; ++id) {
            if (node(id).state == State::Dead) restart(id);
        }
        // Heal everyone, isolating or not: cheap, and nothing is left to chance.
        const auto until = Clock::now() + 5s;
        for (NodeId id = 1; id <= kNodes; ++id) {
            while (!cluster_.admin(id, {protocol::AdminKind::Heal, {}}) && Clock::now() < until) {
                std::this_thread::sleep_for(100ms);
            }
            node(id).isolating = false;
        }
        watch_processes();
    }

    NemesisCluster& cluster_;
    const Settings& settings_;
    EventLog& log_;
    Rng rng_;
    std::vector<Node> nodes_;
    std::set<NodeId> minority_;  // nodes cut off by the active partition
    Clock::time_point heal_at_{};
    Clock::time_point partition_started_{};
    std::uint64_t long_partitions_ = 0;  // held for 1.8 s or more
    std::vector<std::string> problems_;
    std::uint64_t kills_ = 0, pauses_ = 0, partitions_ = 0, rejoins_ = 0, slowest_rejoin_ms_ = 0;
};

// ------------------------------------------------------------------ checking

struct LogsRead {
    std::vector<checker::NodeLog> logs;
    // Protocol values per absolute index (1-based, like DeliveredTx::index), for the hash chain.
    std::map<std::uint64_t, protocol::DeliveredRecord> by_index;
    std::vector<std::pair<std::string, protocol::SnapshotInstalledRecord>> snapshots;  // (whose, record)
    std::map<std::pair<NodeId, protocol::Incarnation>, std::uint64_t> ends;  // last index per (node, incarnation)
    std::uint64_t files = 0, records = 0, truncated = 0;
    checker::CheckResult violation;
};

// Segment s > 0 of incarnation i is named i + s * kSegmentStride, as the
// simulator does: the checker tells logs apart by (node, incarnation).
constexpr std::uint64_t kSegmentStride = 1000000;

LogsRead read_logs(const std::string& dir) {
    LogsRead out;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        const std::string base = path.filename().string();
        NodeId node = 0;
        unsigned long long inc = 0;
        if (std::sscanf(base.c_str(), "node-%u-%llu.log", &node, &inc) != 2) continue;
        const protocol::Incarnation incarnation = inc;
        ++out.files;
        auto read = node::read_delivery_log(path.string());
        if (auto* err = std::get_if<std::string>(&read)) {
            out.violation = checker::Violation{"D delivery log", *err};
            return out;
        }
        const auto& contents = std::get<node::DeliveryLogContents>(read);
        if (contents.truncated_tail_bytes > 0) ++out.truncated;
        std::uint64_t segment = 0;
        out.logs.push_back(checker::NodeLog{node, incarnation, 0, {}, std::nullopt});
        for (const auto& rec : contents.records) {
            ++out.records;
            checker::NodeLog* log = &out.logs.back();
            const std::string whose = "node " + std::to_string(node) + " incarnation " + std::to_string(incarnation);
            if (const auto* snap = std::get_if<protocol::SnapshotInstalledRecord>(&rec)) {
                ++segment;
                out.logs.push_back(checker::NodeLog{node, incarnation + segment * kSegmentStride, snap->log_length, {},
                                                    std::nullopt});
                out.snapshots.emplace_back(whose, *snap);
                continue;
            }
            const auto& d = std::get<protocol::DeliveredRecord>(rec);
            if (d.index != log->end_index() + 1) {
                out.violation = checker::Violation{
                    "D delivery log", whose + " delivered index " + std::to_string(d.index) + " right after " +
                                          std::to_string(log->end_index()) +
                                          (segment == 0 && incarnation != 1 ? " without installing a snapshot first"
                                                                             : "")};
                return out;
            }
            coordinator::DeliveredTx tx;
            tx.index = d.index;
            tx.tx = d.tx;
            tx.final_ts = d.final_ts;
            tx.epoch = d.epoch;
            tx.batch = std::make_shared<const protocol::Batch>(d.batch);
            log->entries.push_back(sim::to_checker(tx));
            out.by_index.try_emplace(d.index, d);
            out.ends[{node, incarnation}] = d.index;
        }
    }
    return out;
}

// chain[i]: the log hash after the first i transactions (the engine's chain).
std::vector<std::uint64_t> hash_chain(const LogsRead& logs, std::uint64_t end) {
    std::vector<std::uint64_t> chain{0};
    for (std::uint64_t i = 1; i <= end; ++i) {
        const auto& d = logs.by_index.at(i);
        chain.push_back(coordinator::Hasher{}
                            .add(chain.back())
                            .add(coordinator::hash_transaction(d.tx, d.final_ts, d.batch))
                            .value());
    }
    return chain;
}

std::string tail_lines(const std::string& text, std::size_t n) {
    std::size_t at = text.size();
    for (std::size_t i = 0; i <= n && at > 0; ++i) at = text.rfind('\n', at - 1);
    return at == std::string::npos ? text : text.substr(at + 1);
}

std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return buf;
}

struct FinalRead {
    NodeId node = 0;
    std::string key;
    std::optional<std::string> value;
};

checker::CheckResult check_everything(const LogsRead& logs, const checker::History& history,
                                      const std::vector<protocol::StatusReply>& finals,
                                      const std::vector<FinalRead>& final_reads, const Settings& s,
                                      std::string& stats_line) {
    if (logs.violation) return logs.violation;
    if (history.recording_error()) return history.recording_error();
    auto built = checker::build_global_log(logs.logs);
    if (built.violation) return built.violation;
    const checker::GlobalLog& g = built.log;
    if (g.start != 0) return checker::Violation{"P3 total order", "no delivery log covers index 0"};
    if (auto v = checker::check_epoch_cut(g)) return v;
    const auto chain = hash_chain(logs, g.end_index());

    // Snapshot points lie on the cluster's hash chain: the joiner's prefix is G's.
    for (const auto& [whose, snap] : logs.snapshots) {
        if (snap.log_length > g.end_index()) {
            return checker::Violation{"P3 total order", whose + " installed a snapshot at log length " +
                                                            std::to_string(snap.log_length) + " but G ends at " +
                                                            std::to_string(g.end_index())};
        }
        if (chain[snap.log_length] != snap.log_hash) {
            return checker::Violation{"P3 total order", whose + " installed a snapshot at log length " +
                                                            std::to_string(snap.log_length) + " with log hash " +
                                                            hex(snap.log_hash) + ", but G's chain there is " +
                                                            hex(chain[snap.log_length])};
        }
    }

    // P5: every node ends in the same epoch with G's whole log, its own
    // delivery log complete, and the same store.
    for (const auto& f : finals) {
        const std::string who =
            "node " + std::to_string(f.node) + " (incarnation " + std::to_string(f.incarnation) + ")";
        if (f.epoch != finals[0].epoch) {
            return checker::Violation{"P5 convergence", who + " ends in epoch " + std::to_string(f.epoch) +
                                                            ", node " + std::to_string(finals[0].node) + " in " +
                                                            std::to_string(finals[0].epoch)};
        }
        if (f.delivered != g.end_index()) {
            return checker::Violation{"P5 convergence", who + " delivered " + std::to_string(f.delivered) +
                                                            " transactions but G holds " +
                                                            std::to_string(g.end_index())};
        }
        const auto end = logs.ends.find({f.node, f.incarnation});
        const std::uint64_t logged = end == logs.ends.end() ? 0 : end->second;
        if (logged != f.delivered) {
            return checker::Violation{"D delivery log", who + " reports " + std::to_string(f.delivered) +
                                                            " delivered but its delivery log ends at " +
                                                            std::to_string(logged)};
        }
        if (f.log_hash != chain[g.end_index()]) {
            return checker::Violation{"P5 convergence", who + " reports log hash " + hex(f.log_hash) +
                                                            " but G's chain gives " + hex(chain[g.end_index()])};
        }
        if (f.digest != finals[0].digest || f.entries != finals[0].entries) {
            return checker::Violation{"P5 convergence", who + " has digest " + hex(f.digest) + " and " +
                                                            std::to_string(f.entries) + " entries, node " +
                                                            std::to_string(finals[0].node) + " " +
                                                            hex(finals[0].digest) + " and " +
                                                            std::to_string(finals[0].entries)};
        }
    }

    if (auto v = checker::check_acknowledged_in_log(history, g)) return v;

    // P6, second half: the stores are what replaying G on the reference LRU gives.
    const checker::Limits limits{s.max_entries, s.max_bytes, 64};
    const auto replay = checker::Replay::run(g, limits);
    if (!replay) return checker::Violation{"P6 no acknowledged write lost", "G cannot be replayed"};
    const checker::Contents& contents = replay->final_contents();
    const std::uint64_t want_digest = store::digest_of(contents);
    for (const auto& f : finals) {
        if (f.entries != contents.size() || f.digest != want_digest) {
            return checker::Violation{
                "P6 no acknowledged write lost",
                "node " + std::to_string(f.node) + " holds " + std::to_string(f.entries) + " entries with digest " +
                    hex(f.digest) + " but replaying G gives " + std::to_string(contents.size()) +
                    " entries with digest " + hex(want_digest)};
        }
    }
    std::map<std::string, std::string> replayed(contents.begin(), contents.end());
    for (const auto& r : final_reads) {
        const auto it = replayed.find(r.key);
        const std::optional<std::string> want =
            it == replayed.end() ? std::nullopt : std::optional<std::string>(it->second);
        if (want != r.value) {
            return checker::Violation{"P6 no acknowledged write lost",
                                      "after quiescence node " + std::to_string(r.node) + " holds " +
                                          checker::quote(r.key) + " = " + checker::quote(r.value) +
                                          " but replaying G gives " + checker::quote(want)};
        }
    }

    checker::LinearizabilityStats st;
    if (auto v = checker::check_linearizable(history, g, limits, &st)) return v;
    std::set<std::uint64_t> epochs;
    for (const auto& e : g.entries) epochs.insert(e.epoch);
    // Measured only: one request twice in one batch (a coordinator queued it
    // twice; the retry table absorbs the copy). See nemesis-findings.md.
    std::uint64_t same_batch = 0;
    for (const auto& [index, d] : logs.by_index) {
        std::set<std::pair<protocol::ClientId, protocol::RequestId>> seen;
        for (const auto& c : d.batch) if (!seen.insert({c.client, c.request}).second) ++same_batch;
    }
    stats_line = std::to_string(g.end_index()) + " transactions in G over " + std::to_string(epochs.size()) +
                 " epochs (final epoch " + std::to_string(finals.empty() ? 0 : finals[0].epoch) + "), " +
                 std::to_string(st.commands_in_log) + " commands, " + std::to_string(st.ok_operations) + " ok, " +
                 std::to_string(st.info_in_log) + " info applied, " + std::to_string(st.info_absent) +
                 " info not applied, " + std::to_string(st.duplicates) + " retries absorbed (" +
                 std::to_string(same_batch) + " within one batch), " +
                 std::to_string(st.local_reads) + " local reads (" + std::to_string(st.stale_local_reads) +
                 " stale, max lag " + std::to_string(st.max_local_read_lag) + "), " +
                 std::to_string(logs.snapshots.size()) + " snapshot installs, " + std::to_string(contents.size()) +
                 " entries at the end";
    return std::nullopt;
}

// The clients' history as text, one event per line, for whoever reads a failure.
std::string history_text(const std::vector<const Workload*>& workloads) {
    std::string out;
    for (const Workload* w : workloads) {
        for (const auto& ev : w->events()) {
            switch (ev.kind) {
                case HistoryEvent::Kind::Invoke:
                    out += std::to_string(ev.invoke.time) + " invoke client " + std::to_string(ev.invoke.client) +
                           " request " + std::to_string(ev.invoke.request) + " node " +
                           std::to_string(ev.invoke.node) + " " + checker::to_string(ev.invoke.ops) + "\n";
                    break;
                case HistoryEvent::Kind::Complete:
                    out += std::to_string(ev.complete.time) + " " + checker::to_string(ev.complete.outcome) +
                           " client " + std::to_string(ev.complete.client) + " request " +
                           std::to_string(ev.complete.request) +
                           (ev.complete.outcome == checker::Outcome::Ok ? " " + checker::to_string(ev.complete.results)
                                                                        : std::string()) +
                           "\n";
                    break;
                case HistoryEvent::Kind::LocalRead:
                    out += std::to_string(ev.read.time_invoke) + "-" + std::to_string(ev.read.time_complete) +
                           " local client " + std::to_string(w->id()) + " node " + std::to_string(ev.read.node) +
                           " " + checker::quote(ev.read.key) + " = " +
                           (ev.read.found ? checker::quote(ev.read.value) : std::string("<absent>")) + " after " +
                           std::to_string(ev.read.delivered) + "\n";
                    break;
            }
        }
    }
    return out;
}

std::string keep_artifacts(const NemesisCluster& cluster, const std::string& where, const std::string& history,
                           const std::string& events) {
    std::error_code ec;
    std::filesystem::create_directories(where, ec);
    std::filesystem::copy(cluster.dir(), where,
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing,
                          ec);
    if (ec) return "could not keep artifacts in " + where + ": " + ec.message();
    write_file((std::filesystem::path(where) / "history.txt").string(), history);
    write_file((std::filesystem::path(where) / "nemesis.txt").string(), events);
    return where;
}

// ------------------------------------------------------------------ the delivery log itself

TEST(DeliveryLog, WhatTheWriterAppendsTheReaderReturnsAndACutOffTailIsTolerated) {
    TempDir dir;
    const std::vector<protocol::DeliveryRecord> records{
        protocol::DeliveredRecord{1, {1, 1, 7}, {100, 2}, 1, {{5, 9, {protocol::Set{"k", "v"}, protocol::Get{"k"}}}}},
        protocol::SnapshotInstalledRecord{3, 40, 0xfeedULL},
        protocol::DeliveredRecord{41, {2, 99, 3}, {200, 1}, 3, {}},
    };
    std::string path;
    {
        auto opened = node::DeliveryLogWriter::open(dir.file("logs"), 4, 99);
        ASSERT_TRUE(std::holds_alternative<std::unique_ptr<node::DeliveryLogWriter>>(opened));
        auto& w = *std::get<std::unique_ptr<node::DeliveryLogWriter>>(opened);
        path = w.path();
        EXPECT_EQ(std::filesystem::path(path).filename().string(), "node-4-99.log");
        for (const auto& r : records) EXPECT_FALSE(w.append(r).has_value());
    }
    const std::string bytes = read_file(path);
    auto whole = node::parse_delivery_log(bytes);
    ASSERT_TRUE(std::holds_alternative<node::DeliveryLogContents>(whole)) << std::get<std::string>(whole);
    EXPECT_EQ(std::get<node::DeliveryLogContents>(whole).records, records);
    EXPECT_EQ(std::get<node::DeliveryLogContents>(whole).truncated_tail_bytes, 0u);

    // A kill mid-write leaves any prefix of the last record: the others survive.
    const std::size_t last = bytes.size() - (4 + protocol::encode(records.back()).size());
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        auto part = node::parse_delivery_log(std::string_view(bytes).substr(0, cut));
        ASSERT_TRUE(std::holds_alternative<node::DeliveryLogContents>(part)) << "cut at " << cut;
        const auto& c = std::get<node::DeliveryLogContents>(part);
        if (cut >= last) {
            EXPECT_EQ(c.records.size(), 2u) << "cut at " << cut;
            EXPECT_EQ(c.truncated_tail_bytes, cut - last) << "cut at " << cut;
        }
    }

    // Damage that a kill cannot cause is an error, not a shorter log.
    std::string wrong_magic = bytes;
    wrong_magic[0] = 'X';
    EXPECT_TRUE(std::holds_alternative<std::string>(node::parse_delivery_log(wrong_magic)));
    std::string damaged = bytes;
    damaged[node::kDeliveryLogMagicBytes + 4] = '\xc1';  // a reserved msgpack byte inside the first record
    auto bad = node::parse_delivery_log(damaged);
    ASSERT_TRUE(std::holds_alternative<std::string>(bad));
    EXPECT_NE(std::get<std::string>(bad).find("record 0 does not decode"), std::string::npos)
        << std::get<std::string>(bad);
}

// ------------------------------------------------------------------ the fault test

void run_nemesis(const Settings& settings) {
    std::printf("[ nemesis  ] %sseed=%" PRIu64 " fault phase %lld s (replay the plan: TRICACHE_NEMESIS_SEED=%" PRIu64
                ")\n",
                settings.curve ? "CURVE cluster, " : "", settings.seed, static_cast<long long>(settings.run.count() / 1000), settings.seed);
    std::fflush(stdout);

    Stopwatch watch;
    EventLog events(watch);
    NemesisCluster cluster(settings);
    ASSERT_TRUE(wait_all_ready(cluster, 20s)) << "the bootstrapped cluster never became ready; node 1's log ends:\n"
                                              << tail_lines(read_file(cluster.log_path(1)), 10);
    events.add("cluster ready; workload and nemesis start");

    std::atomic<bool> stop{false};
    std::vector<std::unique_ptr<Workload>> clients;
    for (std::size_t i = 0; i < settings.clients; ++i) {
        clients.push_back(std::make_unique<Workload>(cluster.endpoints(), cluster.client_keys(), 1000 + i, settings.seed * 31 + i,
                                                     settings, watch));
    }
    Nemesis nemesis(cluster, settings, events);
    // Nothing may escape a thread (std::terminate would skip every guard).
    std::mutex thread_errors_mu;
    std::string thread_errors;
    auto guarded = [&](const char* who, const std::function<void()>& body) {
        try {
            body();
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(thread_errors_mu);
            thread_errors += std::string(who) + ": " + e.what() + "; ";
        }
    };
    {
        std::vector<std::thread> threads;
        for (auto& c : clients) {
            threads.emplace_back([&c, &stop, &guarded] { guarded("client", [&] { c->run(stop); }); });
        }
        const auto until = Clock::now() + settings.run;
        std::thread nemesis_thread([&] { guarded("nemesis", [&] { nemesis.run(until); }); });
        nemesis_thread.join();  // bounded: it ends at `until` plus a repair of a few seconds
        stop.store(true);
        events.add("workload stops");
        for (auto& t : threads) t.join();  // each finishes its attempt in flight: bounded by attempt_timeout
    }

    // Everything is repaired: the cluster must come back whole.
    const auto recovered = wait_all_ready(cluster, 30s);
    events.add(recovered ? "all five ready in one epoch" : "NOT all five ready within 30 s");

    // Liveness after repair: a write through every node succeeds.
    Workload probe(cluster.endpoints(), cluster.client_keys(), 999, settings.seed * 31 + 999, settings, watch);
    std::string liveness_problem;
    if (recovered) {
        for (NodeId id = 1; id <= kNodes; ++id) {
            const auto outcome = probe.request({protocol::Set{"probe-" + std::to_string(id), "after-repair"}}, id,
                                               nullptr);
            if (outcome != checker::Outcome::Ok) {
                liveness_problem += "a write through node " + std::to_string(id) + " after repair was not Ok; ";
            }
        }
    }
    // Quiescence: every node reports the same log and store.
    std::vector<protocol::StatusReply> finals;
    bool agree = false;
    const auto agree_until = Clock::now() + 15s;
    while (recovered && Clock::now() < agree_until && !agree) {
        finals.clear();
        agree = static_cast<bool>(all_ready(cluster, &finals));
        for (const auto& f : finals) {
            agree = agree && f.delivered == finals[0].delivered && f.log_hash == finals[0].log_hash &&
                    f.digest == finals[0].digest;
        }
        if (!agree) std::this_thread::sleep_for(100ms);
    }
    std::vector<FinalRead> final_reads;
    if (agree) {
        for (NodeId id = 1; id <= kNodes; ++id) {
            for (std::uint64_t k = 0; k < settings.keys; ++k) {
                const std::string key = probe.key(k);
                auto r = probe.local_get(id, key);
                if (!r) {
                    liveness_problem += "node " + std::to_string(id) + " refused a final local read; ";
                    break;
                }
                final_reads.push_back(FinalRead{id, key, r->found ? std::optional<std::string>(r->value)
                                                                  : std::nullopt});
            }
        }
    }

    // The history, thread by thread (each thread's events are in order).
    checker::History history;
    ClientCounters total;
    auto absorb = [&](const Workload& w) {
        // A recording error is kept by the History and reported by the checks.
        for (const auto& ev : w.events()) {
            switch (ev.kind) {
                case HistoryEvent::Kind::Invoke: (void)history.record_invoke(ev.invoke); break;
                case HistoryEvent::Kind::Complete: (void)history.record_complete(ev.complete); break;
                case HistoryEvent::Kind::LocalRead: (void)history.record_local_read(ev.read); break;
            }
        }
        const auto& c = w.counters();
        total.ok += c.ok;
        total.fail += c.fail;
        total.info += c.info;
        total.attempts += c.attempts;
        total.unsent += c.unsent;
        total.late_replies += c.late_replies;
        total.local_ok += c.local_ok;
        total.local_refused += c.local_refused;
        for (const auto& [k, v] : c.errors) total.errors[k] += v;
        for (const auto& [k, v] : c.unexpected) total.unexpected[k] += v;
    };
    for (const auto& c : clients) absorb(*c);
    absorb(probe);

    const LogsRead logs = read_logs(cluster.delivery_dir());
    std::string stats;
    // Safety first, and always: a liveness failure must not hide a safety one.
    std::vector<checker::Violation> violations;
    if (auto v = check_everything(logs, history, agree ? finals : std::vector<protocol::StatusReply>{},
                                  agree ? final_reads : std::vector<FinalRead>{}, settings, stats)) {
        violations.push_back(*v);
    }
    if (!nemesis.problems().empty()) {
        std::string all;
        for (const auto& p : nemesis.problems()) all += p + "; ";
        violations.push_back({"N node process", all});
    }
    if (!recovered) {
        violations.push_back(
            {"P9 liveness", std::string("not all five nodes ready in one epoch 30 s after the repair: ") +
                                recovered.message()});
    } else if (!agree) {
        std::string why;
        for (const auto& f : finals) {
            why += "node " + std::to_string(f.node) + " delivered " + std::to_string(f.delivered) + " hash " +
                   hex(f.log_hash) + " digest " + hex(f.digest) + "; ";
        }
        violations.push_back({"P5 convergence", "nodes do not agree 15 s after recovery: " + why});
    }
    if (!liveness_problem.empty()) violations.push_back({"P9 liveness", liveness_problem});
    if (!thread_errors.empty()) violations.push_back({"T test thread", thread_errors});
    if (!total.unexpected.empty()) {
        std::string all;
        for (const auto& [k, v] : total.unexpected) all += k + " x" + std::to_string(v) + "; ";
        violations.push_back({"C unexpected replies", all});
    }
    std::string violation_text;
    for (const auto& v : violations) violation_text += "VIOLATION " + v.property + ": " + v.detail + "\n";

    std::string errors;
    for (const auto& [k, v] : total.errors) errors += " " + k + "=" + std::to_string(v);
    const std::string summary =
        "seed " + std::to_string(settings.seed) + ": " + nemesis.summary() + "\n  clients: " +
        std::to_string(total.ok) + " ok, " + std::to_string(total.fail) + " fail, " + std::to_string(total.info) +
        " info, " + std::to_string(total.attempts) + " attempts, " + std::to_string(total.unsent) + " unsent, " +
        std::to_string(total.late_replies) + " late replies, " + std::to_string(total.local_ok) + " local reads (" +
        std::to_string(total.local_refused) + " refused); errors:" + errors + "\n  logs: " +
        std::to_string(logs.files) + " files, " + std::to_string(logs.records) + " records, " +
        std::to_string(logs.truncated) + " with a cut-off tail\n  check: " + (stats.empty() ? "-" : stats);
    std::printf("[ nemesis  ] %s\n", summary.c_str());

    std::string kept;
    if (!violations.empty() || !settings.keep_dir.empty()) {
        const std::string where = settings.keep_dir.empty()
                                      ? (std::filesystem::temp_directory_path() /
                                         ("tricache-nemesis-" + std::to_string(settings.seed)))
                                            .string()
                                      : settings.keep_dir;
        std::vector<const Workload*> all;
        for (const auto& c : clients) all.push_back(c.get());
        all.push_back(&probe);
        kept = keep_artifacts(cluster, where, history_text(all), events.dump());
        std::printf("[ nemesis  ] logs and delivery logs kept in %s\n", kept.c_str());
    }
    EXPECT_TRUE(violations.empty())
        << violation_text << summary << "\nnemesis seed " << settings.seed
        << " (TRICACHE_NEMESIS_SEED=" << settings.seed
        << "), actions:\n"
        << events.dump() << "artifacts: " << kept;
    EXPECT_GT(total.ok, 100u) << "the workload barely ran: " << summary;
    if (nemesis.long_partitions() > 0) {  // R-NO-QUORUM: a minority refuses instead of waiting for the heal
        EXPECT_GT(total.errors["NO_QUORUM"], 0u) << "no request was refused NO_QUORUM: " << summary;
    }
}

TEST(ProcessNemesis, FiveNodesUnderKillsPausesAndPartitionsStayLinearizable) { run_nemesis(Settings::from_env()); }

// The same run over CURVE: every peer link and client connection encrypted and
// admitted by ZAP, through kills, restarts (new connections, new handshakes),
// pauses and partitions, with the same guarantees.
TEST(ProcessNemesis, FiveCurveNodesUnderKillsPausesAndPartitionsStayLinearizable) {
    Settings s = Settings::from_env();
    s.curve = true;
    run_nemesis(s);
}

}  // namespace
}  // namespace tricache::process_test
