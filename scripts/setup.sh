#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what hvocheck needs to build and test, from Debian's packages.
# Idempotent: when everything is present it only checks and returns (no
# apt-get update, no network).  Run as root on Debian bookworm.
set -euo pipefail

packages=(
  cmake ninja-build ccache
  clang-19 llvm-19-dev libclang-19-dev clang-tidy-19 libclang-rt-19-dev lld-19
  libgtest-dev libgmock-dev
  zip unzip python3
)
# Extra packages a caller asks for (e.g. the kernel-tree preparation).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 2
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
