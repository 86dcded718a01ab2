#include "curve/secret_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tricache::curve {
namespace {

std::string octal(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
    return buf;
}

std::variant<std::string, FileError> key_text(const std::string& path, bool secret) {
    auto text = read_text_file(path, secret);
    if (auto* e = std::get_if<FileError>(&text)) return *e;
    const std::string& t = std::get<std::string>(text);
    if (!is_z85_key(t)) {
        return FileError{FileError::Kind::Format,
                         "'" + path + "' is not a CURVE key: expected 40 Z85 characters (as tricache keygen writes), got " +
                             std::to_string(t.size()) + " characters" + (t.size() == kZ85KeyLength ? " that do not decode" : "")};
    }
    return t;
}

}  // namespace

std::variant<std::string, FileError> read_text_file(const std::string& path, bool secret) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        return FileError{errno == ENOENT ? FileError::Kind::Missing : FileError::Kind::Unreadable,
                         "cannot read '" + path + "': " + std::strerror(errno)};
    }
    if (!S_ISREG(st.st_mode)) return FileError{FileError::Kind::Unreadable, "'" + path + "' is not a regular file"};
    if (secret && (st.st_mode & 077u) != 0) {
        return FileError{FileError::Kind::Permissions,
                         "'" + path + "' has mode " + octal(st.st_mode) +
                             ": a secret must not be readable or writable by group or others (chmod 600)"};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return FileError{FileError::Kind::Unreadable, "cannot read '" + path + "'"};
    std::ostringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
        text.pop_back();
    }
    if (text.empty()) return FileError{FileError::Kind::Empty, "'" + path + "' is empty"};
    return text;
}

std::variant<KeyPair, FileError> read_secret_key_file(const std::string& path) {
    auto text = key_text(path, true);
    if (auto* e = std::get_if<FileError>(&text)) return *e;
    auto secret = std::get<std::string>(std::move(text));
    auto pub = public_of(secret);
    if (!pub) return FileError{FileError::Kind::Format, "'" + path + "': no public key can be derived from it"};
    return KeyPair{std::move(*pub), std::move(secret)};
}

std::variant<std::string, FileError> read_public_key_file(const std::string& path) { return key_text(path, false); }

}  // namespace tricache::curve
