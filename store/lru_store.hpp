// The deterministic LRU store: every replica that applies the same calls in the
// same order ends with the same entries in the same recency order, and the same
// digest. Nothing inside depends on addresses, randomness or unordered
// iteration.
//
// Layout (chosen for <= 64 bytes of overhead per entry at a million entries):
// a chunked slab of 40-byte entries linked by uint32 indices into a doubly
// linked recency list, one heap block per entry holding key then value bytes,
// and an open-addressing table of uint32 slab indices with linear probing and
// backward-shift deletion (no tombstones, so probe lengths never rot).
//
// Views returned by get/peek/for_each stay valid only until the next call that
// mutates the store. Not thread-safe: one owner drives it.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tricache::store {

inline constexpr std::uint64_t kEntryOverheadBytes = 48;  // stated per-entry charge on top of key+value sizes

struct Limits {
    std::uint64_t max_entries = 0;
    std::uint64_t max_bytes = 0;
};

// Both limits must be at least 1; the constructor asserts it, restore() refuses.
constexpr bool limits_valid(Limits limits) { return limits.max_entries >= 1 && limits.max_bytes >= 1; }

// The bytes an entry counts against max_bytes: key.size() + value.size() + overhead.
std::uint64_t entry_charge(std::string_view key, std::string_view value);

enum class PutOutcome : std::uint8_t { Stored, TooLarge };

struct PutResult {
    PutOutcome outcome;
    std::uint64_t evicted;  // entries removed from the LRU end by this put
};

// The digest of a store whose contents, most recently used first, are
// `mru_first`, computed from scratch. LruStore::digest() always equals
// digest_of(snapshot_mru_first()). Definition (constants in lru_store.cpp,
// hash_bytes in store/hash.hpp), all arithmetic mod 2^64:
//   kh(k) = hash_bytes(k, kKeySeed), vh(v) = hash_bytes(v, kValueSeed)
//   digest = sum over i of edge(kh(k_i), vh(v_i), kh(k_{i+1}) or kTailSentinel)
//          + head(kh(k_0) or kEmptyHeadSentinel) + count(n)
// Each list change touches O(1) edges, which is how the store keeps it cheap.
std::uint64_t digest_of(const std::vector<std::pair<std::string, std::string>>& mru_first);

class LruStore {
public:
    explicit LruStore(Limits limits);
    LruStore(const LruStore& other);
    LruStore& operator=(const LruStore& other);
    LruStore(LruStore&& other) noexcept;
    LruStore& operator=(LruStore&& other) noexcept;
    ~LruStore();

    std::optional<std::string_view> get(std::string_view key);        // moves key to MRU if present
    std::optional<std::string_view> peek(std::string_view key) const;  // no recency change
    bool touch(std::string_view key);                                  // moves to MRU; false if absent
    // Insert or overwrite, make it MRU, then evict from the LRU end until within
    // limits. TooLarge (store unchanged) when the entry alone exceeds max_bytes,
    // or when key or value is 4 GiB - 1 bytes or longer (lengths are 32-bit).
    // With `evicted_keys`, the keys it evicts are appended there, LRU first
    // (the replicated state drops their expiries with them).
    PutResult put(std::string_view key, std::string_view value, std::vector<std::string>* evicted_keys = nullptr);
    bool erase(std::string_view key);
    // Removes every entry; returns how many there were. The limits and the
    // evictions counter stay; everything else, digest included, is that of a
    // new store.
    std::uint64_t clear();

    std::uint64_t size() const { return size_; }
    std::uint64_t bytes() const { return bytes_; }
    Limits limits() const { return limits_; }
    std::uint64_t evictions() const { return evictions_; }  // since construction or restore

    // Order-sensitive digest of contents and recency order. A change to the
    // list only marks the entries whose outgoing edge it touched; digest()
    // folds the marked entries' edges into the sum, so it costs O(entries
    // changed since the last call) plus one bit-scan of the slab.
    std::uint64_t digest() const;

    // f(std::string_view key, std::string_view value), most recent first; f
    // must not modify the store.
    template <class F>
    void for_each_mru_first(F&& f) const {
        for (std::uint32_t s = head_; s != kNil; s = at(s).next) {
            const Entry& e = at(s);
            f(e.key(), e.value());
        }
    }

    std::vector<std::pair<std::string, std::string>> snapshot_mru_first() const;

    // Rebuilds a store from a snapshot. nullopt if the limits are invalid, a
    // key repeats, or the entries exceed either limit. The evictions counter
    // starts at zero; everything else, digest included, equals the original.
    static std::optional<LruStore> restore(Limits limits,
                                           const std::vector<std::pair<std::string, std::string>>& entries_mru_first);

    // Bytes held by the store's own structures, for benchmarks and reports.
    // payload_bytes is what was asked of the allocator for key+value blocks;
    // the allocator's own per-block overhead is not included.
    struct MemoryUsage {
        std::uint64_t slab_bytes = 0;
        std::uint64_t table_bytes = 0;
        std::uint64_t payload_bytes = 0;
    };
    MemoryUsage memory_usage() const;

    // O(n) check of every internal invariant (list links, table, byte
    // accounting, cached hashes, digest). For tests and the simulator.
    bool check_invariants() const;

private:
    static constexpr std::uint32_t kNil = 0xFFFFFFFFu;
    static constexpr std::uint32_t kFreeSlot = 0xFFFFFFFEu;  // prev of a slab slot on the free list

    struct Entry {
        std::uint64_t key_hash = 0;
        // Of value(), but only while the slot's edge is settled: a pending
        // slot's value may change freely, and settle_edges hashes it then.
        mutable std::uint64_t value_hash = 0;
        std::unique_ptr<char[]> data;  // key bytes then value bytes; null when both are empty
        std::uint32_t key_len = 0;
        std::uint32_t value_len = 0;
        std::uint32_t prev = kFreeSlot;
        std::uint32_t next = kNil;

        std::string_view key() const { return {data.get(), key_len}; }
        std::string_view value() const { return {data.get() + key_len, value_len}; }
        bool live() const { return prev != kFreeSlot; }
    };
    // The per-entry budget (<= 64 bytes beyond key and value at 1M entries)
    // is spent here first; growing this struct needs a new measurement.
    static_assert(sizeof(Entry) == 40);

    Entry& at(std::uint32_t slot) { return chunks_[slot >> chunk_shift_][slot & chunk_mask()]; }
    const Entry& at(std::uint32_t slot) const { return chunks_[slot >> chunk_shift_][slot & chunk_mask()]; }
    std::uint32_t chunk_mask() const { return (std::uint32_t{1} << chunk_shift_) - 1u; }

    std::uint32_t find(std::string_view key, std::uint64_t key_hash) const;
    std::uint32_t allocate_slot();
    void release_slot(std::uint32_t slot);
    void table_insert(std::uint32_t slot);
    void table_erase(std::uint32_t slot);
    void table_reserve(std::uint64_t entries);
    void unlink(std::uint32_t slot);
    void link_front(std::uint32_t slot);
    void move_to_front(std::uint32_t slot);
    std::uint32_t insert_new(std::string_view key, std::uint64_t key_hash, std::string_view value);
    void remove(std::uint32_t slot);
    std::uint64_t edge_hash_after(std::uint32_t slot) const;
    std::uint64_t edge_term_of(std::uint32_t slot) const;
    bool pending(std::uint32_t slot) const { return ((pending_[slot >> 6] >> (slot & 63u)) & 1u) != 0; }
    // Before a change to the outgoing edge of a live slot whose edge is in edge_sum_.
    void take_out_edge(std::uint32_t slot);
    // A slot just filled: its edge has never been in edge_sum_.
    void mark_pending(std::uint32_t slot);
    // Adds the edges of the pending live slots to edge_sum_ and clears every mark.
    void settle_edges() const;
    std::uint64_t pending_edge_sum() const;

    Limits limits_;
    std::uint32_t chunk_shift_ = 0;
    std::vector<std::unique_ptr<Entry[]>> chunks_;
    std::uint32_t slots_used_ = 0;  // slab high-water mark
    std::uint32_t free_head_ = kNil;
    std::vector<std::uint32_t> table_;  // slab indices or kNil; size is a power of two
    std::uint32_t head_ = kNil;         // most recently used
    std::uint32_t tail_ = kNil;         // least recently used
    std::uint64_t size_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t evictions_ = 0;
    // Most moves touch entries that moved recently, and the digest is read
    // far less often than the list changes: so the sum is settled lazily.
    // edge_sum_ holds the edge of every live slot whose bit in pending_ is
    // clear; a set bit means that slot's edge is left out until settle_edges.
    mutable std::uint64_t edge_sum_ = 0;
    mutable std::vector<std::uint64_t> pending_;  // one bit per slab slot below slots_used_
    mutable std::uint64_t pending_count_ = 0;     // set bits in pending_
};

}  // namespace tricache::store
