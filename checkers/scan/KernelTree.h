// SPDX-License-Identifier: GPL-2.0-only
//
// Where the tree, its configuration and its compile database are: the
// default tree (Debian's 6.12 source, prepared on first use by
// scripts/prepare-kernel-tree.sh) or a user's tree given by --tree / -p.
#ifndef HVO_SCAN_KERNELTREE_H
#define HVO_SCAN_KERNELTREE_H

#include "ScanOptions.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hvo::scan {

inline constexpr const char *DefaultTree = "/usr/src/linux-source-6.12";

struct KernelTree {
  std::string Root;         // absolute; relative paths in reports start here
  std::string DatabasePath; // compile_commands.json
  std::vector<std::string> Paths; // absolute paths whose units are analysed
};

// Prepares the default tree when no --tree/-p is given (prints progress);
// checks a user tree has a configuration and a database.
llvm::Expected<KernelTree> locateKernelTree(const ScanOptions &Options);

} // namespace hvo::scan

#endif
