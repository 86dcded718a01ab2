#include "allocator/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace {

using tricache::allocator::describe;
using tricache::allocator::thread_allocated_bytes;

#if TRICACHE_JEMALLOC

TEST(Allocator, DescribesJemalloc) {
    EXPECT_EQ(describe().rfind("jemalloc ", 0), 0u) << describe();
}

// Linking jemalloc is not enough: plain malloc must be served by it, or the figures would lie.
TEST(Allocator, PlainMallocGoesThroughJemalloc) {
    const auto before = thread_allocated_bytes();
    ASSERT_TRUE(before.has_value());
    constexpr std::size_t size = 1 << 20;
    void* p = std::malloc(size);
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, size);
    const auto after = thread_allocated_bytes();
    std::free(p);
    ASSERT_TRUE(after.has_value());
    EXPECT_GE(*after - *before, size);
}

#else

TEST(Allocator, DescribesSystemMalloc) {
    EXPECT_EQ(describe(), "system malloc");
    EXPECT_FALSE(thread_allocated_bytes().has_value());
}

#endif

}  // namespace
