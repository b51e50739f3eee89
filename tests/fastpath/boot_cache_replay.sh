#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The fuzz harness's boot cache against fresh boots: every seed of every
# target through one replay driver, once with HVO_FUZZ_BOOT_CACHE=0 (a fresh
# Model per input) and once with the cache (Model::reset from a booted
# model, inputs of many configurations in a row, so entries are reused and
# evicted); the per-input outcome digests must be identical.
#   boot_cache_replay.sh REPLAY_BINARY KNOWN_FINDINGS SEED_ROOT
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 REPLAY_BINARY KNOWN_FINDINGS SEED_ROOT" >&2; exit 2; }
replay=$1 known=$2 seeds=$3
fresh=$(HVO_FUZZ_KNOWN=$known HVO_FUZZ_BOOT_CACHE=0 "$replay" --verbose "$seeds" 2>/dev/null)
cached=$(HVO_FUZZ_KNOWN=$known HVO_FUZZ_BOOT_CACHE=1 "$replay" --verbose "$seeds" 2>/dev/null)
inputs=$(grep -c ' [0-9a-f]\{16\}$' <<<"$fresh" || true)
if [[ $inputs -lt 10 ]]; then
  echo "boot_cache_replay: only $inputs digests from $replay: nothing compared" >&2
  exit 1
fi
if [[ $fresh != "$cached" ]]; then
  echo "boot_cache_replay: digests differ between fresh boots and the boot cache:" >&2
  diff <(echo "$fresh") <(echo "$cached") >&2 || true
  exit 1
fi
echo "boot_cache_replay: $inputs inputs, identical digests with and without the boot cache"
