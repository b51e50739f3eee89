// SPDX-License-Identifier: GPL-2.0-only
#ifndef HVO_CHECKERS_VMEMMAPBUGONCHECK_H
#define HVO_CHECKERS_VMEMMAPBUGONCHECK_H

#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/Support/Regex.h"
#include <string>
#include <vector>

namespace clang::tidy::hvo {

/// Finds BUG_ON()/VM_BUG_ON()/BUG() in vmemmap remap and populate paths.
/// Review of the shared-tail series asked for warnings and error returns
/// instead ("No BUG_ON.", David Hildenbrand on vmemmap_get_tail()): a bad
/// order or an unexpected PTE there is a condition the caller can handle.
///
/// For the user-facing documentation see docs/checks/hvo-vmemmap-bug-on.md.
class VmemmapBugOnCheck : public ClangTidyCheck {
public:
  VmemmapBugOnCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void registerPPCallbacks(const SourceManager &SM, Preprocessor *PP,
                           Preprocessor *ModuleExpanderPP) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;

  struct BugOnUse {
    SourceLocation Loc;
    std::string Macro;
  };
  /// Called by the PP callbacks for every BUG_ON-like macro written in a file.
  void onBugOn(SourceLocation Loc, StringRef Macro) {
    Uses.push_back({Loc, Macro.str()});
  }

private:
  const std::string BugOnMacros;
  const std::string VmemmapFunctions;
  std::vector<std::string> BugOnMacroList;
  llvm::Regex FunctionRegex;
  std::vector<BugOnUse> Uses; // in source order
};

} // namespace clang::tidy::hvo

#endif
