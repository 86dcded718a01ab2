// LRU store benchmark: fill time, a 90/10 get/put mix over existing keys, and
// memory per entry beyond the key and value bytes, measured two ways (the
// store's own accounting, and the allocator's totals from mallinfo2).
//   bench_store [entries=1000000] [ops=10000000]
#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <time.h>

#include "store/lru_store.hpp"

namespace {

using tricache::store::LruStore;

constexpr std::size_t kKeyBytes = 16;
constexpr std::size_t kValueBytes = 100;

// A small fixed-seed generator, so every run does exactly the same work.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        state_ += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, bound) by the multiply-high method; the bias is below
    // 2^-40 for the bounds used here.
    std::uint64_t below(std::uint64_t bound) {
        __extension__ using U128 = unsigned __int128;
        return static_cast<std::uint64_t>((static_cast<U128>(next()) * bound) >> 64);
    }

private:
    std::uint64_t state_;
};

// "key:" and the index as 12 decimal digits: exactly 16 bytes, no allocation.
std::string_view make_key(std::uint64_t index, char (&buf)[kKeyBytes]) {
    buf[0] = 'k';
    buf[1] = 'e';
    buf[2] = 'y';
    buf[3] = ':';
    for (std::size_t i = kKeyBytes; i > 4; --i) {
        buf[i - 1] = static_cast<char>('0' + index % 10);
        index /= 10;
    }
    return {buf, kKeyBytes};
}

std::string_view make_value(std::uint64_t index, std::uint64_t version, char (&buf)[kValueBytes]) {
    for (std::size_t i = 0; i < kValueBytes; ++i) {
        buf[i] = static_cast<char>('a' + (index + version + i) % 26);
    }
    return {buf, kValueBytes};
}

std::uint64_t heap_in_use() {
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;  // small-block arena plus mmapped blocks
}

// Wall time and this process's CPU time: on a shared machine the CPU time is
// the steadier figure, because the wall clock also counts time spent waiting
// for a core.
struct Stopwatch {
    std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
    double cpu = cpu_seconds();

    static double cpu_seconds() {
        timespec ts{};
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    }
    double wall_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(); }
    double cpu_s() const { return cpu_seconds() - cpu; }
};

std::uint64_t parse_arg(int argc, char** argv, int index, std::uint64_t fallback) {
    return argc > index ? std::strtoull(argv[index], nullptr, 10) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t entries = parse_arg(argc, argv, 1, 1000000);
    const std::uint64_t ops = parse_arg(argc, argv, 2, 10000000);
    if (entries == 0 || ops == 0) {
        std::fprintf(stderr, "usage: bench_store [entries>0] [ops>0]\n");
        return 2;
    }
    char key_buf[kKeyBytes];
    char value_buf[kValueBytes];

    const std::uint64_t heap_before = heap_in_use();
    LruStore store({entries, ~std::uint64_t{0}});
    const Stopwatch fill_watch;
    for (std::uint64_t i = 0; i < entries; ++i) {
        store.put(make_key(i, key_buf), make_value(i, 0, value_buf));
    }
    const double fill_s = fill_watch.wall_s();
    const double fill_cpu_s = fill_watch.cpu_s();
    const std::uint64_t heap_after = heap_in_use();
    if (store.size() != entries || store.evictions() != 0) {
        std::fprintf(stderr, "fill went wrong: size %llu\n", static_cast<unsigned long long>(store.size()));
        return 1;
    }

    const double n = static_cast<double>(entries);
    const double kv = static_cast<double>(kKeyBytes + kValueBytes);
    const LruStore::MemoryUsage usage = store.memory_usage();
    const double own_total = static_cast<double>(usage.slab_bytes + usage.table_bytes + usage.payload_bytes);
    const double heap_total = static_cast<double>(heap_after - heap_before);

    std::printf("entries                      %llu (key %zu B, value %zu B)\n",
                static_cast<unsigned long long>(entries), kKeyBytes, kValueBytes);
    std::printf("fill                         %.3f s wall, %.3f s cpu  (%.2f M puts/s by cpu time)\n", fill_s,
                fill_cpu_s, n / fill_cpu_s / 1e6);
    std::printf("memory beyond key+value, per entry:\n");
    std::printf("  slab (entries + chunk list) %6.2f B\n", static_cast<double>(usage.slab_bytes) / n);
    std::printf("  hash table                  %6.2f B\n", static_cast<double>(usage.table_bytes) / n);
    std::printf("  own accounting total        %6.2f B\n", own_total / n - kv);
    std::printf("  measured (mallinfo2)        %6.2f B  (includes allocator headers and padding)\n",
                heap_total / n - kv);

    Rng rng(42);
    std::uint64_t hits = 0;
    std::uint64_t puts = 0;
    const Stopwatch mix_watch;
    for (std::uint64_t op = 0; op < ops; ++op) {
        const std::uint64_t r = rng.next();
        const std::uint64_t index = rng.below(entries);
        const std::string_view key = make_key(index, key_buf);
        if (r % 10 == 0) {
            store.put(key, make_value(index, op, value_buf));
            ++puts;
        } else if (store.get(key)) {
            ++hits;
        }
    }
    const double mix_s = mix_watch.wall_s();
    const double mix_cpu_s = mix_watch.cpu_s();
    if (hits + puts != ops || store.size() != entries) {
        std::fprintf(stderr, "mix went wrong: %llu hits\n", static_cast<unsigned long long>(hits));
        return 1;
    }
    const double nops = static_cast<double>(ops);
    std::printf("90/10 get/put mix            %llu ops: %.3f s wall (%.2f M ops/s), %.3f s cpu (%.2f M ops/s, %.0f ns/op)\n",
                static_cast<unsigned long long>(ops), mix_s, nops / mix_s / 1e6, mix_cpu_s, nops / mix_cpu_s / 1e6,
                mix_cpu_s * 1e9 / nops);

    const Stopwatch check_watch;
    const bool ok = store.check_invariants();
    std::printf("invariant check              %s (%.3f s cpu)\n", ok ? "ok" : "FAILED", check_watch.cpu_s());
    std::printf("digest                       %016llx  (same on every run and machine)\n",
                static_cast<unsigned long long>(store.digest()));
    return ok ? 0 : 1;
}
