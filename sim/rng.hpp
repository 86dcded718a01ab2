// The simulator's only source of randomness: a small seeded generator
// (xoshiro256** fed by splitmix64). Same seed, same stream, on every platform,
// because nothing here depends on the standard library's distributions.
#pragma once

#include <cassert>
#include <cstdint>

namespace tricache::sim {

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// A stable 64-bit mix of two values: derives independent streams from one
// seed, so adding a parameter never shifts the values drawn for the others.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t s = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    splitmix64(s);
    return splitmix64(s);
}

class Rng {
public:
    explicit Rng(std::uint64_t seed) {
        std::uint64_t s = seed;
        for (auto& word : s_) word = splitmix64(s);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in [0, n); n > 0. The modulo bias is irrelevant at simulator sizes.
    std::uint64_t below(std::uint64_t n) {
        assert(n > 0);
        return next() % n;
    }

    // Uniform in [lo, hi], both included.
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
        assert(lo <= hi);
        return lo + below(hi - lo + 1);
    }

    // Uniform in [0, 1).
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    bool chance(double p) { return p > 0.0 && unit() < p; }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4]{};
};

}  // namespace tricache::sim
