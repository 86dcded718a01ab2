#include "node/delivery_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

namespace tricache::node {
namespace {

std::string errno_text(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// write(2) until everything is out; a short write only happens on a full disk or a signal.
std::optional<std::string> write_all(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_text("write", errno);
        }
        done += static_cast<std::size_t>(n);
    }
    return std::nullopt;
}

std::uint32_t read_u32_le(std::string_view bytes, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    }
    return v;
}

}  // namespace

std::string delivery_log_path(const std::string& dir, protocol::NodeId node, protocol::Incarnation incarnation) {
    return (std::filesystem::path(dir) / ("node-" + std::to_string(node) + "-" + std::to_string(incarnation) + ".log"))
        .string();
}

DeliveryLogWriter::Opened DeliveryLogWriter::open(const std::string& dir, protocol::NodeId node,
                                                  protocol::Incarnation incarnation) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create delivery log directory " + dir + ": " + ec.message();
    std::string path = delivery_log_path(dir, node, incarnation);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return errno_text("cannot open delivery log " + path, errno);
    if (auto err = write_all(fd, std::string(kDeliveryLogMagic, kDeliveryLogMagicBytes))) {
        ::close(fd);
        return "cannot write delivery log " + path + ": " + *err;
    }
    return std::unique_ptr<DeliveryLogWriter>(new DeliveryLogWriter(fd, std::move(path)));
}

DeliveryLogWriter::~DeliveryLogWriter() { ::close(fd_); }

std::optional<std::string> DeliveryLogWriter::append(const protocol::DeliveryRecord& record) {
    const std::string body = protocol::encode(record);
    if (body.size() > std::numeric_limits<std::uint32_t>::max()) return std::string("record too large");
    std::string framed;
    framed.reserve(4 + body.size());
    const auto n = static_cast<std::uint32_t>(body.size());
    for (unsigned i = 0; i < 4; ++i) framed.push_back(static_cast<char>((n >> (8 * i)) & 0xffu));
    framed += body;
    // One write for length and body: a kill between two writes would leave a
    // length with no body even when the body was never started.
    if (auto err = write_all(fd_, framed)) return err;
    ++records_;
    return std::nullopt;
}

DeliveryLogRead parse_delivery_log(std::string_view bytes, const protocol::CodecLimits& limits) {
    DeliveryLogContents out;
    const std::string_view magic(kDeliveryLogMagic, kDeliveryLogMagicBytes);
    if (bytes.size() < magic.size()) {
        // Killed before the magic was out: an empty log, if what is there is its start.
        if (magic.substr(0, bytes.size()) != bytes) return std::string("not a delivery log (bad magic)");
        out.truncated_tail_bytes = bytes.size();
        return out;
    }
    if (bytes.substr(0, magic.size()) != magic) return std::string("not a delivery log (bad magic)");
    std::size_t at = magic.size();
    while (at < bytes.size()) {
        if (bytes.size() - at < 4) {
            out.truncated_tail_bytes = bytes.size() - at;
            break;
        }
        const std::uint32_t len = read_u32_le(bytes, at);
        if (len > limits.max_message_bytes) {
            return "offset " + std::to_string(at) + ": record length " + std::to_string(len) + " over the limit " +
                   std::to_string(limits.max_message_bytes);
        }
        if (bytes.size() - at - 4 < len) {
            out.truncated_tail_bytes = bytes.size() - at;
            break;
        }
        auto rec = protocol::decode_delivery_record(bytes.substr(at + 4, len), limits);
        if (!rec) {
            return "offset " + std::to_string(at) + ": record " + std::to_string(out.records.size()) +
                   " does not decode: " + std::string(protocol::error_name(rec.error().code)) + ": " +
                   rec.error().detail;
        }
        out.records.push_back(std::move(rec).value());
        at += 4 + len;
    }
    return out;
}

DeliveryLogRead read_delivery_log(const std::string& path, const protocol::CodecLimits& limits) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot open " + path;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return "cannot read " + path;
    auto parsed = parse_delivery_log(bytes, limits);
    if (auto* err = std::get_if<std::string>(&parsed)) return path + ": " + *err;
    return parsed;
}

}  // namespace tricache::node
