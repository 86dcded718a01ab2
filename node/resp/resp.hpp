// RESP, the Redis serialization protocol: an incremental request parser
// (multibulk arrays of bulk strings, and inline commands as typed in telnet)
// and a reply writer for RESP2 and RESP3. Pure: no sockets, no clocks.
//
// The parser follows Redis's own reading rules and error texts (networking.c:
// processMultibulkBuffer, processInlineBuffer): a protocol error is answered
// with "-ERR Protocol error: ..." and the connection is closed after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tricache::node::resp {

struct ParserLimits {
    std::size_t max_inline_bytes = 64u << 10;   // an inline command, or a '*' or '$' header line
    std::size_t max_args = 1u << 20;            // elements of one multibulk array
    std::size_t max_bulk_bytes = 16u << 20;     // one bulk string
    std::size_t max_request_bytes = 32u << 20;  // one whole request, headers included
};

class RequestParser {
public:
    enum class Status : std::uint8_t {
        NeedMore,  // no complete request buffered yet
        Command,   // `argv` holds the next request (never empty)
        Error,     // `error` holds the text to send after "-"; the stream cannot be read further
    };

    explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

    // Appends bytes read from the connection.
    void feed(std::string_view bytes);
    // The next request, if one is complete. Empty requests (an empty inline
    // line, "*0") are skipped, as Redis does. After Error, always Error.
    Status next(std::vector<std::string>& argv, std::string& error);
    // Bytes held and not yet returned as part of a request.
    std::size_t buffered() const { return buf_.size() - pos_; }

private:
    Status fail(std::string text, std::string& error);
    Status parse_inline(std::vector<std::string>& argv, std::string& error);
    Status parse_multibulk(std::vector<std::string>& argv, std::string& error);
    // The line starting at pos_ (without its CR LF), or false when not complete yet.
    bool line(std::string_view& out) const;
    void compact();

    ParserLimits limits_;
    std::string buf_;
    std::size_t pos_ = 0;
    bool failed_ = false;
    std::string failure_;
    // A multibulk request in progress.
    bool in_multibulk_ = false;
    std::size_t args_left_ = 0;
    std::int64_t bulk_len_ = -1;  // -1: the next '$' header has not been read
    std::size_t request_bytes_ = 0;
    std::vector<std::string> partial_;
};

// Splits an inline command line the way Redis's sdssplitargs does: words
// separated by blanks, "double quotes" with \n \r \t \b \a \\ \" and \xHH
// escapes, 'single quotes' with \'. False on unbalanced quotes (or a closing
// quote not followed by a blank).
bool split_inline(std::string_view line, std::vector<std::string>& out);

// Strict decimal, as Redis's string2ll: optional '-', no '+', no spaces, no
// leading zeros, within int64.
bool parse_ll(std::string_view text, std::int64_t& out);

// Appends replies to a byte string, in RESP2 or RESP3.
class Writer {
public:
    explicit Writer(std::string& out, int protocol = 2) : out_(out), protocol_(protocol) {}
    int protocol() const { return protocol_; }

    void simple(std::string_view text);  // +text (CR and LF are replaced by spaces)
    void error(std::string_view text);   // -text, e.g. "ERR unknown command ..." (CR, LF replaced)
    void integer(std::int64_t n);
    void bulk(std::string_view bytes);
    void null();                 // RESP2 $-1, RESP3 _
    void null_array();           // RESP2 *-1, RESP3 _
    void array(std::size_t n);   // followed by n replies
    void map(std::size_t n);     // RESP3 %n; RESP2 an array of 2n; followed by n key, value pairs
    void set(std::size_t n);     // RESP3 ~n; RESP2 *n
    void boolean(bool b);        // RESP3 #t/#f; RESP2 :1/:0
    void verbatim(std::string_view text);  // RESP3 =len txt:...; RESP2 a bulk string

private:
    void header(char kind, std::uint64_t n);
    void line_text(char kind, std::string_view text);
    std::string& out_;
    int protocol_;
};

}  // namespace tricache::node::resp
