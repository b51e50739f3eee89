#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prints the libFuzzer flags a target's .options file asks for, one per
# line ("-max_len=512"), so local runs (ci-fuzz.sh, hunt-historic-bugs.sh,
# bench/fuzz) fuzz the target the way OSS-Fuzz and ClusterFuzzLite do: they
# read the [libfuzzer] section of <target>.options beside the binary and
# pass each "key = value" as -key=value.
#
#   scripts/fuzz-options.sh OPTIONS_FILE
#
# Exit status: 0 on success (a file without a [libfuzzer] section prints
# nothing), 2 when the file is missing or a line of the section is not
# "key = value".
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OPTIONS_FILE" >&2; exit 2; }
file=$1
[[ -f $file ]] || { echo "fuzz-options: error: $file: no such file" >&2; exit 2; }

section="" lineno=0
while IFS= read -r line || [[ -n $line ]]; do
  lineno=$((lineno + 1))
  line=${line%%#*}
  line=${line#"${line%%[![:space:]]*}"}
  line=${line%"${line##*[![:space:]]}"}
  [[ -z $line ]] && continue
  if [[ $line =~ ^\[([A-Za-z_]+)\]$ ]]; then
    section=${BASH_REMATCH[1]}
    continue
  fi
  [[ $section == libfuzzer ]] || continue
  if [[ $line =~ ^([A-Za-z_]+)[[:space:]]*=[[:space:]]*([^[:space:]]+)$ ]]; then
    echo "-${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  else
    echo "fuzz-options: error: $file:$lineno: expected 'key = value'" >&2
    exit 2
  fi
done <"$file"
