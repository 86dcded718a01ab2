// A small, fixed, seed-less 64-bit hash: the log hash chain must be the same on
// every node and in every run, so nothing implementation-defined may enter it.
#pragma once

#include <cstdint>
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
    Hasher& add(std::string_view bytes) {
        add(bytes.size());
        std::uint64_t acc = 0;
        unsigned n = 0;
        for (char ch : bytes) {
            const auto c = static_cast<unsigned char>(ch);
            acc = (acc << 8) | c;
            if (++n == 8) {
                add(acc);
                acc = 0;
                n = 0;
            }
        }
        if (n != 0) add(acc);
        return *this;
    }
    std::uint64_t value() const { return h_; }

private:
    std::uint64_t h_ = 0x243f6a8885a308d3ULL;
};

}  // namespace tricache::coordinator
