// Vocabulary of the checker. It mirrors the project's protocol and store types
// on purpose instead of including them: an oracle that shares code with the
// thing it judges would share its bugs.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tricache::checker {

enum class OpKind : std::uint8_t { Get, Set, Del, Cas };

struct Op {
    OpKind kind = OpKind::Get;
    std::string key;
    std::string value;                    // Set and Cas: the new value
    std::optional<std::string> expected;  // Cas only: nullopt means "expect absent"

    static Op get(std::string key);
    static Op set(std::string key, std::string value);
    static Op del(std::string key);
    static Op cas(std::string key, std::optional<std::string> expected, std::string value);

    friend bool operator==(const Op&, const Op&) = default;
};

struct OpResult {
    bool ok = false;
    std::optional<std::string> value;
    friend bool operator==(const OpResult&, const OpResult&) = default;
};

// One client request as the replicas apply it.
struct Command {
    std::uint64_t client = 0;
    std::uint64_t request = 0;
    std::vector<Op> ops;
    friend bool operator==(const Command&, const Command&) = default;
};

struct TxKey {
    std::uint32_t coordinator = 0;
    std::uint64_t incarnation = 0;
    std::uint64_t seq = 0;
    friend constexpr auto operator<=>(const TxKey&, const TxKey&) = default;
};

// Skeen final timestamp, ordered lexicographically.
struct Stamp {
    std::uint64_t counter = 0;
    std::uint32_t node = 0;
    friend constexpr auto operator<=>(const Stamp&, const Stamp&) = default;
};

// One delivered transaction.
struct LogEntry {
    TxKey tx;
    Stamp final_ts;
    std::uint64_t epoch = 0;
    std::vector<Command> commands;
    friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

// Store contents as (key, value) pairs, most recently used first.
using Contents = std::vector<std::pair<std::string, std::string>>;

// What one incarnation of one node delivered. Indices are absolute positions in
// the cluster-wide order; a node that joined by snapshot starts past zero.
struct NodeLog {
    std::uint32_t node = 0;
    std::uint64_t incarnation = 0;
    std::uint64_t start_index = 0;
    std::vector<LogEntry> entries;
    // The store contents the node installed at start_index, when it joined by
    // snapshot and the simulator captured them; checked against the replay.
    std::optional<Contents> snapshot;

    std::uint64_t end_index() const { return start_index + entries.size(); }
};

struct Limits {
    std::uint64_t max_entries = 1;
    std::uint64_t max_bytes = 1;
    // Request ids remembered per client for retry deduplication (the engine's bound).
    std::uint64_t retry_window = 64;
};

struct Violation {
    std::string property;  // "P1 agreement", "P7 linearizability", ...
    std::string detail;
};

// nullopt: the property holds.
using CheckResult = std::optional<Violation>;

// Human-readable renderings used in violation details. Long values are cut.
std::string to_string(OpKind kind);
std::string to_string(const Op& op);
std::string to_string(const std::vector<Op>& ops);
std::string to_string(const OpResult& result);
std::string to_string(const std::vector<OpResult>& results);
std::string to_string(const TxKey& tx);
std::string to_string(const Stamp& ts);
std::string quote(const std::string& bytes);
std::string quote(const std::optional<std::string>& bytes);  // "<absent>" for nullopt

// Where two store contents first differ, or nullopt if equal.
std::optional<std::string> describe_difference(const Contents& expected, const Contents& got);

}  // namespace tricache::checker
