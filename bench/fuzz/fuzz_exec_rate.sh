#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Executions per second of every fuzz target's replay driver on the target's
# median-size seed, next to a baseline measured in the same run through the
# same driver: the empty input (it decodes to the smallest configuration and
# no ops, so it costs the harness, the boot cache and the final whole-machine
# check and nothing else).  The ratio seed/baseline moves much less than the
# absolute figures on a shared, loaded machine.  The "random" column is the
# rate over 32 pseudo-random inputs of the median seed's length (bytes from
# sha256 of "<target>:<i>:<j>", the same inputs every run): what the target
# costs on arbitrary inputs of that size (random bytes mostly decode to
# small machines, so this column flatters the targets).  Documented findings
# (fuzz/known-findings.txt) do not end that measurement; any other
# violation does, and the script prints it.
#
# Neither column is what libFuzzer runs.  Its mutants keep the seeds' large
# machines, change the configuration bytes constantly (so most executions
# boot a machine the boot cache does not hold) and reach code no seed
# reaches.  The "mutants" column times a frozen sample of them,
# bench/fuzz/mutants/<target>.hex (see mutant_sample.sh), replayed whole
# twice in order (--passes=2), the way libFuzzer meets them; it is the column
# to compare two builds on.  -f SECONDS adds two "libFuzzer" lines per
# target: the target's own average_exec_per_sec over SECONDS of fuzzing
# (-seed=1, its .options and dictionary, documented findings tolerated),
# once from the seed corpus alone (a new campaign: nearly every execution
# finds a new feature, and libFuzzer's own bookkeeping of rare features is
# a fifth of the time) and once from the seeds plus the frozen mutants (a
# campaign that kept its corpus, as ClusterFuzzLite and OSS-Fuzz do).  They
# need the libFuzzer binary <BUILD_DIR>/bin/<target> and vary with the
# machine's load and with what the run happens to find.
# The bar column judges the median seed (the issue's wording) and the
# mutants: a target meets the bar on what it is fuzzed with only when both
# say yes.
#
#   bench/fuzz/fuzz_exec_rate.sh -b BUILD_DIR [-s SECONDS] [-f SECONDS] [-w N] [-t TARGET]...
#
# BUILD_DIR is a configured and built tree (any preset; the issue's bar,
# 10,000 exec/s, is about ASan + UBSan builds such as the fuzz preset): it
# needs <BUILD_DIR>/bin/<target>_replay and <BUILD_DIR>/fuzz/seeds/<target>/.
# SECONDS (default 3) is the time spent per measurement.  The median seed is
# the one at index (n-1)/2 of the seeds sorted by size, then name.
# -w N also names each target's N slowest random inputs with their time per
# execution: a handful of large decoded ranges can dominate the random
# column, and this says which (decode one with
# `hvo-fuzz-encode --target T --decode FILE`; the files are made again by
# the same sha256 rule, so `-w` prints the rule's indices, r0..r31).
# Exit status: 0 when every measurement ran, 1 when a replay or the fuzzer
# failed, 2 on a usage error.
set -euo pipefail

usage() {
  echo "usage: $0 -b BUILD_DIR [-s SECONDS] [-f SECONDS] [-w N] [-t TARGET]..." >&2
  exit 2
}

build="" seconds=3 fuzz_seconds=0 worst=0 targets=()
while getopts "b:s:f:w:t:h" opt; do
  case $opt in
    b) build=$OPTARG ;;
    s) seconds=$OPTARG ;;
    f) fuzz_seconds=$OPTARG ;;
    w) worst=$OPTARG ;;
    t) targets+=("$OPTARG") ;;
    *) usage ;;
  esac
done
[[ -n $build ]] || usage
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 ]] || { echo "fuzz_exec_rate: error: -s needs whole seconds >= 1" >&2; exit 2; }
[[ $fuzz_seconds =~ ^[0-9]+$ ]] || { echo "fuzz_exec_rate: error: -f needs whole seconds" >&2; exit 2; }
[[ $worst =~ ^[0-9]+$ && $worst -le 32 ]] || { echo "fuzz_exec_rate: error: -w needs a count from 0 to 32" >&2; exit 2; }
[[ -d $build/bin && -d $build/fuzz/seeds ]] ||
  { echo "fuzz_exec_rate: error: $build: no bin/ or fuzz/seeds/ (build target hvo_fuzz_all first)" >&2; exit 2; }
if [[ ${#targets[@]} -eq 0 ]]; then
  while IFS= read -r d; do targets+=("$(basename "$d")"); done \
    < <(find "$build/fuzz/seeds" -mindepth 1 -maxdepth 1 -type d -name 'hvo_fuzz_*' | LC_ALL=C sort)
fi
[[ ${#targets[@]} -gt 0 ]] || { echo "fuzz_exec_rate: error: no seed directories under $build/fuzz/seeds" >&2; exit 2; }

empty=$(mktemp)
randdir=$(mktemp -d)
mutdir=$(mktemp -d)
trap 'rm -rf "$empty" "$randdir" "$mutdir"' EXIT
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
known="$root/fuzz/known-findings.txt"
[[ -f $known ]] || { echo "fuzz_exec_rate: error: $known missing" >&2; exit 2; }

# random_inputs TARGET LENGTH DIR: 32 files of LENGTH bytes, the same every run.
random_inputs() {
  local t=$1 len=$2 out=$3 i j hex
  rm -f "$out"/*
  for ((i = 0; i < 32; i++)); do
    hex=""
    for ((j = 0; ${#hex} < 2 * len; j++)); do
      hex+=$(printf '%s' "$t:$i:$j" | sha256sum | cut -c1-64)
    done
    hex=${hex:0:$((2 * len))}
    printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$out/r$i"
  done
}

# exec_per_sec BIN OUTPUT: R from the replay driver's last
# "hvo-replay: N executions in S s: R exec/s" line in OUTPUT.
exec_per_sec() {
  local r
  r=$(sed -n 's/.*: \([0-9]*\) exec\/s$/\1/p' <<<"$2" | tail -n 1)
  [[ -n $r ]] || { echo "fuzz_exec_rate: error: $1 printed no exec/s line" >&2; return 1; }
  echo "$r"
}

# rate BIN FILE: exec/s of BIN on FILE over about $seconds seconds.
rate() {
  local bin=$1 file=$2 n=8 out r secs
  while :; do
    if ! out=$("$bin" --repeat=$n "$file" 2>&1 >/dev/null); then
      echo "fuzz_exec_rate: error: $bin $file failed:" >&2
      echo "$out" | tail -n 20 >&2
      return 1
    fi
    # "hvo-replay: N executions in S s: R exec/s"
    r=$(exec_per_sec "$bin" "$out") || return 1
    secs=$(sed -n 's/.* executions in \([0-9.]*\) s:.*/\1/p' <<<"$out" | tail -n 1)
    [[ -n $secs ]] || { echo "fuzz_exec_rate: error: $bin printed no execution time" >&2; return 1; }
    # Grow the count until one measurement takes about $seconds seconds.
    if awk -v s="$secs" -v want="$seconds" 'BEGIN { exit !(s >= want * 0.8) }' || [[ $n -ge 10000000 ]]; then
      echo "$r"
      return 0
    fi
    n=$(awk -v s="$secs" -v n="$n" -v want="$seconds" \
          'BEGIN { m = (s > 0.01) ? int(n * want / s) + 1 : n * 16; if (m < 2 * n) m = 2 * n; print m }')
  done
}

# worst_inputs BIN DIR: the $worst slowest files of DIR as "name µs", the
# time per execution the driver measures (process start left out) over
# enough executions to take about 0.3 s (the driver prints 10 ms steps),
# slowest first.
worst_inputs() {
  local bin=$1 dir=$2 f n out secs
  for f in "$dir"/*; do
    n=4
    while :; do
      out=$("$bin" --repeat=$n "$f" 2>&1 >/dev/null) ||
        { echo "fuzz_exec_rate: error: $bin $f failed" >&2; return 1; }
      secs=$(sed -n 's/.* executions in \([0-9.]*\) s:.*/\1/p' <<<"$out" | tail -n 1)
      awk -v s="$secs" 'BEGIN { exit !(s >= 0.2) }' || [[ $n -ge 100000 ]] && break
      n=$(awk -v s="$secs" -v n="$n" 'BEGIN { m = (s > 0.005) ? int(n * 0.3 / s) + 1 : n * 64; print (m > 100000) ? 100000 : m }')
    done
    awk -v f="$(basename "$f")" -v s="$secs" -v n="$n" 'BEGIN { printf "%s %d\n", f, s * 1e6 / n }'
  done | LC_ALL=C sort -k2,2nr -k1,1 | head -n "$worst"
}

# mutants_rate BIN TARGET: exec/s of BIN over the target's frozen mutant
# sample replayed twice in order, or "-" when the target has no sample.
mutants_rate() {
  local bin=$1 hex="$root/bench/fuzz/mutants/$2.hex" out
  [[ -f $hex ]] || { echo "-"; return 0; }
  rm -rf "$mutdir"
  "$root/bench/fuzz/mutant_sample.sh" expand "$hex" "$mutdir" || return 1
  if ! out=$(HVO_FUZZ_KNOWN=$known "$bin" --passes=2 "$mutdir" 2>&1 >/dev/null); then
    echo "fuzz_exec_rate: error: $bin on the mutants of $hex failed:" >&2
    echo "$out" | tail -n 20 >&2
    return 1
  fi
  exec_per_sec "$bin" "$out"
}

# libfuzzer_rate TARGET [START_HEX]: the target's own average_exec_per_sec
# over $fuzz_seconds seconds from its seeds, plus START_HEX's inputs when
# given (mutant_sample.sh grow; the corpus it grows is thrown away).  Its
# progress lines are shown only on failure.
libfuzzer_rate() {
  local t=$1 start=${2:-} hex log r
  hex=$(mktemp) log=$(mktemp)
  if ! r=$("$root/bench/fuzz/mutant_sample.sh" grow -b "$build" -t "$t" -s "$fuzz_seconds" \
             ${start:+-c "$start"} "$hex" 2>"$log"); then
    cat "$log" >&2
    rm -f "$hex" "$log"
    return 1
  fi
  rm -f "$hex" "$log"
  echo "$r"
}

sanitized="no sanitizers"
first_bin="$build/bin/${targets[0]}_replay"
# grep reads all of nm's output (no -q): an early exit would fail the
# pipeline under pipefail.
if [[ -x $first_bin ]] && nm -an "$first_bin" 2>/dev/null | grep '__asan_init' >/dev/null; then
  sanitized="ASan"
  nm -an "$first_bin" 2>/dev/null | grep '__ubsan_handle' >/dev/null && sanitized="ASan + UBSan"
fi
echo "fuzz_exec_rate: $build ($sanitized), ${seconds} s per measurement, $(date -u +%Y-%m-%d)"
fmt='%-24s %-24s %5s %8s %8s %8s %8s %7s %s\n'
printf "$fmt" target "median seed" bytes "exec/s" random empty mutants ratio ">=10000 seed/mutants"
status=0
for t in "${targets[@]}"; do
  bin="$build/bin/${t}_replay"
  dir="$build/fuzz/seeds/$t"
  [[ -x $bin ]] || { echo "fuzz_exec_rate: error: $bin missing" >&2; status=1; continue; }
  mapfile -t seeds < <(find "$dir" -maxdepth 1 -type f -printf '%s %f\n' | LC_ALL=C sort -k1,1n -k2,2)
  [[ ${#seeds[@]} -gt 0 ]] || { echo "fuzz_exec_rate: error: $dir has no seeds" >&2; status=1; continue; }
  median=${seeds[$(( (${#seeds[@]} - 1) / 2 ))]}
  bytes=${median%% *} name=${median#* }
  base=$(rate "$bin" "$empty") || { status=1; continue; }
  seed=$(rate "$bin" "$dir/$name") || { status=1; continue; }
  random_inputs "$t" "$bytes" "$randdir"
  rand=$(HVO_FUZZ_KNOWN=$known rate "$bin" "$randdir") || { status=1; continue; }
  mut=$(mutants_rate "$bin" "$t") || { status=1; continue; }
  ratio=$(awk -v a="$seed" -v b="$base" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
  bar=$([[ $seed -ge 10000 ]] && echo yes || echo no)/$([[ $mut != - && $mut -ge 10000 ]] && echo yes || echo no)
  printf "$fmt" "$t" "$name" "$bytes" "$seed" "$rand" "$base" "$mut" "$ratio" "$bar"
  if [[ $fuzz_seconds -gt 0 ]]; then
    lf=$(libfuzzer_rate "$t") || { status=1; continue; }
    printf '  libFuzzer: %s exec/s over %s s from the seed corpus (-seed=1)\n' "$lf" "$fuzz_seconds"
    hex="$root/bench/fuzz/mutants/$t.hex"
    if [[ -f $hex ]]; then
      lf=$(libfuzzer_rate "$t" "$hex") || { status=1; continue; }
      printf '  libFuzzer: %s exec/s over %s s from the seeds and the frozen mutants (warm)\n' "$lf" "$fuzz_seconds"
    fi
  fi
  if [[ $worst -gt 0 ]]; then
    # Every extra line is indented, so the table's rows stay one per target.
    while read -r n us; do
      printf '  slowest random: %-4s %10s µs per execution\n' "$n" "$us"
    done < <(HVO_FUZZ_KNOWN=$known worst_inputs "$bin" "$randdir")
  fi
done
exit $status
