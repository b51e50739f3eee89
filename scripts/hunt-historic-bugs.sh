#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Puts each historic bug back into the model (HVO_FUZZ_BUGS=<bug>) and runs
# the fuzz target that should find it, from its seed corpus, for a bounded
# time over several libFuzzer seeds; reports found / not found and the time
# to the first crash that names one of the bug's invariants.
#
#   scripts/hunt-historic-bugs.sh [-b BUILD_DIR] [-t SECONDS] [-n SEEDS] [-e] [BUG...]
#
#   BUILD_DIR  a build with HVO_BUILD_FUZZERS=ON (default build/fuzz, the
#              fuzz preset); its bin/ has the targets, fuzz/seeds/ the seeds
#   SECONDS    budget per (bug, seed) run, default 60
#   SEEDS      libFuzzer -seed values 1..SEEDS, default 5
#   -e         start from an empty corpus instead of the seed corpus (the
#              dictionary stays): shows what the fuzzer finds on its own
#   BUG        default: every bug with a regression file in fuzz/regressions/
#
# The bug -> target and expected invariant ids come from the headers of
# fuzz/regressions/<bug>.hvo.  A crash with any other id is a baseline
# finding, not this bug: it is counted, and the run restarts with the next
# libFuzzer seed (seed + 1000) on the same clock until the budget is spent.
# Output: one line per run, then a table; exit 0 when every bug was found in
# every seed, 1 otherwise, 2 on usage errors.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/fuzz"
budget=60
nseeds=5
empty=0
while getopts "b:t:n:eh" opt; do
  case "$opt" in
    b) build=$OPTARG ;;
    t) budget=$OPTARG ;;
    n) nseeds=$OPTARG ;;
    e) empty=1 ;;
    h) sed -n '3,26p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if ! [[ "$budget" =~ ^[0-9]+$ && "$nseeds" =~ ^[0-9]+$ ]] || ((budget < 1 || nseeds < 1)); then
  echo "hunt: error: -t and -n take positive integers" >&2
  exit 2
fi
if [[ ! -d "$build/bin" || ! -d "$build/fuzz/seeds" ]]; then
  echo "hunt: error: $build is not a fuzz build (cmake --preset fuzz && cmake --build --preset fuzz --target hvo_fuzz_all)" >&2
  exit 2
fi

bugs=("$@")
if ((${#bugs[@]} == 0)); then
  for f in "$root"/fuzz/regressions/*.hvo; do bugs+=("$(basename "$f" .hvo)"); done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
declare -A found_count median_time
all_found=1
results=()

for bug in "${bugs[@]}"; do
  reg="$root/fuzz/regressions/$bug.hvo"
  if [[ ! -f "$reg" ]]; then
    echo "hunt: error: no fuzz/regressions/$bug.hvo" >&2
    exit 2
  fi
  target=$(sed -n 's/^# target: //p' "$reg")
  expect=$(sed -n 's/^# expect: //p' "$reg")
  bin="$build/bin/$target"
  if [[ ! -x "$bin" ]]; then
    echo "hunt: $bug: target $target is not built in $build; not hunted"
    results+=("$bug|$target|not built|-|-")
    all_found=0
    continue
  fi
  dict=()
  [[ -f "$build/fuzz/out/$target.dict" ]] && dict=(-dict="$build/fuzz/out/$target.dict")
  # The target's .options, as OSS-Fuzz passes them (max_len, detect_leaks).
  # (one flag per line, no blanks inside a flag, so word splitting is safe)
  options=$("$(dirname "$0")/fuzz-options.sh" "$build/fuzz/out/$target.options") || exit 2
  times=()
  found=0
  others=0
  for ((s = 1; s <= nseeds; s++)); do
    start=$(now)
    deadline=$(calc "$start + $budget")
    seed=$s
    hit=""
    while :; do
      left=$(calc "$deadline - $(now)")
      awk "BEGIN { exit !($left <= 0) }" && break
      corpus="$work/$bug.$s.corpus"
      rm -rf "$corpus" && mkdir -p "$corpus"
      ((empty)) || cp "$build/fuzz/seeds/$target"/* "$corpus/"
      log="$work/$bug.$s.log"
      HVO_FUZZ_BUGS=$bug timeout -s INT "$(calc "$left + 1")" \
        "$bin" -seed="$seed" -max_total_time="$(printf '%.0f' "$(calc "$left + 0.5")")" \
        "${dict[@]}" $options -print_final_stats=0 -artifact_prefix="$work/$bug.$s." \
        "$corpus" >"$log" 2>&1
      id=$(grep -m1 -o "==HVO== VIOLATION [^ ]*" "$log" | sed 's/==HVO== VIOLATION //')
      if [[ -z "$id" ]]; then
        break  # budget spent without a crash
      fi
      if [[ "$id" =~ ^($expect)$ ]]; then
        hit=$(calc "$(now) - $start")
        break
      fi
      others=$((others + 1))
      echo "hunt: $bug seed $s: baseline crash $id (not this bug), restarting"
      seed=$((seed + 1000))
    done
    if [[ -n "$hit" ]]; then
      found=$((found + 1))
      times+=("$hit")
      printf 'hunt: %s seed %d: found %s after %.1f s\n' "$bug" "$s" "$id" "$hit"
    else
      printf 'hunt: %s seed %d: not found in %d s\n' "$bug" "$s" "$budget"
    fi
  done
  if ((found < nseeds)); then all_found=0; fi
  med="-"
  if ((${#times[@]})); then
    med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}')
    med=$(printf '%.1f' "$med")
  fi
  results+=("$bug|$target|$found/$nseeds|$med|$others")
done

echo
printf '%-34s %-24s %-7s %-12s %s\n' "bug" "target" "found" "median (s)" "baseline crashes"
for r in "${results[@]}"; do
  IFS='|' read -r b t f m o <<<"$r"
  printf '%-34s %-24s %-7s %-12s %s\n' "$b" "$t" "$f" "$m" "$o"
done
exit $((all_found ? 0 : 1))
