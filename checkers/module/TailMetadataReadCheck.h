// SPDX-License-Identifier: GPL-2.0-only
#ifndef HVO_CHECKERS_TAILMETADATAREADCHECK_H
#define HVO_CHECKERS_TAILMETADATAREADCHECK_H

#include "TailSlotJudge.h"
#include "clang-tidy/ClangTidyCheck.h"

namespace clang::tidy::hvo {

/// Finds per-page metadata reads (zone, node, reserved/hwpoison flags,
/// mapcount, refcount, private) from a struct page that may be a tail slot
/// of a vmemmap-optimized folio: a shared tail carries only the canonical
/// tail contents, so the answer is the shared frame's, not this page's.
///
/// For the user-facing documentation see docs/checks/hvo-tail-metadata-read.md.
class TailMetadataReadCheck : public ClangTidyCheck {
public:
  TailMetadataReadCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void registerPPCallbacks(const SourceManager &SM, Preprocessor *PP,
                           Preprocessor *ModuleExpanderPP) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  const std::string Readers;
  std::vector<std::string> ReaderList;
  TailSlotJudge Judge;
};

} // namespace clang::tidy::hvo

#endif
