#include "checker/reference_lru.hpp"

#include <algorithm>
#include <cassert>
#include <cstdint>

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
        expires_at_.erase(victim->first);
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
    expires_at_.erase(key);
    return true;
}

// R-TTL, restated: a key whose expiry time is at or before the apply clock is gone.
bool ReferenceLru::expired(const std::string& key) const {
    const auto it = expires_at_.find(key);
    return it != expires_at_.end() && it->second <= apply_clock_;
}

void ReferenceLru::drop(const std::string& key) { erase(key); }

std::uint64_t ReferenceLru::absolute(TimeKind time, std::int64_t ms) const {
    if (time == TimeKind::At) return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
    if (ms <= 0) return apply_clock_;
    const auto add = static_cast<std::uint64_t>(ms);
    return apply_clock_ > UINT64_MAX - add ? UINT64_MAX : apply_clock_ + add;
}

void ReferenceLru::set_expiry(const std::string& key, TimeKind time, std::int64_t ms) {
    if (time == TimeKind::Keep) return;
    if (time == TimeKind::None) {
        expires_at_.erase(key);
        return;
    }
    const std::uint64_t when = absolute(time, ms);
    if (when <= apply_clock_) {
        drop(key);
    } else {
        expires_at_[key] = when;
    }
}

void ReferenceLru::touch(const std::string& key) {
    const auto it = entries_.find(key);
    if (it != entries_.end()) make_mru(key, it->second);
}

std::optional<std::string> ReferenceLru::peek(const std::string& key) const {
    const auto it = entries_.find(key);
    if (it == entries_.end() || expired(key)) return std::nullopt;  // an expired entry is absent (R-TTL)
    return it->second.value;
}

namespace {

// Decimal int64 as Redis writes it: "0", or an optional '-' and digits with no
// leading zero; the value must fit in 64 signed bits.
std::optional<std::int64_t> as_integer(const std::string& text) {
    if (text == "0") return 0;
    const bool negative = !text.empty() && text[0] == '-';
    const std::size_t first = negative ? 1 : 0;
    if (text.size() <= first || text.size() > 20 || text[first] == '0') return std::nullopt;
    // Accumulate the magnitude in unsigned arithmetic, then check the range.
    std::uint64_t magnitude = 0;
    for (std::size_t i = first; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        const std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) return std::nullopt;
        magnitude = magnitude * 10 + digit;
    }
    const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
    if (magnitude > limit) return std::nullopt;
    if (negative) return magnitude == (std::uint64_t{1} << 63) ? INT64_MIN : -static_cast<std::int64_t>(magnitude);
    return static_cast<std::int64_t>(magnitude);
}

// 64-bit FNV-1a: the order a Scan walks keys in.
std::uint64_t fnv1a(const std::string& bytes) {
    std::uint64_t h = 14695981039346656037ull;
    for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}

constexpr std::uint32_t kScanMaxCount = 1024;
constexpr std::uint64_t kScanMaxBytes = 256 * 1024;
constexpr std::uint64_t kMaxAppended = 8 * 1024 * 1024;

}  // namespace

std::string ReferenceLru::scan(std::uint64_t cursor, std::uint32_t count) const {
    std::vector<std::pair<std::uint64_t, std::string>> order;
    for (const auto& [key, entry] : entries_) {
        (void)entry;
        if (expired(key)) continue;
        const std::uint64_t h = fnv1a(key);
        if (h >= cursor) order.emplace_back(h, key);
    }
    std::sort(order.begin(), order.end());
    const std::size_t wanted = count == 0 ? 1 : std::min(count, kScanMaxCount);
    std::string keys;
    std::size_t taken = 0;
    std::uint64_t bytes = 0;
    std::uint64_t last = 0;
    for (const auto& [h, key] : order) {
        // A page ends at a hash boundary once it has enough keys or bytes.
        if ((taken >= wanted || bytes >= kScanMaxBytes) && h != last) {
            return std::to_string(last + 1) + keys;
        }
        keys += " " + std::to_string(key.size()) + ":" + key;
        ++taken;
        bytes += key.size();
        last = h;
    }
    return "0" + keys;
}

OpResult ReferenceLru::apply_op(const Op& op) {
    if (!op.key.empty() && expired(op.key)) drop(op.key);  // reclaimed on access
    switch (op.kind) {
        case OpKind::Get: {
            auto value = get(op.key);
            const bool found = value.has_value();
            return OpResult{found, std::move(value)};
        }
        case OpKind::Set: {
            const bool stored = put(op.key, op.value);
            if (stored) set_expiry(op.key, op.time, op.ms);
            return OpResult{stored, std::nullopt};
        }
        case OpKind::Del: return OpResult{erase(op.key), std::nullopt};
        case OpKind::Cas: {
            auto current = peek(op.key);
            const bool match = op.expected.has_value() ? (current && *current == *op.expected) : !current;
            if (match) {
                const bool stored = put(op.key, op.value);
                if (stored) expires_at_.erase(op.key);  // a new value: no expiry, as SET
                return OpResult{stored, std::nullopt};
            }
            if (current) touch(op.key);
            return OpResult{false, std::move(current)};
        }
        case OpKind::Incr: {
            auto current = peek(op.key);
            const auto n = current ? as_integer(*current) : std::optional<std::int64_t>(0);
            const bool fits = n && !(op.delta > 0 && *n > INT64_MAX - op.delta) &&
                              !(op.delta < 0 && *n < INT64_MIN - op.delta);
            if (fits) {
                const std::string text = std::to_string(*n + op.delta);
                if (put(op.key, text)) return OpResult{true, text};
            }
            if (current) touch(op.key);
            return OpResult{false, std::move(current)};
        }
        case OpKind::Append: {
            auto current = peek(op.key);
            const std::string joined = current.value_or("") + op.value;
            if (joined.size() <= kMaxAppended && put(op.key, joined)) {
                return OpResult{true, std::to_string(joined.size())};
            }
            if (current) touch(op.key);
            return OpResult{false, std::nullopt};
        }
        case OpKind::Exists: return OpResult{peek(op.key).has_value(), std::nullopt};
        case OpKind::Require: return OpResult{peek(op.key).has_value() == op.present, std::nullopt};
        case OpKind::Count: {
            std::size_t live = 0;
            for (const auto& [key, entry] : entries_) {
                (void)entry;
                live += expired(key) ? 0u : 1u;
            }
            return OpResult{true, std::to_string(live)};
        }
        case OpKind::Scan: return OpResult{true, scan(op.cursor, op.count)};
        case OpKind::Clear: {
            const std::size_t had = entries_.size();
            entries_.clear();
            by_use_.clear();
            expires_at_.clear();
            bytes_ = 0;
            return OpResult{true, std::to_string(had)};
        }
        case OpKind::Expire: {
            if (!peek(op.key) || (op.time != TimeKind::At && op.time != TimeKind::After)) return OpResult{};
            const auto old = expires_at_.find(op.key);
            const bool has = old != expires_at_.end();
            const std::uint64_t when = absolute(op.time, op.ms);
            bool go = true;
            switch (op.condition) {
                case Condition::Always: break;
                case Condition::Nx: go = !has; break;
                case Condition::Xx: go = has; break;
                case Condition::Gt: go = has && when > old->second; break;
                case Condition::Lt: go = !has || when < old->second; break;
                case Condition::XxLt: go = has && when < old->second; break;
            }
            if (go) set_expiry(op.key, op.time, op.ms);
            return OpResult{go, std::nullopt};
        }
        case OpKind::Persist: {
            if (!peek(op.key)) return OpResult{};
            return OpResult{expires_at_.erase(op.key) == 1, std::nullopt};
        }
        case OpKind::Ttl: {
            if (!peek(op.key)) return OpResult{};
            const auto it = expires_at_.find(op.key);
            return OpResult{true, it == expires_at_.end() ? "-1" : std::to_string(it->second - apply_clock_)};
        }
        case OpKind::Purge: {
            std::vector<std::pair<std::uint64_t, std::string>> due;
            for (const auto& [key, when] : expires_at_) {
                if (when <= apply_clock_) due.emplace_back(when, key);
            }
            std::sort(due.begin(), due.end());
            const std::size_t most = std::clamp<std::uint32_t>(op.count, 1, kScanMaxCount);
            if (due.size() > most) due.resize(most);
            for (const auto& [when, key] : due) drop(key);
            return OpResult{true, std::to_string(due.size())};
        }
    }
    assert(false && "unknown op kind");
    return {};
}

ReferenceLru::Applied ReferenceLru::apply_command(const Command& command) {
    apply_clock_ = std::max(apply_clock_, command.stamp_ms);  // before anything, duplicates included
    if (command.client == kPurgeClient) {  // the engine's own: applied, never remembered
        Applied applied;
        for (const Op& op : command.ops) applied.results.push_back(apply_op(op));
        return applied;
    }
    RetryWindow& window = retry_[command.client];
    // Ids in the ring are distinct (a remembered id is a duplicate, never stored again).
    const auto seen = std::find(window.requests.begin(), window.requests.end(), command.request);
    if (seen != window.requests.end()) {
        return Applied{window.results[static_cast<std::size_t>(seen - window.requests.begin())], true};
    }
    Applied applied;
    applied.results.reserve(command.ops.size());
    bool skipped = false;  // a failed Require: the ops after it do nothing
    for (const Op& op : command.ops) {
        if (skipped) {
            applied.results.push_back(OpResult{false, std::nullopt});
            continue;
        }
        applied.results.push_back(apply_op(op));
        skipped = op.kind == OpKind::Require && !applied.results.back().ok;
    }
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
