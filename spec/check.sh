#!/usr/bin/env bash
# Runs every Spin check of spec/model/tricache.pml (see spec/README.md) and
# exits non-zero on any unexpected result: a property that fails, a search
# that does not complete where it must, or a mutant that yields no
# counterexample. One pan process at a time.
#
#   TRICACHE_SPIN_N=5   the 5-node checks (bitstate; longer)
#   TRICACHE_SOAK=1     adds a larger bitstate run of the full fault model
#   TRICACHE_SPIN_KEEP=1 keeps the work directory
#   TRICACHE_SPIN_ONLY=REGEX runs only the checks whose name matches
set -u

here=$(cd "$(dirname "$0")" && pwd)
model=$here/model/tricache.pml
nodes=${TRICACHE_SPIN_N:-3}
soak=${TRICACHE_SOAK:-0}
memlim=${TRICACHE_SPIN_MEMLIM:-3800}   # MB per pan run

for tool in spin gcc; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tricache-spin.XXXXXX")
if [ "${TRICACHE_SPIN_KEEP:-0}" = 1 ]; then
  echo "work directory: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

failures=0
t_start=$(date +%s)

# A readable message sequence out of a trail: the model's MSC printfs, the
# violated assertion, and where a liveness cycle starts.
replay() {  # dir spin_defs...
  local dir=$1; shift
  (cd "$dir" && spin -t "$@" tricache.pml 2>&1) |
    grep -E 'MSC:|assertion violated|START OF CYCLE|acceptance cycle' |
    sed -E 's/^[[:space:]]+//; s/^MSC: /    /; s/^/  | /'
}

# check NAME EXPECT PATTERN MODE SPIN_DEFS CC_FLAGS PAN_FLAGS
#   EXPECT  pass: no counterexample, and an exhaustive search must complete
#           fail: a counterexample whose report matches PATTERN (a mutant)
#   MODE    the label printed: exhaustive | bitstate | ...
check() {
  local name=$1 expect=$2 pattern=$3 mode=$4 defs=$5 ccflags=$6 panflags=$7
  if [ -n "${TRICACHE_SPIN_ONLY:-}" ] && ! printf '%s\n' "$name" | grep -qE "$TRICACHE_SPIN_ONLY"; then return; fi
  local dir=$work/$name
  mkdir -p "$dir"
  cp "$model" "$dir/tricache.pml"
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  if ! (cd "$dir" && spin -a -DN=$nodes $defs tricache.pml >spin.out 2>&1 &&
        gcc $ccflags -w -DMEMLIM=$memlim -o pan pan.c >cc.out 2>&1); then
    echo "FAIL  $name: model does not build"; cat "$dir"/spin.out "$dir"/cc.out 2>/dev/null | head -20
    failures=$((failures + 1)); return
  fi
  # shellcheck disable=SC2086
  (cd "$dir" && ./pan $panflags >pan.out 2>&1)
  t1=$(date +%s.%N)
  local out=$dir/pan.out
  local errors states depth mem elapsed incomplete verdict
  errors=$(sed -nE 's/.*errors: ([0-9]+).*/\1/p' "$out" | tail -1)
  states=$(sed -nE 's/^ *([0-9.e+]+) states, stored.*/\1/p' "$out" | tail -1)
  depth=$(sed -nE 's/.*depth reached ([0-9]+).*/\1/p' "$out" | tail -1)
  mem=$(sed -nE 's/^ *([0-9.]+)[[:space:]]+total actual memory usage.*/\1/p' "$out" | tail -1)
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  incomplete=$(grep -c 'Search not completed\|max search depth too small' "$out")
  local what
  what=$(grep -m1 -E '^pan:[0-9]+: .*(assertion violated|acceptance cycle|non-progress cycle|invalid end state)' "$out" |
         sed -E 's/^pan:[0-9]+: *//; s/ \(at depth [0-9]+\)//')
  local trail_len=""
  if [ -f "$dir/tricache.pml.trail" ]; then trail_len=$(sed -nE 's/.*\(at depth ([0-9]+)\).*/\1/p' "$out" | head -1); fi
  local figures="states=${states:-?} depth=${depth:-?} mem=${mem:-?}MB time=${elapsed}s (build+search)"
  if [ "$expect" = pass ]; then
    if [ "${errors:-1}" = 0 ] && { [ "$incomplete" = 0 ] || [ "$mode" != exhaustive ]; }; then
      verdict="PASS"
      echo "$verdict  $name [$mode] no counterexample; $figures"
    else
      verdict="FAIL"
      echo "$verdict  $name [$mode] ${what:-search incomplete}; $figures"
      [ "$incomplete" != 0 ] && grep -E 'Search not completed|max search depth' "$out" | sed 's/^/  | /'
      [ -f "$dir/tricache.pml.trail" ] && replay "$dir" -DN=$nodes $defs
      failures=$((failures + 1))
    fi
  else
    if [ "${errors:-0}" != 0 ] && [ -f "$dir/tricache.pml.trail" ] && printf '%s\n' "$what" | grep -qE "$pattern"; then
      echo "PASS  $name [$mode] counterexample as required (length $trail_len): $what; $figures"
      # shellcheck disable=SC2086
      replay "$dir" -DN=$nodes $defs
    else
      echo "FAIL  $name [$mode] expected a counterexample matching /$pattern/, got: ${what:-none}; $figures"
      failures=$((failures + 1))
    fi
  fi
}

# Search flags. Safety runs: -DSAFETY, assertions and end states. The
# liveness run: the ltl claim `live`, acceptance cycles (-a); stuttering at a
# state where nothing is enabled counts as a cycle, so a run that stops with
# an undecided transaction is a counterexample.
SAFE="-O1 -DSAFETY"
SAFE0="-O0 -DSAFETY"          # mutants stop early: save the compile time
LIVE="-O1 -DNOREDUCE"
LIVE0="-O0 -DNOREDUCE"
DEPTH="-m200000"

echo "tricache Spin checks: N=$nodes, model $(wc -l <"$model") lines, $(date -u +%H:%M:%S) UTC"

P1='everA|everC|nv\[|everF|tk\['      # agreement (incl. one ECR per epoch)
if [ "$nodes" = 3 ]; then
  # ---------------------------------------------------------------- properties
  check safety-commit-order pass - exhaustive \
    "-DNSTART=2 -DCRASHES=0 -DPROPOSERS=0" "$SAFE" "$DEPTH"
  check safety-viewchange-crash pass - exhaustive \
    "-DNSTART=1 -DCRASHES=1 -DPROPOSERS=6 -DMAXB=1" "$SAFE" "$DEPTH"
  check liveness pass - "exhaustive, ltl live, -a" \
    "-DLIVE -DNSTART=1 -DCRASHES=1 -DPROPOSERS=6" "$LIVE" "-a $DEPTH"
  check safety-two-view-changes pass - "bitstate -w22, 1 min, partial" \
    "-DNSTART=1 -DTXMAXE=2 -DMAXE=3 -DMAXB=2 -DCRASHES=1 -DPROPOSERS=6" "$SAFE -DBITSTATE" "-w22 -Q1 $DEPTH"
  check safety-all-faults pass - "bitstate -w22, partial" \
    "-DNSTART=2 -DCRASHES=1 -DCUTS=1 -DPROPOSERS=6 -DMAXB=2" "$SAFE -DBITSTATE" "-w22 $DEPTH"
  # ---------------------------------------------------------------- mutants
  base1="-DNSTART=1 -DCRASHES=0 -DPROPOSERS=6"
  check mut-3pc-termination fail "$P1" exhaustive "$base1 -DMUT_3PC" "$SAFE0" "$DEPTH"
  check mut-minority-quorum fail "$P1" exhaustive "$base1 -DMUT_MINQ" "$SAFE0" "$DEPTH"
  check mut-no-promise-check fail "$P1" exhaustive "$base1 -DMUT_NO_PROMISE" "$SAFE0" "$DEPTH"
  check mut-ack-after-promise fail "$P1|snap" exhaustive "$base1 -DMUT_NO_FREEZE" "$SAFE0" "$DEPTH"
  check mut-deliver-past-pending fail 'ord' exhaustive \
    "-DNSTART=2 -DCRASHES=0 -DPROPOSERS=0 -DMUT_DELIVER_PAST" "$SAFE0" "$DEPTH"
  check mut-majority-votes fail 'vote\[' exhaustive \
    "-DNSTART=1 -DCRASHES=0 -DPROPOSERS=0 -DMUT_VOTE_MAJ" "$SAFE0" "$DEPTH"
  check mut-snapshot-before-ecr fail 'snap' exhaustive "$base1 -DMUT_CUT" "$SAFE0" "$DEPTH"
  check mut-amnesiac-answers fail 'prx|adx' exhaustive \
    "-DNSTART=1 -DCRASHES=1 -DPROPOSERS=6 -DMUT_AMNESIA" "$SAFE0" "$DEPTH"
  # without the P8 assertion the same mutant must break agreement (the consequence)
  check mut-amnesiac-answers-p1 fail "$P1" exhaustive \
    "-DNSTART=1 -DCRASHES=1 -DPROPOSERS=6 -DMUT_AMNESIA -DNO_P8" "$SAFE0" "$DEPTH"
  # finding F1: two view changes; the old acceptance rule chooses two records for one epoch
  check mut-accept-ahead fail "$P1" exhaustive \
    "-DNSTART=1 -DTXMAXE=2 -DMAXE=3 -DMAXB=2 -DCRASHES=1 -DPROPOSERS=6 -DMUT_ACCEPT_AHEAD" "$SAFE0" "$DEPTH"
  check mut-no-suspicion fail 'acceptance cycle' "ltl live, -a" \
    "-DLIVE -DNSTART=1 -DCRASHES=1 -DPROPOSERS=6 -DMUT_NO_SUSPECT" "$LIVE0" "-a $DEPTH"
  if [ "$soak" = 1 ]; then
    check soak-order-viewchange pass - exhaustive \
      "-DNSTART=2 -DCRASHES=0 -DPROPOSERS=4" "$SAFE" "$DEPTH"
    check soak-all-faults pass - "bitstate -w30, partial" \
      "-DNSTART=2 -DCRASHES=1 -DCUTS=2 -DPROPOSERS=7 -DMAXB=2" "$SAFE -DBITSTATE" "-w30 $DEPTH"
    check soak-liveness-two-tx pass - "bitstate -w30, ltl live, -a, partial" \
      "-DLIVE -DNSTART=2 -DCRASHES=1 -DPROPOSERS=6" "$LIVE -DBITSTATE" "-a -w30 $DEPTH"
  fi
else
  # The 5-node model is far larger: bitstate only, labelled as such.
  check n5-safety-commit-order pass - "bitstate -w28, 3 min, partial" \
    "-DNSTART=2 -DCRASHES=0 -DPROPOSERS=6" "$SAFE -DBITSTATE" "-w28 -Q3 $DEPTH"
  check n5-safety-viewchange-crash pass - "bitstate -w28, 3 min, partial" \
    "-DNSTART=1 -DCRASHES=2 -DPROPOSERS=6" "$SAFE -DBITSTATE" "-w28 -Q3 $DEPTH"
  check n5-liveness pass - "bitstate -w28, ltl live, -a, 3 min, partial" \
    "-DLIVE -DNSTART=1 -DCRASHES=2 -DPROPOSERS=6" "$LIVE -DBITSTATE" "-a -w28 -Q3 $DEPTH"
  # The mutants run at N=3 only: at N=5 their counterexamples lie deeper than a
  # few minutes of search reach (MUT_MINQ: none within 3.4 M states by BFS).
fi

total=$(( $(date +%s) - t_start ))
if [ "$failures" = 0 ]; then
  echo "all Spin checks as expected; total ${total}s"
  exit 0
fi
echo "$failures Spin check(s) not as expected; total ${total}s"
exit 1
