#include "curve/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <zmq.h>

namespace tricache::curve {
namespace {

// Writes `text` to a new file with `mode`; the mode is set at creation, so a
// secret is never readable by others, even for a moment.
std::optional<std::string> write_file(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
    if (overwrite) (void)unlink(path.c_str());
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return "cannot create '" + path + "': " + std::strerror(errno);
    // The umask may have taken bits away; it must not leave more than asked.
    (void)fchmod(fd, mode);
    const ssize_t n = write(fd, text.data(), text.size());
    const bool ok = n == static_cast<ssize_t>(text.size());
    const int err = errno;
    if (close(fd) != 0 || !ok) return "cannot write '" + path + "': " + std::strerror(ok ? errno : err);
    return std::nullopt;
}

}  // namespace

bool available() { return zmq_has("curve") != 0; }

bool is_z85_key(std::string_view text) { return decode_key(text).has_value(); }

std::optional<std::string> decode_key(std::string_view z85) {
    if (z85.size() != kZ85KeyLength) return std::nullopt;
    const std::string text(z85);  // zmq_z85_decode wants a terminated string
    std::string raw(32, '\0');
    if (zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), text.c_str()) == nullptr) return std::nullopt;
    return raw;
}

std::string encode_key(std::string_view raw32) {
    char text[kZ85KeyLength + 1] = {};
    if (raw32.size() != 32 || zmq_z85_encode(text, reinterpret_cast<const std::uint8_t*>(raw32.data()), 32) == nullptr) {
        return {};
    }
    return text;
}

std::variant<KeyPair, std::string> generate() {
    char pub[kZ85KeyLength + 1] = {};
    char sec[kZ85KeyLength + 1] = {};
    if (zmq_curve_keypair(pub, sec) != 0) {
        return std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
               " (libzmq needs CURVE support, i.e. libsodium)";
    }
    return KeyPair{pub, sec};
}

std::optional<std::string> public_of(std::string_view secret_z85) {
    if (!is_z85_key(secret_z85)) return std::nullopt;
    const std::string sec(secret_z85);
    char pub[kZ85KeyLength + 1] = {};
    if (zmq_curve_public(pub, sec.c_str()) != 0) return std::nullopt;
    return std::string(pub);
}

std::optional<std::string> write_key_pair(const std::string& base, const KeyPair& pair, bool overwrite) {
    if (auto e = write_file(base + ".key", pair.secret_key + "\n", 0600, overwrite)) return e;
    return write_file(base + ".pub", pair.public_key + "\n", 0644, overwrite);
}

}  // namespace tricache::curve
