// One pass of G over the reference model, answering questions about
// intermediate prefixes on the way (local reads, snapshot points) so that no
// prefix is ever replayed twice.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "checker/global_log.hpp"
#include "checker/reference_lru.hpp"
#include "checker/types.hpp"

namespace tricache::checker {

// "What does peek(key) give after the first `index` transactions of G?"
struct KeyProbe {
    std::uint64_t index = 0;
    std::string key;
};

struct KeyAnswer {
    bool reached = false;  // false if index lies past G's end
    std::optional<std::string> value;
};

struct AppliedCommand {
    std::uint64_t index = 0;    // absolute index of its transaction in G
    std::uint32_t command = 0;  // position inside the transaction
    std::uint64_t client = 0;
    std::uint64_t request = 0;
    bool duplicate = false;
    std::vector<OpResult> results;  // for a duplicate: those of the first application
};

class Replay {
public:
    // nullopt when G does not start at index 0: then the empty store is not its
    // initial state and nothing can be replayed.
    static std::optional<Replay> run(const GlobalLog& g, Limits limits, std::span<const KeyProbe> key_probes = {},
                                     std::span<const std::uint64_t> contents_probes = {});

    const std::vector<AppliedCommand>& commands() const { return commands_; }  // in G order
    const Contents& final_contents() const { return final_; }
    const std::vector<KeyAnswer>& key_answers() const { return key_answers_; }  // same order as the probes
    // Full contents at each requested index; nullopt past G's end.
    const std::vector<std::optional<Contents>>& contents_answers() const { return contents_answers_; }

private:
    Replay() = default;

    std::vector<AppliedCommand> commands_;
    Contents final_;
    std::vector<KeyAnswer> key_answers_;
    std::vector<std::optional<Contents>> contents_answers_;
};

}  // namespace tricache::checker
