// SPDX-License-Identifier: GPL-2.0-only
#include "FixesExport.h"

#include "clang-tidy/ClangTidy.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

namespace hvo::scan {

llvm::Error exportFixes(const std::string &Path, const std::vector<Finding> &Findings) {
  std::vector<clang::tidy::ClangTidyError> Errors;
  for (const Finding &F : Findings)
    Errors.push_back(F.Original);
  std::error_code Ec;
  llvm::raw_fd_ostream OS(Path, Ec, llvm::sys::fs::OF_Text);
  if (Ec)
    return llvm::createStringError(Ec, Path + ": " + Ec.message());
  // The whole tree is one "main file" here; clang-apply-replacements reads
  // each diagnostic's own file path and build directory.
  clang::tidy::exportReplacements("", Errors, OS);
  OS.close();
  if (OS.has_error())
    return llvm::createStringError(OS.error(), Path + ": " + OS.error().message());
  return llvm::Error::success();
}

} // namespace hvo::scan
