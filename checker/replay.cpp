#include "checker/replay.hpp"

#include <algorithm>
#include <numeric>

namespace tricache::checker {

namespace {

template <class Probe, class IndexOf>
std::vector<std::size_t> order_by_index(std::span<const Probe> probes, IndexOf index_of) {
    std::vector<std::size_t> order(probes.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return index_of(probes[a]) < index_of(probes[b]); });
    return order;
}

}  // namespace

std::optional<Replay> Replay::run(const GlobalLog& g, Limits limits, std::span<const KeyProbe> key_probes,
                                  std::span<const std::uint64_t> contents_probes) {
    if (g.start != 0) return std::nullopt;
    Replay out;
    out.key_answers_.resize(key_probes.size());
    out.contents_answers_.resize(contents_probes.size());
    const auto key_order = order_by_index(key_probes, [](const KeyProbe& p) { return p.index; });
    const auto contents_order = order_by_index(contents_probes, [](std::uint64_t i) { return i; });
    std::size_t next_key = 0;
    std::size_t next_contents = 0;

    ReferenceLru lru(limits);
    const auto answer_probes_at = [&](std::uint64_t index) {
        for (; next_key < key_order.size() && key_probes[key_order[next_key]].index == index; ++next_key) {
            const std::size_t p = key_order[next_key];
            out.key_answers_[p] = KeyAnswer{true, lru.peek(key_probes[p].key)};
        }
        for (; next_contents < contents_order.size() && contents_probes[contents_order[next_contents]] == index;
             ++next_contents) {
            out.contents_answers_[contents_order[next_contents]] = lru.contents_mru_first();
        }
    };

    for (std::uint64_t i = 0; i < g.entries.size(); ++i) {
        answer_probes_at(i);
        const LogEntry& entry = g.entries[i];
        for (std::size_t c = 0; c < entry.commands.size(); ++c) {
            const Command& cmd = entry.commands[c];
            auto applied = lru.apply_command(cmd);
            out.commands_.push_back(AppliedCommand{i, static_cast<std::uint32_t>(c), cmd.client, cmd.request,
                                                   applied.duplicate, std::move(applied.results)});
        }
    }
    answer_probes_at(g.entries.size());
    out.final_ = lru.contents_mru_first();
    return out;
}

}  // namespace tricache::checker
