// Helpers about operations that every layer shares: which key an op names,
// the bytes it carries, the Scan page format and the integer syntax of Incr.
#include <charconv>
#include <type_traits>

#include "protocol/messages.hpp"

namespace tricache::protocol {

std::string encode_scan_page(std::uint64_t next_cursor, const std::vector<std::string_view>& keys) {
    std::string out = std::to_string(next_cursor);
    for (const auto k : keys) {
        out += ' ';
        out += std::to_string(k.size());
        out += ':';
        out.append(k.data(), k.size());
    }
    return out;
}

bool decode_scan_page(std::string_view text, std::uint64_t& next_cursor, std::vector<std::string>& keys) {
    keys.clear();
    const char* p = text.data();
    const char* end = text.data() + text.size();
    auto [after, ec] = std::from_chars(p, end, next_cursor);
    if (ec != std::errc{} || after == p) return false;
    p = after;
    while (p != end) {
        if (*p != ' ') return false;
        ++p;
        std::size_t len = 0;
        auto [colon, ec2] = std::from_chars(p, end, len);
        if (ec2 != std::errc{} || colon == p || colon == end || *colon != ':') return false;
        p = colon + 1;
        if (static_cast<std::size_t>(end - p) < len) return false;
        keys.emplace_back(p, len);
        p += len;
    }
    return true;
}

std::string_view op_key(const Op& op) {
    return std::visit(
        [](const auto& o) -> std::string_view {
            if constexpr (requires { o.key; }) {
                return o.key;
            } else {
                return {};
            }
        },
        op);
}

bool op_has_key(const Op& op) {
    return std::visit([](const auto& o) { return requires { o.key; }; }, op);
}

std::uint64_t op_value_bytes(const Op& op) {
    return std::visit(
        [](const auto& o) -> std::uint64_t {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, Set> || std::is_same_v<T, Append>) return o.value.size();
            if constexpr (std::is_same_v<T, Cas>) return o.value.size() + (o.expected ? o.expected->size() : 0);
            return 0;
        },
        op);
}

bool parse_int64(std::string_view text, std::int64_t& out) {
    if (text.empty() || text.size() > 20) return false;
    const bool negative = text[0] == '-';
    const std::string_view digits = negative ? text.substr(1) : text;
    if (digits.empty() || digits[0] < '0' || digits[0] > '9') return false;
    if (digits[0] == '0') {  // "0" alone; never "-0", "00" or "01"
        if (digits.size() != 1 || negative) return false;
        out = 0;
        return true;
    }
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size()) return false;
    out = v;
    return true;
}

}  // namespace tricache::protocol
