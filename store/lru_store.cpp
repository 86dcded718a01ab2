#include "store/lru_store.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "store/hash.hpp"

namespace tricache::store {

namespace {

using hash_detail::avalanche;
using hash_detail::fold_mul;

// Separate seeds keep key and value hashes unrelated, so a key equal to some
// value never produces a matching term.
constexpr std::uint64_t kKeySeed = 0x6B65792D68617368ull;
constexpr std::uint64_t kValueSeed = 0x76616C2D68617368ull;
// Stand-ins for "no next entry" (after the LRU end) and "no head" (empty store).
constexpr std::uint64_t kTailSentinel = 0xC0AC29B7C97C50DDull;
constexpr std::uint64_t kEmptyHeadSentinel = 0x3F84D5B5B5470917ull;

constexpr std::uint64_t kEdgeSalt0 = 0x8E9C5B6A3D2F1E07ull;
constexpr std::uint64_t kEdgeSalt1 = 0x1F83D9ABFB41BD6Bull;
constexpr std::uint64_t kEdgeSalt2 = 0x5BE0CD19137E2179ull;
constexpr std::uint64_t kEdgeSalt3 = 0xCBBB9D5DC1059ED9ull;
constexpr std::uint64_t kHeadSalt = 0x629A292A367CD507ull;
constexpr std::uint64_t kCountSalt = 0x9159015A3070DD17ull;

std::uint64_t key_hash_of(std::string_view key) { return hash_bytes(key, kKeySeed); }
std::uint64_t value_hash_of(std::string_view value) { return hash_bytes(value, kValueSeed); }

// One term per list edge "entry (key, value) is followed by next_key". The set
// of edges plus the head names the list uniquely, and each list change touches
// O(1) edges, so the sum can be maintained in O(1).
std::uint64_t edge_term(std::uint64_t key_hash, std::uint64_t value_hash, std::uint64_t next_key_hash) {
    std::uint64_t h = fold_mul(key_hash ^ kEdgeSalt0, value_hash ^ kEdgeSalt1);
    h = fold_mul(h ^ kEdgeSalt2, next_key_hash ^ kEdgeSalt3);
    return avalanche(h);
}

std::uint64_t head_term(std::uint64_t head_key_hash) { return avalanche(fold_mul(head_key_hash ^ kHeadSalt, kEdgeSalt1)); }

std::uint64_t count_term(std::uint64_t count) { return avalanche(count + kCountSalt); }

std::uint64_t combine(std::uint64_t edge_sum, std::uint64_t head_key_hash, std::uint64_t count) {
    return edge_sum + head_term(head_key_hash) + count_term(count);
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
    const std::uint64_t sum = a + b;
    return sum < a ? std::numeric_limits<std::uint64_t>::max() : sum;
}

constexpr std::uint32_t kMaxChunkShift = 10;  // 1024 entries (40 KiB) per slab chunk
constexpr std::size_t kMinTableSlots = 8;

// The table is kept at most 7/8 full: linear probing stays short there.
bool table_has_room(std::uint64_t entries, std::size_t slots) { return entries * 8 <= static_cast<std::uint64_t>(slots) * 7; }

}  // namespace

std::uint64_t entry_charge(std::string_view key, std::string_view value) {
    return saturating_add(saturating_add(key.size(), value.size()), kEntryOverheadBytes);
}

std::uint64_t digest_of(const std::vector<std::pair<std::string, std::string>>& mru_first) {
    std::uint64_t edge_sum = 0;
    for (std::size_t i = 0; i < mru_first.size(); ++i) {
        const std::uint64_t next =
            i + 1 < mru_first.size() ? key_hash_of(mru_first[i + 1].first) : kTailSentinel;
        edge_sum += edge_term(key_hash_of(mru_first[i].first), value_hash_of(mru_first[i].second), next);
    }
    const std::uint64_t head = mru_first.empty() ? kEmptyHeadSentinel : key_hash_of(mru_first.front().first);
    return combine(edge_sum, head, mru_first.size());
}

LruStore::LruStore(Limits limits) : limits_(limits) {
    assert(limits_valid(limits));
    // A store never holds more than max_entries + 1 slots (a put inserts before
    // it evicts), so small stores get small chunks.
    const std::uint64_t slots_needed = std::min<std::uint64_t>(limits.max_entries, std::uint64_t{1} << 32) + 1;
    chunk_shift_ = std::min<std::uint32_t>(kMaxChunkShift, static_cast<std::uint32_t>(std::bit_width(slots_needed - 1)));
    table_.assign(kMinTableSlots, kNil);
}

LruStore::LruStore(const LruStore& other)
    : limits_(other.limits_),
      chunk_shift_(other.chunk_shift_),
      slots_used_(other.slots_used_),
      free_head_(other.free_head_),
      table_(other.table_),
      head_(other.head_),
      tail_(other.tail_),
      size_(other.size_),
      bytes_(other.bytes_),
      evictions_(other.evictions_),
      edge_sum_(other.edge_sum_),
      pending_(other.pending_),
      pending_count_(other.pending_count_) {
    // Same slot numbers and links as the original, so the copy behaves
    // identically, down to which free slot the next insert takes.
    const std::size_t per_chunk = std::size_t{1} << chunk_shift_;
    chunks_.reserve(other.chunks_.size());
    for (const auto& source : other.chunks_) {
        auto chunk = std::make_unique<Entry[]>(per_chunk);
        for (std::size_t i = 0; i < per_chunk; ++i) {
            const Entry& from = source[i];
            Entry& to = chunk[i];
            to.key_hash = from.key_hash;
            to.value_hash = from.value_hash;
            to.key_len = from.key_len;
            to.value_len = from.value_len;
            to.prev = from.prev;
            to.next = from.next;
            const std::size_t len = std::size_t{from.key_len} + from.value_len;
            if (from.data != nullptr) {
                to.data = std::make_unique_for_overwrite<char[]>(len);
                std::memcpy(to.data.get(), from.data.get(), len);
            }
        }
        chunks_.push_back(std::move(chunk));
    }
}

LruStore& LruStore::operator=(const LruStore& other) {
    if (this != &other) {
        LruStore copy(other);
        *this = std::move(copy);
    }
    return *this;
}

LruStore::LruStore(LruStore&& other) noexcept
    : limits_(other.limits_),
      chunk_shift_(other.chunk_shift_),
      chunks_(std::exchange(other.chunks_, {})),
      slots_used_(std::exchange(other.slots_used_, 0)),
      free_head_(std::exchange(other.free_head_, kNil)),
      table_(std::exchange(other.table_, {})),
      head_(std::exchange(other.head_, kNil)),
      tail_(std::exchange(other.tail_, kNil)),
      size_(std::exchange(other.size_, 0)),
      bytes_(std::exchange(other.bytes_, 0)),
      evictions_(std::exchange(other.evictions_, 0)),
      edge_sum_(std::exchange(other.edge_sum_, 0)),
      pending_(std::exchange(other.pending_, {})),
      pending_count_(std::exchange(other.pending_count_, 0)) {}

LruStore& LruStore::operator=(LruStore&& other) noexcept {
    if (this != &other) {
        limits_ = other.limits_;
        chunk_shift_ = other.chunk_shift_;
        chunks_ = std::exchange(other.chunks_, {});
        slots_used_ = std::exchange(other.slots_used_, 0);
        free_head_ = std::exchange(other.free_head_, kNil);
        table_ = std::exchange(other.table_, {});
        head_ = std::exchange(other.head_, kNil);
        tail_ = std::exchange(other.tail_, kNil);
        size_ = std::exchange(other.size_, 0);
        bytes_ = std::exchange(other.bytes_, 0);
        evictions_ = std::exchange(other.evictions_, 0);
        edge_sum_ = std::exchange(other.edge_sum_, 0);
        pending_ = std::exchange(other.pending_, {});
        pending_count_ = std::exchange(other.pending_count_, 0);
    }
    return *this;
}

LruStore::~LruStore() = default;

std::uint32_t LruStore::find(std::string_view key, std::uint64_t key_hash) const {
    if (table_.empty()) {  // only a moved-from store
        return kNil;
    }
    const std::size_t mask = table_.size() - 1;
    for (std::size_t pos = static_cast<std::size_t>(key_hash) & mask;; pos = (pos + 1) & mask) {
        const std::uint32_t slot = table_[pos];
        if (slot == kNil) {
            return kNil;
        }
        const Entry& e = at(slot);
        if (e.key_hash == key_hash && e.key() == key) {
            return slot;
        }
    }
}

std::uint32_t LruStore::allocate_slot() {
    if (free_head_ != kNil) {
        const std::uint32_t slot = free_head_;
        free_head_ = at(slot).next;
        return slot;
    }
    assert(slots_used_ < kFreeSlot);  // slab indices must stay clear of the two markers
    const std::uint32_t slot = slots_used_++;
    if ((slot >> chunk_shift_) == chunks_.size()) {
        chunks_.push_back(std::make_unique<Entry[]>(std::size_t{1} << chunk_shift_));
    }
    if ((slot >> 6) == pending_.size()) {
        pending_.push_back(0);
    }
    return slot;
}

void LruStore::release_slot(std::uint32_t slot) {
    Entry& e = at(slot);
    e.data.reset();
    e.key_len = 0;
    e.value_len = 0;
    e.key_hash = 0;
    e.value_hash = 0;
    e.prev = kFreeSlot;
    e.next = free_head_;
    free_head_ = slot;
}

void LruStore::table_insert(std::uint32_t slot) {
    const std::size_t mask = table_.size() - 1;
    std::size_t pos = static_cast<std::size_t>(at(slot).key_hash) & mask;
    while (table_[pos] != kNil) {
        pos = (pos + 1) & mask;
    }
    table_[pos] = slot;
}

void LruStore::table_erase(std::uint32_t slot) {
    const std::size_t mask = table_.size() - 1;
    std::size_t hole = static_cast<std::size_t>(at(slot).key_hash) & mask;
    while (table_[hole] != slot) {
        assert(table_[hole] != kNil);
        hole = (hole + 1) & mask;
    }
    // Backward shift: pull later members of the probe run into the hole when
    // the hole lies between their home slot and where they sit, so no
    // tombstone is needed and every lookup still ends at the first empty slot.
    for (std::size_t pos = (hole + 1) & mask;; pos = (pos + 1) & mask) {
        const std::uint32_t moving = table_[pos];
        if (moving == kNil) {
            break;
        }
        const std::size_t home = static_cast<std::size_t>(at(moving).key_hash) & mask;
        if (((pos - home) & mask) >= ((pos - hole) & mask)) {
            table_[hole] = moving;
            hole = pos;
        }
    }
    table_[hole] = kNil;
}

void LruStore::table_reserve(std::uint64_t entries) {
    std::size_t slots = std::max(table_.size(), kMinTableSlots);
    while (!table_has_room(entries, slots)) {
        slots *= 2;
    }
    if (slots == table_.size()) {
        return;
    }
    // Rehash from the list, which the table never orders: slot positions
    // depend only on hashes and insertion order, both deterministic.
    table_.assign(slots, kNil);
    for (std::uint32_t s = head_; s != kNil; s = at(s).next) {
        table_insert(s);
    }
}

std::uint64_t LruStore::edge_hash_after(std::uint32_t slot) const {
    const std::uint32_t next = at(slot).next;
    return next == kNil ? kTailSentinel : at(next).key_hash;
}

std::uint64_t LruStore::edge_term_of(std::uint32_t slot) const {
    const Entry& e = at(slot);
    return edge_term(e.key_hash, e.value_hash, edge_hash_after(slot));
}

void LruStore::take_out_edge(std::uint32_t slot) {
    if (!pending(slot)) {
        edge_sum_ -= edge_term_of(slot);
        pending_[slot >> 6] |= std::uint64_t{1} << (slot & 63u);
        ++pending_count_;
    }
}

void LruStore::mark_pending(std::uint32_t slot) {
    if (!pending(slot)) {
        pending_[slot >> 6] |= std::uint64_t{1} << (slot & 63u);
        ++pending_count_;
    }
}

void LruStore::settle_edges() const {
    if (pending_count_ == 0) {
        return;
    }
    for (std::size_t w = 0; w < pending_.size(); ++w) {
        for (std::uint64_t bits = pending_[w]; bits != 0; bits &= bits - 1) {
            const auto slot = static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
            const Entry& e = at(slot);
            if (e.live()) {  // a freed slot's edge left the sum when it was removed
                e.value_hash = value_hash_of(e.value());
                edge_sum_ += edge_term_of(slot);
            }
        }
        pending_[w] = 0;
    }
    pending_count_ = 0;
}

std::uint64_t LruStore::pending_edge_sum() const {
    std::uint64_t sum = 0;
    for (std::size_t w = 0; w < pending_.size(); ++w) {
        for (std::uint64_t bits = pending_[w]; bits != 0; bits &= bits - 1) {
            const auto slot = static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
            const Entry& e = at(slot);
            if (e.live()) {
                sum += edge_term(e.key_hash, value_hash_of(e.value()), edge_hash_after(slot));
            }
        }
    }
    return sum;
}

void LruStore::unlink(std::uint32_t slot) {
    Entry& e = at(slot);
    const std::uint32_t prev = e.prev;
    const std::uint32_t next = e.next;
    take_out_edge(slot);
    if (prev != kNil) {
        take_out_edge(prev);
        at(prev).next = next;
    } else {
        head_ = next;
    }
    if (next != kNil) {
        at(next).prev = prev;
    } else {
        tail_ = prev;
    }
    e.prev = kNil;
    e.next = kNil;
}

// The slot's edge must be out of the sum already (unlinked, or just filled).
void LruStore::link_front(std::uint32_t slot) {
    assert(pending(slot));
    Entry& e = at(slot);
    e.prev = kNil;
    e.next = head_;
    if (head_ != kNil) {
        at(head_).prev = slot;
    } else {
        tail_ = slot;
    }
    head_ = slot;
}

void LruStore::move_to_front(std::uint32_t slot) {
    if (slot != head_) {
        unlink(slot);
        link_front(slot);
    }
}

std::uint32_t LruStore::insert_new(std::string_view key, std::uint64_t key_hash, std::string_view value) {
    table_reserve(size_ + 1);
    const std::uint32_t slot = allocate_slot();
    Entry& e = at(slot);
    e.key_hash = key_hash;
    e.key_len = static_cast<std::uint32_t>(key.size());
    e.value_len = static_cast<std::uint32_t>(value.size());
    if (!key.empty() || !value.empty()) {
        e.data = std::make_unique_for_overwrite<char[]>(key.size() + value.size());
        if (!key.empty()) {
            std::memcpy(e.data.get(), key.data(), key.size());
        }
        if (!value.empty()) {
            std::memcpy(e.data.get() + key.size(), value.data(), value.size());
        }
    }
    table_insert(slot);
    mark_pending(slot);
    link_front(slot);
    ++size_;
    bytes_ += entry_charge(key, value);
    return slot;
}

void LruStore::remove(std::uint32_t slot) {
    Entry& e = at(slot);
    bytes_ -= entry_charge(e.key(), e.value());
    --size_;
    unlink(slot);
    table_erase(slot);
    release_slot(slot);
}

std::optional<std::string_view> LruStore::get(std::string_view key) {
    const std::uint32_t slot = find(key, key_hash_of(key));
    if (slot == kNil) {
        return std::nullopt;
    }
    move_to_front(slot);
    return at(slot).value();
}

std::optional<std::string_view> LruStore::peek(std::string_view key) const {
    const std::uint32_t slot = find(key, key_hash_of(key));
    if (slot == kNil) {
        return std::nullopt;
    }
    return at(slot).value();
}

bool LruStore::touch(std::string_view key) {
    const std::uint32_t slot = find(key, key_hash_of(key));
    if (slot == kNil) {
        return false;
    }
    move_to_front(slot);
    return true;
}

PutResult LruStore::put(std::string_view key, std::string_view value, std::vector<std::string>* evicted_keys) {
    constexpr std::size_t kMaxLen = std::numeric_limits<std::uint32_t>::max();
    if (entry_charge(key, value) > limits_.max_bytes || key.size() >= kMaxLen || value.size() >= kMaxLen) {
        return {PutOutcome::TooLarge, 0};
    }
    // The value is hashed only when the digest is read (settle_edges).
    const std::uint64_t key_hash = key_hash_of(key);
    std::uint32_t slot = find(key, key_hash);
    if (slot == kNil) {
        slot = insert_new(key, key_hash, value);
    } else {
        Entry& e = at(slot);
        bytes_ -= entry_charge(e.key(), e.value());
        unlink(slot);  // takes out the old edge, with the old value hash, before the value changes
        if (value.size() == e.value_len) {
            if (!value.empty()) {
                std::memmove(e.data.get() + e.key_len, value.data(), value.size());
            }
        } else {
            // New block first, old one freed after: `value` may point into it.
            std::unique_ptr<char[]> block;
            if (e.key_len != 0 || !value.empty()) {
                block = std::make_unique_for_overwrite<char[]>(std::size_t{e.key_len} + value.size());
            }
            if (e.key_len != 0) {
                std::memcpy(block.get(), e.data.get(), e.key_len);
            }
            if (!value.empty()) {
                std::memcpy(block.get() + e.key_len, value.data(), value.size());
            }
            e.data = std::move(block);
            e.value_len = static_cast<std::uint32_t>(value.size());
        }
        link_front(slot);
        bytes_ += entry_charge(e.key(), e.value());
    }
    std::uint64_t evicted = 0;
    while (size_ > limits_.max_entries || bytes_ > limits_.max_bytes) {
        // The new entry fits alone (charge <= max_bytes, max_entries >= 1), so
        // the loop stops before it reaches it.
        assert(tail_ != slot);
        if (evicted_keys != nullptr) evicted_keys->emplace_back(at(tail_).key());
        remove(tail_);
        ++evicted;
    }
    evictions_ += evicted;
    return {PutOutcome::Stored, evicted};
}

bool LruStore::erase(std::string_view key) {
    const std::uint32_t slot = find(key, key_hash_of(key));
    if (slot == kNil) {
        return false;
    }
    remove(slot);
    return true;
}

std::uint64_t LruStore::clear() {
    const std::uint64_t removed = size_;
    const std::uint64_t evictions = evictions_;
    *this = LruStore(limits_);
    evictions_ = evictions;
    return removed;
}

std::uint64_t LruStore::digest() const {
    settle_edges();
    return combine(edge_sum_, head_ == kNil ? kEmptyHeadSentinel : at(head_).key_hash, size_);
}

std::vector<std::pair<std::string, std::string>> LruStore::snapshot_mru_first() const {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(static_cast<std::size_t>(size_));
    for_each_mru_first([&out](std::string_view k, std::string_view v) { out.emplace_back(k, v); });
    return out;
}

std::optional<LruStore> LruStore::restore(Limits limits,
                                          const std::vector<std::pair<std::string, std::string>>& entries_mru_first) {
    if (!limits_valid(limits) || entries_mru_first.size() > limits.max_entries) {
        return std::nullopt;
    }
    std::uint64_t total = 0;
    for (const auto& [key, value] : entries_mru_first) {
        total = saturating_add(total, entry_charge(key, value));
    }
    if (total > limits.max_bytes) {
        return std::nullopt;
    }
    LruStore store(limits);
    store.table_reserve(entries_mru_first.size());
    // Inserting from the LRU end makes each new entry the head, so the list
    // ends up in the snapshot's order.
    for (auto it = entries_mru_first.rbegin(); it != entries_mru_first.rend(); ++it) {
        const std::uint64_t key_hash = key_hash_of(it->first);
        if (store.find(it->first, key_hash) != kNil) {
            return std::nullopt;
        }
        store.insert_new(it->first, key_hash, it->second);
    }
    return store;
}

LruStore::MemoryUsage LruStore::memory_usage() const {
    MemoryUsage usage;
    usage.slab_bytes = chunks_.capacity() * sizeof(chunks_[0]) +
                       chunks_.size() * (std::uint64_t{1} << chunk_shift_) * sizeof(Entry) +
                       pending_.capacity() * sizeof(std::uint64_t);
    usage.table_bytes = table_.capacity() * sizeof(std::uint32_t);
    for (std::uint32_t s = head_; s != kNil; s = at(s).next) {
        usage.payload_bytes += std::uint64_t{at(s).key_len} + at(s).value_len;
    }
    return usage;
}

bool LruStore::check_invariants() const {
    // Walk the list: links agree both ways, cached hashes and bytes are right.
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    std::uint64_t edge_sum = 0;
    std::uint32_t prev = kNil;
    for (std::uint32_t s = head_; s != kNil; s = at(s).next) {
        if (s >= slots_used_ || ++count > size_) {
            return false;
        }
        const Entry& e = at(s);
        const std::uint64_t value_hash = value_hash_of(e.value());
        if (!e.live() || e.prev != prev || e.key_hash != key_hash_of(e.key()) ||
            (!pending(s) && e.value_hash != value_hash) || find(e.key(), e.key_hash) != s) {
            return false;
        }
        bytes += entry_charge(e.key(), e.value());
        edge_sum += edge_term(e.key_hash, value_hash, edge_hash_after(s));
        prev = s;
    }
    if (count != size_ || bytes != bytes_ || prev != tail_ || edge_sum != edge_sum_ + pending_edge_sum()) {
        return false;
    }
    // The pending marks cover exactly the slab, and their count is right.
    std::uint64_t marked = 0;
    for (const std::uint64_t word : pending_) {
        marked += static_cast<std::uint64_t>(std::popcount(word));
    }
    if (marked != pending_count_ || pending_.size() != (std::uint64_t{slots_used_} + 63) / 64) {
        return false;
    }
    for (std::uint64_t s = slots_used_; s < pending_.size() * 64; ++s) {
        if (pending(static_cast<std::uint32_t>(s))) {
            return false;
        }
    }
    if (size_ > limits_.max_entries || bytes_ > limits_.max_bytes) {
        return false;
    }
    // Every table entry is a live slot; live slots and free slots add up.
    std::uint64_t in_table = 0;
    for (const std::uint32_t s : table_) {
        if (s != kNil) {
            if (s >= slots_used_ || !at(s).live()) {
                return false;
            }
            ++in_table;
        }
    }
    std::uint64_t free_count = 0;
    for (std::uint32_t s = free_head_; s != kNil; s = at(s).next) {
        if (s >= slots_used_ || at(s).live() || ++free_count > slots_used_) {
            return false;
        }
    }
    if (in_table != size_ || free_count + size_ != slots_used_ || !table_has_room(size_, table_.size())) {
        return false;
    }
    // The from-scratch digest (digest_of over the contents): the walk hashed
    // every value and checked every key hash against the bytes, so its edge
    // sum is that definition's sum; no copy of the contents is needed.
    const std::uint64_t head_hash = head_ == kNil ? kEmptyHeadSentinel : key_hash_of(at(head_).key());
    return combine(edge_sum_ + pending_edge_sum(), head_ == kNil ? kEmptyHeadSentinel : at(head_).key_hash, size_) ==
           combine(edge_sum, head_hash, count);
}

}  // namespace tricache::store
