#!/usr/bin/env bash
# Proves the store's tests have teeth: builds the property test against
# deliberately broken copies of store/lru_store.cpp and expects each run to fail
# (and rapidcheck to shrink the failure). Not part of ctest: it compiles one
# mutant per case and takes a minute or two. Run from anywhere:
#   bash tests/store/mutants.sh            # all mutants
#   bash tests/store/mutants.sh 3          # only mutant 3
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cxx=${CXX:-g++}
flags=(-std=c++20 -O1 -g -I"$repo")

# Each mutant: a name, the exact text to find in lru_store.cpp, its replacement.
# Several edits for one mutant are separated by @@ in both strings.
names=()
finds=()
repls=()
add() { names+=("$1"); finds+=("$2"); repls+=("$3"); }

add "get does not move the key to MRU" \
    $'    move_to_front(slot);\n    return at(slot).value();' \
    $'    return at(slot).value();'
add "touch does not move the key to MRU" \
    $'    move_to_front(slot);\n    return true;' \
    $'    return true;'
add "eviction takes the entry after the MRU instead of the LRU" \
    $'        assert(tail_ != slot);\n        remove(tail_);' \
    $'        remove(at(head_).next);'
add "overwrite forgets to update the byte count" \
    $'        bytes_ -= entry_charge(e.key(), e.value());\n        unlink(slot);@@        link_front(slot);\n        bytes_ += entry_charge(e.key(), e.value());' \
    $'        unlink(slot);@@        link_front(slot);'
add "eviction ignores max_bytes" \
    'while (size_ > limits_.max_entries || bytes_ > limits_.max_bytes)' \
    'while (size_ > limits_.max_entries)'
add "TooLarge when the charge equals max_bytes" \
    'if (entry_charge(key, value) > limits_.max_bytes ||' \
    'if (entry_charge(key, value) >= limits_.max_bytes ||'
add "overwrite keeps the old value hash" \
    $'        e.value_hash = value_hash;\n' \
    ''
add "unlink forgets the predecessor's new edge in the digest" \
    $'        edge_sum_ += edge_term(p.key_hash, p.value_hash, next_hash);\n' \
    ''
add "backward shift moves entries past their home slot" \
    'if (((pos - home) & mask) >= ((pos - hole) & mask)) {' \
    'if (((pos - home) & mask) + 1 >= ((pos - hole) & mask)) {'
add "restore inserts in MRU-first order (reverses the list)" \
    'for (auto it = entries_mru_first.rbegin(); it != entries_mru_first.rend(); ++it) {' \
    'for (auto it = entries_mru_first.begin(); it != entries_mru_first.end(); ++it) {'
add "restore accepts duplicate keys" \
    $'        if (store.find(it->first, key_hash) != kNil) {\n            return std::nullopt;\n        }\n' \
    ''
add "edge hash ignores the next key (digest blind to order)" \
    'h = fold_mul(h ^ kEdgeSalt2, next_key_hash ^ kEdgeSalt3);' \
    'h = fold_mul(h ^ kEdgeSalt2, kEdgeSalt3 + 0 * next_key_hash);'
add "edge hash ignores the value" \
    'std::uint64_t h = fold_mul(key_hash ^ kEdgeSalt0, value_hash ^ kEdgeSalt1);' \
    'std::uint64_t h = fold_mul(key_hash ^ kEdgeSalt0, kEdgeSalt1 + 0 * value_hash);'

echo "compiling the property test once"
"$cxx" "${flags[@]}" -c "$repo/tests/store/lru_store_property_test.cpp" -o "$work/test.o"

only=${1:-}
survived=0
for i in "${!names[@]}"; do
    n=$((i + 1))
    [[ -n "$only" && "$only" != "$n" ]] && continue
    mutant="$work/lru_store_$n.cpp"
    FIND="${finds[$i]}" REPL="${repls[$i]}" python3 - "$repo/store/lru_store.cpp" "$mutant" <<'EOF'
import os, sys
src = open(sys.argv[1]).read()
finds, repls = os.environ["FIND"].split("@@"), os.environ["REPL"].split("@@")
assert len(finds) == len(repls)
for find, repl in zip(finds, repls):
    if src.count(find) != 1:
        sys.exit(f"mutant pattern found {src.count(find)} times, expected once: {find!r}")
    src = src.replace(find, repl)
open(sys.argv[2], "w").write(src)
EOF
    "$cxx" "${flags[@]}" "$mutant" "$work/test.o" -o "$work/mutant_$n" -lrapidcheck -lgtest -lgtest_main -pthread
    log="$work/mutant_$n.log"
    if "$work/mutant_$n" >"$log" 2>&1; then
        echo "SURVIVED  #$n ${names[$i]}"
        survived=$((survived + 1))
    else
        failed=$(grep -c '^\[  FAILED  \] LruStoreProperty\.[A-Za-z]* (' "$log" || true)
        echo "caught    #$n ${names[$i]}  ($failed properties failed)"
        # The first failure as rapidcheck shrank it: the scenario and the assertion.
        awk '/^Falsifiable after/{p=1} /^\[  FAILED/{if(p) exit} p && NF' "$log" | head -n 24 | sed 's/^/            /'
        grep -m1 -E 'Assertion .* failed' "$log" | sed 's/^/            /' || true
    fi
done
echo "$survived mutant(s) survived"
[[ $survived -eq 0 ]]
