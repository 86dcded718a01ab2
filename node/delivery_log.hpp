// The delivery log (tricache-node --delivery-log DIR): what one incarnation of
// one node delivered, in order, for fault tests to check against the
// independent checker after the fact. The engine decides nothing differently
// when it is on; the node only writes down Output.delivered and the snapshot
// installs from Output.journal.
//
// One file per (node, incarnation): DIR/node-<id>-<incarnation>.log.
//
//   file   := magic record*
//   magic  := the 8 bytes "TCDLOG1\n"
//   record := length:u32 little-endian, then `length` bytes of
//             protocol::encode(DeliveryRecord) (codec kind 5):
//               DeliveredRecord          index, tx, final_ts, epoch, batch
//               SnapshotInstalledRecord  epoch, log_length, log_hash
//
// Records appear in the order the engine produced them: a snapshot install
// before the deliveries that follow it (the log continues at log_length + 1).
// Each record goes out in one write(2) of length and body together, straight
// to the kernel (no user-space buffer), so a SIGKILL loses at most the record
// being written; the reader reports such a cut-off tail instead of failing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/codec.hpp"
#include "protocol/types.hpp"

namespace tricache::node {

inline constexpr char kDeliveryLogMagic[] = "TCDLOG1\n";
inline constexpr std::size_t kDeliveryLogMagicBytes = sizeof kDeliveryLogMagic - 1;

std::string delivery_log_path(const std::string& dir, protocol::NodeId node, protocol::Incarnation incarnation);

class DeliveryLogWriter {
public:
    using Opened = std::variant<std::unique_ptr<DeliveryLogWriter>, std::string>;
    // Creates DIR if needed and starts a fresh file (an existing one of the
    // same name, left by an earlier cluster in the same directory, is replaced).
    static Opened open(const std::string& dir, protocol::NodeId node, protocol::Incarnation incarnation);

    DeliveryLogWriter(const DeliveryLogWriter&) = delete;
    DeliveryLogWriter& operator=(const DeliveryLogWriter&) = delete;
    ~DeliveryLogWriter();

    // An error text when the record could not be written whole.
    std::optional<std::string> append(const protocol::DeliveryRecord& record);
    const std::string& path() const { return path_; }
    std::uint64_t records() const { return records_; }

private:
    DeliveryLogWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    int fd_;
    std::string path_;
    std::uint64_t records_ = 0;
};

struct DeliveryLogContents {
    std::vector<protocol::DeliveryRecord> records;
    std::uint64_t truncated_tail_bytes = 0;  // an incomplete last record: the writer was killed mid-write
};
using DeliveryLogRead = std::variant<DeliveryLogContents, std::string>;

// Reads a whole delivery log. Errors (unreadable file, wrong magic, a complete
// record that does not decode) come back as text naming the offset.
DeliveryLogRead read_delivery_log(const std::string& path, const protocol::CodecLimits& limits = {});
// The same, from bytes already in memory.
DeliveryLogRead parse_delivery_log(std::string_view bytes, const protocol::CodecLimits& limits = {});

}  // namespace tricache::node
