// Writes valid encodings of every message kind into a directory, as the seed
// corpus for the fuzz targets (scripts/fuzz).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "protocol/codec.hpp"
#include "tests/protocol/samples.hpp"

namespace {

bool write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace tricache::protocol;
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        std::fprintf(stderr, "write_fuzz_seeds: %s: %s\n", dir.c_str(), ec.message().c_str());
        return 1;
    }
    int written = 0;
    bool ok = true;
    auto put = [&](const std::string& name, const std::string& bytes) {
        ok = write(dir / name, bytes) && ok;
        ++written;
    };
    for (const auto& m : samples::peer_messages()) put("peer-" + kind_name(m.body), encode(m));
    int i = 0;
    for (const auto& m : samples::client_requests()) put("request-" + std::to_string(i++), encode(m));
    i = 0;
    for (const auto& m : samples::client_responses()) put("response-" + std::to_string(i++), encode(m));
    put("snapshot", encode(samples::snapshot()));
    if (!ok) {
        std::fprintf(stderr, "write_fuzz_seeds: could not write into %s\n", dir.c_str());
        return 1;
    }
    std::printf("write_fuzz_seeds: %d seeds in %s\n", written, dir.c_str());
    return 0;
}
