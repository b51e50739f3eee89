#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# CI's fuzzing steps (called by .ci/run after the README's test command):
#   1. configure and build the fuzz preset (libFuzzer + ASan + UBSan): every
#      target, its replay driver, seed corpora, dictionaries, regressions;
#   2. replay every corpus through every target, twice (determinism), and
#      the historic-bug regressions, under the sanitizers (ctest -L fuzz);
#   3. run each target for a short bounded run (-runs=, -max_total_time=) from
#      its seeds, documented findings (fuzz/known-findings.txt) not fatal;
#   4. build the OSS-Fuzz way (fuzz/build.sh into build/oss-fuzz-out) and
#      apply OSS-Fuzz's check_build checks (scripts/check-fuzz-build.sh).
# Every step runs even if an earlier one failed; the exit status is 1 if
# any failed.  HVO_CI_FUZZ_RUNS and HVO_CI_FUZZ_SECONDS bound each run
# (defaults 2000 runs, 60 s).
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${HVO_CI_FUZZ_RUNS:-2000}
# A time cap as well: the slowest target (hvo_fuzz_triage, ~1 exec/s under
# ASan) would otherwise take half an hour of CI for its 2000 runs.
seconds=${HVO_CI_FUZZ_SECONDS:-60}
failed=()
step() {
  local name=$1
  shift
  echo "ci-fuzz: == $name"
  if ! "$@"; then
    echo "ci-fuzz: FAILED: $name"
    failed+=("$name")
  fi
}

step "configure fuzz preset" cmake --preset fuzz
step "build fuzz targets" cmake --build --preset fuzz --target hvo_fuzz_all hvo_fuzz_decoder_tests
step "replay corpora, determinism, historic regressions" \
  ctest --test-dir build/fuzz -L fuzz -LE slow --output-on-failure -j2

bounded_run() {
  local t=$1 dir
  dir=$(mktemp -d)
  # Every target's seeds are in its OSS-Fuzz seed zip (hvo_fuzz_triage has
  # no other copy), so seed from the zip.
  unzip -q -o build/fuzz/fuzz/out/"$t"_seed_corpus.zip -d "$dir" || return 1
  # The target's .options (max_len, detect_leaks), as OSS-Fuzz passes them.
  local options
  options=$(scripts/fuzz-options.sh build/fuzz/fuzz/out/"$t".options) || return 1
  HVO_FUZZ_KNOWN="$PWD/fuzz/known-findings.txt" \
  build/fuzz/bin/"$t" -seed=1 -runs="$runs" -max_total_time="$seconds" -dict=build/fuzz/fuzz/out/"$t".dict \
    $options -artifact_prefix="$dir/" "$dir" >"$dir/log" 2>&1
  local rc=$?
  # Documented findings (fuzz/known-findings.txt) are counted, not fatal.
  local known
  known=$(grep -c "==HVO== KNOWN" "$dir/log")
  ((known)) && echo "ci-fuzz: $t: $known input(s) hit documented findings (fuzz/known-findings.txt)"
  grep -E "==HVO== VIOLATION|ERROR: |Done [0-9]+ runs" "$dir/log" | head -3
  [[ $rc -eq 0 ]] || tail -40 "$dir/log"
  rm -rf "$dir"
  return $rc
}
if [[ -s build/fuzz/fuzz/hvo_fuzz_targets.txt ]]; then
  while read -r t; do
    [[ -n "$t" ]] && step "bounded run $t (-runs=$runs)" bounded_run "$t"
  done <build/fuzz/fuzz/hvo_fuzz_targets.txt
else
  failed+=("no fuzz targets listed")
fi

step "OSS-Fuzz style build (fuzz/build.sh)" env OUT="$PWD/build/oss-fuzz-out" WORK="$PWD/build/oss-fuzz-work" fuzz/build.sh
step "OSS-Fuzz check_build emulation" scripts/check-fuzz-build.sh build/oss-fuzz-out

if ((${#failed[@]})); then
  echo "ci-fuzz: ${#failed[@]} step(s) failed:"
  printf 'ci-fuzz:   %s\n' "${failed[@]}"
  exit 1
fi
echo "ci-fuzz: all steps passed"
