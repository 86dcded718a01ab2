#!/usr/bin/env bash
# Proves the protocol harness has teeth where it used to be thin: plants a
# wrong rule in a copy of the tree, builds the simulator and one directed test
# against it, and expects both to fail with the check named below. Not part of
# ctest: each mutant is a build (mostly ccache hits) and a sweep, a few
# minutes in all. Run from anywhere:
#   bash tests/coordinator/mutants.sh        # all mutants
#   bash tests/coordinator/mutants.sh 2      # only mutant 2
# The copies live under build/mutants (inside /work, so ccache's base_dir
# shares the unchanged objects with the normal build).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work="$repo/build/mutants"
only=${1:-}

# Each mutant: name, file, exact text, replacement, the check the simulator
# must report, the sweep that must find it (first seed, runs, nodes), and the
# directed test binary (under tests/coordinator) that must fail, or "-".
names=(); files=(); finds=(); repls=(); checks=(); sweeps=(); tests=()
add() { names+=("$1"); files+=("$2"); finds+=("$3"); repls+=("$4"); checks+=("$5"); sweeps+=("$6"); tests+=("$7"); }

add "R-VC-DECIDE: the lowest accepted ballot wins" coordinator/view_change.cpp \
    $'    Ballot best_ballot = kNoBallot;@@p.accepted > best_ballot) {' \
    $'    Ballot best_ballot{~std::uint64_t{0}, 0};@@p.accepted < best_ballot) {' \
    "P8 R-VC-DECIDE" "1 2000 3-7" coordinator_vc_decide_test
add "R-DOCOMMIT: DoCommit after a majority of acks" coordinator/engine.cpp \
    'if (ct.acked.size() == view_.members.size()) decide(ct, true, now);  // R-DOCOMMIT' \
    'if (ct.acked.size() >= view_.members.size() / 2 + 1) decide(ct, true, now);' \
    "P2 unanimous acks" "1 50 3-7" coordinator_rules_test
add "install drops the records but keeps their undecided entries" coordinator/view_change.cpp \
    $'    txs_.clear();\n    undecided_.clear();\n    committed_.clear();\n    if (crosses) {' \
    $'    txs_.clear();\n    committed_.clear();\n    if (crosses) {' \
    "P8 engine bookkeeping" "1 50 3-7" -
add "an abort leaves its undecided entry behind" coordinator/engine.cpp \
    $'    assert(rec.state != TxState::Committed);  // P1\n    undecided_.erase({key_of(rec), tx});\n    rec.state = TxState::Aborted;' \
    $'    assert(rec.state != TxState::Committed);  // P1\n    rec.state = TxState::Aborted;' \
    "P8 engine bookkeeping" "1 50 3-7" -
add "tombstone collection keeps the window slot of an undecided attempt" coordinator/engine.cpp \
    '                    if (ct->second.phase != Phase::Decided) --own_undecided_;' \
    '' \
    "P8 engine bookkeeping" "90 1 5" -

failed=0
for i in "${!names[@]}"; do
    n=$((i + 1))
    [[ -n "$only" && "$only" != "$n" ]] && continue
    echo "== mutant $n: ${names[$i]}"
    src="$work/m$n"
    rm -rf "$src"
    mkdir -p "$src"
    (cd "$repo" && git ls-files -z | xargs -0 tar cf - | tar xf - -C "$src")
    python3 - "$src/${files[$i]}" "${finds[$i]}" "${repls[$i]}" <<'PY'
import sys
path, finds, repls = sys.argv[1], sys.argv[2].split("@@"), sys.argv[3].split("@@")
text = open(path).read()
for f, r in zip(finds, repls):
    if text.count(f) != 1:
        sys.exit(f"mutant text found {text.count(f)} times in {path}: {f!r}")
    text = text.replace(f, r)
open(path, "w").write(text)
PY
    cmake -S "$src" -B "$src/build/release" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
    targets=(tricache-sim)
    [[ "${tests[$i]}" != - ]] && targets+=("${tests[$i]}")
    cmake --build "$src/build/release" -j2 --target "${targets[@]}" >/dev/null
    read -r seed runs nodes <<<"${sweeps[$i]}"
    out=$("$src/build/release/tools/tricache-sim" --seed "$seed" --runs "$runs" --nodes "$nodes" --sim-ms 1500 \
        --bound-ms 20000 --swarm --quiet --keep-going --jobs 2 2>&1 || true)
    caught=$(grep -c "VIOLATION ${checks[$i]}:" <<<"$out" || true)
    if [[ "$caught" -gt 0 ]]; then
        first=$(grep -m1 -B0 -A1 "VIOLATION ${checks[$i]}:" <<<"$out" | sed -n 2p | cut -d' ' -f1)
        echo "   simulator: caught by '${checks[$i]}' in $caught of $runs runs (first: $first)"
    else
        echo "   simulator: NOT caught by '${checks[$i]}' in $runs runs from seed $seed"
        failed=1
    fi
    if [[ "${tests[$i]}" != - ]]; then
        if "$src/build/release/tests/coordinator/${tests[$i]}" >/dev/null 2>&1; then
            echo "   ${tests[$i]}: passed (NOT caught)"
            failed=1
        else
            echo "   ${tests[$i]}: fails: $("$src/build/release/tests/coordinator/${tests[$i]}" 2>&1 | grep -c '^\[  FAILED  \] [A-Z]' || true) failing test lines"
        fi
    fi
    rm -rf "$src"
done
exit $failed
