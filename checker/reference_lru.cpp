#include "checker/reference_lru.hpp"

#include <algorithm>
#include <cassert>

namespace tricache::checker {

ReferenceLru::ReferenceLru(Limits limits) : limits_(limits) {
    assert(limits_.max_entries >= 1 && limits_.max_bytes >= 1);
}

void ReferenceLru::make_mru(const std::string& key, Entry& entry) {
    if (entry.last_use != 0) by_use_.erase(entry.last_use);
    entry.last_use = ++clock_;
    by_use_.emplace(entry.last_use, key);
}

void ReferenceLru::evict_to_limits() {
    while (entries_.size() > limits_.max_entries || bytes_ > limits_.max_bytes) {
        assert(!by_use_.empty());
        const auto oldest = by_use_.begin();
        const auto victim = entries_.find(oldest->second);
        assert(victim != entries_.end());
        bytes_ -= charge(victim->first, victim->second.value);
        entries_.erase(victim);
        by_use_.erase(oldest);
    }
}

bool ReferenceLru::put(const std::string& key, const std::string& value) {
    if (charge(key, value) > limits_.max_bytes) return false;
    auto [it, inserted] = entries_.try_emplace(key);
    if (!inserted) bytes_ -= charge(key, it->second.value);
    it->second.value = value;
    bytes_ += charge(key, value);
    make_mru(key, it->second);
    const std::uint64_t newest = it->second.last_use;
    evict_to_limits();  // never reaches the new entry: its charge fits alone
    assert(!by_use_.empty() && by_use_.rbegin()->first == newest);
    (void)newest;
    return true;
}

std::optional<std::string> ReferenceLru::get(const std::string& key) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    make_mru(key, it->second);
    return it->second.value;
}

bool ReferenceLru::erase(const std::string& key) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    bytes_ -= charge(key, it->second.value);
    by_use_.erase(it->second.last_use);
    entries_.erase(it);
    return true;
}

void ReferenceLru::touch(const std::string& key) {
    const auto it = entries_.find(key);
    if (it != entries_.end()) make_mru(key, it->second);
}

std::optional<std::string> ReferenceLru::peek(const std::string& key) const {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second.value;
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
    // Ids in the ring are distinct (a remembered id is a duplicate, never stored again).
    const auto seen = std::find(window.requests.begin(), window.requests.end(), command.request);
    if (seen != window.requests.end()) {
        return Applied{window.results[static_cast<std::size_t>(seen - window.requests.begin())], true};
    }
    Applied applied;
    applied.results.reserve(command.ops.size());
    for (const Op& op : command.ops) applied.results.push_back(apply_op(op));
    if (limits_.retry_window == 0) return applied;
    if (window.requests.size() < limits_.retry_window) {
        window.requests.push_back(command.request);
        window.results.push_back(applied.results);
    } else {  // full: the oldest row makes room
        window.requests[window.oldest] = command.request;
        window.results[window.oldest] = applied.results;
        window.oldest = (window.oldest + 1) % window.requests.size();
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
    out.reserve(entries_.size());
    for (auto it = by_use_.rbegin(); it != by_use_.rend(); ++it) {
        out.emplace_back(it->second, entries_.at(it->second).value);
    }
    return out;
}

}  // namespace tricache::checker
