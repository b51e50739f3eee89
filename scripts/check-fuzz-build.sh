#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Emulates the checks OSS-Fuzz's check_build (infra/base-images/base-runner/
# bad_build_check) applies to each libFuzzer target in $OUT, so a bad build is
# caught here rather than by OSS-Fuzz or ClusterFuzzLite:
#   - engine:      `<target> -seed=1337 -runs=4` must load a coverage-
#                  instrumented module with at least 100 edges, and must not
#                  say "no interesting inputs were found";
#   - startup:     the same run must end with "Done 4 runs" (no startup crash);
#   - architecture: `file` must say x86-64;
#   - sanitizers:  calls into the sanitizer runtimes, counted in the
#                  disassembly, must match the build (ASan >= 1000 calls,
#                  UBSan >= 168 calls; none, or UBSan <= 200, for the other);
#   - seed corpus: the target must replay its unzipped seed corpus with
#                  -runs=0 and its .options / .dict without crashing.
#
#   scripts/check-fuzz-build.sh [OUT_DIR]        (default build/oss-fuzz-out)
#   SANITIZER=address|undefined|address,undefined (default address,undefined,
#   the combination fuzz/build.sh uses locally; OSS-Fuzz builds one at a time)
set -uo pipefail

out_dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/oss-fuzz-out}
sanitizer=${SANITIZER:-address,undefined}

readonly min_runs=4
readonly min_edges=100
readonly asan_min=1000
readonly ubsan_min=168
readonly ubsan_max_without=200
readonly msan_max_without=3

if [[ ! -d "$out_dir" ]]; then
  echo "check-fuzz-build: error: $out_dir: no such directory (run fuzz/build.sh first)" >&2
  exit 2
fi
out_dir=$(cd "$out_dir" && pwd)  # the runs below happen in a scratch directory
case "$sanitizer" in
  address | undefined | address,undefined | undefined,address) ;;
  *)
    echo "check-fuzz-build: error: SANITIZER=$sanitizer is not one of address, undefined, address,undefined" >&2
    exit 2
    ;;
esac
objdump=$(command -v objdump || command -v llvm-objdump-19 || true)
if [[ -z "$objdump" ]] || ! command -v file >/dev/null || ! command -v unzip >/dev/null; then
  echo "check-fuzz-build: error: needs objdump (or llvm-objdump-19), file and unzip" >&2
  exit 2
fi

shopt -s nullglob
targets=()
for f in "$out_dir"/hvo_fuzz_*; do
  [[ -f "$f" && -x "$f" ]] && targets+=("$f")
done
if ((${#targets[@]} == 0)); then
  echo "check-fuzz-build: error: no executable hvo_fuzz_* in $out_dir" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Flags from the [libfuzzer] section of <target>.options, as run_fuzzer passes them.
options_flags() {
  local options=$1
  [[ -f "$options" ]] || return 0
  awk '/^\[/{section=$0; next}
       section=="[libfuzzer]" && /=/ {
         gsub(/[ \t]/, ""); split($0, kv, "="); printf "-%s=%s\n", kv[1], kv[2] }' "$options"
}

count_calls() { # binary prefix
  "$objdump" -d "$1" 2>/dev/null | grep -cE "call[q]?[[:space:]]+[0-9a-f]+[[:space:]]+<$2"
}

failed=0
for fuzzer in "${targets[@]}"; do
  name=$(basename "$fuzzer")
  problems=()
  log="$work/$name.engine.log"

  # Engine + startup: no corpus, fixed seed, four runs.
  (cd "$work" && "$fuzzer" -seed=1337 -runs=$min_runs) >"$log" 2>&1
  if grep -q "ERROR: no interesting inputs were found. Is the code instrumented" "$log"; then
    problems+=("no coverage instrumentation")
  fi
  edges=$(grep -Po "INFO: Loaded [[:digit:]]+ module.*\(.*(counters|guards)\):[[:space:]]+\K[[:digit:]]+" "$log" | head -1)
  if [[ -z "$edges" ]]; then
    problems+=("did not start (no 'INFO: Loaded ... modules' line)")
    edges=0
  elif ((edges < min_edges)); then
    problems+=("only $edges instrumented edges (< $min_edges): partial coverage instrumentation")
  fi
  if ! grep -q "Done $min_runs runs" "$log"; then
    problems+=("startup crash or early exit (no 'Done $min_runs runs')")
  fi

  if ! file "$fuzzer" | grep -q "x86-64"; then
    problems+=("not an x86-64 binary")
  fi

  asan=$(count_calls "$fuzzer" __asan)
  ubsan=$(count_calls "$fuzzer" __ubsan)
  msan=$(count_calls "$fuzzer" __msan)
  dfsan=$(count_calls "$fuzzer" __dfsan)
  want_asan=0 want_ubsan=0
  [[ "$sanitizer" == *address* ]] && want_asan=1
  [[ "$sanitizer" == *undefined* ]] && want_ubsan=1
  if ((want_asan && asan < asan_min)); then problems+=("only $asan ASan calls: not compiled with ASan"); fi
  if ((!want_asan && asan > 0)); then problems+=("$asan ASan calls in a build without ASan"); fi
  if ((want_ubsan && ubsan < ubsan_min)); then problems+=("only $ubsan UBSan calls: not compiled with UBSan"); fi
  if ((!want_ubsan && ubsan > ubsan_max_without)); then problems+=("$ubsan UBSan calls in a build without UBSan"); fi
  if ((msan > msan_max_without)); then problems+=("$msan MSan calls: mixed sanitizers"); fi
  if ((dfsan > 0)); then problems+=("$dfsan DFSan calls: mixed sanitizers"); fi

  # Seed corpus with the target's options and dictionary, -runs=0.
  seeds=0
  zip="$out_dir/${name}_seed_corpus.zip"
  if [[ ! -f "$zip" ]]; then
    problems+=("missing ${name}_seed_corpus.zip")
  else
    mkdir -p "$work/$name.seeds"
    unzip -q -o "$zip" -d "$work/$name.seeds"
    seeds=$(find "$work/$name.seeds" -type f | wc -l)
    ((seeds > 0)) || problems+=("empty seed corpus")
    mapfile -t opts < <(options_flags "$out_dir/$name.options")
    dict=()
    [[ -f "$out_dir/$name.dict" ]] && dict=(-dict="$out_dir/$name.dict")
    if ! (cd "$work" && "$fuzzer" -rss_limit_mb=2560 -timeout=25 "${opts[@]}" "${dict[@]}" -runs=0 \
      "$work/$name.seeds") >"$work/$name.seed.log" 2>&1; then
      problems+=("crashes on its seed corpus or rejects its options/dict: $(grep -m1 -E '==HVO==|ERROR|error' "$work/$name.seed.log")")
    fi
  fi
  [[ -f "$out_dir/$name.dict" ]] || problems+=("missing $name.dict")
  [[ -f "$out_dir/$name.options" ]] || problems+=("missing $name.options")

  if ((${#problems[@]})); then
    failed=1
    for p in "${problems[@]}"; do echo "BAD BUILD: $name: $p"; done
  else
    echo "check-fuzz-build: $name: OK (edges $edges, ASan calls $asan, UBSan calls $ubsan, $seeds seeds)"
  fi
done
exit $failed
