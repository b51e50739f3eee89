// SPDX-License-Identifier: GPL-2.0-only
#include "FixesExport.h"

#include "clang-tidy/ClangTidy.h"

namespace hvo::scan {

void exportFixes(llvm::raw_ostream &OS, const std::vector<Finding> &Findings) {
  std::vector<clang::tidy::ClangTidyError> Errors;
  for (const Finding &F : Findings)
    Errors.push_back(F.Original);
  // The whole tree is one "main file" here; clang-apply-replacements reads
  // each diagnostic's own file path and build directory.
  clang::tidy::exportReplacements("", Errors, OS);
}

} // namespace hvo::scan
