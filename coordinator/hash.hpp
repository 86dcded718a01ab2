// A small, fixed, seed-less 64-bit hash: the log hash chain must be the same on
// every node and in every run, so nothing implementation-defined may enter it.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tricache::coordinator {

constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

class Hasher {
public:
    Hasher& add(std::uint64_t v) {
        h_ = mix64(h_ ^ (v + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2)));
        return *this;
    }
    // Bytes in groups of eight, each read big-endian; a last short group is
    // read the same way (its first byte most significant).
    Hasher& add(std::string_view bytes) {
        add(bytes.size());
        const char* p = bytes.data();
        std::size_t n = bytes.size();
        for (; n >= 8; p += 8, n -= 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, p, sizeof word);
            if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
            add(word);
        }
        if (n != 0) add(short_group(p, n));
        return *this;
    }
    std::uint64_t value() const { return h_; }

private:
    static std::uint64_t load_be(const char* p, std::size_t width) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, width);
        if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
        return word >> (8 * (8 - width));
    }
    // The n (1..7) bytes at p read big-endian, from two overlapping loads
    // instead of a loop: a byte in the overlap lands on the same bit
    // positions in both, so OR joins them.
    static std::uint64_t short_group(const char* p, std::size_t n) {
        if (n >= 4) return (load_be(p, 4) << (8 * (n - 4))) | load_be(p + n - 4, 4);
        if (n >= 2) return (load_be(p, 2) << (8 * (n - 2))) | load_be(p + n - 2, 2);
        return static_cast<unsigned char>(p[0]);
    }

    std::uint64_t h_ = 0x243f6a8885a308d3ULL;
};

}  // namespace tricache::coordinator
