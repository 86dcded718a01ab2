#include "coordinator/expiry_table.hpp"

#include "coordinator/hash.hpp"

namespace tricache::coordinator {

std::uint64_t ExpiryTable::row_hash(std::string_view key, std::uint64_t at_ms) {
    return Hasher{}.add(key).add(at_ms).value();
}

std::optional<std::uint64_t> ExpiryTable::of(std::string_view key) const {
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    return it->second;
}

void ExpiryTable::set(std::string_view key, std::uint64_t at_ms) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
        it = by_key_.emplace(std::string(key), at_ms).first;
    } else {
        digest_ -= row_hash(key, it->second);
        by_time_.erase({it->second, it->first});
        it->second = at_ms;
    }
    by_time_.emplace(at_ms, it->first);
    digest_ += row_hash(key, at_ms);
}

bool ExpiryTable::erase(std::string_view key) {
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) return false;
    digest_ -= row_hash(key, it->second);
    by_time_.erase({it->second, it->first});
    by_key_.erase(it);
    return true;
}

void ExpiryTable::clear() {
    by_key_.clear();
    by_time_.clear();
    digest_ = 0;
}

std::optional<std::uint64_t> ExpiryTable::earliest() const {
    if (by_time_.empty()) return std::nullopt;
    return by_time_.begin()->first;
}

std::vector<std::string> ExpiryTable::due(std::uint64_t clock, std::size_t max) const {
    std::vector<std::string> keys;
    for (auto it = by_time_.begin(); it != by_time_.end() && it->first <= clock && keys.size() < max; ++it) {
        keys.push_back(it->second);
    }
    return keys;
}

std::uint64_t ExpiryTable::count_due(std::uint64_t clock) const {
    std::uint64_t n = 0;
    for (auto it = by_time_.begin(); it != by_time_.end() && it->first <= clock; ++it) ++n;
    return n;
}

std::vector<std::pair<std::string, std::uint64_t>> ExpiryTable::rows_by_key() const {
    return {by_key_.begin(), by_key_.end()};
}

}  // namespace tricache::coordinator
