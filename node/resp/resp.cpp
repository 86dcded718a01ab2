#include "node/resp/resp.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "protocol/messages.hpp"

namespace tricache::node::resp {

// ------------------------------------------------------------------ parsing

bool parse_ll(std::string_view text, std::int64_t& out) { return protocol::parse_int64(text, out); }

namespace {

bool is_blank(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

bool split_inline(std::string_view line, std::vector<std::string>& out) {
    out.clear();
    std::size_t i = 0;
    const std::size_t n = line.size();
    for (;;) {
        while (i < n && is_blank(line[i])) ++i;
        if (i == n) return true;
        std::string word;
        bool in_double = false;
        bool in_single = false;
        for (;;) {
            if (in_double) {
                if (i == n) return false;  // unterminated quotes
                const char c = line[i];
                if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
                    hex_value(line[i + 3]) >= 0) {
                    word += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
                    i += 4;
                } else if (c == '\\' && i + 1 < n) {
                    const char e = line[i + 1];
                    switch (e) {
                        case 'n': word += '\n'; break;
                        case 'r': word += '\r'; break;
                        case 't': word += '\t'; break;
                        case 'b': word += '\b'; break;
                        case 'a': word += '\a'; break;
                        default: word += e; break;
                    }
                    i += 2;
                } else if (c == '"') {
                    // A closing quote must be followed by a blank or the end.
                    if (i + 1 < n && !is_blank(line[i + 1])) return false;
                    ++i;
                    break;
                } else {
                    word += c;
                    ++i;
                }
            } else if (in_single) {
                if (i == n) return false;
                const char c = line[i];
                if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
                    word += '\'';
                    i += 2;
                } else if (c == '\'') {
                    if (i + 1 < n && !is_blank(line[i + 1])) return false;
                    ++i;
                    break;
                } else {
                    word += c;
                    ++i;
                }
            } else {
                if (i == n || is_blank(line[i])) break;
                const char c = line[i];
                if (c == '"') {
                    in_double = true;
                } else if (c == '\'') {
                    in_single = true;
                } else {
                    word += c;
                }
                ++i;
            }
        }
        out.push_back(std::move(word));
    }
}

void RequestParser::feed(std::string_view bytes) {
    if (failed_) return;  // nothing after a protocol error is read
    compact();
    buf_.append(bytes.data(), bytes.size());
}

void RequestParser::compact() {
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
}

RequestParser::Status RequestParser::fail(std::string text, std::string& error) {
    failed_ = true;
    failure_ = std::move(text);
    error = failure_;
    buf_.clear();
    pos_ = 0;
    partial_.clear();
    return Status::Error;
}

bool RequestParser::line(std::string_view& out) const {
    const char* start = buf_.data() + pos_;
    const char* cr = static_cast<const char*>(std::memchr(start, '\r', buf_.size() - pos_));
    if (cr == nullptr) return false;
    // Like Redis: the line ends at the CR, and one more byte (the LF) must be there.
    if (static_cast<std::size_t>(cr - start) + 2 > buf_.size() - pos_) return false;
    out = std::string_view(start, static_cast<std::size_t>(cr - start));
    return true;
}

RequestParser::Status RequestParser::next(std::vector<std::string>& argv, std::string& error) {
    if (failed_) {
        error = failure_;
        return Status::Error;
    }
    for (;;) {
        if (!in_multibulk_) {
            if (pos_ == buf_.size()) return Status::NeedMore;
            if (buf_[pos_] != '*') {
                const Status s = parse_inline(argv, error);
                if (s == Status::Command && argv.empty()) continue;  // an empty line
                return s;
            }
        }
        const Status s = parse_multibulk(argv, error);
        if (s == Status::Command && argv.empty()) continue;  // "*0" or "*-1"
        return s;
    }
}

RequestParser::Status RequestParser::parse_inline(std::vector<std::string>& argv, std::string& error) {
    const char* start = buf_.data() + pos_;
    const std::size_t avail = buf_.size() - pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    if (nl == nullptr) {
        if (avail > limits_.max_inline_bytes) return fail("Protocol error: too big inline request", error);
        return Status::NeedMore;
    }
    std::size_t len = static_cast<std::size_t>(nl - start);
    const std::size_t consumed = len + 1;
    // Judged on the bytes before the LF, CR included: had they arrived without
    // it, the check above would have refused them, so any split gives this answer.
    if (len > limits_.max_inline_bytes) return fail("Protocol error: too big inline request", error);
    if (len > 0 && start[len - 1] == '\r') --len;
    if (!split_inline(std::string_view(start, len), argv)) {
        return fail("Protocol error: unbalanced quotes in request", error);
    }
    pos_ += consumed;
    return Status::Command;
}

RequestParser::Status RequestParser::parse_multibulk(std::vector<std::string>& argv, std::string& error) {
    if (!in_multibulk_) {
        std::string_view head;
        if (!line(head)) {
            if (buffered() > limits_.max_inline_bytes) return fail("Protocol error: too big mbulk count string", error);
            return Status::NeedMore;
        }
        // A header line is too big by its length, not by how it arrived: the
        // same line cut before its LF would have been refused above.
        if (head.size() + 1 > limits_.max_inline_bytes) {
            return fail("Protocol error: too big mbulk count string", error);
        }
        std::int64_t count = 0;
        if (!parse_ll(head.substr(1), count) || count > static_cast<std::int64_t>(limits_.max_args)) {
            return fail("Protocol error: invalid multibulk length", error);
        }
        pos_ += head.size() + 2;
        if (count <= 0) {
            argv.clear();
            return Status::Command;  // empty: the caller skips it
        }
        in_multibulk_ = true;
        args_left_ = static_cast<std::size_t>(count);
        bulk_len_ = -1;
        request_bytes_ = head.size() + 2;
        partial_.clear();
        partial_.reserve(std::min<std::size_t>(args_left_, 1024));
    }
    while (args_left_ > 0) {
        if (bulk_len_ < 0) {
            std::string_view head;
            if (!line(head)) {
                if (buffered() > limits_.max_inline_bytes) {
                    return fail("Protocol error: too big bulk count string", error);
                }
                return Status::NeedMore;
            }
            if (head.size() + 1 > limits_.max_inline_bytes) {
                return fail("Protocol error: too big bulk count string", error);
            }
            if (head.empty() || head[0] != '$') {
                const char got = head.empty() ? '\r' : head[0];
                return fail(std::string("Protocol error: expected '$', got '") + got + "'", error);
            }
            std::int64_t len = 0;
            if (!parse_ll(head.substr(1), len) || len < 0 || static_cast<std::uint64_t>(len) > limits_.max_bulk_bytes) {
                return fail("Protocol error: invalid bulk length", error);
            }
            request_bytes_ += head.size() + 2 + static_cast<std::size_t>(len) + 2;
            if (request_bytes_ > limits_.max_request_bytes) {
                return fail("Protocol error: request larger than the query buffer limit", error);
            }
            pos_ += head.size() + 2;
            bulk_len_ = len;
        }
        const auto len = static_cast<std::size_t>(bulk_len_);
        if (buffered() < len + 2) return Status::NeedMore;
        partial_.emplace_back(buf_.data() + pos_, len);
        pos_ += len + 2;  // the CR LF after the data is skipped unread, as Redis does
        bulk_len_ = -1;
        --args_left_;
    }
    in_multibulk_ = false;
    argv = std::move(partial_);
    partial_.clear();
    return Status::Command;
}

// ------------------------------------------------------------------ writing

void Writer::header(char kind, std::uint64_t n) {
    out_ += kind;
    out_ += std::to_string(n);
    out_ += "\r\n";
}

void Writer::line_text(char kind, std::string_view text) {
    out_ += kind;
    const std::size_t at = out_.size();
    out_.append(text.data(), text.size());
    std::replace_if(out_.begin() + static_cast<std::ptrdiff_t>(at), out_.end(),
                    [](char c) { return c == '\r' || c == '\n'; }, ' ');
    out_ += "\r\n";
}

void Writer::simple(std::string_view text) { line_text('+', text); }
void Writer::error(std::string_view text) { line_text('-', text); }

void Writer::integer(std::int64_t n) {
    out_ += ':';
    out_ += std::to_string(n);
    out_ += "\r\n";
}

void Writer::bulk(std::string_view bytes) {
    header('$', bytes.size());
    out_.append(bytes.data(), bytes.size());
    out_ += "\r\n";
}

void Writer::null() { out_ += protocol_ >= 3 ? "_\r\n" : "$-1\r\n"; }
void Writer::null_array() { out_ += protocol_ >= 3 ? "_\r\n" : "*-1\r\n"; }
void Writer::array(std::size_t n) { header('*', n); }

void Writer::map(std::size_t n) {
    if (protocol_ >= 3) {
        header('%', n);
    } else {
        header('*', 2 * n);
    }
}

void Writer::set(std::size_t n) { header(protocol_ >= 3 ? '~' : '*', n); }

void Writer::boolean(bool b) {
    if (protocol_ >= 3) {
        out_ += b ? "#t\r\n" : "#f\r\n";
    } else {
        integer(b ? 1 : 0);
    }
}

void Writer::verbatim(std::string_view text) {
    if (protocol_ < 3) {
        bulk(text);
        return;
    }
    header('=', text.size() + 4);
    out_ += "txt:";
    out_.append(text.data(), text.size());
    out_ += "\r\n";
}

}  // namespace tricache::node::resp
