// CURVE keys in ZeroMQ's Z85 text form (40 characters for 32 bytes), and the
// key files `tricache keygen` writes: NAME.key holds the secret key (mode
// 0600), NAME.pub the public key; each file is the 40 characters and a newline.
// The public key is never needed next to a secret key: it is derived from it
// (zmq_curve_public), so a key file cannot disagree with itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tricache::curve {

constexpr std::size_t kZ85KeyLength = 40;

struct KeyPair {
    std::string public_key;  // Z85
    std::string secret_key;  // Z85
};

// True when libzmq was built with CURVE (libsodium).
bool available();

// True when `text` is 40 Z85 characters that decode to 32 bytes.
bool is_z85_key(std::string_view text);

// The 32 raw bytes of a Z85 key (what ZAP hands the handler); nullopt when malformed.
std::optional<std::string> decode_key(std::string_view z85);
// The Z85 text of 32 raw bytes.
std::string encode_key(std::string_view raw32);

// A fresh key pair (zmq_curve_keypair), or why none could be made.
std::variant<KeyPair, std::string> generate();

// The public key of a Z85 secret key; nullopt when the secret key is malformed.
std::optional<std::string> public_of(std::string_view secret_z85);

// Writes BASE.key (0600) and BASE.pub (0644). Refuses to replace an existing
// file unless `overwrite`. Returns an error message, or nullopt.
std::optional<std::string> write_key_pair(const std::string& base, const KeyPair& pair, bool overwrite);

}  // namespace tricache::curve
