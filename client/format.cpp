#include "client/format.hpp"

#include <cstdio>

namespace tricache::client {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n = 0;
    unsigned min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    unsigned cp = c & (0xffu >> (n + 1));
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

}  // namespace

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        char buf[8];
        if (c == '"') {
            out += "\\\"";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (const std::size_t n = utf8_length(s, i); n > 0) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        }
        ++i;
    }
    out += '"';
    return out;
}

std::string hex64(std::uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string status_json(const protocol::StatusReply& s) {
    std::string o = "{\"node\":" + std::to_string(s.node) + ",\"incarnation\":" + std::to_string(s.incarnation) +
                    ",\"epoch\":" + std::to_string(s.epoch) + ",\"members\":[";
    for (std::size_t i = 0; i < s.members.size(); ++i) {
        if (i > 0) o += ",";
        o += "{\"node\":" + std::to_string(s.members[i].node) +
             ",\"incarnation\":" + std::to_string(s.members[i].incarnation) + "}";
    }
    o += "],\"ready\":" + std::string(s.ready ? "true" : "false") + ",\"why_not_ready\":" + json_string(s.why_not_ready) +
         ",\"delivered\":" + std::to_string(s.delivered) + ",\"log_hash\":\"" + hex64(s.log_hash) +
         "\",\"digest\":\"" + hex64(s.digest) + "\",\"entries\":" + std::to_string(s.entries) +
         ",\"bytes\":" + std::to_string(s.bytes) + ",\"in_flight\":" + std::to_string(s.in_flight) +
         ",\"history\":" + std::to_string(s.history) + "}";
    return o;
}

std::string status_line(const protocol::StatusReply& s) {
    std::string members;
    for (const auto& m : s.members) {
        members += (members.empty() ? "" : ",") + std::to_string(m.node) + ":" + std::to_string(m.incarnation);
    }
    std::string o = "node=" + std::to_string(s.node) + " incarnation=" + std::to_string(s.incarnation) +
                    " epoch=" + std::to_string(s.epoch) + " ready=" + (s.ready ? "true" : "false") +
                    " delivered=" + std::to_string(s.delivered) + " log_hash=" + hex64(s.log_hash) +
                    " digest=" + hex64(s.digest) + " entries=" + std::to_string(s.entries) +
                    " bytes=" + std::to_string(s.bytes) + " in_flight=" + std::to_string(s.in_flight) +
                    " history=" + std::to_string(s.history) +
                    " members=" + (members.empty() ? "-" : members);
    if (!s.why_not_ready.empty()) o += " why_not_ready=" + json_string(s.why_not_ready);
    return o;
}

std::string op_name(const protocol::Op& op) {
    static constexpr const char* names[] = {"get",     "set",   "del",  "cas",  "incr", "append",
                                            "exists", "require", "count", "scan", "clear", "expire", "persist",
                                            "ttl",    "purge"};
    static_assert(std::size(names) == std::variant_size_v<protocol::Op>);
    return names[op.index()];
}

std::string op_key(const protocol::Op& op) { return std::string(protocol::op_key(op)); }

std::string result_json(const protocol::Op& op, const protocol::OpResult& r) {
    std::string o = "{\"op\":\"" + op_name(op) + "\",\"key\":" + json_string(std::string(protocol::op_key(op))) +
                    ",\"ok\":" + (r.ok ? "true" : "false");
    if (r.value) o += ",\"value\":" + json_string(*r.value);
    return o + "}";
}

}  // namespace tricache::client
