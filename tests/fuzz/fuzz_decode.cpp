// libFuzzer target: every decoder must turn any input into a value or a named
// decode error, and every value it produces must survive encode -> decode.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/codec.hpp"

namespace {

using namespace tricache::protocol;

[[noreturn]] void die(const char* what, std::string_view detail) {
    std::fprintf(stderr, "fuzz_decode: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

bool is_decode_error(ErrorCode code) {
    switch (code) {
        case ErrorCode::Truncated:
        case ErrorCode::WrongType:
        case ErrorCode::WrongArity:
        case ErrorCode::UnknownKind:
        case ErrorCode::UnsupportedVersion:
        case ErrorCode::Malformed:
        case ErrorCode::TooLarge: return true;
        default: return false;
    }
}

CodecLimits tight_limits() {
    CodecLimits limits;
    limits.max_message_bytes = 4096;
    limits.max_key_bytes = 8;
    limits.max_value_bytes = 16;
    limits.max_ops_per_request = 3;
    limits.max_commands_per_batch = 3;
    limits.max_members = 3;
    limits.max_list_length = 3;
    limits.max_depth = 10;
    return limits;
}

template <class Decode>
void check(std::string_view bytes, const CodecLimits& limits, Decode decode) {
    const auto decoded = decode(bytes, limits);
    if (!decoded.ok()) {
        if (!is_decode_error(decoded.error().code)) die("error code outside the decode set", decoded.error().detail);
        if (decoded.error().detail.empty()) die("error without detail", error_name(decoded.error().code));
        return;
    }
    const std::string again = encode(decoded.value());
    const auto redecoded = decode(again, CodecLimits{});
    if (!redecoded.ok()) die("re-encoding does not decode", redecoded.error().detail);
    if (!(redecoded.value() == decoded.value())) die("decode(encode(x)) != x", "see the crash input");
    if (encode(redecoded.value()) != again) die("encoding is not deterministic", "see the crash input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (const CodecLimits& limits : {CodecLimits{}, tight_limits()}) {
        check(bytes, limits, decode_peer_message);
        check(bytes, limits, decode_client_request);
        check(bytes, limits, decode_client_response);
        check(bytes, limits, decode_snapshot);
    }
    return 0;
}
