// Helpers for tests that run real tricache processes on 127.0.0.1.
// Every wait is bounded; every process started here is SIGKILLed and reaped
// when its guard goes out of scope, whether the test passed or not.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "client/client.hpp"
#include "curve/keys.hpp"
#include "protocol/codec.hpp"

extern char** environ;

namespace tricache::process_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline const std::string kNodeBin = TRICACHE_NODE_BIN;
inline const std::string kCliBin = TRICACHE_CLI_BIN;
inline const std::string kBuildDir = TRICACHE_BUILD_DIR;
inline const std::string kSourceDir = TRICACHE_SOURCE_DIR;

// A fresh directory under /tmp, removed at the end.
class TempDir {
public:
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "tricache-process-XXXXXX").string();
        const char* made = mkdtemp(templ.data());
        if (made == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = made;
    }
    // TRICACHE_KEEP_TEMP=1 keeps the folder (node logs, configs) for a post-mortem.
    ~TempDir() {
        if (const char* keep = std::getenv("TRICACHE_KEEP_TEMP"); keep != nullptr && std::string(keep) == "1") {
            std::fprintf(stderr, "kept %s\n", path_.c_str());
            return;
        }
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    std::string fresh(const std::string& prefix) { return file(prefix + "-" + std::to_string(++counter_)); }

private:
    std::filesystem::path path_;
    int counter_ = 0;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

// Ports the kernel says are free right now (bound to port 0, then released).
inline std::vector<std::uint16_t> free_ports(std::size_t n) {
    std::vector<int> fds;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < n; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof addr;
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot find a free port");
        }
        fds.push_back(fd);  // held until all are picked, so they are distinct
        ports.push_back(ntohs(addr.sin_port));
    }
    for (int fd : fds) close(fd);
    return ports;
}

// A child process with stdout and stderr sent to files. The destructor
// SIGKILLs and reaps it if it is still there.
class Process {
public:
    Process(std::vector<std::string> argv, std::string out_path, std::string err_path,
            std::vector<std::string> extra_env = {})
        : out_path_(std::move(out_path)), err_path_(std::move(err_path)) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        std::vector<std::string> env_strings;
        for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
        for (auto& e : extra_env) env_strings.push_back(e);
        std::vector<char*> env;
        for (auto& e : env_strings) env.push_back(e.data());
        env.push_back(nullptr);
        const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + " failed");
    }
    ~Process() { kill_now(); }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const {
        if (!exited_) ::kill(pid_, sig);
    }
    // Exit code (or 128 + signal) if the process ends within `bound`.
    std::optional<int> wait_exit(std::chrono::milliseconds bound) {
        if (exited_) return status_;
        const auto until = Clock::now() + bound;
        for (;;) {
            int st = 0;
            const pid_t r = waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                return status_;
            }
            if (Clock::now() >= until) return std::nullopt;
            std::this_thread::sleep_for(10ms);
        }
    }
    bool running() { return !wait_exit(0ms).has_value(); }
    void kill_now() {
        if (exited_) return;
        ::kill(pid_, SIGCONT);
        ::kill(pid_, SIGKILL);
        int st = 0;
        waitpid(pid_, &st, 0);
        exited_ = true;
        status_ = 128 + SIGKILL;
    }
    std::string out() const { return read_file(out_path_); }
    std::string err() const { return read_file(err_path_); }

private:
    pid_t pid_ = -1;
    bool exited_ = false;
    int status_ = -1;
    std::string out_path_;
    std::string err_path_;
};

struct CommandResult {
    int code = -1;  // -1: killed after the time bound
    std::string out;
    std::string err;
};

// Runs a command to completion (killed after `bound`).
inline CommandResult run_command(TempDir& dir, std::vector<std::string> argv,
                                 std::vector<std::string> extra_env = {}, std::chrono::milliseconds bound = 20s) {
    const std::string base = dir.fresh("cmd");
    Process p(std::move(argv), base + ".out", base + ".err", std::move(extra_env));
    CommandResult r;
    auto code = p.wait_exit(bound);
    if (!code) p.kill_now();
    r.code = code.value_or(-1);
    r.out = p.out();
    r.err = p.err();
    return r;
}

// A cluster of real tricache-node processes, one config file, all bootstrapped.
class LocalCluster {
public:
    struct Options {
        std::size_t nodes = 3;
        std::string cluster_id = "tricache";
        std::string extra_toml;  // appended to the generated file (e.g. a [limits] table)
        bool resp = false;       // give every node a Redis endpoint too
        bool metrics = false;    // and a Prometheus metrics endpoint
        bool curve = false;      // CURVE keys for every node and one allowed client (client_for uses it)
        std::vector<std::string> node_args{};  // passed to every node (e.g. --redis-password-file FILE)
    };

    explicit LocalCluster(Options opts) : opts_(std::move(opts)) {
        const std::size_t per_node = std::size_t{2} + (opts_.resp ? 1u : 0u) + (opts_.metrics ? 1u : 0u);
        const auto ports = free_ports(per_node * opts_.nodes);
        std::string toml = "cluster_id = \"" + opts_.cluster_id + "\"\n";
        if (opts_.curve) {
            client_pair_ = make_pair();
            toml += "[auth]\nclient_keys = [\"" + client_pair_.public_key + "\"]\n";
            for (std::size_t i = 0; i < opts_.nodes; ++i) {
                node_pairs_.push_back(make_pair());
                const std::string base = dir_.file("node-" + std::to_string(i + 1));
                if (auto e = curve::write_key_pair(base, node_pairs_.back(), true)) throw std::runtime_error(*e);
            }
        }
        for (std::size_t i = 0; i < opts_.nodes; ++i) {
            peer_ports_.push_back(ports[per_node * i]);
            client_ports_.push_back(ports[per_node * i + 1]);
            toml += "\n[[nodes]]\nid = " + std::to_string(i + 1) + "\npeer = \"127.0.0.1:" +
                    std::to_string(ports[per_node * i]) + "\"\nclient = \"127.0.0.1:" +
                    std::to_string(ports[per_node * i + 1]) + "\"\n";
            if (opts_.resp) {
                resp_ports_.push_back(ports[per_node * i + 2]);
                toml += "resp = \"127.0.0.1:" + std::to_string(ports[per_node * i + 2]) + "\"\n";
            }
            if (opts_.metrics) {
                metrics_ports_.push_back(ports[per_node * i + per_node - 1]);
                toml += "metrics = \"127.0.0.1:" + std::to_string(metrics_ports_.back()) + "\"\n";
            }
            if (opts_.curve) toml += "curve_public = \"" + node_pairs_[i].public_key + "\"\n";
        }
        toml += "\n" + opts_.extra_toml + "\n";
        config_path_ = dir_.file("cluster.toml");
        write_file(config_path_, toml);
        for (std::size_t i = 0; i < opts_.nodes; ++i) start(static_cast<protocol::NodeId>(i + 1), true);
    }

    void start(protocol::NodeId id, bool bootstrap, std::vector<std::string> extra = {}) {
        std::vector<std::string> argv{kNodeBin, "--config", config_path_, "--id", std::to_string(id)};
        if (bootstrap) argv.emplace_back("--bootstrap");
        if (opts_.curve) {
            argv.emplace_back("--curve-secret-file");
            argv.push_back(secret_key_path(id));
        }
        for (const auto& a : opts_.node_args) argv.push_back(a);
        for (auto& e : extra) argv.push_back(e);
        if (nodes_.size() < id) nodes_.resize(id);
        nodes_[id - 1] = std::make_unique<Process>(argv, log_path(id), log_path(id));
    }

    Process& node(protocol::NodeId id) { return *nodes_.at(id - 1); }
    std::string log_path(protocol::NodeId id) const { return dir_.file("node-" + std::to_string(id) + ".log"); }
    std::string log(protocol::NodeId id) const { return read_file(log_path(id)); }
    std::string client_addr(protocol::NodeId id) const {
        return "127.0.0.1:" + std::to_string(client_ports_.at(id - 1));
    }
    // The Redis endpoint's port (Options.resp).
    std::uint16_t resp_port(protocol::NodeId id) const { return resp_ports_.at(id - 1); }
    // The metrics endpoint's port (Options.metrics).
    std::uint16_t metrics_port(protocol::NodeId id) const { return metrics_ports_.at(id - 1); }
    std::string peer_endpoint(protocol::NodeId id) const {
        return "tcp://127.0.0.1:" + std::to_string(peer_ports_.at(id - 1));
    }
    std::vector<std::string> all_client_addrs() const {
        std::vector<std::string> v;
        for (std::size_t i = 1; i <= opts_.nodes; ++i) v.push_back(client_addr(static_cast<protocol::NodeId>(i)));
        return v;
    }
    const std::string& config_path() const { return config_path_; }
    // CURVE (Options.curve): node id's secret key file and public key, the allowed client's key pair.
    std::string secret_key_path(protocol::NodeId id) const { return dir_.file("node-" + std::to_string(id) + ".key"); }
    const std::string& node_public_key(protocol::NodeId id) const { return node_pairs_.at(id - 1).public_key; }
    const curve::KeyPair& client_key_pair() const { return client_pair_; }
    // The server keys, in the order of `servers` (client addresses of this cluster).
    std::vector<std::string> server_keys_for(const std::vector<std::string>& servers) const {
        std::vector<std::string> keys;
        for (const auto& s : servers) {
            for (std::size_t i = 1; i <= opts_.nodes; ++i) {
                if (client_addr(static_cast<protocol::NodeId>(i)) == s) keys.push_back(node_public_key(static_cast<protocol::NodeId>(i)));
            }
        }
        return keys;
    }
    TempDir& dir() { return dir_; }
    std::size_t size() const { return opts_.nodes; }
    const std::string& cluster_id() const { return opts_.cluster_id; }

    client::Client client_for(std::vector<std::string> servers, std::chrono::milliseconds deadline = 10s) const {
        client::Options o;
        o.servers = std::move(servers);
        o.cluster_id = opts_.cluster_id;
        o.deadline = deadline;
        o.attempt_timeout = 2s;
        if (opts_.curve) {
            o.curve = client::CurveKeys{client_pair_.public_key, client_pair_.secret_key, server_keys_for(o.servers)};
        }
        auto c = client::Client::connect(o);
        if (!c) throw std::runtime_error(c.error().to_string());
        return std::move(c).value();
    }

    std::optional<protocol::StatusReply> status(protocol::NodeId id) const {
        auto c = client_for({client_addr(id)}, 1s);
        auto s = c.status();
        if (!s) return std::nullopt;
        return s.value();
    }

    // Every node answers status, is ready, and all are in the same epoch.
    ::testing::AssertionResult wait_ready(std::chrono::milliseconds bound = 20s) const {
        const auto until = Clock::now() + bound;
        std::string last;
        while (Clock::now() < until) {
            bool all = true;
            std::optional<protocol::Epoch> epoch;
            last.clear();
            for (std::size_t i = 1; i <= opts_.nodes; ++i) {
                auto s = status(static_cast<protocol::NodeId>(i));
                if (!s) {
                    all = false;
                    last += "node " + std::to_string(i) + " no answer; ";
                    continue;
                }
                last += "node " + std::to_string(i) + " epoch " + std::to_string(s->epoch) +
                        (s->ready ? " ready; " : " not ready; ");
                if (!s->ready || (epoch && *epoch != s->epoch)) all = false;
                epoch = s->epoch;
            }
            if (all) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(50ms);
        }
        return ::testing::AssertionFailure() << "cluster not ready within bound: " << last;
    }

    // Every node reports the same delivered count, log hash and digest.
    ::testing::AssertionResult wait_agree(std::chrono::milliseconds bound = 10s) const {
        const auto until = Clock::now() + bound;
        std::string last;
        while (Clock::now() < until) {
            std::vector<protocol::StatusReply> all;
            last.clear();
            for (std::size_t i = 1; i <= opts_.nodes; ++i) {
                if (auto s = status(static_cast<protocol::NodeId>(i))) {
                    all.push_back(*s);
                    last += "node " + std::to_string(i) + ": delivered " + std::to_string(s->delivered) +
                            " hash " + std::to_string(s->log_hash) + " digest " + std::to_string(s->digest) + "; ";
                }
            }
            bool same = all.size() == opts_.nodes;
            for (const auto& s : all) {
                same = same && s.delivered == all[0].delivered && s.log_hash == all[0].log_hash &&
                       s.digest == all[0].digest && s.entries == all[0].entries;
            }
            if (same) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(50ms);
        }
        return ::testing::AssertionFailure() << "nodes do not agree: " << last;
    }

private:
    static curve::KeyPair make_pair() {
        auto made = curve::generate();
        if (auto* e = std::get_if<std::string>(&made)) throw std::runtime_error(*e);
        return std::get<curve::KeyPair>(made);
    }

    Options opts_;
    TempDir dir_;
    std::vector<curve::KeyPair> node_pairs_;
    curve::KeyPair client_pair_;
    std::string config_path_;
    std::vector<std::uint16_t> peer_ports_;
    std::vector<std::uint16_t> client_ports_;
    std::vector<std::uint16_t> resp_ports_;
    std::vector<std::uint16_t> metrics_ports_;
    std::vector<std::unique_ptr<Process>> nodes_;
};

// A raw ZeroMQ socket for sending hand-made bytes to a node.
class RawSocket {
public:
    RawSocket(zmq::socket_type type, const std::string& endpoint) : socket_(context_, type) {
        socket_.set(zmq::sockopt::linger, 0);
        socket_.connect(endpoint);
    }
    void send(const std::string& bytes, bool more = false) {
        socket_.send(zmq::const_buffer(bytes.data(), bytes.size()),
                     more ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    std::optional<std::string> recv(std::chrono::milliseconds bound = 3s) {
        zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, bound) <= 0) return std::nullopt;
        zmq::message_t m;
        if (!socket_.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
        return m.to_string();
    }
    std::optional<protocol::ClientResponse> recv_response(std::chrono::milliseconds bound = 3s) {
        auto bytes = recv(bound);
        if (!bytes) return std::nullopt;
        auto d = protocol::decode_client_response(*bytes);
        if (!d) return std::nullopt;
        return d.value();
    }

private:
    zmq::context_t context_{1};
    zmq::socket_t socket_;
};

// Waits until `pred()` holds, or the bound passes.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds bound = 5s) {
    const auto until = Clock::now() + bound;
    while (Clock::now() < until) {
        if (pred()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return pred();
}

// Every node of each side drops traffic to and from every node outside its
// side (admin isolate at each node), e.g. {{1}, {2, 3}}.
inline ::testing::AssertionResult partition(const LocalCluster& cluster,
                                            const std::vector<std::vector<protocol::NodeId>>& sides) {
    for (const auto& side : sides) {
        for (protocol::NodeId id : side) {
            protocol::AdminRequest req{protocol::AdminKind::Isolate, {}};
            for (protocol::NodeId other = 1; other <= cluster.size(); ++other) {
                if (std::find(side.begin(), side.end(), other) == side.end()) req.peers.push_back(other);
            }
            auto c = cluster.client_for({cluster.client_addr(id)}, 2s);
            auto r = c.admin(req, client::OneNode{0});
            if (!r) return ::testing::AssertionFailure() << "isolate at node " << id << ": " << r.error().to_string();
        }
    }
    return ::testing::AssertionSuccess();
}

// Undoes partition(): every node hears every other again.
inline ::testing::AssertionResult heal(const LocalCluster& cluster) {
    for (protocol::NodeId id = 1; id <= cluster.size(); ++id) {
        auto c = cluster.client_for({cluster.client_addr(id)}, 2s);
        auto r = c.admin({protocol::AdminKind::Heal, {}}, client::OneNode{0});
        if (!r) return ::testing::AssertionFailure() << "heal at node " << id << ": " << r.error().to_string();
    }
    return ::testing::AssertionSuccess();
}

}  // namespace tricache::process_test
