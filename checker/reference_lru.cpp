#include "checker/reference_lru.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>

namespace tricache::checker {

ReferenceLru::ReferenceLru(Limits limits) : limits_(limits) {
    assert(limits_.max_entries >= 1 && limits_.max_bytes >= 1);
}

std::optional<std::size_t> ReferenceLru::find(const std::string& key) const {
    // Scan from the MRU end: recently used keys are the common lookups.
    for (std::size_t i = lru_first_.size(); i > 0; --i) {
        if (lru_first_[i - 1].key == key) return i - 1;
    }
    return std::nullopt;
}

void ReferenceLru::make_mru(std::size_t index) {
    const auto it = lru_first_.begin() + static_cast<std::ptrdiff_t>(index);
    std::rotate(it, std::next(it), lru_first_.end());
}

void ReferenceLru::evict_to_limits() {
    std::size_t victims = 0;
    std::uint64_t count = lru_first_.size();
    while (count > limits_.max_entries || bytes_ > limits_.max_bytes) {
        assert(victims < lru_first_.size());
        const Entry& e = lru_first_[victims];
        bytes_ -= charge(e.key, e.value);
        --count;
        ++victims;
    }
    lru_first_.erase(lru_first_.begin(), lru_first_.begin() + static_cast<std::ptrdiff_t>(victims));
}

bool ReferenceLru::put(const std::string& key, const std::string& value) {
    if (charge(key, value) > limits_.max_bytes) return false;
    if (const auto at = find(key)) {
        Entry& e = lru_first_[*at];
        bytes_ -= charge(e.key, e.value);
        e.value = value;
        bytes_ += charge(e.key, e.value);
        make_mru(*at);
    } else {
        lru_first_.push_back(Entry{key, value});
        bytes_ += charge(key, value);
    }
    evict_to_limits();
    assert(!lru_first_.empty() && lru_first_.back().key == key);
    return true;
}

std::optional<std::string> ReferenceLru::get(const std::string& key) {
    const auto at = find(key);
    if (!at) return std::nullopt;
    make_mru(*at);
    return lru_first_.back().value;
}

bool ReferenceLru::erase(const std::string& key) {
    const auto at = find(key);
    if (!at) return false;
    bytes_ -= charge(lru_first_[*at].key, lru_first_[*at].value);
    lru_first_.erase(lru_first_.begin() + static_cast<std::ptrdiff_t>(*at));
    return true;
}

void ReferenceLru::touch(const std::string& key) {
    if (const auto at = find(key)) make_mru(*at);
}

std::optional<std::string> ReferenceLru::peek(const std::string& key) const {
    const auto at = find(key);
    if (!at) return std::nullopt;
    return lru_first_[*at].value;
}

OpResult ReferenceLru::apply_op(const Op& op) {
    switch (op.kind) {
        case OpKind::Get: {
            auto value = get(op.key);
            const bool found = value.has_value();
            return OpResult{found, std::move(value)};
        }
        case OpKind::Set: return OpResult{put(op.key, op.value), std::nullopt};
        case OpKind::Del: return OpResult{erase(op.key), std::nullopt};
        case OpKind::Cas: {
            auto current = peek(op.key);
            const bool match = op.expected.has_value() ? (current && *current == *op.expected) : !current;
            if (match) return OpResult{put(op.key, op.value), std::nullopt};
            if (current) touch(op.key);
            return OpResult{false, std::move(current)};
        }
    }
    assert(false && "unknown op kind");
    return {};
}

ReferenceLru::Applied ReferenceLru::apply_command(const Command& command) {
    RetryWindow& window = retry_[command.client];
    if (const auto seen = window.results.find(command.request); seen != window.results.end()) {
        return Applied{seen->second, true};
    }
    Applied applied;
    applied.results.reserve(command.ops.size());
    for (const Op& op : command.ops) applied.results.push_back(apply_op(op));
    window.order.push_back(command.request);
    window.results.emplace(command.request, applied.results);
    while (window.order.size() > limits_.retry_window) {
        window.results.erase(window.order.front());
        window.order.pop_front();
    }
    return applied;
}

std::vector<ReferenceLru::Applied> ReferenceLru::apply_log_entry(const LogEntry& entry) {
    std::vector<Applied> out;
    out.reserve(entry.commands.size());
    for (const Command& c : entry.commands) out.push_back(apply_command(c));
    return out;
}

Contents ReferenceLru::contents_mru_first() const {
    Contents out;
    out.reserve(lru_first_.size());
    for (auto it = lru_first_.rbegin(); it != lru_first_.rend(); ++it) out.emplace_back(it->key, it->value);
    return out;
}

}  // namespace tricache::checker
