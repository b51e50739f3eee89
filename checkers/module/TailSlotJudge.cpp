// SPDX-License-Identifier: GPL-2.0-only
#include "TailSlotJudge.h"
#include "KernelNames.h"

namespace clang::tidy::hvo {

// Defaults are the Linux 6.12 names; docs/checks/*.md explain each entry.
static constexpr llvm::StringLiteral DefaultFolioSizeFunctions =
    "folio_nr_pages;pages_per_huge_page;compound_nr;folio_size;"
    "huge_page_size;thp_nr_pages;folio_large_nr_pages";
static constexpr llvm::StringLiteral DefaultOptimizedTests =
    "folio_test_hugetlb_vmemmap_optimized;HPageVmemmapOptimized";
static constexpr llvm::StringLiteral DefaultNotOptimizableTests =
    "folio_test_hugetlb";
static constexpr llvm::StringLiteral DefaultAssertionMacros =
    "VM_WARN_ON_FOLIO;VM_WARN_ON_ONCE_FOLIO;VM_BUG_ON_FOLIO;VM_WARN_ON;"
    "VM_WARN_ON_ONCE;VM_BUG_ON;BUG_ON;WARN_ON;WARN_ON_ONCE";
static constexpr llvm::StringLiteral DefaultRestoreFunctions =
    "hugetlb_vmemmap_restore_folio";
static constexpr llvm::StringLiteral DefaultOptimizeFunctions =
    "hugetlb_vmemmap_optimize_folio;hugetlb_vmemmap_optimize_folios;"
    "__hugetlb_vmemmap_optimize_folio";
// Functions that only ever see a folio before it can have been optimized
// (its preparation) or that initialise the shared tail itself.
static constexpr llvm::StringLiteral DefaultSafeContexts =
    "prep_compound_page;prep_compound_head;prep_compound_tail;"
    "__prep_compound_gigantic_folio;prep_compound_gigantic_folio;"
    "hugetlb_folio_init_tail_vmemmap;hugetlb_folio_init_vmemmap;"
    "init_new_hugetlb_folio;prep_new_hugetlb_folio;memmap_init_compound;"
    "__init_single_page;init_compound_tail;vmemmap_get_tail;"
    "vmemmap_shared_tail_page;"
    // Anonymous-THP-only path (THP split, mm/migrate.c in 6.12).
    "try_to_map_unused_to_zeropage";

TailSlotJudge::TailSlotJudge(ClangTidyCheck::OptionsView &Options)
    : FolioSizeFunctionsText(
          Options.get("FolioSizeFunctions", DefaultFolioSizeFunctions)),
      OptimizedTestsText(Options.get("OptimizedTests", DefaultOptimizedTests)),
      NotOptimizableTestsText(Options.get(
          "NotOptimizableTests", DefaultNotOptimizableTests)),
      AssertionMacrosText(
          Options.get("AssertionMacros", DefaultAssertionMacros)),
      RestoreFunctionsText(
          Options.get("RestoreFunctions", DefaultRestoreFunctions)),
      OptimizeFunctionsText(
          Options.get("OptimizeFunctions", DefaultOptimizeFunctions)),
      SafeContextsText(Options.get("SafeContexts", DefaultSafeContexts)),
      FallbackPageSize(Options.get<uint64_t>("PageSize", 4096)) {
  FolioSizeFunctions = splitOptionList(FolioSizeFunctionsText);
  SafeContexts = splitOptionList(SafeContextsText);
  Guards.OptimizedTests = splitOptionList(OptimizedTestsText);
  Guards.NotOptimizableTests = splitOptionList(NotOptimizableTestsText);
  Guards.AssertionMacros = splitOptionList(AssertionMacrosText);
  Guards.RestoreFunctions = splitOptionList(RestoreFunctionsText);
  Guards.OptimizeFunctions = splitOptionList(OptimizeFunctionsText);
  if (FallbackPageSize == 0)
    FallbackPageSize = 4096;
}

void TailSlotJudge::storeOptions(ClangTidyCheck::OptionsView &Options,
                                 ClangTidyOptions::OptionMap &Opts) const {
  Options.store(Opts, "FolioSizeFunctions", FolioSizeFunctionsText);
  Options.store(Opts, "OptimizedTests", OptimizedTestsText);
  Options.store(Opts, "NotOptimizableTests", NotOptimizableTestsText);
  Options.store(Opts, "AssertionMacros", AssertionMacrosText);
  Options.store(Opts, "RestoreFunctions", RestoreFunctionsText);
  Options.store(Opts, "OptimizeFunctions", OptimizeFunctionsText);
  Options.store(Opts, "SafeContexts", SafeContextsText);
  Options.store<uint64_t>(Opts, "PageSize", FallbackPageSize);
}

void TailSlotJudge::reset() {
  Kept.reset();
  KeptComputed = false;
  Analyses.clear();
}

const KeptStructPages *TailSlotJudge::keptFor(const Expr *Page, ASTContext &Ctx) {
  if (!KeptComputed) {
    QualType T = Page->IgnoreParenImpCasts()->getType();
    if (const auto *PT = T->getAs<PointerType>())
      T = PT->getPointeeType();
    const RecordDecl *RD = T.getCanonicalType()->getAsRecordDecl();
    Kept = computeKeptStructPages(PP, Ctx, RD, FallbackPageSize);
    KeptComputed = true;
  }
  return Kept ? &*Kept : nullptr;
}

std::optional<TailSlotAccess> TailSlotJudge::judge(const Expr *Page,
                                                   const Stmt *At,
                                                   const FunctionDecl *Fn,
                                                   ASTContext &Ctx) {
  if (!Page || !Fn || !Fn->hasBody())
    return std::nullopt;
  if (Fn->getIdentifier() && isOneOf(Fn->getName(), SafeContexts))
    return std::nullopt;
  const KeptStructPages *K = keptFor(Page, Ctx);
  if (!K || K->Count == 0)
    return std::nullopt;
  TailSlotFinder Finder(Ctx, Fn, FolioSizeFunctions, K->Count);
  std::optional<TailSlotOrigin> Origin = Finder.originOf(Page);
  if (!Origin)
    return std::nullopt;
  auto &Analysis = Analyses[Fn];
  if (!Analysis)
    Analysis = std::make_unique<VmemmapGuardAnalysis>(*Fn, Ctx, Guards);
  const VarDecl *Folio = Origin->Folio ? folioVariableOf(Origin->Folio) : nullptr;
  if (Analysis->guardAt(At, Folio))
    return std::nullopt;
  return TailSlotAccess{*Origin, *K};
}

llvm::StringRef describeOrigin(TailSlotOrigin::Kind K) {
  switch (K) {
  case TailSlotOrigin::Kind::FolioPage:
    return "struct page indexed into the folio";
  case TailSlotOrigin::Kind::PageOffset:
    return "struct page offset within a loop over the folio";
  case TailSlotOrigin::Kind::PfnInFolio:
    return "struct page of a pfn inside the folio";
  case TailSlotOrigin::Kind::PointerWalk:
    return "struct page pointer stepped through the folio";
  }
  return "struct page";
}

void noteTailSlotEvidence(ClangTidyCheck &Check, const TailSlotAccess &Access) {
  const TailSlotOrigin &O = Access.Origin;
  Check.diag(O.Formed->getBeginLoc(),
             "%0 formed here; only the first %1 struct pages of an optimized "
             "folio (PAGE_SIZE %2 / sizeof(struct page) %3%select{|, PAGE_SIZE "
             "from the PageSize option}4) keep a vmemmap page of their own",
             DiagnosticIDs::Note)
      << describeOrigin(O.How) << static_cast<unsigned>(Access.Kept.Count)
      << static_cast<unsigned>(Access.Kept.PageSize)
      << static_cast<unsigned>(Access.Kept.StructPageSize)
      << (Access.Kept.PageSizeFromUnit ? 0 : 1);
  if (O.Through)
    Check.diag(O.Through->getLocation(), "the pointer reaches the access through %0",
               DiagnosticIDs::Note)
        << O.Through;
}

} // namespace clang::tidy::hvo
