#include "checker/history.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <tuple>

namespace tricache::checker {

namespace {
std::string name(std::uint64_t client, std::uint64_t request) {
    return "client " + std::to_string(client) + " request " + std::to_string(request);
}
}  // namespace

std::string to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::Ok: return "ok";
        case Outcome::Fail: return "fail";
        case Outcome::Info: return "info";
    }
    return "?";
}

Outcome LogicalOp::outcome() const {
    if (ok_results) return Outcome::Ok;
    if (attempts > 0 && fails == attempts) return Outcome::Fail;
    return Outcome::Info;
}

bool LogicalOp::has_write() const {
    return std::any_of(ops.begin(), ops.end(), [](const Op& op) { return op.kind != OpKind::Get; });
}

CheckResult History::fail(std::string detail) {
    Violation v{"H well-formed", std::move(detail)};
    if (!first_error_) first_error_ = v;
    return v;
}

std::size_t History::probe(std::uint64_t client, std::uint64_t request) const {
    const std::size_t mask = index_.size() - 1;
    std::size_t i = RequestKeyHash{}(std::make_pair(client, request)) & mask;
    while (index_[i].at != 0) {
        if (index_[i].client == client && index_[i].request == request) return i;
        i = (i + 1) & mask;
    }
    return i;
}

void History::grow_index() {
    index_.assign(index_.empty() ? 64 : 2 * index_.size(), IndexSlot{});
    for (std::size_t k = 0; k < ops_.size(); ++k) {
        index_[probe(ops_[k].client, ops_[k].request)] =
            IndexSlot{ops_[k].client, ops_[k].request, static_cast<std::uint32_t>(k + 1)};
    }
}

CheckResult History::record_invoke(Invoke invoke) {
    if (2 * (ops_.size() + 1) > index_.size()) grow_index();  // load stays at most one half
    const std::size_t slot = probe(invoke.client, invoke.request);
    if (index_[slot].at == 0) {
        assert(ops_.size() < std::numeric_limits<std::uint32_t>::max());
        LogicalOp op;
        op.client = invoke.client;
        op.request = invoke.request;
        op.node = invoke.node;
        op.ops = std::move(invoke.ops);
        op.first_invoke = invoke.time;
        op.attempts = 1;
        ops_.push_back(std::move(op));
        index_[slot] = IndexSlot{invoke.client, invoke.request, static_cast<std::uint32_t>(ops_.size())};
        return std::nullopt;
    }
    LogicalOp& op = ops_[index_[slot].at - 1];
    if (op.ops != invoke.ops) {
        return fail("retry of " + name(invoke.client, invoke.request) + " at t=" + std::to_string(invoke.time) +
                    " carries different ops: first " + to_string(op.ops) + ", retry " + to_string(invoke.ops));
    }
    if (invoke.time < op.first_invoke) {
        return fail("retry of " + name(invoke.client, invoke.request) + " at t=" + std::to_string(invoke.time) +
                    " precedes its first invoke at t=" + std::to_string(op.first_invoke));
    }
    ++op.attempts;
    return std::nullopt;
}

CheckResult History::record_complete(Complete complete) {
    const std::size_t slot = index_.empty() ? 0 : probe(complete.client, complete.request);
    if (index_.empty() || index_[slot].at == 0) {
        return fail("completion at t=" + std::to_string(complete.time) + " of " +
                    name(complete.client, complete.request) + " which was never invoked");
    }
    LogicalOp& op = ops_[index_[slot].at - 1];
    if (op.completions >= op.attempts) {
        return fail("completion at t=" + std::to_string(complete.time) + " of " +
                    name(complete.client, complete.request) + ": more completions than invocations (" +
                    std::to_string(op.attempts) + ")");
    }
    if (complete.time < op.first_invoke) {
        return fail("completion at t=" + std::to_string(complete.time) + " of " +
                    name(complete.client, complete.request) + " precedes its invoke at t=" +
                    std::to_string(op.first_invoke));
    }
    ++op.completions;
    op.last_complete = std::max(op.last_complete.value_or(complete.time), complete.time);
    switch (complete.outcome) {
        case Outcome::Fail: ++op.fails; break;
        case Outcome::Info: break;
        case Outcome::Ok:
            if (!op.ok_results) {
                op.ok_results = std::move(complete.results);
                op.first_ok = complete.time;
            } else {
                if (complete.time < *op.first_ok) {
                    // Completions may be recorded out of time order; keep the earliest Ok as primary.
                    std::swap(*op.ok_results, complete.results);
                    std::swap(*op.first_ok, complete.time);
                }
                if (*op.ok_results != complete.results && !op.conflicting_ok) {
                    op.conflicting_ok = std::make_pair(complete.time, std::move(complete.results));
                }
            }
            break;
    }
    return std::nullopt;
}

CheckResult History::record_local_read(LocalRead read) {
    if (read.time_complete < read.time_invoke) {
        return fail("local read of " + quote(read.key) + " at node " + std::to_string(read.node) +
                    " completes at t=" + std::to_string(read.time_complete) + " before its invoke at t=" +
                    std::to_string(read.time_invoke));
    }
    if (read.delivered < read.node_start_index) {
        return fail("local read of " + quote(read.key) + " at node " + std::to_string(read.node) + " reports " +
                    std::to_string(read.delivered) + " delivered, below the node's start index " +
                    std::to_string(read.node_start_index));
    }
    local_reads_.push_back(std::move(read));
    return std::nullopt;
}

const LogicalOp* History::find(std::uint64_t client, std::uint64_t request) const {
    if (index_.empty()) return nullptr;
    const std::uint32_t at = index_[probe(client, request)].at;
    return at == 0 ? nullptr : &ops_[at - 1];
}

std::vector<const LogicalOp*> History::operations() const {
    std::vector<const LogicalOp*> out;
    out.reserve(ops_.size());
    for (const LogicalOp& op : ops_) out.push_back(&op);
    std::stable_sort(out.begin(), out.end(), [](const LogicalOp* a, const LogicalOp* b) {
        return std::tie(a->first_invoke, a->client, a->request) < std::tie(b->first_invoke, b->client, b->request);
    });
    return out;
}

}  // namespace tricache::checker
