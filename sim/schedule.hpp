// A scripted schedule: the manual verbs as data, with one text line per step.
// The property test generates schedules, rapidcheck prints the shrunk one
// with describe(), and a regression test parses that text back and replays
// it, so every minimised failure stays a readable, runnable script.
//
// Line syntax (one step per line; '# ' (hash, blank) starts a comment):
//   deliver 1->2 #k      drop 1->2 #k      dup 1->2 #k
//   tick 2 +30ms         advance +50ms     pause 3      resume 3
//   drain                (every message in flight and what it causes, oldest first; no time passes)
//   retry c0 @2
//   client c0 @2 SET k1=abc; GET k2; DEL k3; CAS k1 abc->xyz; CAS k4 absent->q; LGET k2
//   client c0 @2 GET k1 !wrong-cluster
//   partition 1,2 | 3    (nodes in different groups cannot talk; a node named in no group is alone)
//   cut 1->2             (one direction of one link)
//   bridge 1-2-3         (1 and 3 cannot talk, both still reach 2)
//   heal                 (every partition and cut ends; pauses and crashes stay)
//   crash 2              (memory lost; refused if a majority would be without memory)
//   restart 2            (a crashed node starts again with a new incarnation)
//   rebootstrap 2        (the operator's admin rebootstrap, sent to node 2)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/messages.hpp"
#include "sim/cluster.hpp"

namespace tricache::sim {

enum class StepKind : std::uint8_t {
    Client,
    Retry,
    Deliver,
    Drop,
    Duplicate,
    Tick,
    Advance,
    Pause,
    Resume,
    Drain,
    Partition,
    Cut,
    Bridge,
    Heal,
    Crash,
    Restart,
    Rebootstrap,
};

struct Step {
    StepKind kind = StepKind::Deliver;
    NodeId node = 1;          // target node; source of a link
    NodeId to = 2;            // destination of a link
    std::uint32_t slot = 0;   // client slot
    std::uint64_t k = 0;      // message index on the link, or milliseconds
    protocol::ClientRequestBody body = protocol::OpsRequest{};  // Client only
    bool wrong_cluster = false;
    std::vector<std::vector<NodeId>> groups;  // Partition: the groups; Bridge: {a, b, c}
    friend bool operator==(const Step&, const Step&) = default;
};

std::string describe(const Step& step);
std::optional<Step> parse_step(const std::string& line);
// Every non-empty, non-comment line; nullopt (and the bad line in `error`) on a syntax error.
std::optional<std::vector<Step>> parse_schedule(const std::string& text, std::string* error = nullptr);

// The cluster every scripted schedule runs on (the property test, the
// regression tests and `tricache-sim --schedule` alike): small store limits
// so evictions are constant, three client slots, a third of the messages
// through the codec.
ClusterOptions scripted_options(std::uint32_t nodes, std::uint64_t seed);

// Reads "# nodes=N seed=S" from a schedule's text, if present. A trailing
// word "total-loss" marks a total-failure scenario (ClusterOptions::allow_total_loss).
bool parse_schedule_header(const std::string& text, std::uint32_t& nodes, std::uint64_t& seed,
                           bool* total_loss = nullptr);

// Timer overrides on the header line, words `name=ms` after the seed:
// heartbeat, suspect, join_retry, vc_timeout, vc_backoff, resend, e.g.
// "# nodes=6 seed=0 total-loss heartbeat=10 suspect=40 join_retry=200", for a
// finding that needs the timers a swarm seed drew. False (and the bad word in
// `error`) on an unknown name or a bad value; no header changes nothing.
bool apply_schedule_timers(const std::string& text, ClusterOptions& options, std::string* error = nullptr);

// Applies one step; returns whether it changed anything.
bool apply(Cluster& cluster, const Step& step);

struct ScheduleOutcome {
    Verdict verdict;
    std::size_t failed_at = 0;  // index of the step after which a safety check failed (when during the schedule)
    bool during_schedule = false;
    std::uint64_t trace_hash = 0;
};

// Runs the steps on a fresh cluster, checking safety after each, then
// finish(bound_ms): heal, quiesce, end-of-run checks.
ScheduleOutcome run_schedule(const ClusterOptions& options, const std::vector<Step>& steps,
                             std::uint64_t bound_ms);

}  // namespace tricache::sim
