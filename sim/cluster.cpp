#include "sim/cluster.hpp"

#include <algorithm>
#include <cassert>
#include <type_traits>
#include <utility>

#include "coordinator/history.hpp"
#include "protocol/codec.hpp"
#include "sim/convert.hpp"
#include "sim/ecr_monitor.hpp"

namespace tricache::sim {

namespace {

coordinator::EngineConfig engine_config(const ClusterOptions& o, NodeId self, protocol::Incarnation incarnation) {
    coordinator::EngineConfig c;
    c.self = self;
    for (NodeId n = 1; n <= o.nodes; ++n) c.cluster.push_back(n);
    c.store_limits = o.store_limits;
    c.max_value_bytes = o.max_value_bytes;
    c.max_batch_commands = o.max_batch_commands;
    c.max_in_flight = o.max_in_flight;
    c.resend_ms = o.resend_ms;
    c.heartbeat_ms = o.heartbeat_ms;
    c.query_ms = o.query_ms;
    c.client_timeout_ms = o.client_timeout_ms;
    c.suspect_ms = o.suspect_ms;
    c.vc_timeout_ms = o.vc_timeout_ms;
    c.vc_backoff_ms = o.vc_backoff_ms;
    c.no_quorum_ms = o.no_quorum_ms;
    c.join_retry_ms = o.join_retry_ms;
    c.snapshot_chunk_bytes = o.snapshot_chunk_bytes;
    c.rebootstrap_lanes = o.rebootstrap_lanes;
    c.seed = incarnation == 1 ? derive_seed(o.seed, 1000 + self) : derive_seed(o.seed, 1000 + self + 100 * incarnation);
    c.record_deliveries = true;
    // Wall clocks start far from 0 so a skew below zero stays a plain number.
    Rng wall(derive_seed(o.seed, 3000 + self));
    const auto skew = static_cast<std::int64_t>(wall.below(2 * o.max_wall_skew_ms + 1));
    c.wall_offset_ms = 1'000'000 + skew - static_cast<std::int64_t>(o.max_wall_skew_ms);
    return c;
}

std::uint64_t tx_fingerprint(const protocol::TxId& tx) {
    return (std::uint64_t{tx.coordinator} << 56) ^ (tx.incarnation << 40) ^ tx.seq;
}

// A compact identity of a message for the trace hash: its transaction, if any.
std::uint64_t tx_fingerprint(const protocol::PeerBody& body) {
    return std::visit(
        [](const auto& b) -> std::uint64_t {
            if constexpr (requires { b.tx; }) {
                return tx_fingerprint(b.tx);
            } else {
                return 0;
            }
        },
        body);
}

std::string describe_request(const protocol::ClientRequest& req) {
    return std::visit(
        [](const auto& b) -> std::string {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, protocol::OpsRequest>) {
                std::string s = "[";
                for (std::size_t i = 0; i < b.ops.size(); ++i) s += (i ? ", " : "") + protocol::describe(b.ops[i]);
                return s + "]";
            } else if constexpr (std::is_same_v<T, protocol::LocalGetRequest>) {
                return "LOCAL_GET " + b.key;
            } else {
                return "other request";
            }
        },
        req.body);
}

std::string describe_response(const protocol::ClientResponse& r) {
    return std::visit(
        [](const auto& b) -> std::string {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, protocol::OpsReply>) {
                std::vector<checker::OpResult> rs;
                for (const auto& x : b.results) rs.push_back(checker::OpResult{x.ok, x.value});
                return "ok " + checker::to_string(rs);
            } else if constexpr (std::is_same_v<T, protocol::LocalGetReply>) {
                return std::string("local ") + (b.found ? checker::quote(b.value) : "<absent>") + " after " +
                       std::to_string(b.delivered);
            } else if constexpr (std::is_same_v<T, protocol::ErrorReply>) {
                return std::string(protocol::error_name(b.code)) + " (" + b.detail + ")";
            } else {
                return "other reply";
            }
        },
        r.body);
}

std::string link_name(Link l) { return std::to_string(l.from) + "->" + std::to_string(l.to); }

}  // namespace

Cluster::Cluster(ClusterOptions options)
    : options_(std::move(options)),
      network_(options_.nodes),
      clients_(options_.clients, options_.first_client_id, "tricache"),
      rng_(derive_seed(options_.seed, 1)),
      engine_monitor_(options_.nodes, options_.deep_store_checks) {
    assert(options_.nodes >= 1);
    assert(options_.tick_every_ms >= 1);
    Rng skews(derive_seed(options_.seed, 2));
    nodes_.reserve(options_.nodes);
    gens_.push_back(make_generation(1, 0));
    Generation& g = gens_.back();
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        nodes_.push_back(NodeSlot{coordinator::Engine::bootstrap(engine_config(options_, n, 1)),
                                  skews.below(options_.max_skew_ms + 1), 0, {}});
        g.current.at(n - 1) = g.logs.size();
        g.logs.push_back(checker::NodeLog{n, nodes_.back().engine.incarnation(), 0, {}, std::nullopt});
        log_gen_.push_back(0);
        last_incarnation_.push_back(nodes_.back().engine.incarnation());
        installed_.push_back({1});
        named_.push_back(true);
    }
}

Cluster::Generation Cluster::make_generation(protocol::Epoch first_epoch, std::uint64_t tag) const {
    std::vector<std::uint32_t> ids;
    for (NodeId n = 1; n <= options_.nodes; ++n) ids.push_back(n);
    return Generation{first_epoch, tag, first_epoch, {}, false, SafetyMonitor(std::move(ids)), LogChains(options_.nodes), {},
                      std::vector<std::optional<std::size_t>>(options_.nodes), std::vector<std::uint64_t>(options_.nodes, 0),
                      {}};
}

// Histories are kept in the order they started, which need not be the order
// of their first epochs (a rebootstrap may start below a dead one it never saw).
// Of two live ones that started at the same epoch, the tag picks; without a
// match, the later one.
std::size_t Cluster::generation_of(protocol::Epoch epoch, std::uint64_t tag) const {
    std::size_t best = 0;
    for (std::size_t g = 1; g < gens_.size(); ++g) {
        const Generation& c = gens_[g];
        if (c.retired || c.first_epoch > epoch) continue;
        const Generation& b = gens_[best];
        if (c.first_epoch > b.first_epoch || (c.first_epoch == b.first_epoch && (c.tag == tag || b.tag != tag))) {
            best = g;
        }
    }
    return best;
}

// R-TOTAL-LOSS, R-DATA-LOSS, R-RB-PROMISE: a rebootstrap throws a history
// away, which is right only if that history can never serve again. It still
// could if a majority of the cluster remembers it (in it, with memory) and some
// live node holds the data of its latest epoch. Judged as the first node adopts
// the new record, and whenever a node crosses into another history by a
// regular record; that node is judged by its state before the call. A history
// newer than the record (R-HISTORY-ORDER) is not abandoned: the record is the
// one that loses, stillborn (two overlapping proposals, R-RB-PROMISE).
checker::CheckResult Cluster::check_history_lost(std::size_t gen, NodeId adopter, const protocol::View& record) const {
    const Generation& g = gens_.at(gen);
    if (coordinator::history_newer(g.record, record)) return std::nullopt;
    std::uint32_t remembering = 0;
    NodeId holder = 0;
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        if (crashed(n) || log_gen_.at(n - 1) != gen) continue;
        const bool before = n == adopter;
        if (before ? pre_call_.amnesiac : engine(n).amnesiac()) continue;
        ++remembering;
        const bool holds = before ? pre_call_.holds_data && pre_call_.epoch == g.max_epoch
                                  : engine(n).full_state() && engine(n).view().epoch == g.max_epoch &&
                                        engine(n).node_status() != coordinator::NodeStatus::Joining;
        if (holds) holder = n;
    }
    if (holder == 0 || remembering <= options_.nodes / 2) return std::nullopt;
    return checker::Violation{"P8 rebootstrap of a live history",
                              "the history of epoch " + std::to_string(g.first_epoch) + " was abandoned while " +
                                  std::to_string(remembering) + " of " + std::to_string(options_.nodes) +
                                  " nodes kept their memory and node " + std::to_string(holder) +
                                  " held the data of its latest epoch " + std::to_string(g.max_epoch)};
}

// A history is alive while some running node is in it: its engine's view
// names that history. A node that has crossed into another history since
// (a newer rebootstrap, R-HISTORY-ORDER) is not, and neither is `adopter`, the
// node adopting the new record, which just left. (This once asked whether the
// node had ever kept a log in the history, which stays true after it moves on:
// dead histories were flagged as live, seeds 3102770 and 3139093.)
bool Cluster::generation_alive(std::size_t gen, NodeId adopter) const {
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        if (n == adopter || crashed(n)) continue;
        const protocol::View& v = engine(n).view();
        if (v.history == gens_[gen].first_epoch && coordinator::history_tag(v) == gens_[gen].tag) return true;
    }
    return false;
}

// A rebootstrap was adopted: the clients' world restarts with the new, empty
// history. Whoever waited gives up (its outcome is unknown), and the history
// so far is kept for the end-of-run checks of the history it belongs to.
void Cluster::start_generation(const protocol::View& view, NodeId adopter) {
    const protocol::Epoch first_epoch = view.epoch;
    const std::uint64_t tag = coordinator::history_tag(view);
    for (std::size_t i = 1; i < gens_.size(); ++i) {
        Generation& g = gens_[i];
        if (g.retired || g.first_epoch != first_epoch) continue;
        // Another rebootstrap chose this epoch before (colliding lanes). Told
        // apart by their tags (R-HISTORY); one tag for both would be one name
        // for two histories. A dead one is set aside.
        if (g.tag == tag && generation_alive(i, adopter)) {
            fail(checker::Violation{"P8 two live histories share an identity",
                                    "a rebootstrap started a history at epoch " + std::to_string(first_epoch) +
                                        " with the tag of another live history that started there"});
        }
        if (!generation_alive(i, adopter)) g.retired = true;
    }
    // R-REBOOTSTRAP: a new history's epochs lie above every epoch an older
    // history used, or one epoch would name views of two histories.
    for (std::size_t i = 0; i < gens_.size(); ++i) {
        Generation& g = gens_[i];
        if (g.retired || g.first_epoch >= first_epoch || g.max_epoch < first_epoch) continue;
        if (generation_alive(i, adopter)) {
            fail(checker::Violation{"P8 histories overlap",
                                    "a rebootstrap started a history at epoch " + std::to_string(first_epoch) +
                                        ", but the live history of epoch " + std::to_string(g.first_epoch) +
                                        " already installed epoch " + std::to_string(g.max_epoch)});
        }
        g.retired = true;
    }
    const std::size_t index = clients_.begin_new_history();
    gens_.push_back(make_generation(first_epoch, tag));
    gens_.back().record = view;
    assert(index + 1 == gens_.size());
    trace_.add(22).add(first_epoch);
    note("a new history starts at epoch " + std::to_string(first_epoch) + " (rebootstrap)");
}

void Cluster::start_segment(NodeId node, std::size_t gen, std::uint64_t start_index) {
    Generation& g = gens_.at(gen);
    log_gen_.at(node - 1) = gen;
    const std::uint64_t segment = ++g.segments.at(node - 1);
    g.current.at(node - 1) = g.logs.size();
    g.logs.push_back(checker::NodeLog{node, engine(node).incarnation() + segment * kSegmentStride, start_index, {},
                                      std::nullopt});
}

checker::NodeLog* Cluster::growing_log(NodeId node, std::size_t gen) {
    Generation& g = gens_.at(gen);
    const auto& i = g.current.at(node - 1);
    return i ? &g.logs.at(*i) : nullptr;
}

std::uint64_t Cluster::node_time(NodeId node) const {
    const NodeSlot& s = nodes_.at(node - 1);
    return now_ms_ + s.skew_ms + s.drift_ms;
}

std::uint64_t Cluster::history_time() {
    if (history_ms_ != now_ms_) {
        history_ms_ = now_ms_;
        history_sub_ = 0;
    }
    const std::uint64_t t = now_ms_ * 1000 + std::min<std::uint64_t>(history_sub_, 999);
    ++history_sub_;
    return t;
}

void Cluster::fail(checker::CheckResult result) {
    if (result && !violation_) {
        violation_ = std::move(result);
        note("VIOLATION " + violation_->property + ": " + violation_->detail);
    }
}

void Cluster::note(const std::string& line) {
    if (options_.transcript) transcript_.push_back("t=" + std::to_string(now_ms_) + " " + line);
}

std::string Cluster::transcript_tail(std::size_t lines) const {
    std::string out;
    const std::size_t from = transcript_.size() > lines ? transcript_.size() - lines : 0;
    for (std::size_t i = from; i < transcript_.size(); ++i) out += transcript_[i] + "\n";
    return out;
}

// ------------------------------------------------------------------ stepping

template <class Call>
void Cluster::step(NodeId node, Call&& call) {
    NodeSlot& s = slot(node);
    pre_call_ = PreCall{s.engine.amnesiac(),
                        s.engine.full_state() && s.engine.node_status() != coordinator::NodeStatus::Joining,
                        s.engine.view().epoch, coordinator::history_tag(s.engine.view())};
    if (options_.observer) options_.observer->before_call();
    call(s.engine, node_time(node));
    s.engine.take_output(out_);
    if (options_.observer) options_.observer->after_call();
    ++counters_.engine_calls;
    route(node, out_);
}

std::optional<checker::Violation> Cluster::check_no_rerun(Generation& gen, const coordinator::DeliveredTx& d) {
    for (const auto& cmd : *d.batch) {
        const auto key = std::make_tuple(d.tx.coordinator, d.tx.incarnation, cmd.client, cmd.request);
        const auto [it, fresh] = gen.first_commit.try_emplace(key, d.tx);
        if (!fresh && it->second != d.tx) {
            return checker::Violation{"P7 R-IN-DOUBT re-run",
                                      "node " + std::to_string(d.tx.coordinator) + " committed client " +
                                          std::to_string(cmd.client) + " request " + std::to_string(cmd.request) +
                                          " in " + protocol::to_string(it->second) + " and again in " +
                                          protocol::to_string(d.tx)};
        }
    }
    return std::nullopt;
}

void Cluster::route(NodeId node, coordinator::Output& out) {
    if (options_.watch_precommits) {
        for (const auto& m : out.messages) {
            if (std::holds_alternative<protocol::PreCommit>(m.msg.body)) {
                precommit_senders_.push_back(node);
                break;
            }
        }
    }
    std::optional<std::uint64_t> snapshot_length;
    // R-DOCOMMIT's acks, from the wire, before this call's decisions are judged: a member's
    // Ack, and a coordinator's PreCommit (it accepted its own first, R-PC-ACCEPT).
    for (const auto& m : out.messages) {
        const protocol::TxId* tx = nullptr;
        if (const auto* ack = std::get_if<protocol::Ack>(&m.msg.body); ack && ack->ballot == protocol::kOriginalBallot) {
            tx = &ack->tx;
        } else if (const auto* pc = std::get_if<protocol::PreCommit>(&m.msg.body);
                   pc && pc->ballot == protocol::kOriginalBallot && pc->tx.coordinator == node) {
            tx = &pc->tx;
        }
        if (tx != nullptr) {
            gens_[generation_of(m.msg.header.epoch, m.msg.header.history_tag)].safety.on_ack(
                checker::AckRec{node, to_checker(*tx), m.msg.header.epoch});
        }
    }
    // The history the node is in as each event happens: it changes only where it installs a view.
    std::uint64_t tag_now = pre_call_.tag;
    for (const auto& ev : out.journal) {
        std::visit(
            [&](const auto& e) {
                using T = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<T, coordinator::VotedEvent>) {
                    fail(gens_[generation_of(e.epoch, tag_now)].safety.on_vote(
                        checker::VoteRec{node, to_checker(e.tx), e.yes, e.epoch}));
                } else if constexpr (std::is_same_v<T, coordinator::DecidedEvent>) {
                    fail(gens_[generation_of(e.tx.seq >> 32, tag_now)].safety.on_decision(  // R-SEQ-EPOCH
                        checker::DecisionRec{node, to_checker(e.tx), e.commit, to_checker(e.final_ts)}));
                } else if constexpr (std::is_same_v<T, coordinator::ViewInstalledEvent>) {
                    tag_now = coordinator::history_tag(e.ecr.next);
                    if (e.ecr.closes == 0) {  // R-REBOOTSTRAP: the node adopted a new, empty history
                        const std::size_t same = generation_of(e.ecr.next.epoch, tag_now);
                        if (gens_[same].first_epoch != e.ecr.next.epoch || gens_[same].record != e.ecr.next) {
                            // A restarted node is in no history: then every one must be lost.
                            for (std::size_t h = 0; h < gens_.size(); ++h) {
                                if (log_gen_.at(node - 1) == kNoLog || log_gen_.at(node - 1) == h) {
                                    fail(check_history_lost(h, node, e.ecr.next));
                                }
                            }
                            start_generation(e.ecr.next, node);
                        }
                        const std::size_t g = generation_of(e.ecr.next.epoch, tag_now);
                        gens_[g].chains.reset(node);
                        start_segment(node, g, 0);
                        snapshot_length = 0;  // the log restarts empty
                    }
                    // R-HISTORY-ORDER: a node that crosses into another history by a regular
                    // record leaves its own behind, which is right only if that one is dead.
                    const std::size_t left = generation_of(pre_call_.epoch, pre_call_.tag);
                    if (e.ecr.closes != 0 && pre_call_.epoch != 0 && !pre_call_.amnesiac &&
                        left != generation_of(e.ecr.next.epoch, tag_now)) {
                        if (auto v = check_history_lost(left, node, e.ecr.next)) {
                            v->property = "P8 crossed out of a live history";
                            v->detail = "node " + std::to_string(node) + " installed epoch " +
                                        std::to_string(e.ecr.next.epoch) + " of another history: " + v->detail;
                            fail(std::move(v));
                        }
                    }
                    // R-HISTORY: a view names the epoch some history started at.
                    const protocol::Epoch history = e.ecr.next.history;
                    if (history > e.ecr.next.epoch ||
                        std::none_of(gens_.begin(), gens_.end(), [&](const Generation& g) {
                            return g.first_epoch == history && g.tag == tag_now;
                        })) {
                        fail(checker::Violation{"P8 a view names no history",
                                                "node " + std::to_string(node) + " installed epoch " +
                                                    std::to_string(e.ecr.next.epoch) + ", whose view names history e" +
                                                    std::to_string(history) + ", where no history started"});
                    }
                    checker::ViewRec v{node, e.ecr.next.epoch, {}};
                    for (const auto& m : e.ecr.next.members) v.members.push_back(m.node);
                    trace_.add(12).add(node).add(v.epoch);
                    note("node " + std::to_string(node) + " installed epoch " + std::to_string(v.epoch) +
                         (e.member ? " as a member" : " as a non-member") +
                         (e.full_state ? "" : " (will sync by snapshot)"));
                    Generation& vg = gens_[generation_of(v.epoch, tag_now)];
                    vg.max_epoch = std::max(vg.max_epoch, v.epoch);
                    fail(vg.safety.on_view(v));
                    installed_.at(node - 1).push_back(v.epoch);
                    if (e.member) named_.at(node - 1) = true;
                } else if constexpr (std::is_same_v<T, coordinator::SnapshotInstalledEvent>) {
                    trace_.add(13).add(node).add(e.log_length).add(e.log_hash);
                    note("node " + std::to_string(node) + " installed a snapshot of epoch " +
                         std::to_string(e.epoch) + " at log length " + std::to_string(e.log_length));
                    const std::size_t g = generation_of(e.epoch, tag_now);
                    if (options_.engine_monitors) fail(gens_[g].chains.on_snapshot(node, e.log_length, e.log_hash));
                    start_segment(node, g, e.log_length);
                    snapshot_length = e.log_length;
                } else if constexpr (std::is_same_v<T, coordinator::EcrChosenEvent>) {
                    trace_.add(14).add(node).add(e.ecr.closes);
                    fail(gens_[generation_of(e.ecr.closes, tag_now)].safety.on_ecr_chosen(node, e.ecr));
                } else if constexpr (std::is_same_v<T, coordinator::EcrProposedEvent>) {
                    if (options_.engine_monitors) fail(check_ecr_proposal(node, e));
                } else {
                    static_assert(sizeof(T) == 0, "a journal event the simulator does not record");
                }
            },
            ev);
    }

    std::size_t touched = 0;  // bit g: history g got a delivery
    for (const auto& d : out.delivered) {  // in the history the node is in after the call: none is applied across one
        const auto& installed = installed_.at(node - 1);
        if (std::find(installed.begin(), installed.end(), d.epoch) == installed.end()) {
            fail(checker::Violation{"P8 delivered in an uninstalled epoch",
                                    "node " + std::to_string(node) + " delivered " + protocol::to_string(d.tx) +
                                        " of epoch " + std::to_string(d.epoch) +
                                        ", which this incarnation never installed"});
        }
        const std::size_t g = generation_of(d.epoch, tag_now);
        touched |= std::size_t{1} << std::min<std::size_t>(g, 63);
        checker::NodeLog* log = growing_log(node, g);
        if (log == nullptr) {
            fail(checker::Violation{"P8 delivered in a history it never joined",
                                    "node " + std::to_string(node) + " delivered " + protocol::to_string(d.tx) +
                                        " of epoch " + std::to_string(d.epoch) + ", in the history of epoch " +
                                        std::to_string(gens_[g].first_epoch) + ", which it never started or synced"});
            continue;
        }
        const DeliveryCache::Derived& derived = deliveries_.get(d);
        log->entries.push_back(
            checker::LogEntry{to_checker(d.tx), to_checker(d.final_ts), d.epoch, derived.commands});
        fail(gens_[g].safety.on_delivered(*log, log->entries.size() - 1));
        if (options_.engine_monitors) {
            fail(gens_[g].chains.on_delivered(node, d, derived.tx_hash));
            if (d.batch) fail(check_no_rerun(gens_[g], d));
        }
        trace_.add(8).add(node).add(tx_fingerprint(d.tx));
        trace_.add(d.final_ts.counter).add(d.final_ts.node).add(d.index);
        ++counters_.transactions_delivered;
        if (options_.transcript) {
            note("node " + std::to_string(node) + " delivered #" + std::to_string(d.index) + " " +
                 protocol::to_string(d.tx) + " f=" + protocol::to_string(d.final_ts) + " (" +
                 std::to_string(d.batch ? d.batch->size() : 0) + " commands)");
        }
    }
    for (std::size_t g = 0; g < gens_.size(); ++g) {
        if ((touched >> std::min<std::size_t>(g, 63)) & 1u) fail(gens_[g].safety.on_logs(gens_[g].logs));
    }
    const coordinator::Engine& engine = slot(node).engine;
    // The engine's log is the one it last started: until a snapshot replaces
    // it, a node that moved to another history still holds the old one.
    const std::size_t node_gen = log_gen_.at(node - 1) != kNoLog ? log_gen_.at(node - 1) : generation_of_node(node);
    if (options_.engine_monitors) {
        fail(engine_monitor_.after_call(node, engine, out.delivered, snapshot_length));
        fail(gens_[node_gen].chains.check_engine(node, engine.state().log_length(), engine.state().log_hash()));
    }

    for (auto& m : out.messages) {
        assert(m.to >= 1 && m.to <= options_.nodes && m.to != node);
        trace_.add(1).add(node).add(m.to).add(m.msg.body.index()).add(tx_fingerprint(m.msg.body));
        fail(check_sent(node, m.msg));
        if (auto err = network_.send(Link{node, m.to}, std::move(m.msg), now_ms_, rng_, options_.codec_rate)) {
            fail(checker::Violation{"W codec round trip", *err});
        }
    }

    for (const auto& r : out.replies) {
        trace_.add(7).add(r.client).add(r.request).add(r.body.index());
        if (const auto* ok = std::get_if<protocol::OpsReply>(&r.body)) {
            for (const auto& res : ok->results) trace_.add(res.ok ? 1 : 0).add(res.value.value_or("\x01"));
        }
        if (options_.transcript) {
            note("node " + std::to_string(node) + " replies to client " + std::to_string(r.client) + " request " +
                 std::to_string(r.request) + ": " + describe_response(r));
        }
        const checker::NodeLog* log = growing_log(node, node_gen);
        clients_.on_reply(node, r, history_time(), log ? log->start_index : 0, node_gen);
    }
    fail(clients_.recording_error());
}

// R-AMNESIA, judged from the wire: an incarnation that has not installed a
// view naming it sends nothing a quorum could count (promise, accept, yes
// vote, ack). Incarnation 1 is named by the bootstrap view.
checker::CheckResult Cluster::check_sent(NodeId node, const protocol::PeerMessage& msg) const {
    if (named_.at(node - 1)) return std::nullopt;
    const char* what = std::visit(
        [](const auto& b) -> const char* {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, protocol::VcPromise>) {
                return "VcPromise";
            } else if constexpr (std::is_same_v<T, protocol::VcAccepted>) {
                return "VcAccepted";
            } else if constexpr (std::is_same_v<T, protocol::Ack>) {
                return "Ack";
            } else if constexpr (std::is_same_v<T, protocol::Vote>) {
                return b.yes ? "a yes Vote" : nullptr;
            } else {
                return nullptr;
            }
        },
        msg.body);
    if (what == nullptr) return std::nullopt;
    return checker::Violation{"P8 memoryless node counted",
                              "node " + std::to_string(node) + " at incarnation " +
                                  std::to_string(msg.header.incarnation) + " sent " + what +
                                  " before installing a view that names it (it has no memory)"};
}

void Cluster::submit(NodeId node, protocol::ClientRequest req) {
    trace_.add(6).add(req.client).add(req.request).add(node);
    if (options_.transcript) {
        note("client " + std::to_string(req.client) + " request " + std::to_string(req.request) + " -> node " +
             std::to_string(node) + (can_step(node) ? "" : " (paused: held)") + ": " + describe_request(req) +
             (req.cluster_id != "tricache" ? " [wrong cluster]" : ""));
    }
    if (!can_step(node)) {
        slot(node).inbox.push_back(std::move(req));
        return;
    }
    flush_inbox(node);
    step(node, [&](coordinator::Engine& e, std::uint64_t t) { e.on_client_request(std::move(req), t); });
}

void Cluster::flush_inbox(NodeId node) {
    NodeSlot& s = slot(node);
    while (!s.inbox.empty() && can_step(node)) {
        const protocol::ClientRequest req = std::move(s.inbox.front());
        s.inbox.pop_front();
        step(node, [&](coordinator::Engine& e, std::uint64_t t) { e.on_client_request(req, t); });
    }
}

void Cluster::deliver_message(Link link, InFlight&& message) {
    trace_.add(2).add(link.from).add(link.to).add(message.msg->body.index()).add(tx_fingerprint(message.msg->body));
    if (options_.transcript) note("deliver " + link_name(link) + " " + protocol::describe(message.msg->body));
    ++counters_.messages_delivered;
    network_.count_delivered();
    flush_inbox(link.to);
    step(link.to, [&](coordinator::Engine& e, std::uint64_t t) { e.on_message(*message.msg, t); });
}

std::optional<Link> Cluster::pick_link(NodeId from, NodeId to, bool need_receiver) const {
    if (from < 1 || from > options_.nodes || to < 1 || to > options_.nodes || from == to) return std::nullopt;
    return network_.find_link(Link{from, to},
                              [&](Link l) { return !need_receiver || (can_step(l.to) && !network_.blocked(l)); });
}

// ------------------------------------------------------------------ manual verbs

bool Cluster::deliver(NodeId from, NodeId to, std::uint64_t k) {
    const auto link = pick_link(from, to, true);
    if (!link) return false;
    deliver_message(*link, network_.take(*link, k));
    return true;
}

bool Cluster::drop(NodeId from, NodeId to, std::uint64_t k) {
    const auto link = pick_link(from, to, false);
    if (!link) return false;
    const auto& q = network_.queue(*link);
    trace_.add(3).add(link->from).add(link->to).add(k % q.size());
    if (options_.transcript) note("drop " + link_name(*link) + " " + protocol::describe(q[k % q.size()].msg->body));
    network_.drop(*link, k);
    return true;
}

bool Cluster::duplicate(NodeId from, NodeId to, std::uint64_t k) {
    const auto link = pick_link(from, to, false);
    if (!link) return false;
    const auto& q = network_.queue(*link);
    trace_.add(4).add(link->from).add(link->to).add(k % q.size());
    if (options_.transcript) {
        note("duplicate " + link_name(*link) + " " + protocol::describe(q[k % q.size()].msg->body));
    }
    network_.duplicate(*link, k);
    return true;
}

bool Cluster::tick(NodeId node, std::uint64_t ms) {
    if (node < 1 || node > options_.nodes || !can_step(node)) return false;
    slot(node).drift_ms += ms;
    tick_node(node);
    return true;
}

std::size_t Cluster::drain(std::size_t max_messages) {
    note("drain");
    std::size_t n = 0;
    while (n < max_messages && !violation_) {
        const auto link = network_.oldest_link([&](Link l) { return can_step(l.to) && !network_.blocked(l); });
        if (!link) break;
        deliver_message(*link, network_.take(*link, 0));
        ++n;
    }
    trace_.add(15).add(n);
    return n;
}

void Cluster::advance(std::uint64_t ms) {
    set_time(now_ms_ + ms);
    for (NodeId n = 1; n <= options_.nodes; ++n) tick_node(n);
}

bool Cluster::client(NodeId node, std::uint32_t slot_index, protocol::ClientRequestBody body, bool wrong_cluster) {
    if (node < 1 || node > options_.nodes || slot_index >= clients_.count()) return false;
    if (clients_.waiting(slot_index)) return false;
    const std::size_t gen = client_history(node);
    protocol::ClientRequest req =
        clients_.start(slot_index, node, std::move(body), wrong_cluster, history_time(), gen);
    fail(clients_.recording_error());
    if (refused_by_crash(node, slot_index)) return true;
    submit(node, std::move(req));
    return true;
}

// A request to a crashed node is never read; its client sees the connection
// fail and stops waiting, not knowing the outcome.
bool Cluster::refused_by_crash(NodeId node, std::uint32_t slot_index) {
    if (!crashed(node)) return false;
    note("client " + std::to_string(clients_.id(slot_index)) + ": node " + std::to_string(node) +
         " is down, connection refused");
    clients_.give_up(slot_index);
    clients_.forget_attempts_at(node);
    return true;
}

bool Cluster::retry(NodeId node, std::uint32_t slot_index) {
    if (node < 1 || node > options_.nodes || slot_index >= clients_.count()) return false;
    if (!clients_.can_retry(slot_index)) return false;
    const std::size_t gen = client_history(node);
    protocol::ClientRequest req = clients_.retry(slot_index, node, history_time(), gen);
    fail(clients_.recording_error());
    if (options_.transcript) note("retry by client " + std::to_string(req.client));
    if (refused_by_crash(node, slot_index)) return true;
    submit(node, std::move(req));
    return true;
}

void Cluster::pause(NodeId node) {
    if (node < 1 || node > options_.nodes) return;
    network_.node(node).paused_until_ms = kForever;
    trace_.add(9).add(node);
    note("pause node " + std::to_string(node));
}

void Cluster::resume(NodeId node) {
    if (node < 1 || node > options_.nodes) return;
    network_.node(node).paused_until_ms = 0;
    trace_.add(10).add(node);
    note("resume node " + std::to_string(node));
    flush_inbox(node);
}

void Cluster::partition(const std::vector<std::vector<NodeId>>& groups) {
    std::vector<std::size_t> group(options_.nodes + 1, 0);  // 0: alone
    std::string text;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        text += g ? " |" : "";
        for (NodeId n : groups[g]) {
            if (n >= 1 && n <= options_.nodes) group[n] = g + 1;
            text += " " + std::to_string(n);
        }
    }
    trace_.add(16);
    for (NodeId a = 1; a <= options_.nodes; ++a) {
        trace_.add(group[a]);
        for (NodeId b = 1; b <= options_.nodes; ++b) {
            if (a != b) network_.faults(Link{a, b}).blocked = group[a] == 0 || group[a] != group[b];
        }
    }
    note("partition" + text);
}

bool Cluster::cut(NodeId from, NodeId to) {
    if (from < 1 || from > options_.nodes || to < 1 || to > options_.nodes || from == to) return false;
    network_.faults(Link{from, to}).blocked = true;
    trace_.add(17).add(from).add(to);
    ++counters_.cuts;
    note("cut " + link_name(Link{from, to}));
    return true;
}

bool Cluster::uncut(NodeId from, NodeId to) {
    if (from < 1 || from > options_.nodes || to < 1 || to > options_.nodes || from == to) return false;
    if (!network_.blocked(Link{from, to})) return false;
    network_.faults(Link{from, to}).blocked = false;
    trace_.add(21).add(from).add(to);
    note("uncut " + link_name(Link{from, to}));
    return true;
}

void Cluster::heal_links() {
    network_.unblock_all();
    trace_.add(18);
    note("heal every partition and cut");
}

// A live node that missed a view and waits for a snapshot counts too: its
// promises are intact, but it holds no data, and once every node holding the
// data has crashed the data is gone (total-failure territory).
bool Cluster::memoryless(NodeId node) const {
    if (crashed(node)) return true;
    const auto& e = engine(node);
    return e.amnesiac() || !e.full_state();
}

std::uint32_t Cluster::memoryless_count() const {
    std::uint32_t n = 0;
    for (NodeId i = 1; i <= options_.nodes; ++i) n += memoryless(i) ? 1u : 0u;
    return n;
}

bool Cluster::crash(NodeId node) {
    if (node < 1 || node > options_.nodes || crashed(node)) return false;
    // Judged after the crash: crashing a node that is already without data
    // still turns it amnesiac, so a majority already without data refuses too.
    const std::uint32_t after = memoryless_count() + (memoryless(node) ? 0u : 1u);
    if (!options_.allow_total_loss && after > max_memoryless()) return false;
    network_.crash(node);
    slot(node).inbox.clear();  // requests sent to a dead node are never read
    for (std::uint32_t c = 0; c < clients_.count(); ++c) {  // their connections break
        if (clients_.waiting(c) && clients_.last_node(c) == node) {
            clients_.give_up(c);
        }
    }
    clients_.forget_attempts_at(node);
    trace_.add(19).add(node);
    ++counters_.crashes;
    note("crash node " + std::to_string(node) + " (memory lost)");
    return true;
}

bool Cluster::restart(NodeId node) {
    if (node < 1 || node > options_.nodes || !crashed(node)) return false;
    const protocol::Incarnation inc = ++last_incarnation_.at(node - 1);
    slot(node).engine = coordinator::Engine::join(engine_config(options_, node, inc), inc);
    slot(node).drift_ms = 0;
    network_.restart(node);
    network_.node(node).paused_until_ms = 0;
    engine_monitor_.reset(node);
    for (Generation& g : gens_) {
        g.chains.reset(node);
        g.current.at(node - 1).reset();
    }
    installed_.at(node - 1).clear();
    named_.at(node - 1) = false;  // no log either, until a snapshot or a rebootstrap gives it one
    log_gen_.at(node - 1) = kNoLog;
    trace_.add(20).add(node).add(inc);
    note("restart node " + std::to_string(node) + " as incarnation " + std::to_string(inc));
    return true;
}

bool Cluster::rebootstrap(NodeId node) {
    if (node < 1 || node > options_.nodes || crashed(node)) return false;
    protocol::ClientRequest req{protocol::kProtocolVersion, "tricache", kOperatorClient, ++operator_requests_,
                                protocol::AdminRequest{protocol::AdminKind::Rebootstrap, {}}};
    trace_.add(23).add(node);
    note("operator: rebootstrap at node " + std::to_string(node) + " (it is " +
         coordinator::to_string(engine(node).node_status()) + ")");
    submit(node, std::move(req));
    return true;
}

// In a total-failure run the end of the run plays the operator: a node that
// reports NEEDS_REBOOTSTRAP gets the request (R-REBOOTSTRAP), once per
// suspect_ms. Elsewhere nobody rebootstraps, so such a node stays not quiet.
void Cluster::operator_rebootstrap_if_needed() {
    if (!options_.allow_total_loss || now_ms_ - last_operator_ms_ < options_.suspect_ms) return;
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        if (!crashed(n) && can_step(n) && engine(n).node_status() == coordinator::NodeStatus::NeedsRebootstrap) {
            last_operator_ms_ = now_ms_;
            rebootstrap(n);
            return;
        }
    }
}

// ------------------------------------------------------------------ automatic mode

void Cluster::set_time(std::uint64_t now_ms) { now_ms_ = std::max(now_ms_, now_ms); }

std::size_t Cluster::deliver_ready() {
    for (NodeId n = 1; n <= options_.nodes; ++n) flush_inbox(n);
    const std::size_t ready = network_.collect_ready(now_ms_);
    for (std::size_t i = 0; i < ready; ++i) deliver_message(network_.ready_link(i), std::move(network_.ready_message(i)));
    network_.remove_ready();
    return ready;
}

void Cluster::tick_node(NodeId node) {
    if (!can_step(node)) return;
    flush_inbox(node);
    trace_.add(5).add(node).add(node_time(node));
    ++counters_.ticks;
    step(node, [](coordinator::Engine& e, std::uint64_t t) { e.on_tick(t); });
}

void Cluster::tick_due() {
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        if ((now_ms_ + n) % options_.tick_every_ms == 0) tick_node(n);
    }
}

void Cluster::pause_until(NodeId node, std::uint64_t until_ms) {
    auto& f = network_.node(node);
    f.paused_until_ms = std::max(f.paused_until_ms, until_ms);
    trace_.add(9).add(node).add(until_ms);
    note("pause node " + std::to_string(node) + " until t=" + std::to_string(until_ms));
}

void Cluster::clog(Link link, std::uint64_t until_ms) {
    auto& f = network_.faults(link);
    f.clogged_until_ms = std::max(f.clogged_until_ms, until_ms);
    trace_.add(11).add(link.from).add(link.to).add(until_ms);
    note("clog " + link_name(link) + " until t=" + std::to_string(until_ms));
}

// ------------------------------------------------------------------ end of run

// The same conditions as why_not_quiet(), without building the text: it runs
// every simulated millisecond of a quiesce.
bool Cluster::quiet() const {
    const std::uint64_t len0 = engine(1).state().log_length();
    const protocol::Epoch epoch0 = engine(1).view().epoch;
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        const auto& e = engine(n);
        if (e.node_status() != coordinator::NodeStatus::Normal || e.view().epoch != epoch0 ||
            e.view().members.size() != options_.nodes || e.undecided_count() != 0 || e.waiting_clients() != 0 ||
            e.queued_requests() != 0 || !nodes_[n - 1].inbox.empty() || e.state().log_length() != len0) {
            return false;
        }
    }
    for (NodeId a = 1; a <= options_.nodes; ++a) {
        for (NodeId b = 1; b <= options_.nodes; ++b) {
            if (a == b) continue;
            for (const auto& m : network_.queue(Link{a, b})) {
                if (!std::holds_alternative<protocol::Heartbeat>(m.msg->body)) return false;
            }
        }
    }
    return !clients_.any_waiting();
}

std::string Cluster::why_not_quiet() const {
    std::string why;
    auto add = [&](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
    const std::uint64_t len0 = engine(1).state().log_length();
    const protocol::Epoch epoch0 = engine(1).view().epoch;
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        const auto& e = engine(n);
        const std::string name = "node " + std::to_string(n);
        if (e.node_status() != coordinator::NodeStatus::Normal) {
            add(name + " is " + coordinator::to_string(e.node_status()));
        }
        if (e.view().epoch != epoch0) {
            add(name + " is in epoch " + std::to_string(e.view().epoch) + ", node 1 in " + std::to_string(epoch0));
        }
        if (e.view().members.size() != options_.nodes) {
            add(name + "'s view (epoch " + std::to_string(e.view().epoch) + ") has " +
                std::to_string(e.view().members.size()) + " of " + std::to_string(options_.nodes) + " members");
        }
        if (e.undecided_count() != 0) add(name + " holds " + std::to_string(e.undecided_count()) + " undecided");
        if (e.waiting_clients() != 0) add(name + " owes " + std::to_string(e.waiting_clients()) + " client answers");
        if (e.queued_requests() != 0) add(name + " has " + std::to_string(e.queued_requests()) + " queued requests");
        if (!nodes_[n - 1].inbox.empty()) add(name + " has unread client requests");
        if (e.state().log_length() != len0) {
            add(name + " delivered " + std::to_string(e.state().log_length()) + ", node 1 " + std::to_string(len0));
        }
    }
    std::size_t busy = 0;
    for (NodeId a = 1; a <= options_.nodes; ++a) {
        for (NodeId b = 1; b <= options_.nodes; ++b) {
            if (a == b) continue;
            for (const auto& m : network_.queue(Link{a, b})) {
                if (!std::holds_alternative<protocol::Heartbeat>(m.msg->body)) ++busy;
            }
        }
    }
    if (busy != 0) add(std::to_string(busy) + " protocol messages in flight");
    if (clients_.any_waiting()) add("clients waiting: " + clients_.describe_waiting());
    return why;
}

bool Cluster::run_until_quiet(std::uint64_t bound_ms, Verdict& verdict, const std::string& what) {
    const std::uint64_t start = now_ms_;
    while (!violation_ && !quiet()) {
        if (now_ms_ - start >= bound_ms) {
            verdict.kind = VerdictKind::Liveness;
            verdict.violation = checker::Violation{"P9 liveness", "not quiet " + std::to_string(bound_ms) + " ms " +
                                                                      what + " (at t=" + std::to_string(now_ms_) +
                                                                      "): " + why_not_quiet()};
            return false;
        }
        set_time(now_ms_ + 1);
        deliver_ready();
        tick_due();
        operator_rebootstrap_if_needed();
    }
    return true;
}

Verdict Cluster::finish(std::uint64_t bound_ms) {
    Verdict verdict;
    note("finish: heal every fault, restart every crashed node, run until quiet");
    network_.heal();
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        if (crashed(n)) restart(n);
    }
    for (NodeId n = 1; n <= options_.nodes; ++n) flush_inbox(n);
    if (!run_until_quiet(bound_ms, verdict, "after every fault ended")) return verdict;
    // P9, second half: the healed cluster serves a new write within a bound.
    if (!violation_ && clients_.count() > 0) {
        const NodeId target = static_cast<NodeId>(1 + options_.seed % options_.nodes);
        note("liveness probe: a new write at node " + std::to_string(target));
        client(target, 0, protocol::OpsRequest{{protocol::Set{"probe", std::to_string(now_ms_)}}});
        const std::uint64_t start = now_ms_;
        while (!violation_ && clients_.waiting(0) && now_ms_ - start < probe_bound_ms()) {
            set_time(now_ms_ + 1);
            deliver_ready();
            tick_due();
        }
        if (!violation_ && (clients_.waiting(0) || clients_.last_reply(0) != ReplyKind::Ok)) {
            verdict.kind = VerdictKind::Liveness;
            verdict.violation = checker::Violation{
                "P9 liveness", "a new write at node " + std::to_string(target) + " after the cluster was quiet " +
                                   (clients_.waiting(0) ? "was not answered" : "was not answered Ok") + " within " +
                                   std::to_string(probe_bound_ms()) + " ms"};
            return verdict;
        }
        if (!run_until_quiet(bound_ms, verdict, "after the liveness probe")) return verdict;
    }
    if (!violation_) fail(final_checks(verdict.stats));
    if (violation_) {
        verdict.kind = VerdictKind::Safety;
        verdict.violation = *violation_;
    }
    return verdict;
}

checker::CheckResult Cluster::final_checks(checker::LinearizabilityStats& stats) const {
    const checker::Limits limits{options_.store_limits.max_entries, options_.store_limits.max_bytes, 64};
    // The history every node ended in gets every check. Any other (a history
    // a rebootstrap abandoned, or one whose every node moved on) is judged as
    // far as it went: P1-P4, P6's first half and P7 over its own logs and
    // clients; it has no final state, and what it acknowledged is gone by the
    // operator's choice (R-TOTAL-LOSS).
    const std::size_t live = generation_of_node(1);
    for (std::size_t g = 0; g < gens_.size(); ++g) {
        if (g == live) continue;
        checker::LinearizabilityStats ignored;
        const checker::RunView past{limits, gens_[g].logs, gens_[g].safety.journal(), clients_.history(g), {}};
        if (auto v = checker::check_run(past, &ignored)) {
            v->detail = "in the history that started at epoch " + std::to_string(gens_[g].first_epoch) + ": " + v->detail;
            return v;
        }
    }
    std::vector<checker::FinalNodeState> finals;
    finals.reserve(options_.nodes);
    const std::uint64_t hash0 = engine(1).state().log_hash();
    for (NodeId n = 1; n <= options_.nodes; ++n) {
        const auto& e = engine(n);
        const auto& store = e.state().store();
        checker::FinalNodeState f;
        f.node = n;
        f.epoch = e.view().epoch;
        f.contents = store.snapshot_mru_first();
        f.digest = store.digest();
        f.log_length = e.state().log_length();
        if (store::digest_of(f.contents) != f.digest) {
            return checker::Violation{"P5 convergence", "node " + std::to_string(n) +
                                                            "'s store digest does not match its own contents"};
        }
        if (e.state().log_hash() != hash0) {
            return checker::Violation{"P5 convergence", "node " + std::to_string(n) + " has log hash " +
                                                            std::to_string(e.state().log_hash()) + ", node 1 " +
                                                            std::to_string(hash0) + " (same length " +
                                                            std::to_string(f.log_length) + ")"};
        }
        finals.push_back(std::move(f));
    }
    return checker::check_run(
        checker::RunView{limits, gens_[live].logs, gens_[live].safety.journal(), clients_.history(live), finals}, &stats);
}

}  // namespace tricache::sim
