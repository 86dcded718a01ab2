#include "checker/types.hpp"

#include <algorithm>
#include <cstdio>

namespace tricache::checker {

Op Op::get(std::string key) { return Op{OpKind::Get, std::move(key), {}, std::nullopt}; }
Op Op::set(std::string key, std::string value) {
    return Op{OpKind::Set, std::move(key), std::move(value), std::nullopt};
}
Op Op::del(std::string key) { return Op{OpKind::Del, std::move(key), {}, std::nullopt}; }
Op Op::cas(std::string key, std::optional<std::string> expected, std::string value) {
    return Op{OpKind::Cas, std::move(key), std::move(value), std::move(expected)};
}

Op Op::incr(std::string key, std::int64_t delta) {
    Op op{OpKind::Incr, std::move(key), {}, std::nullopt};
    op.delta = delta;
    return op;
}
Op Op::append(std::string key, std::string suffix) {
    return Op{OpKind::Append, std::move(key), std::move(suffix), std::nullopt};
}
Op Op::exists(std::string key) { return Op{OpKind::Exists, std::move(key), {}, std::nullopt}; }
Op Op::require(std::string key, bool present) {
    Op op{OpKind::Require, std::move(key), {}, std::nullopt};
    op.present = present;
    return op;
}
Op Op::count_entries() { return Op{OpKind::Count, {}, {}, std::nullopt}; }
Op Op::scan(std::uint64_t cursor, std::uint32_t count) {
    Op op{OpKind::Scan, {}, {}, std::nullopt};
    op.cursor = cursor;
    op.count = count;
    return op;
}
Op Op::clear() { return Op{OpKind::Clear, {}, {}, std::nullopt}; }
Op Op::set_expiring(std::string key, std::string value, TimeKind time, std::int64_t ms) {
    Op op = set(std::move(key), std::move(value));
    op.time = time;
    op.ms = ms;
    return op;
}
Op Op::expire(std::string key, TimeKind time, std::int64_t ms, Condition condition) {
    Op op{OpKind::Expire, std::move(key), {}, std::nullopt};
    op.time = time;
    op.ms = ms;
    op.condition = condition;
    return op;
}
Op Op::persist(std::string key) { return Op{OpKind::Persist, std::move(key), {}, std::nullopt}; }
Op Op::ttl(std::string key) { return Op{OpKind::Ttl, std::move(key), {}, std::nullopt}; }
Op Op::purge(std::uint32_t max) {
    Op op{OpKind::Purge, {}, {}, std::nullopt};
    op.count = max;
    return op;
}

std::string to_string(OpKind kind) {
    switch (kind) {
        case OpKind::Get: return "GET";
        case OpKind::Set: return "SET";
        case OpKind::Del: return "DEL";
        case OpKind::Cas: return "CAS";
        case OpKind::Incr: return "INCR";
        case OpKind::Append: return "APPEND";
        case OpKind::Exists: return "EXISTS";
        case OpKind::Require: return "REQUIRE";
        case OpKind::Count: return "COUNT";
        case OpKind::Scan: return "SCAN";
        case OpKind::Clear: return "CLEAR";
        case OpKind::Expire: return "EXPIRE";
        case OpKind::Persist: return "PERSIST";
        case OpKind::Ttl: return "TTL";
        case OpKind::Purge: return "PURGE";
    }
    return "?";
}

std::string quote(const std::string& bytes) {
    // Details end up in test logs: keep them one line and bounded.
    constexpr std::size_t kShown = 40;
    std::string out = "\"";
    const std::size_t shown = std::min(bytes.size(), kShown);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
            out += buf;
        }
    }
    out += '"';
    if (shown < bytes.size()) out += "...(" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

std::string quote(const std::optional<std::string>& bytes) {
    return bytes ? quote(*bytes) : std::string("<absent>");
}

std::string to_string(const Op& op) {
    std::string out = to_string(op.kind) + " " + quote(op.key);
    switch (op.kind) {
        case OpKind::Get:
        case OpKind::Del: break;
        case OpKind::Set:
            out += " " + quote(op.value);
            if (op.time == TimeKind::Keep) out += " keepttl";
            if (op.time == TimeKind::At || op.time == TimeKind::After) {
                out += (op.time == TimeKind::At ? " at " : " after ") + std::to_string(op.ms);
            }
            break;
        case OpKind::Expire:
            out += (op.time == TimeKind::At ? " at " : " after ") + std::to_string(op.ms) + " if " +
                   std::to_string(static_cast<int>(op.condition));
            break;
        case OpKind::Persist:
        case OpKind::Ttl: break;
        case OpKind::Purge: out = "PURGE " + std::to_string(op.count); break;
        case OpKind::Cas: out += " expect " + quote(op.expected) + " -> " + quote(op.value); break;
        case OpKind::Incr: out += " by " + std::to_string(op.delta); break;
        case OpKind::Append: out += " " + quote(op.value); break;
        case OpKind::Exists: break;
        case OpKind::Require: out += op.present ? " present" : " absent"; break;
        case OpKind::Count:
        case OpKind::Clear: out = to_string(op.kind); break;
        case OpKind::Scan:
            out = "SCAN from " + std::to_string(op.cursor) + " count " + std::to_string(op.count);
            break;
    }
    return out;
}

std::string to_string(const std::vector<Op>& ops) {
    std::string out = "[";
    for (std::size_t i = 0; i < ops.size(); ++i) {
        if (i > 0) out += ", ";
        out += to_string(ops[i]);
    }
    return out + "]";
}

std::string to_string(const OpResult& result) {
    return std::string(result.ok ? "ok" : "not-ok") + (result.value ? " " + quote(*result.value) : "");
}

std::string to_string(const std::vector<OpResult>& results) {
    std::string out = "[";
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (i > 0) out += ", ";
        out += to_string(results[i]);
    }
    return out + "]";
}

std::string to_string(const TxKey& tx) {
    return "tx(" + std::to_string(tx.coordinator) + "." + std::to_string(tx.incarnation) + "#" +
           std::to_string(tx.seq) + ")";
}

std::string to_string(const Stamp& ts) {
    return "(" + std::to_string(ts.counter) + "," + std::to_string(ts.node) + ")";
}

std::optional<std::string> describe_difference(const Contents& expected, const Contents& got) {
    const std::size_t common = std::min(expected.size(), got.size());
    for (std::size_t i = 0; i < common; ++i) {
        if (expected[i] != got[i]) {
            return "position " + std::to_string(i) + " (MRU=0): expected " + quote(expected[i].first) + "=" +
                   quote(expected[i].second) + ", got " + quote(got[i].first) + "=" + quote(got[i].second);
        }
    }
    if (expected.size() != got.size()) {
        std::string more;
        if (expected.size() > got.size()) {
            more = "; first missing " + quote(expected[common].first);
        } else {
            more = "; first extra " + quote(got[common].first);
        }
        return "expected " + std::to_string(expected.size()) + " entries, got " + std::to_string(got.size()) + more;
    }
    return std::nullopt;
}

}  // namespace tricache::checker
