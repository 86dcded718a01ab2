// Random fault-free sequential executions: whatever the reference model did is
// by construction linearizable, so every check must hold; then one piece of the
// record is broken and the checker must notice.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

#include "checker/checks.hpp"
#include "tests/checker/sequential_run.hpp"

namespace tricache::checker {
namespace {

using testing::build_history;
using testing::SequentialRun;

const std::vector<std::string> kKeys{"a", "b", "c", "d", "e"};

std::string gen_value() {
    // A small pool so that CAS sometimes matches; the long ones exercise byte
    // eviction and the too-large rejection.
    static const std::vector<std::string> pool{"", "1", "2", "33", std::string(30, 'L'), std::string(150, 'H')};
    return pool[*rc::gen::inRange<std::size_t>(0, pool.size())];
}

Op gen_op() {
    const std::string key = kKeys[*rc::gen::inRange<std::size_t>(0, kKeys.size())];
    switch (*rc::gen::inRange(0, 4)) {
        case 0: return Op::get(key);
        case 1: return Op::set(key, gen_value());
        case 2: return Op::del(key);
        default: {
            std::optional<std::string> expected;
            if (*rc::gen::inRange(0, 3) > 0) expected = gen_value();
            return Op::cas(key, expected, gen_value());
        }
    }
}

SequentialRun generate_run() {
    const Limits limits{*rc::gen::inRange<std::uint64_t>(1, 7), *rc::gen::inRange<std::uint64_t>(60, 400)};
    SequentialRun s(limits, 3);
    PrefixMonitor monitor;
    std::map<std::uint64_t, std::uint64_t> last_request;
    std::vector<Command> unknown;  // applied, answered Info: candidates for a retry
    const int txs = *rc::gen::inRange(1, 30);
    const auto fresh = [&] {
        const std::uint64_t client = *rc::gen::inRange<std::uint64_t>(1, 4);
        std::vector<Op> ops;
        const int n = *rc::gen::inRange(1, 4);
        for (int i = 0; i < n; ++i) ops.push_back(gen_op());
        return Command{client, ++last_request[client], std::move(ops)};
    };
    for (int t = 0; t < txs; ++t) {
        if (*rc::gen::inRange(0, 10) == 0) {
            const auto m = s.members();
            if (m.size() == 3) {
                s.remove(m[*rc::gen::inRange<std::size_t>(0, 3)]);
            } else {
                for (std::uint32_t n = 1; n <= 3; ++n) {
                    if (std::find(m.begin(), m.end(), n) == m.end()) s.rejoin(n);
                }
            }
        }
        // The first command is always fresh and acknowledged, so any two
        // transactions are ordered by real time.
        std::vector<Command> cmds{fresh()};
        std::set<std::size_t> info;
        const int extra = *rc::gen::inRange(0, 3);
        for (int i = 0; i < extra; ++i) {
            if (!unknown.empty() && *rc::gen::inRange(0, 3) == 0) {
                const std::size_t k = *rc::gen::inRange<std::size_t>(0, unknown.size());
                const Command retry = unknown[k];
                unknown.erase(unknown.begin() + static_cast<std::ptrdiff_t>(k));
                // Only within the retry window, like a real client retrying its in-flight requests.
                if (last_request[retry.client] - retry.request < 32) cmds.push_back(retry);
                continue;
            }
            cmds.push_back(fresh());
            if (*rc::gen::inRange(0, 4) == 0) {
                info.insert(cmds.size() - 1);
                unknown.push_back(cmds.back());
            }
        }
        s.commit(cmds, info);
        const auto step = monitor.observe(s.logs);
        RC_ASSERT(!step.has_value());
        if (*rc::gen::inRange(0, 3) == 0) {
            const auto m = s.members();
            const std::uint32_t node = m[*rc::gen::inRange<std::size_t>(0, m.size())];
            const std::uint64_t delivered = *rc::gen::inRange<std::uint64_t>(s.start_of(node), s.g.size() + 1);
            s.local_read(node, kKeys[*rc::gen::inRange<std::size_t>(0, kKeys.size())], delivered);
        }
    }
    return s;
}

void assert_holds(const CheckResult& r) {
    if (r) RC_FAIL(r->property + ": " + r->detail);
}

RC_GTEST_PROP(CheckerProperty, SequentialExecutionsPass, ()) {
    const SequentialRun s = generate_run();
    LinearizabilityStats st;
    assert_holds(check_run(s.record(), &st));
    RC_CLASSIFY(st.duplicates > 0, "retry absorbed");
    RC_CLASSIFY(st.info_in_log > st.duplicates, "unknown outcome applied");
    RC_CLASSIFY(st.stale_local_reads > 0, "stale local read");
    RC_CLASSIFY(s.logs.size() > 3, "view change with rejoin");
    RC_CLASSIFY(s.model().entry_count() == s.record().limits.max_entries, "store full");
    assert_holds(check_total_order(s.logs));
    assert_holds(check_linearizable(build_history(s.events), s.global(), s.record().limits));
}

RC_GTEST_PROP(CheckerProperty, MutatedResultIsCaught, ()) {
    SequentialRun s = generate_run();
    std::vector<std::size_t> ok_completions;
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        const auto& e = s.events[i];
        if (e.kind == testing::Event::Kind::Complete && e.complete.outcome == Outcome::Ok &&
            !e.complete.results.empty()) {
            ok_completions.push_back(i);
        }
    }
    RC_PRE(!ok_completions.empty());
    auto& c = s.events[*rc::gen::elementOf(ok_completions)].complete;
    OpResult& r = c.results[*rc::gen::inRange<std::size_t>(0, c.results.size())];
    if (*rc::gen::arbitrary<bool>()) {
        r.ok = !r.ok;
    } else {
        r.value = r.value ? std::nullopt : std::optional<std::string>("MUTANT");
    }
    const auto v = check_run(s.record());
    RC_ASSERT(v.has_value());
    RC_ASSERT(v->property == std::string("P7 linearizability"));
}

RC_GTEST_PROP(CheckerProperty, SwappedCommandsAreCaught, ()) {
    SequentialRun s = generate_run();
    RC_PRE(s.g.size() >= 2);
    const std::size_t i = *rc::gen::inRange<std::size_t>(0, s.g.size() - 1);
    const std::size_t j = *rc::gen::inRange<std::size_t>(i + 1, s.g.size());
    GlobalLog g = s.global();
    std::swap(g.entries[i].commands, g.entries[j].commands);
    const auto lin = check_linearizable(build_history(s.events), g, s.record().limits);
    RC_ASSERT(lin.has_value());
    RC_ASSERT(lin->property == std::string("P7 linearizability"));

    // The same swap applied to every node's log, timestamps untouched.
    for (NodeLog& l : s.logs) {
        for (LogEntry& e : l.entries) {
            if (e.tx == s.g[i].tx) e.commands = g.entries[i].commands;
            else if (e.tx == s.g[j].tx) e.commands = g.entries[j].commands;
        }
    }
    RC_ASSERT(check_run(s.record()).has_value());
}

RC_GTEST_PROP(CheckerProperty, SwappedEntriesAreCaught, ()) {
    SequentialRun s = generate_run();
    RC_PRE(s.g.size() >= 2);
    const std::size_t i = *rc::gen::inRange<std::size_t>(0, s.g.size() - 1);
    const std::size_t j = *rc::gen::inRange<std::size_t>(i + 1, s.g.size());
    const LogEntry a = s.g[i];
    const LogEntry b = s.g[j];
    for (NodeLog& l : s.logs) {
        for (LogEntry& e : l.entries) {
            if (e.tx == a.tx) e = b;
            else if (e.tx == b.tx) e = a;
        }
    }
    const auto v = check_run(s.record());
    RC_ASSERT(v.has_value());
    RC_ASSERT(v->property == std::string("P3 total order"));
}

RC_GTEST_PROP(CheckerProperty, InventedLocalReadIsCaught, ()) {
    SequentialRun s = generate_run();
    std::vector<std::size_t> reads;
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        if (s.events[i].kind == testing::Event::Kind::LocalRead) reads.push_back(i);
    }
    RC_PRE(!reads.empty());
    auto& r = s.events[*rc::gen::elementOf(reads)].read;
    r.found = true;
    r.value = "NEVER";
    const auto v = check_run(s.record());
    RC_ASSERT(v.has_value());
    RC_ASSERT(v->property == std::string("P7 local read"));
}

// The most literal LRU there is: a vector in recency order, scanned linearly.
// The reference model keeps recency as clock stamps for speed; both must agree.
class VectorLru {
public:
    explicit VectorLru(Limits limits) : limits_(limits) {}
    bool put(const std::string& k, const std::string& v) {
        if (ReferenceLru::charge(k, v) > limits_.max_bytes) return false;
        erase(k);
        mru_last_.emplace_back(k, v);
        while (mru_last_.size() > limits_.max_entries || bytes() > limits_.max_bytes) mru_last_.erase(mru_last_.begin());
        return true;
    }
    std::optional<std::string> get(const std::string& k) {
        touch(k);
        return peek(k);
    }
    bool erase(const std::string& k) {
        for (auto it = mru_last_.begin(); it != mru_last_.end(); ++it) {
            if (it->first == k) {
                mru_last_.erase(it);
                return true;
            }
        }
        return false;
    }
    void touch(const std::string& k) {
        for (std::size_t i = 0; i < mru_last_.size(); ++i) {
            if (mru_last_[i].first == k) {
                auto e = mru_last_[i];
                mru_last_.erase(mru_last_.begin() + static_cast<std::ptrdiff_t>(i));
                mru_last_.push_back(e);
                return;
            }
        }
    }
    std::optional<std::string> peek(const std::string& k) const {
        for (const auto& [key, v] : mru_last_) {
            if (key == k) return v;
        }
        return std::nullopt;
    }
    std::uint64_t bytes() const {
        std::uint64_t b = 0;
        for (const auto& [k, v] : mru_last_) b += ReferenceLru::charge(k, v);
        return b;
    }
    Contents contents_mru_first() const { return Contents(mru_last_.rbegin(), mru_last_.rend()); }

private:
    Limits limits_;
    std::vector<std::pair<std::string, std::string>> mru_last_;
};

RC_GTEST_PROP(CheckerProperty, ReferenceLruMatchesAVectorLru, ()) {
    const Limits limits{*rc::gen::inRange<std::uint64_t>(1, 8), *rc::gen::inRange<std::uint64_t>(49, 400)};
    ReferenceLru fast(limits);
    VectorLru slow(limits);
    const int steps = *rc::gen::inRange(1, 200);
    for (int i = 0; i < steps; ++i) {
        const std::string key = kKeys[*rc::gen::inRange<std::size_t>(0, kKeys.size())];
        switch (*rc::gen::inRange(0, 5)) {
            case 0: {
                const std::string v = gen_value();
                RC_ASSERT(fast.put(key, v) == slow.put(key, v));
                break;
            }
            case 1: RC_ASSERT(fast.get(key) == slow.get(key)); break;
            case 2: RC_ASSERT(fast.erase(key) == slow.erase(key)); break;
            case 3:
                fast.touch(key);
                slow.touch(key);
                break;
            default: RC_ASSERT(fast.peek(key) == slow.peek(key)); break;
        }
        RC_ASSERT(fast.contents_mru_first() == slow.contents_mru_first());
        RC_ASSERT(fast.bytes() == slow.bytes());
    }
}

}  // namespace
}  // namespace tricache::checker
