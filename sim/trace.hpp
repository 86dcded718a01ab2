// The trace hash: one 64-bit value folded over every simulator event in order.
// Two runs of the same seed must end with the same value (the nondeterminism
// detector); it is the simulator's own hash so that nothing outside sim/ can
// change it by accident.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tricache::sim {

class TraceHash {
public:
    // Always inlined: it runs several times per event, and g++ kept it out of line.
    [[gnu::always_inline]] TraceHash& add(std::uint64_t v) {
        h_ ^= v + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2);
        h_ = mix(h_);
        return *this;
    }
    // Bytes in groups of eight, each read big-endian; a last short group is
    // read the same way (its first byte most significant).
    TraceHash& add(std::string_view bytes) {
        add(bytes.size());
        const char* p = bytes.data();
        std::size_t n = bytes.size();
        for (; n >= 8; p += 8, n -= 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, p, sizeof word);
            if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
            add(word);
        }
        if (n != 0) {
            std::uint64_t acc = 0;
            for (std::size_t i = 0; i < n; ++i) acc = (acc << 8) | static_cast<unsigned char>(p[i]);
            add(acc);
        }
        return *this;
    }
    std::uint64_t value() const { return h_; }

private:
    static constexpr std::uint64_t mix(std::uint64_t x) {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ULL;
        x ^= x >> 33;
        return x;
    }
    std::uint64_t h_ = 0x6a09e667f3bcc908ULL;
};

}  // namespace tricache::sim
