// SPDX-License-Identifier: GPL-2.0-only
//
// --export-fixes: the reported findings in clang-tidy's own YAML, so
// clang-apply-replacements and editors take them as from clang-tidy.
#ifndef HVO_SCAN_FIXESEXPORT_H
#define HVO_SCAN_FIXESEXPORT_H

#include "Findings.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace hvo::scan {

void exportFixes(llvm::raw_ostream &OS, const std::vector<Finding> &Findings);

} // namespace hvo::scan

#endif
