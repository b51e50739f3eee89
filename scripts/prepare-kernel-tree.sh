#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prepare a Debian Linux 6.12 source tree for hvo-scan: install the kernel's
# build dependencies and the source package when missing, configure x86_64
# defconfig plus the options that compile the HVO code (HUGETLBFS,
# HUGETLB_PAGE_OPTIMIZE_VMEMMAP, SPARSEMEM_VMEMMAP, MEMORY_HOTPLUG,
# ZONE_DEVICE and what they depend on), build mm/ with clang 19 so every
# unit has a .cmd file, and write compile_commands.json with the kernel's own
# scripts/clang-tools/gen_compile_commands.py.
#
# Prepared once: a stamp file records the hash of the options and of the
# resulting .config; a changed option list or an edited .config redoes the
# configuration and the build.  Usage: prepare-kernel-tree.sh [TREE]
set -euo pipefail

tree=${1:-/usr/src/linux-source-6.12}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
jobs=$(nproc)
stamp_name=.hvo-scan-prepared

# The options the HVO code needs, in dependency order.  MIGRATION and
# MEMORY_HOTREMOVE are what ZONE_DEVICE depends on besides MEMORY_HOTPLUG.
options=(
  HUGETLBFS HUGETLB_PAGE SPARSEMEM_VMEMMAP HUGETLB_PAGE_OPTIMIZE_VMEMMAP
  MIGRATION MEMORY_HOTPLUG MEMORY_HOTREMOVE ZONE_DEVICE
)

say() { echo "prepare-kernel-tree: $*" >&2; }
die() { echo "prepare-kernel-tree: error: $*" >&2; exit 2; }

# A prepared tree whose stamp matches needs nothing, not even the package
# check: this runs before every default scan.
options_hash=$( (printf '%s\n' "${options[@]}"; cat "$self") | sha256sum | cut -d' ' -f1)
# Only the option lines: make rewrites the header comment ("Linux/x86" or
# "Linux/x86_64") depending on how it was invoked.
config_hash() { [[ -f .config ]] && grep '^CONFIG_' .config | sha256sum | cut -d' ' -f1 || echo none; }
prepared() {
  [[ -f $tree/$stamp_name && -f $tree/compile_commands.json ]] &&
    [[ $(cat "$tree/$stamp_name") == "$options_hash $(cd "$tree" && config_hash)" ]]
}
if prepared; then
  say "$tree already prepared (stamp $stamp_name matches); nothing to do"
  exit 0
fi

# 1. Packages: the toolchain, the kernel's build dependencies and, for the
#    default tree, the source package itself.
deps=(bc bison flex libelf-dev libssl-dev python3 make pkg-config cpio kmod xz-utils
      llvm-19 clang-19 lld-19)
default_tree=/usr/src/linux-source-6.12
if [[ $tree == "$default_tree" ]]; then
  deps+=(linux-source-6.12)
fi
"$here/setup.sh" "${deps[@]}" >&2 || die "could not install the build dependencies (${deps[*]})"

# 2. Source: Debian ships a tarball; unpack it once.
if [[ ! -f $tree/Makefile ]]; then
  if [[ $tree == "$default_tree" && -f /usr/src/linux-source-6.12.tar.xz ]]; then
    say "unpacking /usr/src/linux-source-6.12.tar.xz into /usr/src"
    tar -C /usr/src -xf /usr/src/linux-source-6.12.tar.xz
  else
    die "$tree: no kernel source tree (no Makefile)"
  fi
fi
[[ -f $tree/scripts/clang-tools/gen_compile_commands.py ]] ||
  die "$tree: no scripts/clang-tools/gen_compile_commands.py; not a kernel tree"

cd "$tree"
make_k=(make -s LLVM=-19 ARCH=x86_64 "-j$jobs")

# 3. Configuration.  Redone when the stamp does not match, so a hand-edited
#    .config is rebuilt (make keeps the edit: olddefconfig only fills gaps).
if [[ ! -f .config || ! -f $stamp_name ]]; then
  say "configuring x86_64_defconfig"
  "${make_k[@]}" x86_64_defconfig
fi
say "enabling ${options[*]}"
for o in "${options[@]}"; do
  scripts/config --file .config --enable "$o"
done
"${make_k[@]}" olddefconfig
for o in "${options[@]}"; do
  grep -qx "CONFIG_$o=y" .config ||
    die "CONFIG_$o is not set after olddefconfig: a dependency is missing on this architecture"
done

# 4. Build mm/ so each unit leaves its .cmd file, then generate the database.
say "building mm/ with clang-19 (-j$jobs); the first time takes several minutes"
"${make_k[@]}" mm/
say "writing compile_commands.json"
python3 scripts/clang-tools/gen_compile_commands.py -d . -o compile_commands.json
units=$(grep -c '"file": ".*/mm/[^"]*\.c"' compile_commands.json || true)
say "compile_commands.json has $units units under mm/"

echo "$options_hash $(config_hash)" > "$stamp_name"
say "$tree prepared"
