// tricache-sim: runs the deterministic simulator over consecutive seeds and
// stops at the first violation with a one-line command that replays it.
// Exit status: 0 all runs passed, 1 safety violation, 2 liveness violation.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/runner.hpp"
#include "sim/schedule.hpp"

namespace {

using tricache::sim::RunConfig;

// "3", "3-7" or "3,5,7".
std::optional<std::vector<std::uint32_t>> parse_nodes(const std::string& text) {
    std::vector<std::uint32_t> out;
    try {
        if (const auto dash = text.find('-'); dash != std::string::npos) {
            const auto lo = std::stoul(text.substr(0, dash));
            const auto hi = std::stoul(text.substr(dash + 1));
            for (auto n = lo; n <= hi; ++n) out.push_back(static_cast<std::uint32_t>(n));
        } else {
            std::stringstream ss(text);
            std::string item;
            while (std::getline(ss, item, ',')) out.push_back(static_cast<std::uint32_t>(std::stoul(item)));
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    for (auto n : out) {
        if (n < 3 || n > 7) return std::nullopt;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// A decimal seed, or a hex string such as a git commit hash (its first 16 digits).
std::optional<std::uint64_t> parse_seed(const std::string& text) {
    try {
        if (text.size() >= 17 || (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))) {
            std::string hex = text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0 ? text.substr(2) : text;
            return std::stoull(hex.substr(0, 16), nullptr, 16);
        }
        std::size_t used = 0;
        const auto v = std::stoull(text, &used, 10);
        if (used != text.size()) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// What one run leaves behind in a sweep.
struct RunReport {
    std::string text;
    std::uint64_t client_ops = 0;
    std::uint64_t ok_ops = 0;
    std::uint64_t transactions = 0;
    double sim_seconds = 0.0;
    int exit_code = 0;  // 0 pass, 1 safety, 2 liveness
    bool total_loss = false;     // the run allowed total failure
    bool majority_lost = false;  // ...and a majority really was without memory at once
    bool rebootstrapped = false;  // ...and some node adopted a rebootstrap
};

// Runs indices 0..runs-1 on `jobs` threads and hands the reports to `emit` in
// index order, on the calling thread. Without keep_going, no report after the
// first failing index is emitted, and no run past it is started.
class OrderedRuns {
public:
    OrderedRuns(std::uint64_t runs, std::uint32_t jobs, bool keep_going)
        : runs_(runs), jobs_(jobs), keep_going_(keep_going), stop_after_(runs) {}

    template <typename RunOne, typename Emit>
    void run(RunOne&& run_one, Emit&& emit) {
        const auto work = [&] {
            for (std::uint64_t i = next_++; i < runs_ && i <= stop_after_.load(); i = next_++) {
                RunReport rep = run_one(i);
                const std::lock_guard lock(mu_);
                if (rep.exit_code != 0 && !keep_going_ && i < stop_after_.load()) stop_after_ = i;
                done_.emplace(i, std::move(rep));
                ready_.notify_one();
            }
        };
        std::vector<std::thread> threads;
        for (std::uint32_t j = 0; j < jobs_; ++j) threads.emplace_back(work);
        for (std::uint64_t i = 0; i < runs_; ++i) {
            std::unique_lock lock(mu_);
            ready_.wait(lock, [&] { return done_.count(i) != 0 || i > stop_after_.load(); });
            if (i > stop_after_.load()) break;
            RunReport rep = std::move(done_.at(i));
            done_.erase(i);
            lock.unlock();
            emit(rep);
        }
        for (auto& t : threads) t.join();
    }

private:
    const std::uint64_t runs_;
    const std::uint32_t jobs_;
    const bool keep_going_;
    std::atomic<std::uint64_t> next_{0};
    std::atomic<std::uint64_t> stop_after_;  // the first failing index, without keep_going
    std::mutex mu_;
    std::condition_variable ready_;
    std::map<std::uint64_t, RunReport> done_;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tricache deterministic simulator: seeds in, verdicts out"};
    std::string seed_text;
    std::uint64_t runs = 1;
    std::string nodes_text = "3-7";
    std::uint64_t sim_ms = 2000;
    std::uint64_t bound_ms = 30000;
    double loss = 0.0;
    double dup = 0.0;
    std::uint64_t delay_max = 1;
    double clog = 0.0;
    std::uint64_t clog_max = 200;
    double pause = 0.0;
    std::uint64_t pause_max = 500;
    double codec_rate = 0.2;
    bool swarm = false;
    bool quiet = false;
    bool transcript = false;
    bool keep_going = false;
    std::size_t transcript_lines = 200;
    std::string schedule_file;
    std::uint32_t jobs = 1;

    app.add_option("--seed", seed_text, "first seed: decimal, or hex such as a git commit hash (default: from time)");
    app.add_option("--runs", runs, "number of runs, seeds S, S+1, ...")->check(CLI::PositiveNumber);
    app.add_option("--nodes", nodes_text, "node count, a range (3-7) or a list (3,5,7), each in 3..7");
    app.add_option("--sim-ms,--steps", sim_ms, "simulated milliseconds of load and faults per run");
    app.add_option("--bound-ms", bound_ms, "after healing, the run must be quiet within this (liveness)");
    app.add_option("--loss", loss, "per-send loss probability (links vary around it)");
    app.add_option("--dup", dup, "per-send duplication probability");
    app.add_option("--delay-max", delay_max, "message delays are uniform in [1, delay-max] ms");
    app.add_option("--clog", clog, "chance per ms that one link clogs");
    app.add_option("--clog-max-ms", clog_max, "longest clog");
    app.add_option("--pause", pause, "chance per ms that one node pauses");
    app.add_option("--pause-max-ms", pause_max, "longest pause");
    app.add_option("--codec-rate", codec_rate, "share of messages sent through the real codec");
    app.add_flag("--swarm", swarm, "draw every fault and knob of each run from its seed (overrides the knobs above)");
    app.add_flag("--quiet", quiet, "print only failures and the summary");
    app.add_option("--transcript-lines", transcript_lines, "how many last events --transcript prints");
    app.add_flag("--keep-going", keep_going, "report every failing seed instead of stopping at the first");
    app.add_flag("--transcript", transcript, "on failure, print the last events of the failing run");
    app.add_option("--schedule", schedule_file,
                   "replay a scripted schedule (tests/sim/regressions syntax; its '# nodes=N seed=S' line, else "
                   "--nodes and --seed, choose the cluster), print its transcript and verdict");
    app.add_option("--jobs,-j", jobs, "runs in parallel on this many threads; output and exit status are the same")
        ->check(CLI::Range(1u, 256u));
    CLI11_PARSE(app, argc, argv);

    std::uint64_t seed = 0;
    if (seed_text.empty()) {
        seed = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    } else if (auto s = parse_seed(seed_text)) {
        seed = *s;
    } else {
        std::cerr << "bad --seed '" << seed_text << "'\n";
        return 64;
    }
    std::cout << "seed=" << seed << std::endl;  // first, always
    const auto nodes = parse_nodes(nodes_text);
    if (!nodes) {
        std::cerr << "bad --nodes '" << nodes_text << "': want N, A-B or A,B,C with every count in 3..7\n";
        return 64;
    }

    if (!schedule_file.empty()) {
        std::ifstream in(schedule_file);
        std::stringstream text;
        text << in.rdbuf();
        std::string bad;
        const auto steps = tricache::sim::parse_schedule(text.str(), &bad);
        if (!in || !steps) {
            std::cerr << "cannot read schedule " << schedule_file << (bad.empty() ? "" : ": bad line '" + bad + "'")
                      << "\n";
            return 64;
        }
        std::uint32_t script_nodes = nodes->front();
        std::uint64_t script_seed = seed;
        bool total_loss = false;
        if (tricache::sim::parse_schedule_header(text.str(), script_nodes, script_seed, &total_loss)) {
            std::cout << "schedule header: nodes=" << script_nodes << " seed=" << script_seed
                      << (total_loss ? " total-loss" : "") << "\n";
        }
        tricache::sim::ClusterOptions options = tricache::sim::scripted_options(script_nodes, script_seed);
        options.allow_total_loss = total_loss;
        if (!tricache::sim::apply_schedule_timers(text.str(), options, &bad)) {
            std::cerr << "bad timer '" << bad << "' in the header of " << schedule_file << "\n";
            return 64;
        }
        options.transcript = true;
        tricache::sim::Cluster cluster(options);
        for (const auto& step : *steps) {
            cluster.note_step(tricache::sim::describe(step));
            tricache::sim::apply(cluster, step);
            if (cluster.violation()) break;
        }
        const auto verdict = cluster.violation()
                                 ? tricache::sim::Verdict{tricache::sim::VerdictKind::Safety, *cluster.violation(), {}}
                                 : cluster.finish(bound_ms);
        std::cout << cluster.transcript_tail(100000);
        if (verdict.kind == tricache::sim::VerdictKind::Pass) {
            std::cout << "schedule passed\n";
            return 0;
        }
        const bool safety = verdict.kind == tricache::sim::VerdictKind::Safety;
        std::cout << (safety ? "SAFETY" : "LIVENESS") << " VIOLATION " << verdict.violation.property << ": "
                  << verdict.violation.detail << "\n";
        return safety ? 1 : 2;
    }

    const auto config_for = [&](std::uint64_t s, std::uint32_t n) {
        RunConfig config = swarm ? tricache::sim::swarm_config(s, n) : tricache::sim::plain_config(s, n);
        if (!swarm) {
            config.faults.loss = loss;
            config.faults.duplicate = dup;
            config.faults.delay_max_ms = delay_max;
            config.faults.clog_rate = clog;
            config.faults.clog_max_ms = clog > 0 ? clog_max : 0;
            config.faults.pause_rate = pause;
            config.faults.pause_max_ms = pause > 0 ? pause_max : 0;
            config.cluster.codec_rate = codec_rate;
        }
        config.sim_ms = sim_ms;
        config.quiesce_bound_ms = bound_ms;
        config.cluster.transcript = transcript;
        config.transcript_lines = transcript_lines;
        return config;
    };
    // One run, reduced to what is printed and summed: a sweep keeps no run's logs.
    const auto run_one = [&](std::uint64_t i) {
        RunReport rep;
        const std::uint64_t s = seed + i;
        const std::uint32_t n =
            (*nodes)[tricache::sim::Rng(tricache::sim::derive_seed(s, 7)).below(nodes->size())];
        const RunConfig config = config_for(s, n);
        const auto result = tricache::sim::run(config);
        rep.client_ops = result.clients.ok + result.clients.fail + result.clients.info + result.clients.local_reads;
        rep.ok_ops = result.clients.ok;
        rep.transactions = result.log_length;
        rep.sim_seconds = static_cast<double>(result.sim_ms) / 1000.0;
        rep.total_loss = config.cluster.allow_total_loss;
        rep.majority_lost = result.majority_lost;
        rep.rebootstrapped = result.histories > 1;
        std::ostringstream out;
        if (!quiet) {
            out << "run seed=" << s << " " << tricache::sim::describe(config) << " -> "
                << (result.verdict.kind == tricache::sim::VerdictKind::Pass ? "pass" : "FAIL")
                << " ops=" << result.clients.ok << "ok/" << result.clients.fail << "fail/" << result.clients.info
                << "info/" << result.clients.local_reads << "local log=" << result.log_length
                << " epoch=" << result.epoch << " crashes=" << result.cluster.crashes << " cuts=" << result.cluster.cuts
                << " msgs=" << result.network.sent;
            if (rep.total_loss) {  // only there, so other runs print the same line as before
                out << " majority_lost=" << (result.majority_lost ? 1 : 0) << " histories=" << result.histories;
            }
            out << " trace=" << std::hex << result.trace_hash << std::dec << "\n";
        }
        if (result.verdict.kind != tricache::sim::VerdictKind::Pass) {
            const bool safety = result.verdict.kind == tricache::sim::VerdictKind::Safety;
            rep.exit_code = safety ? 1 : 2;
            if (transcript) out << "--- last events ---\n" << result.transcript_tail << "---\n";
            out << (safety ? "SAFETY" : "LIVENESS") << " VIOLATION " << result.verdict.violation.property << ": "
                << result.verdict.violation.detail << "\n";
            out << "seed=" << s << " " << tricache::sim::describe(config) << "\n";
            std::string replay = std::string(argv[0]) + " --seed " + std::to_string(s) + " --runs 1 --nodes " +
                                 std::to_string(n) + " --sim-ms " + std::to_string(sim_ms) + " --bound-ms " +
                                 std::to_string(bound_ms);
            if (swarm) {
                replay += " --swarm";
            } else {
                replay += " --loss " + num(loss) + " --dup " + num(dup) + " --delay-max " + std::to_string(delay_max) +
                          " --clog " + num(clog) + " --clog-max-ms " + std::to_string(clog_max) + " --pause " +
                          num(pause) + " --pause-max-ms " + std::to_string(pause_max) + " --codec-rate " +
                          num(codec_rate);
            }
            out << "replay: " << replay << " --transcript\n";
        }
        rep.text = out.str();
        return rep;
    };

    std::uint64_t client_ops = 0;
    std::uint64_t ok_ops = 0;
    std::uint64_t transactions = 0;
    double sim_seconds = 0.0;
    std::uint64_t failures = 0;
    std::uint64_t total_loss_runs = 0;
    std::uint64_t majority_lost_runs = 0;
    std::uint64_t rebootstrapped_runs = 0;
    int worst = 0;
    int first_failure = 0;
    const auto wall_start = std::chrono::steady_clock::now();
    // Reports are printed in seed order whatever thread ran them, so the output
    // does not depend on --jobs.
    OrderedRuns ordered(runs, jobs, keep_going);
    ordered.run(run_one, [&](const RunReport& rep) {
        std::cout << rep.text;
        client_ops += rep.client_ops;
        ok_ops += rep.ok_ops;
        transactions += rep.transactions;
        sim_seconds += rep.sim_seconds;
        total_loss_runs += rep.total_loss ? 1 : 0;
        majority_lost_runs += rep.majority_lost ? 1 : 0;
        rebootstrapped_runs += rep.rebootstrapped ? 1 : 0;
        if (rep.exit_code != 0) {
            if (first_failure == 0) first_failure = rep.exit_code;
            ++failures;
            worst = rep.exit_code == 1 || worst == 1 ? 1 : 2;  // safety outranks liveness
        }
    });
    if (!keep_going && first_failure != 0) return first_failure;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    if (total_loss_runs != 0) {
        std::cout << "total-failure runs: " << total_loss_runs << " (a majority without memory in "
                  << majority_lost_runs << ", rebootstrapped in " << rebootstrapped_runs << ")\n";
    }
    if (failures != 0) {
        std::cout << "summary: " << failures << " of " << runs << " runs FAILED\n";
        return worst;
    }
    std::cout << "summary: " << runs << " runs passed, " << client_ops << " simulated client ops (" << ok_ops
              << " ok), " << transactions << " transactions, " << num(sim_seconds) << " simulated s in "
              << num(wall) << " wall s, " << num(wall > 0 ? static_cast<double>(client_ops) / wall : 0.0)
              << " ops/s\n";
    return 0;
}
