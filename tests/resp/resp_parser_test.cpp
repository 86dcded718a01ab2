// The RESP parser and writer, byte by byte: every request split anywhere
// across reads parses the same; Redis's protocol errors come with its texts.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "node/resp/resp.hpp"

namespace tricache::node::resp {
namespace {

using Status = RequestParser::Status;
using Argv = std::vector<std::string>;

// Everything the parser makes of `bytes` fed in pieces cut at `cuts`.
struct Outcome {
    std::vector<Argv> commands;
    std::string error;
    friend bool operator==(const Outcome&, const Outcome&) = default;
};

Outcome parse_in_pieces(const std::string& bytes, std::vector<std::size_t> cuts, ParserLimits limits = {}) {
    RequestParser p(limits);
    Outcome out;
    std::sort(cuts.begin(), cuts.end());
    std::size_t at = 0;
    cuts.push_back(bytes.size());
    for (std::size_t cut : cuts) {
        cut = std::min(cut, bytes.size());
        if (cut < at) continue;
        p.feed(std::string_view(bytes).substr(at, cut - at));
        at = cut;
        for (;;) {
            Argv argv;
            std::string err;
            const auto s = p.next(argv, err);
            if (s == Status::NeedMore) break;
            if (s == Status::Error) {
                out.error = err;
                return out;
            }
            out.commands.push_back(argv);
        }
    }
    return out;
}

std::string multibulk(const Argv& argv) {
    std::string s = "*" + std::to_string(argv.size()) + "\r\n";
    for (const auto& a : argv) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return s;
}

TEST(RespParser, MultibulkAndInlineCommands) {
    const auto o = parse_in_pieces(multibulk({"SET", "k", std::string("v\0\r\n", 4)}) + "PING\r\nget  k\n", {});
    ASSERT_EQ(o.commands.size(), 3u);
    EXPECT_EQ(o.commands[0], (Argv{"SET", "k", std::string("v\0\r\n", 4)}));
    EXPECT_EQ(o.commands[1], (Argv{"PING"}));
    EXPECT_EQ(o.commands[2], (Argv{"get", "k"}));
    EXPECT_EQ(o.error, "");
}

TEST(RespParser, EmptyRequestsAreSkipped) {
    const auto o = parse_in_pieces("\r\n*0\r\n*-1\r\n   \r\nPING\r\n", {});
    ASSERT_EQ(o.commands.size(), 1u);
    EXPECT_EQ(o.commands[0], (Argv{"PING"}));
}

TEST(RespParser, InlineQuotesAndEscapes) {
    const auto o = parse_in_pieces("set \"a b\" 'it\\'s' \"\\x41\\n\"\r\n", {});
    ASSERT_EQ(o.commands.size(), 1u);
    EXPECT_EQ(o.commands[0], (Argv{"set", "a b", "it's", "A\n"}));
    EXPECT_EQ(parse_in_pieces("set \"open\r\n", {}).error, "Protocol error: unbalanced quotes in request");
    EXPECT_EQ(parse_in_pieces("set \"a\"b\r\n", {}).error, "Protocol error: unbalanced quotes in request");
}

TEST(RespParser, ProtocolErrorsUseRedisTexts) {
    EXPECT_EQ(parse_in_pieces("*x\r\n", {}).error, "Protocol error: invalid multibulk length");
    EXPECT_EQ(parse_in_pieces("*99999999999\r\n", {}).error, "Protocol error: invalid multibulk length");
    EXPECT_EQ(parse_in_pieces("*1\r\n+x\r\n", {}).error, "Protocol error: expected '$', got '+'");
    EXPECT_EQ(parse_in_pieces("*1\r\n$-5\r\n", {}).error, "Protocol error: invalid bulk length");
    EXPECT_EQ(parse_in_pieces("*1\r\n$99999999999999\r\n", {}).error, "Protocol error: invalid bulk length");
    ParserLimits small;
    small.max_inline_bytes = 16;
    EXPECT_EQ(parse_in_pieces(std::string(40, 'a'), {}, small).error, "Protocol error: too big inline request");
    EXPECT_EQ(parse_in_pieces("*" + std::string(40, '1'), {}, small).error,
              "Protocol error: too big mbulk count string");
    EXPECT_EQ(parse_in_pieces("*1\r\n$" + std::string(40, '1'), {}, small).error,
              "Protocol error: too big bulk count string");
    small.max_request_bytes = 64;
    EXPECT_EQ(parse_in_pieces(multibulk({"a", std::string(30, 'x'), std::string(30, 'y')}), {}, small).error,
              "Protocol error: request larger than the query buffer limit");
}

TEST(RespParser, NothingIsReadAfterAnError) {
    RequestParser p;
    p.feed("*1\r\n$x\r\n");
    Argv argv;
    std::string err;
    EXPECT_EQ(p.next(argv, err), Status::Error);
    p.feed(multibulk({"PING"}));
    EXPECT_EQ(p.next(argv, err), Status::Error);
    EXPECT_EQ(p.buffered(), 0u);
}

TEST(RespParser, AHugeDeclaredLengthAllocatesNothingUpFront) {
    // A declared count of a million elements, then nothing: the parser waits,
    // holding only what arrived.
    RequestParser p;
    p.feed("*1000000\r\n$3\r\nabc\r\n");
    Argv argv;
    std::string err;
    EXPECT_EQ(p.next(argv, err), Status::NeedMore);
    EXPECT_LT(p.buffered(), 64u);
}

// A request stream cut at arbitrary points parses exactly as in one piece.
RC_GTEST_PROP(RespParser, SplitReadsParseTheSame, ()) {
    const auto commands = *rc::gen::container<std::vector<Argv>>(
        rc::gen::nonEmpty(rc::gen::container<Argv>(rc::gen::container<std::string>(rc::gen::arbitrary<char>()))));
    std::string bytes;
    std::vector<Argv> expected;
    for (const auto& c : commands) {
        bytes += multibulk(c);
        expected.push_back(c);
    }
    const auto whole = parse_in_pieces(bytes, {});
    RC_ASSERT(whole.error.empty());
    RC_ASSERT(whole.commands == expected);
    const auto cuts = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, bytes.size() + 1));
    RC_ASSERT(parse_in_pieces(bytes, cuts) == whole);
}

// Found by GarbageIsTotalAndSplitInvariant under ASan (seed 10862953839094208635):
// a header line longer than the inline limit was "too big" when it arrived
// before its CR and "invalid multibulk length" when it arrived whole. Each
// line below must get one answer whichever way it is cut.
TEST(RespParser, AnOversizeHeaderLineGetsOneAnswerHoweverItArrives) {
    ParserLimits small;
    small.max_inline_bytes = 32;
    small.max_bulk_bytes = 64;
    small.max_request_bytes = 256;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"*" + std::string(40, '9') + "\r\n", "Protocol error: too big mbulk count string"},
        {"*1\r\n$" + std::string(40, '9') + "\r\n", "Protocol error: too big bulk count string"},
        {std::string(32, 'a') + "\r\n", "Protocol error: too big inline request"},
    };
    for (const auto& [bytes, expected] : cases) {
        SCOPED_TRACE(bytes);
        EXPECT_EQ(parse_in_pieces(bytes, {}, small).error, expected);
        for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
            EXPECT_EQ(parse_in_pieces(bytes, {cut}, small).error, expected) << "cut at " << cut;
        }
    }
}

// Arbitrary bytes never crash the parser, and any cut gives the same outcome.
RC_GTEST_PROP(RespParser, GarbageIsTotalAndSplitInvariant, ()) {
    const auto bytes = *rc::gen::container<std::string>(rc::gen::element<char>('*', '$', '\r', '\n', '1', '-', 'a',
                                                                              ' ', '"', '\'', '\\', '\0', '9'));
    const auto cuts = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, bytes.size() + 1));
    ParserLimits small;
    small.max_inline_bytes = 32;
    small.max_bulk_bytes = 64;
    small.max_request_bytes = 256;
    RC_ASSERT(parse_in_pieces(bytes, cuts, small) == parse_in_pieces(bytes, {}, small));
}

TEST(RespWriter, Resp2AndResp3Shapes) {
    std::string two;
    Writer w2(two, 2);
    w2.simple("OK");
    w2.error("ERR a\r\nb");
    w2.integer(-7);
    w2.bulk(std::string("x\0y", 3));
    w2.null();
    w2.map(1);
    w2.bulk("k");
    w2.boolean(true);
    w2.verbatim("hi");
    EXPECT_EQ(two, "+OK\r\n-ERR a  b\r\n:-7\r\n$3\r\nx" + std::string(1, '\0') +
                       "y\r\n$-1\r\n*2\r\n$1\r\nk\r\n:1\r\n$2\r\nhi\r\n");
    std::string three;
    Writer w3(three, 3);
    w3.null();
    w3.map(1);
    w3.boolean(false);
    w3.set(0);
    w3.verbatim("hi");
    EXPECT_EQ(three, "_\r\n%1\r\n#f\r\n~0\r\n=6\r\ntxt:hi\r\n");
}

TEST(RespIntegers, StrictLikeRedis) {
    std::int64_t v = 0;
    EXPECT_TRUE(parse_ll("0", v) && v == 0);
    EXPECT_TRUE(parse_ll("-9223372036854775808", v) && v == INT64_MIN);
    EXPECT_TRUE(parse_ll("9223372036854775807", v) && v == INT64_MAX);
    for (const char* bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "9223372036854775808", "1a", "0x10"}) {
        EXPECT_FALSE(parse_ll(bad, v)) << bad;
    }
}

}  // namespace
}  // namespace tricache::node::resp
