// Vocabulary of the checker. It mirrors the project's protocol and store types
// on purpose instead of including them: an oracle that shares code with the
// thing it judges would share its bugs.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tricache::checker {

// The splitmix64 finalizer, for the checker's hash maps of small, dense ids
// (the checker depends on nothing else in the project, so not coordinator's).
inline std::uint64_t mix_bits(std::uint64_t x) {
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return x;
}

// Incr .. Clear are the operations the Redis endpoint needs; their meaning is
// stated again, independently, in reference_lru.cpp.
// Expire .. Purge are expiry (spec R-TTL), modelled in reference_lru.cpp too.
enum class OpKind : std::uint8_t {
    Get, Set, Del, Cas, Incr, Append, Exists, Require, Count, Scan, Clear, Expire, Persist, Ttl, Purge
};
// How a Set or an Expire names a time: none (a Set drops the key's expiry),
// keep (a Set keeps it), at an absolute ms, or ms after the apply clock.
enum class TimeKind : std::uint8_t { None, Keep, At, After };
// Expire's Redis conditions; XxLt is XX and LT together.
enum class Condition : std::uint8_t { Always, Nx, Xx, Gt, Lt, XxLt };
// The client id of the engines' own purge commands: never in a retry window.
inline constexpr std::uint64_t kPurgeClient = ~std::uint64_t{0};

struct Op {
    OpKind kind = OpKind::Get;
    std::string key;                      // empty for Count, Scan and Clear
    std::string value;                    // Set and Cas: the new value; Append: the suffix
    std::optional<std::string> expected;  // Cas only: nullopt means "expect absent"
    std::int64_t delta = 0;               // Incr
    bool present = false;                 // Require: the key must be present (true) or absent
    std::uint64_t cursor = 0;             // Scan
    std::uint32_t count = 0;              // Scan; Purge: the most entries it removes
    TimeKind time = TimeKind::None;       // Set, Expire
    std::int64_t ms = 0;                  // Set, Expire: with At or After
    Condition condition = Condition::Always;  // Expire

    static Op get(std::string key);
    static Op set(std::string key, std::string value);
    static Op del(std::string key);
    static Op cas(std::string key, std::optional<std::string> expected, std::string value);
    static Op incr(std::string key, std::int64_t delta);
    static Op append(std::string key, std::string suffix);
    static Op exists(std::string key);
    static Op require(std::string key, bool present);
    static Op count_entries();
    static Op scan(std::uint64_t cursor, std::uint32_t count);
    static Op clear();
    static Op set_expiring(std::string key, std::string value, TimeKind time, std::int64_t ms);
    static Op expire(std::string key, TimeKind time, std::int64_t ms, Condition condition);
    static Op persist(std::string key);
    static Op ttl(std::string key);
    static Op purge(std::uint32_t max);

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
    std::uint64_t stamp_ms = 0;  // its coordinator's clock when batched (R-TTL-STAMP)
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

// The commands of one delivered transaction, used like a std::vector<Command>.
// Copies share one vector: a simulator hands the same delivery to the log of
// every node, and the checker copies entries into G, so a copy costs a
// reference count instead of every string. A write through the non-const
// accessors first takes a private copy, so copies stay independent values.
// Equal by content; the same shared vector is equal without a look.
class Commands {
public:
    Commands() = default;
    Commands(std::vector<Command> commands)  // implicit, like the vector it stands for
        : items_(std::make_shared<std::vector<Command>>(std::move(commands))) {}
    Commands(std::initializer_list<Command> commands) : Commands(std::vector<Command>(commands)) {}

    const std::vector<Command>& items() const { return items_ ? *items_ : none(); }
    std::size_t size() const { return items().size(); }
    bool empty() const { return items().empty(); }
    const Command& operator[](std::size_t i) const { return items()[i]; }
    std::vector<Command>::const_iterator begin() const { return items().begin(); }
    std::vector<Command>::const_iterator end() const { return items().end(); }

    Command& operator[](std::size_t i) { return mutate()[i]; }
    void push_back(Command command) { mutate().push_back(std::move(command)); }
    void reserve(std::size_t n) { mutate().reserve(n); }

    friend bool operator==(const Commands& a, const Commands& b) {
        return a.items_ == b.items_ || a.items() == b.items();
    }

private:
    static const std::vector<Command>& none() {
        static const std::vector<Command> none;
        return none;
    }
    // The vector, private to this object: copied first if another shares it.
    std::vector<Command>& mutate() {
        if (!items_ || items_.use_count() != 1) items_ = std::make_shared<std::vector<Command>>(items());
        return *items_;
    }

    std::shared_ptr<std::vector<Command>> items_;  // null: no commands; never written while shared
};

// One delivered transaction.
struct LogEntry {
    TxKey tx;
    Stamp final_ts;
    std::uint64_t epoch = 0;
    Commands commands;
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
