// A set of nodes named by their position in the static, sorted cluster C.
// A coordinator keeps two per transaction (who voted, who acked); as a bit
// set they cost no allocation for clusters of up to 64 nodes, where a tree
// set made one node per member and freed them all again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tricache::coordinator {

class NodeSet {
public:
    // True when `position` was not in the set yet.
    bool insert(std::size_t position) {
        std::uint64_t& word = word_at(position);
        const std::uint64_t bit = bit_of(position);
        if ((word & bit) != 0) return false;
        word |= bit;
        ++size_;
        return true;
    }
    bool contains(std::size_t position) const {
        if (position < kBits) return (low_ & bit_of(position)) != 0;
        const std::size_t i = position / kBits - 1;
        return i < high_.size() && (high_[i] & bit_of(position)) != 0;
    }
    std::size_t size() const { return size_; }

private:
    static constexpr std::size_t kBits = 64;
    static std::uint64_t bit_of(std::size_t position) { return std::uint64_t{1} << (position % kBits); }
    std::uint64_t& word_at(std::size_t position) {
        if (position < kBits) return low_;
        const std::size_t i = position / kBits - 1;
        if (i >= high_.size()) high_.resize(i + 1, 0);
        return high_[i];
    }

    std::uint64_t low_ = 0;             // positions 0..63
    std::vector<std::uint64_t> high_;   // word i holds positions 64*(i+1) ..
    std::size_t size_ = 0;
};

}  // namespace tricache::coordinator
