#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fixed samples of what libFuzzer actually executes, for timing.
#
# A seed is written by hand to show one scenario; libFuzzer's mutants are
# not like it.  They keep the seeds' large machines but change the
# configuration bytes all the time, so most executions boot a machine the
# boot cache does not hold, and they reach code no seed reaches.  Timing one
# seed over and over (--repeat) says little about them: at HEAD bb8bbaf the
# median seed of hvo_fuzz_differential replayed at 10,589 exec/s while
# libFuzzer itself ran that target at 198.  bench/fuzz/mutants/<target>.hex
# freezes the corpus one libFuzzer run grew, so that two builds can be timed
# on the same mutants (fuzz_exec_rate.sh's "mutants" column).
#
#   bench/fuzz/mutant_sample.sh expand HEX_FILE DIR
#       Writes each input of HEX_FILE to DIR/NNNNN (DIR is created; it must
#       be empty), in file order, so a replay of DIR runs them in that order.
#   bench/fuzz/mutant_sample.sh grow -b BUILD_DIR -t TARGET [-s SECONDS] [-c HEX_FILE] OUT_HEX
#       Runs BUILD_DIR/bin/TARGET (a libFuzzer build) for SECONDS (default
#       30) from a copy of its seed corpus (plus the inputs of HEX_FILE with
#       -c: a warm start, like a campaign that kept its corpus, whose
#       executions mostly find nothing new), with -seed=1, the target's
#       .options and dictionary and fuzz/known-findings.txt, writes the
#       grown corpus to OUT_HEX and prints the run's average_exec_per_sec
#       on stdout (fuzz_exec_rate.sh -f reports it).  The run is timed, so a
#       second run grows a different corpus: a sample is frozen by checking
#       it in, not by growing it again.
#
# HEX_FILE format: lines starting with '#' are comments; every other line is
# one input, its bytes in lowercase hex, or "-" for the empty input.
# Exit status: 0 on success, 1 when the fuzzer or a write failed, 2 on a
# usage or input error.
set -euo pipefail

me=mutant_sample
die() { echo "$me: error: $*" >&2; exit 2; }
usage() {
  echo "usage: $0 expand HEX_FILE DIR" >&2
  echo "       $0 grow -b BUILD_DIR -t TARGET [-s SECONDS] [-c HEX_FILE] OUT_HEX" >&2
  exit 2
}

# expand HEX DIR
expand() {
  local hex=$1 dir=$2 line n=0 lineno=0 esc i name
  [[ -f $hex ]] || die "$hex: no such file"
  mkdir -p "$dir" || die "$dir: cannot create"
  [[ -z $(ls -A "$dir") ]] || die "$dir: not empty"
  while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    [[ $line == '#'* ]] && continue
    printf -v name '%s/%05d' "$dir" "$n"
    if [[ $line == - ]]; then
      : >"$name"
    elif [[ $line =~ ^([0-9a-f][0-9a-f])+$ ]]; then
      # \xHH escapes built in the shell: no process per input.
      esc=""
      for ((i = 0; i < ${#line}; i += 2)); do esc+="\\x${line:i:2}"; done
      printf '%b' "$esc" >"$name"
    else
      die "$hex:$lineno: expected hex bytes or '-'"
    fi
    n=$((n + 1))
  done <"$hex"
  [[ $n -gt 0 ]] || die "$hex: no inputs"
}

# grow -b BUILD -t TARGET [-s SECONDS] OUT
grow() {
  local build="" target="" seconds=30 start="" opt root out corpus work rc=0 options
  OPTIND=1
  while getopts "b:t:s:c:" opt; do
    case $opt in
      b) build=$OPTARG ;;
      t) target=$OPTARG ;;
      s) seconds=$OPTARG ;;
      c) start=$OPTARG ;;
      *) usage ;;
    esac
  done
  shift $((OPTIND - 1))
  [[ $# -eq 1 && -n $build && -n $target ]] || usage
  [[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 ]] || die "-s needs whole seconds >= 1"
  out=$1
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  [[ -x $build/bin/$target ]] || die "$build/bin/$target: no libFuzzer binary (configure with -DHVO_BUILD_FUZZERS=ON and clang)"
  [[ -d $build/fuzz/seeds/$target && -f $build/fuzz/out/$target.dict ]] ||
    die "$build/fuzz: no seeds or dictionary for $target (build hvo_fuzz_all first)"
  # One flag per line, no blanks inside a flag: word splitting is safe.
  options=$("$root/scripts/fuzz-options.sh" "$build/fuzz/out/$target.options") || exit 2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  corpus="$work/corpus"
  mkdir "$corpus"
  cp "$build/fuzz/seeds/$target"/* "$corpus/"
  local from="seeds"
  if [[ -n $start ]]; then
    # Expanded beside the seeds under another name pattern (NNNNN).
    (expand "$start" "$work/start") || exit 2
    cp "$work/start"/* "$corpus/"
    from="seeds and inputs of $start"
  fi
  echo "$me: growing $target for $seconds s from $(ls "$corpus" | wc -l) $from" >&2
  # A finding ends the run with a crash file in $work; known findings do not.
  local bin dict
  bin=$(realpath "$build/bin/$target")
  dict=$(realpath "$build/fuzz/out/$target.dict")
  (cd "$work" && HVO_FUZZ_KNOWN="$root/fuzz/known-findings.txt" \
     "$bin" "$corpus" -seed=1 -max_total_time="$seconds" $options \
     -dict="$dict" -print_final_stats=1 >"$work/log" 2>&1) || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "$me: error: $target stopped with status $rc:" >&2
    # The finding's own lines if it printed any, else the end of the log.
    grep -E '==HVO== |^SUMMARY' "$work/log" | head -n 5 >&2 || tail -n 15 "$work/log" >&2
    return 1
  fi
  {
    echo "# SPDX-License-Identifier: GPL-2.0-only"
    echo "# $target: the corpus one ${seconds} s libFuzzer run grew from the seed corpus${start:+ and $(basename "$start")}"
    echo "# ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "unknown commit"), -seed=1, $(echo $options), the target's dictionary),"
    echo "# frozen as a fixed benchmark set: one input per line, its bytes in hex"
    echo "# (\"-\" for the empty input).  bench/fuzz/mutant_sample.sh expands it."
    local f h
    for f in $(ls "$corpus" | LC_ALL=C sort); do
      h=$(xxd -p -c 100000 "$corpus/$f")
      echo "${h:--}"
    done
  } >"$out" || { echo "$me: error: $out: cannot write" >&2; return 1; }
  local rate
  rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\)$/\1/p' "$work/log")
  [[ -n $rate ]] || { echo "$me: error: $target printed no average_exec_per_sec" >&2; return 1; }
  echo "$me: $(grep -vc '^#' "$out") inputs in $out, $rate exec/s" >&2
  echo "$rate"
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case $cmd in
  expand) [[ $# -eq 2 ]] || usage; expand "$1" "$2" ;;
  grow) grow "$@" ;;
  *) usage ;;
esac
