#include "allocator/allocator.hpp"

#if TRICACHE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace tricache::allocator {

std::string describe() {
#if TRICACHE_JEMALLOC
    const char* version = nullptr;
    std::size_t len = sizeof version;
    if (mallctl("version", static_cast<void*>(&version), &len, nullptr, 0) == 0 && version != nullptr) {
        return std::string("jemalloc ") + version;
    }
    return "jemalloc (version unknown)";
#else
    return "system malloc";
#endif
}

std::optional<std::uint64_t> thread_allocated_bytes() {
#if TRICACHE_JEMALLOC
    std::uint64_t bytes = 0;
    std::size_t len = sizeof bytes;
    if (mallctl("thread.allocated", static_cast<void*>(&bytes), &len, nullptr, 0) == 0) return bytes;
#endif
    return std::nullopt;
}

}  // namespace tricache::allocator
