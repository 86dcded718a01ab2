// Reading a file that holds one secret (a CURVE secret key, a password) or one
// public key. Every failure is a named value, so the node can report it as a
// config error naming the option, and the CLI as a usage error.
#pragma once

#include <string>
#include <variant>

#include "curve/keys.hpp"

namespace tricache::curve {

struct FileError {
    enum class Kind { Missing, Unreadable, Permissions, Format, Empty };
    Kind kind = Kind::Missing;
    std::string message;  // says the path and what is wrong
};

// The file's text without trailing whitespace. With `secret`, a file that its
// group or others may read or write (mode wider than 0600) is refused: a secret
// everyone on the machine can read is none.
std::variant<std::string, FileError> read_text_file(const std::string& path, bool secret);

// A secret key file: read_text_file(secret) and 40 Z85 characters.
// Gives the key pair, the public half derived from the secret.
std::variant<KeyPair, FileError> read_secret_key_file(const std::string& path);

// A public key file (NAME.pub): 40 Z85 characters, permissions not checked.
std::variant<std::string, FileError> read_public_key_file(const std::string& path);

}  // namespace tricache::curve
