// A small open-addressing hash map for the engine's per-request and per-client
// tables: keys and values sit in one array, so a lookup usually reads one
// cache line instead of a bucket and a separately allocated node. Linear
// probing with backward-shift deletion (no tombstones); at most half full.
// Iteration order depends on the hashes: whoever needs an order sorts.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace tricache::coordinator {

template <class Key, class Value, class Hash>
class FlatMap {
    struct Slot {
        bool used = false;
        std::pair<Key, Value> kv;
    };

public:
    using value_type = std::pair<Key, Value>;

    template <bool Const>
    class Iter {
        using SlotPtr = std::conditional_t<Const, const Slot*, Slot*>;

    public:
        Iter(SlotPtr at, SlotPtr end) : at_(at), end_(end) { skip(); }
        auto& operator*() const { return at_->kv; }
        auto* operator->() const { return &at_->kv; }
        Iter& operator++() {
            ++at_;
            skip();
            return *this;
        }
        friend bool operator==(const Iter& a, const Iter& b) { return a.at_ == b.at_; }

    private:
        friend class FlatMap;
        void skip() {
            while (at_ != end_ && !at_->used) ++at_;
        }
        SlotPtr at_;
        SlotPtr end_;
    };
    using iterator = Iter<false>;
    using const_iterator = Iter<true>;

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    iterator begin() { return {slots_.data(), slots_.data() + slots_.size()}; }
    iterator end() { return {slots_.data() + slots_.size(), slots_.data() + slots_.size()}; }
    const_iterator begin() const { return {slots_.data(), slots_.data() + slots_.size()}; }
    const_iterator end() const { return {slots_.data() + slots_.size(), slots_.data() + slots_.size()}; }

    iterator find(const Key& key) {
        const std::size_t i = position(key);
        return i == kAbsent ? end() : iterator{slots_.data() + i, slots_.data() + slots_.size()};
    }
    const_iterator find(const Key& key) const {
        const std::size_t i = position(key);
        return i == kAbsent ? end() : const_iterator{slots_.data() + i, slots_.data() + slots_.size()};
    }
    std::size_t count(const Key& key) const { return position(key) == kAbsent ? 0 : 1; }

    Value& operator[](const Key& key) { return try_emplace(key).first->second; }

    // Inserts {key, Value{}} unless the key is present; true when it inserted.
    // One probe where find-then-insert would take two.
    std::pair<iterator, bool> try_emplace(const Key& key) {
        if ((size_ + 1) * 2 > slots_.size()) grow();
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = Hash{}(key) & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (!s.used) {
                s.used = true;
                s.kv = value_type{key, Value{}};
                ++size_;
                return {iterator{&s, slots_.data() + slots_.size()}, true};
            }
            if (s.kv.first == key) return {iterator{&s, slots_.data() + slots_.size()}, false};
        }
    }

    std::size_t erase(const Key& key) {
        const std::size_t i = position(key);
        if (i == kAbsent) return 0;
        remove_at(i);
        return 1;
    }
    void erase(iterator it) { remove_at(static_cast<std::size_t>(it.at_ - slots_.data())); }

    void clear() {
        for (auto& s : slots_) s = Slot{};
        size_ = 0;
    }

private:
    static constexpr std::size_t kAbsent = ~std::size_t{0};

    std::size_t position(const Key& key) const {
        if (size_ == 0) return kAbsent;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = Hash{}(key) & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (!s.used) return kAbsent;
            if (s.kv.first == key) return i;
        }
    }

    // Backward shift: pull later members of the probe run into the hole so
    // that every lookup still finds its key before the first empty slot.
    void remove_at(std::size_t hole) {
        const std::size_t mask = slots_.size() - 1;
        assert(slots_[hole].used);
        for (std::size_t i = (hole + 1) & mask; slots_[i].used; i = (i + 1) & mask) {
            const std::size_t home = Hash{}(slots_[i].kv.first) & mask;
            // Movable when its home is not in the cyclic range (hole, i].
            if (((i - home) & mask) >= ((i - hole) & mask)) {
                slots_[hole].kv = std::move(slots_[i].kv);
                hole = i;
            }
        }
        slots_[hole] = Slot{};
        --size_;
    }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (auto& s : old) {
            if (!s.used) continue;
            std::size_t i = Hash{}(s.kv.first) & mask;
            while (slots_[i].used) i = (i + 1) & mask;
            slots_[i].used = true;
            slots_[i].kv = std::move(s.kv);
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

}  // namespace tricache::coordinator
