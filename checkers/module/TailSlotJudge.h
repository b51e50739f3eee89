// SPDX-License-Identifier: GPL-2.0-only
//
// The shared decision of hvo-shared-tail-write and hvo-tail-metadata-read:
// is this access to a struct page an access to a tail slot that may be
// backed by a shared read-only vmemmap frame, with nothing proving
// otherwise?  Owns the options both checks document, and the per-unit
// caches (kept bound, one guard analysis per function).  One instance per
// check instance, i.e. per translation unit: nothing here is shared between
// threads.
#ifndef HVO_CHECKERS_TAILSLOTJUDGE_H
#define HVO_CHECKERS_TAILSLOTJUDGE_H

#include "KeptStructPages.h"
#include "TailSlotOrigin.h"
#include "VmemmapGuardAnalysis.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseMap.h"
#include <memory>

namespace clang::tidy::hvo {

struct TailSlotAccess {
  TailSlotOrigin Origin;
  KeptStructPages Kept;
};

class TailSlotJudge {
public:
  explicit TailSlotJudge(ClangTidyCheck::OptionsView &Options);
  void storeOptions(ClangTidyCheck::OptionsView &Options,
                    ClangTidyOptions::OptionMap &Opts) const;
  void setPreprocessor(const Preprocessor *P) { PP = P; }
  void reset();

  /// The access to \p Page at statement \p At in \p Fn, when it may touch a
  /// shared tail and no guard, bound or safe context excuses it.
  std::optional<TailSlotAccess> judge(const Expr *Page, const Stmt *At,
                                      const FunctionDecl *Fn, ASTContext &Ctx);

private:
  const KeptStructPages *keptFor(const Expr *Page, ASTContext &Ctx);

  std::string FolioSizeFunctionsText, OptimizedTestsText,
      NotOptimizableTestsText, AssertionMacrosText, RestoreFunctionsText,
      OptimizeFunctionsText, SafeContextsText;
  uint64_t FallbackPageSize;
  std::vector<std::string> FolioSizeFunctions, SafeContexts;
  GuardOptions Guards;

  const Preprocessor *PP = nullptr;
  std::optional<KeptStructPages> Kept;
  bool KeptComputed = false;
  llvm::DenseMap<const FunctionDecl *, std::unique_ptr<VmemmapGuardAnalysis>>
      Analyses;
};

/// Human-readable words for the origin kind, for notes.
llvm::StringRef describeOrigin(TailSlotOrigin::Kind K);

/// Emits the notes shared by both checks: where the pointer was formed, the
/// variable it went through, and the kept bound.
void noteTailSlotEvidence(ClangTidyCheck &Check, const TailSlotAccess &Access);

} // namespace clang::tidy::hvo

#endif
