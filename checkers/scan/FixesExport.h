// SPDX-License-Identifier: GPL-2.0-only
//
// --export-fixes: the reported findings in clang-tidy's own YAML, so
// clang-apply-replacements and editors take them as from clang-tidy.
#ifndef HVO_SCAN_FIXESEXPORT_H
#define HVO_SCAN_FIXESEXPORT_H

#include "Findings.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hvo::scan {

llvm::Error exportFixes(const std::string &Path, const std::vector<Finding> &Findings);

} // namespace hvo::scan

#endif
