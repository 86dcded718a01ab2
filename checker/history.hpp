// Client-visible history, on simulator ticks. Vocabulary after Jepsen:
// Ok = it happened, Fail = it definitely did not, Info = unknown.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checker/types.hpp"

namespace tricache::checker {

enum class Outcome : std::uint8_t { Ok, Fail, Info };
std::string to_string(Outcome outcome);

struct Invoke {
    std::uint64_t time = 0;
    std::uint64_t client = 0;
    std::uint64_t request = 0;
    std::uint32_t node = 0;
    std::vector<Op> ops;
};

struct Complete {
    std::uint64_t time = 0;
    std::uint64_t client = 0;
    std::uint64_t request = 0;
    Outcome outcome = Outcome::Info;
    std::vector<OpResult> results;  // meaningful for Ok only
};

// An explicit local (possibly stale) read: it must show the state after some
// prefix of the order, namely the `delivered` first transactions.
struct LocalRead {
    std::uint64_t time_invoke = 0;
    std::uint64_t time_complete = 0;
    std::uint32_t node = 0;
    std::string key;
    bool found = false;
    std::string value;
    std::uint64_t delivered = 0;  // absolute count of transactions applied at the node
    std::uint64_t node_start_index = 0;
};

// All attempts (the first invoke and its retries) of one (client, request).
struct LogicalOp {
    std::uint64_t client = 0;
    std::uint64_t request = 0;
    std::uint32_t node = 0;  // of the first attempt
    std::vector<Op> ops;
    std::uint64_t first_invoke = 0;
    std::optional<std::uint64_t> last_complete;
    // The earliest Ok reply: the operation had taken effect by then, so this is
    // where its real-time constraint on later invocations starts.
    std::optional<std::uint64_t> first_ok;
    std::optional<std::vector<OpResult>> ok_results;  // from the first Ok reply
    // A later Ok reply that disagreed with ok_results: (time, results).
    std::optional<std::pair<std::uint64_t, std::vector<OpResult>>> conflicting_ok;
    std::uint32_t attempts = 0;
    std::uint32_t completions = 0;
    std::uint32_t fails = 0;

    // Ok if any attempt returned Ok; Fail only if every attempt returned Fail;
    // otherwise Info (some attempt timed out or never returned).
    Outcome outcome() const;
    bool has_write() const;
};

// Hash for (client, request) keys.
struct RequestKeyHash {
    std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& k) const noexcept {
        // splitmix-style mixing: client ids and request ids are both small and dense.
        return static_cast<std::size_t>(mix_bits(k.first * 0x9e3779b97f4a7c15ULL ^ (k.second + 0x632be59bd9b4e019ULL)));
    }
};

class History {
public:
    // Each record_* returns a violation (property "H well-formed") if the event
    // cannot belong to a valid history; the first one is also kept and reported
    // by the checks, so a caller may ignore the return value.
    CheckResult record_invoke(Invoke invoke);
    CheckResult record_complete(Complete complete);
    CheckResult record_local_read(LocalRead read);

    // Valid until the next record_*.
    const LogicalOp* find(std::uint64_t client, std::uint64_t request) const;
    // Ordered by (first_invoke, client, request).
    std::vector<const LogicalOp*> operations() const;
    const std::vector<LocalRead>& local_reads() const { return local_reads_; }
    const CheckResult& recording_error() const { return first_error_; }
    std::size_t size() const { return ops_.size(); }
    // Where an operation this history returned (find, operations) is kept:
    // distinct, in [0, size()). Lets a check keep per-operation facts in a
    // vector instead of a map keyed by (client, request).
    std::size_t position(const LogicalOp* op) const {
        assert(op >= ops_.data() && op < ops_.data() + ops_.size());
        return static_cast<std::size_t>(op - ops_.data());
    }

private:
    CheckResult fail(std::string detail);
    // The slot of `index_` where (client, request) is, or the empty one where it would go.
    std::size_t probe(std::uint64_t client, std::uint64_t request) const;
    void grow_index();

    // Operations in first-invoke order of recording, and an open-addressing
    // index over them (at 0 = empty, else position + 1): one record per request
    // in a long run, so no node per operation to allocate and free. A slot
    // holds its key, so a probe never reads the (large, scattered) operation.
    struct IndexSlot {
        std::uint64_t client = 0;
        std::uint64_t request = 0;
        std::uint32_t at = 0;
    };
    std::vector<LogicalOp> ops_;
    std::vector<IndexSlot> index_;
    std::vector<LocalRead> local_reads_;
    CheckResult first_error_;
};

}  // namespace tricache::checker
