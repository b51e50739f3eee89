// SPDX-License-Identifier: GPL-2.0-only
//
// Makes a compile command from a GCC-built kernel acceptable to clang: drops
// the flags clang's driver does not know (or knows only as ignored GCC
// optimizations, or rejects for the target), warning options naming groups
// clang does not have, and anything that would load code (GCC plugins).
// Kernel Makefiles add such flags with cc-option for GCC only; none of them
// changes what the front end parses, so findings stay those of a clang build.
#ifndef HVO_SCAN_GCCFLAGS_H
#define HVO_SCAN_GCCFLAGS_H

#include <string>
#include <vector>

namespace hvo::scan {

struct FilteredCommand {
  std::vector<std::string> Args;    // argv[0] first, as given
  std::vector<std::string> Dropped; // the flags removed, as spelled
};

// Argv is a whole command line, compiler first.  Also removes the kernel's
// -Wp,-MMD,<file> / -Wp,-MD,<file>, which would make the front end write
// dependency files into the tree; those are not reported as dropped.
FilteredCommand dropFlagsClangCannotUse(const std::vector<std::string> &Argv);

} // namespace hvo::scan

#endif
