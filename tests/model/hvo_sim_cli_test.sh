#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# hvo-sim's command line: malformed input is one line naming file and line,
# exit status 2; the demo runs and is deterministic; savings equals
# kernel-reference section 4 at the spot orders.
set -u
sim="$1"
scenarios="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {  # check NAME EXPECTED_STATUS EXPECTED_STDERR_REGEX -- ARGS...
  local name=$1 want=$2 re=$3
  shift 4
  "$sim" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [[ $got -ne $want ]]; then
    echo "FAIL $name: exit $got, want $want"; cat "$tmp/err"; fail=1; return
  fi
  if [[ -n $re ]]; then
    if [[ $(wc -l <"$tmp/err") -ne 1 ]] || ! grep -Eq "$re" "$tmp/err"; then
      echo "FAIL $name: stderr does not match '$re':"; cat "$tmp/err"; fail=1; return
    fi
  fi
  echo "ok   $name"
}
printf 'alloc_folio order=9\noptimise folio=0\n' >"$tmp/typo.hvo"
printf 'config page-size=4K mem=0:Normal:100M\n' >"$tmp/badcfg.hvo"
printf 'alloc_folio order=9x\n' >"$tmp/badnum.hvo"
printf 'alloc_folio order=9 node=0\nconfig page-size=4K\n' >"$tmp/late.hvo"
printf 'alloc_folio order=9 node=0\nopt' >"$tmp/trunc.hvo"
printf 'alloc_folio order=99 node=0\noptimize folio=7\n' >"$tmp/refused.hvo"
check missing-file 2 'nofile\.hvo:0: cannot open file' -- run "$tmp/nofile.hvo"
check typo 2 'typo\.hvo:2: unknown operation .optimise.' -- run "$tmp/typo.hvo"
check bad-config 2 'badcfg\.hvo:1: impossible configuration: .*section' -- run "$tmp/badcfg.hvo"
check bad-number 2 'badnum\.hvo:1: .*not an unsigned integer' -- run "$tmp/badnum.hvo"
check late-config 2 'late\.hvo:2: config must come before' -- run "$tmp/late.hvo"
check truncated 2 'trunc\.hvo:2: unknown operation .opt.' -- run "$tmp/trunc.hvo"
# Usage errors: the problem on the first line, then the usage text.
check no-args 2 '' --
grep -q '^usage: hvo-sim run' "$tmp/err" || { echo "FAIL no-args prints no usage"; fail=1; }
check bad-page-size 2 '' -- savings --page-size 8K
head -1 "$tmp/err" | grep -q "bad page size '8K'" || { echo "FAIL bad page size message"; fail=1; }
check refused-ops-run 0 '' -- run "$tmp/refused.hvo"
grep -q '=> -EINVAL' "$tmp/out" || { echo "FAIL refused ops are not shown as -EINVAL"; fail=1; }
check demo 1 '' -- run "$scenarios/demo.hvo" --diagram 1
cp "$tmp/out" "$tmp/demo1"
"$sim" run "$scenarios/demo.hvo" --diagram 1 >"$tmp/demo2" 2>/dev/null
cmp -s "$tmp/demo1" "$tmp/demo2" && echo "ok   demo-deterministic" || { echo "FAIL demo output differs between runs"; fail=1; }
grep -q 'RO       #[0-9]* *4096  = frame of page 0 (shared)' "$tmp/demo1" || { echo "FAIL demo diagram"; fail=1; }
check savings-4k 0 '' -- savings
grep -Eq '^ +18 +1G +4096 +yes +1 +4096 +1 +4096 +4095 ' "$tmp/out" || { echo "FAIL savings 1G"; cat "$tmp/out"; fail=1; }
check savings-64k-json 0 '' -- savings --page-size 64K --json
grep -q '"order": 14, "folio_bytes": 1073741824, "vmemmap_pages": "16", "optimized": true, "keeps": 1, "frees": 16, "allocates": 1, "shares": 16, "saved": 15' "$tmp/out" || { echo "FAIL savings 64K json"; fail=1; }
exit $fail
