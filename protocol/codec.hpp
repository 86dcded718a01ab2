// msgpack encoding of every protocol value, with strict, total decoding:
// any byte string yields either a value or a named error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

namespace tricache::protocol {

struct DecodeError {
    ErrorCode code = ErrorCode::Malformed;
    std::string detail;  // names the field or the offset that failed
};

template <class T>
class Decoded {
public:
    Decoded(T value) : v_(std::move(value)) {}                // NOLINT(google-explicit-constructor)
    Decoded(DecodeError error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)
    bool ok() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    const DecodeError& error() const { return std::get<DecodeError>(v_); }

private:
    std::variant<T, DecodeError> v_;
};

// Limits the decoder enforces before it allocates anything.
struct CodecLimits {
    std::size_t max_message_bytes = 64u << 20;
    std::size_t max_key_bytes = 64u << 10;
    std::size_t max_value_bytes = 8u << 20;
    std::size_t max_ops_per_request = 4096;
    std::size_t max_commands_per_batch = 65536;
    std::size_t max_members = 64;
    std::size_t max_list_length = 1u << 20;  // any other list (reports, retries, snapshot entries)
    std::size_t max_depth = 16;
};

// One record of a node's delivery log (tricache-node --delivery-log), which
// fault tests read back to check the order every node applied: a delivered
// transaction, or a snapshot install after which the log continues from
// `log_length`. Not a peer or client message; it only shares the encoding.
struct DeliveredRecord {
    std::uint64_t index = 0;  // 1-based position in the cluster-wide log
    TxId tx;
    Timestamp final_ts;
    Epoch epoch = 0;
    Batch batch;
    friend bool operator==(const DeliveredRecord&, const DeliveredRecord&) = default;
};
struct SnapshotInstalledRecord {
    Epoch epoch = 0;
    std::uint64_t log_length = 0;
    std::uint64_t log_hash = 0;
    friend bool operator==(const SnapshotInstalledRecord&, const SnapshotInstalledRecord&) = default;
};
using DeliveryRecord = std::variant<DeliveredRecord, SnapshotInstalledRecord>;

std::string encode(const PeerMessage& msg);
std::string encode(const ClientRequest& msg);
std::string encode(const ClientResponse& msg);
std::string encode(const Snapshot& snap);
std::string encode(const DeliveryRecord& record);

Decoded<PeerMessage> decode_peer_message(std::string_view bytes, const CodecLimits& limits = {});
Decoded<ClientRequest> decode_client_request(std::string_view bytes, const CodecLimits& limits = {});
Decoded<ClientResponse> decode_client_response(std::string_view bytes, const CodecLimits& limits = {});
Decoded<Snapshot> decode_snapshot(std::string_view bytes, const CodecLimits& limits = {});
Decoded<DeliveryRecord> decode_delivery_record(std::string_view bytes, const CodecLimits& limits = {});

// Human-readable one-line renderings, for traces, test failures and logs.
std::string describe(const Op& op);
std::string describe(const PeerBody& body);
std::string kind_name(const PeerBody& body);

}  // namespace tricache::protocol
