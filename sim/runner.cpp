#include "sim/runner.hpp"

#include <algorithm>
#include <cassert>
#include <deque>
#include <optional>
#include <vector>

namespace tricache::sim {

namespace {

enum Stream : std::uint64_t { kFaults = 201, kWorkload, kLinks };

class AutomaticRun {
public:
    explicit AutomaticRun(const RunConfig& config)
        : config_(config),
          cluster_(config.cluster),
          workload_(config.workload),
          fault_rng_(derive_seed(config.seed, kFaults)),
          client_rng_(derive_seed(config.seed, kWorkload)),
          give_up_ms_(config.give_up_ms != 0 ? config.give_up_ms : config.cluster.client_timeout_ms + 500),
          started_(config.cluster.clients, 0),
          block_until_(std::size_t{config.cluster.nodes} * config.cluster.nodes, 0),
          restart_at_(config.cluster.nodes, 0) {
        set_link_faults();
        cluster_.set_watch_precommits(config.faults.isolate_coordinator_rate > 0);
    }

    RunResult run() {
        for (std::uint64_t t = 1; t <= config_.sim_ms && !cluster_.violation(); ++t) {
            cluster_.set_time(t);
            inject_faults(t);
            cluster_.deliver_ready();
            cluster_.tick_due();
            drive_clients(t);
            if (config_.cluster.allow_total_loss) {
                majority_lost_ = majority_lost_ || cluster_.memoryless_count() > cluster_.max_memoryless();
                cluster_.operator_rebootstrap_if_needed();
            }
        }
        RunResult r;
        r.verdict = cluster_.finish(config_.quiesce_bound_ms);
        r.trace_hash = cluster_.trace_hash();
        r.sim_ms = cluster_.now();
        r.log_length = cluster_.engine(1).state().log_length();
        r.epoch = cluster_.engine(1).view().epoch;
        r.majority_lost = majority_lost_;
        r.histories = cluster_.histories();
        r.clients = cluster_.clients().counters();
        r.cluster = cluster_.counters();
        r.network = cluster_.network().counters();
        if (config_.cluster.transcript) r.transcript_tail = cluster_.transcript_tail(config_.transcript_lines);
        r.logs = cluster_.release_logs();  // the run is over: nothing reads them here again
        return r;
    }

private:
    // Each link and direction gets its own share of the run's fault levels.
    void set_link_faults() {
        Rng r(derive_seed(config_.seed, kLinks));
        const std::uint32_t n = config_.cluster.nodes;
        for (NodeId a = 1; a <= n; ++a) {
            for (NodeId b = 1; b <= n; ++b) {
                if (a == b) continue;
                LinkFaults& f = cluster_.network().faults(Link{a, b});
                f.loss = std::min(0.9, config_.faults.loss * 2.0 * r.unit());
                f.duplicate = std::min(0.9, config_.faults.duplicate * 2.0 * r.unit());
                f.delay_min_ms = 1;
                f.delay_max_ms = r.between(1, std::max<std::uint64_t>(1, config_.faults.delay_max_ms));
            }
        }
    }

    NodeId random_node(Rng& r) const { return static_cast<NodeId>(r.between(1, config_.cluster.nodes)); }

    std::uint64_t& block_until(NodeId a, NodeId b) {
        return block_until_[std::size_t{a - 1} * config_.cluster.nodes + (b - 1)];
    }

    void block(NodeId a, NodeId b, std::uint64_t until) {
        std::uint64_t& u = block_until(a, b);
        u = std::max(u, until);
        cluster_.cut(a, b);
    }

    // Partitions, cuts, bridges, crashes and restarts, each healing on its own.
    void inject_topology(std::uint64_t t) {
        const std::uint32_t n = config_.cluster.nodes;
        const FaultParams& f = config_.faults;
        for (NodeId a = 1; a <= n; ++a) {
            for (NodeId b = 1; b <= n; ++b) {
                if (a != b && block_until(a, b) != 0 && block_until(a, b) <= t) {
                    block_until(a, b) = 0;
                    cluster_.uncut(a, b);
                }
            }
        }
        for (NodeId a = 1; a <= n; ++a) {
            if (restart_at_[a - 1] != 0 && restart_at_[a - 1] <= t) {
                restart_at_[a - 1] = 0;
                cluster_.restart(a);
            }
        }
        if (f.topology_max_ms > 0 && fault_rng_.chance(f.partition_rate)) {
            const std::uint64_t groups = fault_rng_.between(2, std::min<std::uint64_t>(3, n));
            std::vector<std::uint64_t> group(n + 1, 0);
            for (NodeId a = 1; a <= n; ++a) group[a] = a <= groups ? a - 1 : fault_rng_.below(groups);
            for (NodeId a = 1; a <= n; ++a) {  // shuffle which node lands where
                const NodeId b = random_node(fault_rng_);
                std::swap(group[a], group[b]);
            }
            const std::uint64_t until = t + fault_rng_.between(1, f.topology_max_ms);
            for (NodeId a = 1; a <= n; ++a) {
                for (NodeId b = 1; b <= n; ++b) {
                    if (a != b && group[a] != group[b]) block(a, b, until);
                }
            }
        }
        if (f.topology_max_ms > 0 && fault_rng_.chance(f.cut_rate)) {
            const NodeId a = random_node(fault_rng_);
            const NodeId b = static_cast<NodeId>((a - 1 + fault_rng_.between(1, n - 1)) % n + 1);
            block(a, b, t + fault_rng_.between(1, f.topology_max_ms));
        }
        if (f.topology_max_ms > 0 && n >= 3 && fault_rng_.chance(f.bridge_rate)) {
            const NodeId a = random_node(fault_rng_);
            const NodeId c = static_cast<NodeId>((a - 1 + fault_rng_.between(1, n - 1)) % n + 1);
            const std::uint64_t until = t + fault_rng_.between(1, f.topology_max_ms);
            block(a, c, until);
            block(c, a, until);
        }
        if (f.crash_rate > 0 && fault_rng_.chance(f.crash_rate)) {
            const NodeId a = random_node(fault_rng_);
            const std::uint64_t delay = fault_rng_.between(f.restart_min_ms, std::max(f.restart_min_ms, f.restart_max_ms));
            if (cluster_.crash(a)) restart_at_[a - 1] = t + std::max<std::uint64_t>(1, delay);
        }
        if (f.long_pause_rate > 0 && fault_rng_.chance(f.long_pause_rate)) {
            const NodeId a = random_node(fault_rng_);
            const std::uint64_t s = config_.cluster.suspect_ms;
            cluster_.pause_until(a, t + fault_rng_.between(s, 3 * s));
        }
    }

    // R-IN-DOUBT's targeted fault (FaultParams::isolate_coordinator_rate).
    void isolate_coordinators(std::uint64_t t) {
        const std::vector<NodeId> senders = cluster_.take_precommit_senders();
        const FaultParams& f = config_.faults;
        const std::uint32_t n = config_.cluster.nodes;
        for (NodeId x : senders) {
            if (t < isolated_until_ || !fault_rng_.chance(f.isolate_coordinator_rate)) continue;
            const std::uint64_t s = config_.cluster.suspect_ms;
            isolated_until_ = t + fault_rng_.between(2 * s, 6 * s);
            for (NodeId b = 1; b <= n; ++b) {
                if (b == x) continue;
                block(x, b, isolated_until_);
                block(b, x, isolated_until_);
            }
            if (f.churn_on_isolation && n >= 5) {
                const NodeId y = static_cast<NodeId>((x - 1 + fault_rng_.between(1, n - 1)) % n + 1);
                pending_churn_ = Churn{y, t + fault_rng_.between(0, 2 * s), fault_rng_.between(s + 1, 3 * s)};
            }
        }
        if (pending_churn_ && pending_churn_->at_ms <= t) {
            cluster_.pause_until(pending_churn_->node, t + pending_churn_->length_ms);
            pending_churn_.reset();
        }
    }

    void inject_faults(std::uint64_t t) {
        const std::uint32_t n = config_.cluster.nodes;
        inject_topology(t);
        if (config_.faults.isolate_coordinator_rate > 0) isolate_coordinators(t);
        if (config_.faults.clog_max_ms > 0 && fault_rng_.chance(config_.faults.clog_rate)) {
            const NodeId a = random_node(fault_rng_);
            const NodeId b = static_cast<NodeId>((a - 1 + fault_rng_.between(1, n - 1)) % n + 1);
            cluster_.clog(Link{a, b}, t + fault_rng_.between(1, config_.faults.clog_max_ms));
        }
        if (config_.faults.pause_max_ms > 0 && fault_rng_.chance(config_.faults.pause_rate)) {
            const NodeId a = random_node(fault_rng_);
            cluster_.pause_until(a, t + fault_rng_.between(1, config_.faults.pause_max_ms));
        }
    }

    // A node the request has not been sent to yet, if there is one.
    NodeId retry_target(std::uint32_t slot) {
        const auto& tried = cluster_.clients().tried(slot);
        // Like a client with one server: the same node again (R-IN-DOUBT's retries).
        if (!tried.empty() && config_.retry_same_node > 0 && client_rng_.chance(config_.retry_same_node)) {
            return tried.back();
        }
        std::vector<NodeId> fresh;
        for (NodeId n = 1; n <= config_.cluster.nodes; ++n) {
            if (std::find(tried.begin(), tried.end(), n) == tried.end()) fresh.push_back(n);
        }
        if (fresh.empty()) return random_node(client_rng_);
        return fresh[client_rng_.below(fresh.size())];
    }

    // A slot is visited every ms while idle (it draws whether to send) and,
    // while waiting, only once its give-up time has come: a waiting slot
    // before then does nothing. Slots are visited in index order, and the
    // idle set is read afresh after every visit (a visit may answer others).
    void drive_clients(std::uint64_t t) {
        Clients& clients = cluster_.clients();
        due_now_.clear();
        while (!give_ups_.empty() && give_ups_.front().at_ms <= t) {
            due_now_.push_back(give_ups_.front().slot);
            give_ups_.pop_front();
        }
        std::sort(due_now_.begin(), due_now_.end());
        std::size_t d = 0;
        for (std::uint32_t from = 0;;) {
            while (d < due_now_.size() && due_now_[d] < from) ++d;
            const std::uint32_t idle = clients.next_idle(from);
            const std::uint32_t slot = d < due_now_.size() ? std::min(idle, due_now_[d]) : idle;
            if (slot >= clients.count()) break;
            visit_client(t, slot);
            from = slot + 1;
        }
    }

    void visit_client(std::uint64_t t, std::uint32_t slot) {
        Clients& clients = cluster_.clients();
        const auto may_retry = [&] {
            return clients.can_retry(slot) && clients.attempts(slot) < config_.max_attempts;
        };
        if (clients.waiting(slot)) {
            if (t - std::min(t, clients.last_send_time(slot) / 1000) < give_up_ms_) return;
            clients.give_up(slot);
            if (may_retry() && client_rng_.chance(config_.retry_rate)) {
                cluster_.retry(retry_target(slot), slot);
                note_sent(slot);
            }
            return;
        }
        if (clients.last_reply(slot) == ReplyKind::Info) {
            clients.settle(slot);  // decide once whether this unknown outcome is retried
            if (may_retry() && client_rng_.chance(config_.retry_rate)) {
                cluster_.retry(retry_target(slot), slot);
                note_sent(slot);
                return;
            }
        }
        if (!client_rng_.chance(config_.request_rate)) return;
        const protocol::ClientId id = clients.id(slot);
        GeneratedRequest g = workload_.next(client_rng_, id, next_request_hint(slot));
        cluster_.client(random_node(client_rng_), slot, std::move(g.body), g.wrong_cluster);
        note_sent(slot);
    }

    // The slot's give-up time, if it now waits. Sends happen in time order,
    // so the queue stays sorted by give-up time.
    void note_sent(std::uint32_t slot) {
        const Clients& clients = cluster_.clients();
        if (!clients.waiting(slot)) return;
        const std::uint64_t at = clients.last_send_time(slot) / 1000 + give_up_ms_;
        assert(give_ups_.empty() || give_ups_.back().at_ms <= at);
        give_ups_.push_back(GiveUp{at, slot});
    }

    // The workload only uses it to make values unique; the Clients assign the
    // real request id, which is one more than the requests started so far.
    protocol::RequestId next_request_hint(std::uint32_t slot) { return ++started_.at(slot); }

    const RunConfig& config_;
    Cluster cluster_;
    Workload workload_;
    Rng fault_rng_;
    Rng client_rng_;
    std::uint64_t give_up_ms_;
    std::vector<protocol::RequestId> started_;  // by slot: requests started so far
    std::vector<std::uint64_t> block_until_;  // by link: when its cut ends (0: not cut by us)
    std::vector<std::uint64_t> restart_at_;   // by node - 1: when it restarts (0: not scheduled)
    struct GiveUp {
        std::uint64_t at_ms;
        std::uint32_t slot;
    };
    std::deque<GiveUp> give_ups_;       // one per send, oldest first; stale ones are harmless
    std::vector<std::uint32_t> due_now_;  // drive_clients' scratch
    bool majority_lost_ = false;  // a total-failure run really lost a majority's memory
    std::uint64_t isolated_until_ = 0;  // isolate_coordinators: one at a time
    struct Churn {
        NodeId node = 0;
        std::uint64_t at_ms = 0;
        std::uint64_t length_ms = 0;
    };
    std::optional<Churn> pending_churn_;
};

}  // namespace

RunResult run(const RunConfig& config) { return AutomaticRun(config).run(); }

}  // namespace tricache::sim
