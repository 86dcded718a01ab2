// json_string() is what keeps the CLI's --json output parseable whatever bytes
// a key or value holds. A strict decoder of JSON strings (RFC 8259, with UTF-8
// validation of raw bytes) checks it on arbitrary input.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <string>

#include "client/format.hpp"

namespace tricache::client {
namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// Decodes one JSON string literal into UTF-8; nullopt if it is not valid JSON.
std::optional<std::string> decode_json_string(const std::string& s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
    std::string out;
    const std::size_t end = s.size() - 1;
    for (std::size_t i = 1; i < end;) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c < 0x20) return std::nullopt;  // must be escaped
        if (c == '\\') {
            if (i + 1 >= end) return std::nullopt;
            const char e = s[i + 1];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    if (i + 6 > end) return std::nullopt;
                    std::uint32_t cp = 0;
                    for (std::size_t k = i + 2; k < i + 6; ++k) {
                        const char h = s[k];
                        cp <<= 4;
                        if (h >= '0' && h <= '9') cp |= static_cast<std::uint32_t>(h - '0');
                        else if (h >= 'a' && h <= 'f') cp |= static_cast<std::uint32_t>(h - 'a' + 10);
                        else if (h >= 'A' && h <= 'F') cp |= static_cast<std::uint32_t>(h - 'A' + 10);
                        else return std::nullopt;
                    }
                    if (cp >= 0xd800 && cp <= 0xdfff) return std::nullopt;  // never emitted alone
                    append_utf8(out, cp);
                    i += 6;
                    continue;
                }
                default: return std::nullopt;
            }
            i += 2;
            continue;
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // A raw multi-byte sequence must be valid UTF-8.
        const std::size_t n = c >= 0xf0 ? std::size_t{4} : c >= 0xe0 ? std::size_t{3} : c >= 0xc0 ? std::size_t{2} : std::size_t{0};
        if (n == 0 || c > 0xf4 || i + n > end) return std::nullopt;
        std::uint32_t cp = c & (0xffu >> (n + 1));
        for (std::size_t k = 1; k < n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xc0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (b & 0x3fu);
        }
        const std::uint32_t min = n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u;
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
        out.append(s, i, n);
        i += n;
    }
    return out;
}

RC_GTEST_PROP(JsonString, AnyBytesGiveAValidJsonString, (const std::string& bytes)) {
    const std::string json = json_string(bytes);
    const auto decoded = decode_json_string(json);
    RC_ASSERT(decoded.has_value());
}

RC_GTEST_PROP(JsonString, ValidUtf8RoundTrips, (const std::vector<std::uint32_t>& raw)) {
    std::string text;
    for (std::uint32_t r : raw) {
        std::uint32_t cp = r % 0x110000;
        if (cp >= 0xd800 && cp <= 0xdfff) cp -= 0x800;  // no surrogates in UTF-8
        append_utf8(text, cp);
    }
    const auto decoded = decode_json_string(json_string(text));
    RC_ASSERT(decoded.has_value());
    RC_ASSERT(*decoded == text);
}

TEST(JsonString, InvalidBytesBecomeLatin1Escapes) {
    EXPECT_EQ(json_string(std::string("a\xff", 2)), "\"a\\u00ff\"");
    EXPECT_EQ(json_string(std::string("\xc3", 1)), "\"\\u00c3\"");        // truncated sequence
    EXPECT_EQ(json_string(std::string("\xc0\xaf", 2)), "\"\\u00c0\\u00af\"");  // overlong
    EXPECT_EQ(json_string("\xc3\xa9"), "\"\xc3\xa9\"");                      // valid: kept as is
    EXPECT_EQ(json_string(std::string("\"\\\n\x01", 4)), "\"\\\"\\\\\\n\\u0001\"");
}

TEST(StatusJson, HasEveryFieldAndHexHashes) {
    protocol::StatusReply s;
    s.node = 2;
    s.epoch = 5;
    s.members = {{1, 1}, {2, 7}};
    s.ready = false;
    s.why_not_ready = "view change \"now\"";
    s.delivered = 9;
    s.log_hash = 0xabc;
    s.digest = 0xffffffffffffffffULL;
    s.entries = 3;
    const std::string j = status_json(s);
    EXPECT_EQ(j,
              "{\"node\":2,\"incarnation\":0,\"epoch\":5,\"members\":[{\"node\":1,\"incarnation\":1},{\"node\":2,"
              "\"incarnation\":7}],\"ready\":false,\"why_not_ready\":\"view change \\\"now\\\"\",\"delivered\":9,"
              "\"log_hash\":\"0000000000000abc\",\"digest\":\"ffffffffffffffff\",\"entries\":3,\"bytes\":0,"
              "\"in_flight\":0,\"history\":0}");
    EXPECT_NE(status_line(s).find("members=1:1,2:7"), std::string::npos);
}

}  // namespace
}  // namespace tricache::client
