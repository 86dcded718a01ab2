// A fixed, seedable 64-bit hash of byte strings. Every replica must compute the
// same digest, so nothing here may depend on the platform, the standard library
// (std::hash is implementation-defined), the byte order or an address.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tricache::store {

namespace hash_detail {

// Odd constants taken from the hex digits of pi and the golden ratio; any
// well-spread odd values would do, but they must never change: digests are
// compared across processes.
inline constexpr std::uint64_t kP0 = 0x243F6A8885A308D3ull;
inline constexpr std::uint64_t kP1 = 0x13198A2E03707345ull;
inline constexpr std::uint64_t kP2 = 0xA4093822299F31D1ull;
inline constexpr std::uint64_t kP3 = 0x082EFA98EC4E6C89ull;
inline constexpr std::uint64_t kP4 = 0x452821E638D01377ull;
inline constexpr std::uint64_t kP5 = 0x9E3779B97F4A7C15ull;

__extension__ using U128 = unsigned __int128;

// Full 64x64->128 product folded back to 64 bits: one multiply spreads every
// input bit over the whole output, which is what makes the hash cheap.
constexpr std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) {
    const U128 product = static_cast<U128>(a) * static_cast<U128>(b);
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// Bijective finaliser (xor-shift-multiply), so distinct inputs stay distinct.
constexpr std::uint64_t avalanche(std::uint64_t x) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 32;
    return x;
}

// Little-endian loads whatever the host order, so big-endian replicas agree.
inline std::uint64_t load_le64(const char* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap64(v);
    }
    return v;
}

inline std::uint64_t load_le32(const char* p) {
    std::uint32_t v = 0;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap32(v);
    }
    return v;
}

inline std::uint64_t byte_at(const char* p, std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]));
}

}  // namespace hash_detail

// Hash of `bytes` under `seed`. Different seeds give unrelated functions, which
// the store uses to keep key hashes and value hashes in separate domains.
inline std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed) {
    using namespace hash_detail;
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    std::uint64_t h = fold_mul(seed ^ kP0, static_cast<std::uint64_t>(n) ^ kP1);
    while (n > 16) {
        h = fold_mul(load_le64(p) ^ kP2, load_le64(p + 8) ^ h);
        p += 16;
        n -= 16;
    }
    // The last 0..16 bytes are covered by two possibly overlapping reads; the
    // length is already mixed in, so overlap cannot make two strings collide.
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    if (n >= 8) {
        a = load_le64(p);
        b = load_le64(p + n - 8);
    } else if (n >= 4) {
        a = load_le32(p);
        b = load_le32(p + n - 4);
    } else if (n > 0) {
        a = (byte_at(p, 0) << 16) | (byte_at(p, n / 2) << 8) | byte_at(p, n - 1);
    }
    h = fold_mul(a ^ kP3, b ^ h ^ kP4);
    return avalanche(h ^ kP5);
}

}  // namespace tricache::store
