// Codec throughput on the hot peer message: a CanCommit carrying a full batch.
//   bench_codec [--commands 64] [--key-bytes 16] [--value-bytes 100] [--iterations N] [--rounds R]
// Each figure is the best of R rounds of N operations, in thread CPU time.
#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "protocol/codec.hpp"

namespace {

using namespace tricache::protocol;

PeerMessage make_can_commit(std::size_t commands, std::size_t key_bytes, std::size_t value_bytes) {
    Batch batch;
    for (std::size_t i = 0; i < commands; ++i) {
        std::string key(key_bytes, 'k');
        const std::string id = std::to_string(i);
        key.replace(0, std::min(id.size(), key.size()), id.substr(0, key.size()));
        batch.push_back(Command{1000 + i, 5000 + i, {Set{std::move(key), std::string(value_bytes, 'v')}}});
    }
    return PeerMessage{PeerHeader{kProtocolVersion, "bench-cluster", 3, 17, 9, 1}, CanCommit{TxId{3, 17, 123456}, std::move(batch)}};
}

// Thread CPU time, not wall time: on a shared machine the wall clock also
// counts the time other processes hold the core.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t commands = 64;
    std::size_t key_bytes = 16;
    std::size_t value_bytes = 100;
    std::size_t iterations = 5000;
    std::size_t rounds = 7;
    CLI::App app{"tricache codec benchmark"};
    app.add_option("--commands", commands, "Set commands in the CanCommit batch");
    app.add_option("--key-bytes", key_bytes, "bytes per key");
    app.add_option("--value-bytes", value_bytes, "bytes per value");
    app.add_option("--iterations", iterations, "encodes and decodes per round");
    app.add_option("--rounds", rounds, "rounds; the best one is reported")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    const PeerMessage msg = make_can_commit(commands, key_bytes, value_bytes);
    const std::string bytes = encode(msg);
    const auto check = decode_peer_message(bytes);
    if (!check.ok() || !(check.value() == msg)) {
        std::fprintf(stderr, "bench_codec: round trip failed\n");
        return 1;
    }

    // Warm up allocator and caches before timing.
    for (std::size_t i = 0; i < iterations / 10 + 1; ++i) {
        if (encode(msg).size() != bytes.size() || !decode_peer_message(bytes).ok()) return 1;
    }

    std::size_t sink = 0;  // consumed below so the loops cannot be elided
    double encode_s = 0;
    double decode_s = 0;
    for (std::size_t r = 0; r < rounds; ++r) {
        double start = cpu_seconds();
        for (std::size_t i = 0; i < iterations; ++i) sink += encode(msg).size();
        const double e = cpu_seconds() - start;

        start = cpu_seconds();
        for (std::size_t i = 0; i < iterations; ++i) {
            const auto d = decode_peer_message(bytes);
            sink += d.ok() ? std::get<CanCommit>(d.value().body).batch.size() : 0;
        }
        const double d = cpu_seconds() - start;
        encode_s = r == 0 ? e : std::min(encode_s, e);
        decode_s = r == 0 ? d : std::min(decode_s, d);
    }

    const double n = static_cast<double>(iterations);
    const double mb = static_cast<double>(bytes.size()) * n / 1e6;
    std::printf("message       CanCommit, %zu x Set(%zu-byte key, %zu-byte value)\n", commands, key_bytes,
                value_bytes);
    std::printf("encoded size  %zu bytes\n", bytes.size());
    std::printf("iterations    best of %zu rounds x %zu\n", rounds, iterations);
    std::printf("encode        %.0f ns/op  %.1f MB/s\n", encode_s * 1e9 / n, mb / encode_s);
    std::printf("decode        %.0f ns/op  %.1f MB/s\n", decode_s * 1e9 / n, mb / decode_s);
    std::printf("(checksum %zu)\n", sink);
    return 0;
}
