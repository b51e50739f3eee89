// SPDX-License-Identifier: GPL-2.0-only
#ifndef HVO_CHECKERS_SHAREDTAILWRITECHECK_H
#define HVO_CHECKERS_SHAREDTAILWRITECHECK_H

#include "TailSlotJudge.h"
#include "clang-tidy/ClangTidyCheck.h"

namespace clang::tidy::hvo {

/// Finds stores into a struct page that may be a tail slot of a
/// vmemmap-optimized folio, whose vmemmap maps a shared read-only frame:
/// direct field stores, the kernel's page setters and atomic operations on
/// _refcount/_mapcount.  Indexes below the kept struct pages, code guarded
/// by "not optimized" or a successful restore, preparation before the folio
/// is optimized and configured safe contexts stay silent.
///
/// For the user-facing documentation see docs/checks/hvo-shared-tail-write.md.
class SharedTailWriteCheck : public ClangTidyCheck {
public:
  SharedTailWriteCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void registerPPCallbacks(const SourceManager &SM, Preprocessor *PP,
                           Preprocessor *ModuleExpanderPP) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  const std::string Setters;
  const std::string FlagSetterPrefixes;
  const std::string AtomicReadFunctions;
  std::vector<std::string> SetterList, PrefixList, AtomicReadList;
  TailSlotJudge Judge;
};

} // namespace clang::tidy::hvo

#endif
