// Redis clients and tools other than the ones in redis_test.cpp, against the
// Redis endpoints of a 3-node cluster. Each test skips (never fails) when its
// client is not installed.
#include <cstdlib>
#include <map>
#include <set>

#include "tests/process/resp_harness.hpp"

namespace tricache::process_test {
namespace {

const std::string kNodeClientDir = kSourceDir + "/tests/process/node_client";

// The first executable called `name` on PATH, or "" (posix_spawn takes a path).
std::string on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

TEST(ProcessRedisClients, NodeRedisClientOnTwoNodes) {
    const std::string node = on_path("node");
    if (node.empty()) GTEST_SKIP() << "node not installed (bash scripts/setup)";
    TempDir probe;
    if (run_command(probe, {node, "-e", "require(process.argv[1])", kNodeClientDir + "/node_modules/redis"}).code != 0) {
        GTEST_SKIP() << "the npm package redis does not load from " << kNodeClientDir << " (bash scripts/setup)";
    }
    LocalCluster c(redis_cluster());
    ASSERT_TRUE(c.wait_ready());
    auto r = run_command(c.dir(),
                         {node, kNodeClientDir + "/redis_node_client.js", std::to_string(c.resp_port(1)),
                          std::to_string(c.resp_port(3))},
                         {}, 60s);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("node redis client: all checks passed"), std::string::npos) << r.out << r.err;
    std::printf("%s", r.out.c_str());
    EXPECT_TRUE(c.wait_agree());
}

}  // namespace
}  // namespace tricache::process_test
