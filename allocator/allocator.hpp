#pragma once
// Which malloc a tricache binary runs on. Executables link jemalloc (see allocator/CMakeLists.txt):
// the engine makes many small, short-lived allocations per batch, and glibc's malloc spent as much
// CPU on them (free-list consolidation, heap trimming) as the engine spent on its own work.
#include <cstdint>
#include <optional>
#include <string>

namespace tricache::allocator {

// "jemalloc 5.3.0-..." or "system malloc"; printed by benchmarks and the node's start line.
std::string describe();

// Bytes this thread has allocated so far, when the allocator can tell (jemalloc); used by the test
// that proves malloc really goes through jemalloc rather than only linking it.
std::optional<std::uint64_t> thread_allocated_bytes();

}  // namespace tricache::allocator
