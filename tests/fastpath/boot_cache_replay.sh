#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The fuzz harness's boot cache against fresh boots: every seed of every
# target through one replay driver, once with HVO_FUZZ_BOOT_CACHE=0 (a fresh
# Model per input) and once with the cache (Model::reset from a booted
# model, inputs of many configurations in a row, so entries are reused and
# evicted); the per-input outcome digests must be identical.  Then the same
# for the target's inputs in boot_mutant_inputs.txt (next to this script):
# inputs libFuzzer grew, one per configuration, so nearly every one misses
# the cache and takes a copied machine (Model::copy_of_booted).
#   boot_cache_replay.sh REPLAY_BINARY KNOWN_FINDINGS SEED_ROOT
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 REPLAY_BINARY KNOWN_FINDINGS SEED_ROOT" >&2; exit 2; }
replay=$1 known=$2 seeds=$3
mutant_file=$(dirname "$0")/boot_mutant_inputs.txt
[[ -r $mutant_file ]] || { echo "boot_cache_replay: cannot read $mutant_file" >&2; exit 2; }
target=$(basename "$replay")
target=${target%_replay}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The target's lines of boot_mutant_inputs.txt as input files, in file order.
n=0
while read -r t hex; do
  [[ $t == "$target" ]] || continue
  [[ $hex =~ ^([0-9a-f]{2})*$ ]] || { echo "boot_cache_replay: $mutant_file: bad hex for $t" >&2; exit 2; }
  n=$((n + 1))
  # shellcheck disable=SC2059  # the format is the \x escapes made here
  printf "$(sed 's/../\\x&/g' <<<"$hex")" >"$work/$(printf '%04d' "$n")"
done < <(grep -v '^#' "$mutant_file")

compare() {  # DIR WHAT MIN_INPUTS
  local fresh cached inputs
  fresh=$(HVO_FUZZ_KNOWN=$known HVO_FUZZ_BOOT_CACHE=0 "$replay" --verbose "$1" 2>/dev/null)
  cached=$(HVO_FUZZ_KNOWN=$known HVO_FUZZ_BOOT_CACHE=1 "$replay" --verbose "$1" 2>/dev/null)
  inputs=$(grep -c ' [0-9a-f]\{16\}$' <<<"$fresh" || true)
  if [[ $inputs -lt $3 ]]; then
    echo "boot_cache_replay: only $inputs digests of $2 from $replay: nothing compared" >&2
    exit 1
  fi
  if [[ $fresh != "$cached" ]]; then
    echo "boot_cache_replay: $2: digests differ between fresh boots and the boot cache:" >&2
    diff <(echo "$fresh") <(echo "$cached") >&2 || true
    exit 1
  fi
  echo "boot_cache_replay: $2: $inputs inputs"
}
compare "$seeds" "seeds" 10
compare "$work" "mutant inputs" 40
echo "boot_cache_replay: identical digests with and without the boot cache"
