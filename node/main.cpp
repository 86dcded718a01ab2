// tricache-node: one node of a tricache cluster as a process.
//   tricache-node --config cluster.toml --id N [--bootstrap] [--log-level info]
//                 [--delivery-log DIR] [--curve-secret-file FILE] [--redis-password-file FILE]
// Exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not start (e.g. address in
// use), 2 bad command line or configuration (the message names the field).
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "allocator/allocator.hpp"
#include "node/auth/secrets.hpp"
#include "node/config.hpp"
#include "node/server.hpp"

namespace {

using namespace tricache;

// A restarted node must never reuse an incarnation (R-AMNESIA): wall-clock
// milliseconds keep successive starts increasing, random low bits separate two
// starts within the same millisecond. Never 0 or 1 (1 is the bootstrap's).
protocol::Incarnation fresh_incarnation() {
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    const auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(wall).count());
    std::random_device rd;
    const std::uint64_t inc = (ms << 16) | (static_cast<std::uint64_t>(rd()) & 0xffffu);
    return inc > 1 ? inc : 2;
}

int config_error(const node::ConfigError& e) {
    std::fprintf(stderr, "tricache-node: config error: %s\n", e.to_string().c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tricache-node: one node of a replicated in-memory LRU cache"};
    std::string config_path;
    std::uint32_t id = 0;
    bool bootstrap = false;
    bool check_only = false;
    std::string level = "info";
    node::Overrides ov;
    app.add_option("--config", config_path, "cluster file (TOML)")->required();
    app.add_option("--id", id, "this node's id, as in the cluster file")->required();
    app.add_flag("--bootstrap", bootstrap,
                 "first start of the whole cluster: epoch 1, incarnation 1 (never on a restart)");
    app.add_option("--log-level", level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_flag("--check-config", check_only, "validate the configuration and exit");
    std::string delivery_log_dir;
    app.add_option("--delivery-log", delivery_log_dir,
                   "write every delivered transaction and snapshot install to DIR/node-<id>-<incarnation>.log "
                   "(for fault tests; off by default)");
    std::string curve_secret_file, redis_password_file;
    app.add_option("--curve-secret-file", curve_secret_file,
                   "this node's CURVE secret key (tricache keygen NAME writes NAME.key, mode 0600); required when "
                   "the cluster file gives the nodes curve_public keys");
    app.add_option("--redis-password-file", redis_password_file,
                   "a file (mode 0600) holding the Redis endpoint's password: clients must AUTH with it");
    app.add_option("--max-entries", ov.max_entries, "override store.max_entries");
    app.add_option("--max-bytes", ov.max_bytes, "override store.max_bytes");
    app.add_option("--client-timeout-ms", ov.client_timeout_ms, "override timeouts.client_timeout_ms");
    app.add_option("--max-batch-commands", ov.max_batch_commands, "override batch.max_batch_commands");
    app.add_option("--max-in-flight", ov.max_in_flight, "override batch.max_in_flight");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        (void)app.exit(e);
        return 2;
    }

    auto loaded = node::load_cluster_config(config_path);
    if (const auto* e = std::get_if<node::ConfigError>(&loaded)) return config_error(*e);
    auto cluster = std::get<node::ClusterConfig>(std::move(loaded));
    if (auto e = node::apply_overrides(cluster, ov)) return config_error(*e);
    if (auto e = node::check_self(cluster, id)) return config_error(*e);
    auto keys = node::auth::load_node_keys(cluster, id, curve_secret_file);
    if (const auto* e = std::get_if<node::ConfigError>(&keys)) return config_error(*e);
    auto password = node::auth::load_redis_password(redis_password_file);
    if (const auto* e = std::get_if<node::ConfigError>(&password)) return config_error(*e);
    if (check_only) {
        std::printf("config ok: cluster %s, %zu nodes, this is node %u\n", cluster.cluster_id.c_str(),
                    cluster.nodes.size(), id);
        return 0;
    }

    // Block the stop signals in every thread (ZeroMQ's I/O threads inherit the
    // mask) and receive them through a signalfd that the event loop polls.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
        std::perror("tricache-node: pthread_sigmask");
        return 1;
    }
    const int stop_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
    if (stop_fd < 0) {
        std::perror("tricache-node: signalfd");
        return 1;
    }

    auto log = std::make_shared<spdlog::logger>("node", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    log->set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l node=" + std::to_string(id) + " %v");
    log->set_level(spdlog::level::from_str(level));
    log->flush_on(spdlog::level::info);
    log->info("event=allocator name=\"{}\"", allocator::describe());

    node::ServerOptions opts;
    opts.cluster = std::move(cluster);
    opts.self = id;
    opts.bootstrap = bootstrap;
    opts.incarnation = bootstrap ? 1 : fresh_incarnation();
    opts.seed = std::random_device{}() ^ (std::uint64_t{id} << 32);
    opts.delivery_log_dir = delivery_log_dir;
    opts.curve = std::get<std::optional<curve::KeyPair>>(std::move(keys));
    opts.redis_password = std::get<std::string>(std::move(password));
    auto created = node::Server::create(std::move(opts), log);
    if (const auto* err = std::get_if<std::string>(&created)) {
        log->critical("event=start_failed error=\"{}\"", *err);
        close(stop_fd);
        return 1;
    }
    auto& server = *std::get<std::unique_ptr<node::Server>>(created);
    server.run(stop_fd);

    signalfd_siginfo info{};
    const auto got = read(stop_fd, &info, sizeof info);
    const char* name = got == static_cast<ssize_t>(sizeof info) && info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
    const auto s = server.engine().status();
    log->info("event=stop signal={} delivered={} log_hash={:016x} digest={:016x} entries={}", name, s.delivered,
              s.log_hash, s.digest, s.entries);
    close(stop_fd);
    return 0;
}
