// SPDX-License-Identifier: GPL-2.0-only
//
// Which folios are known not to be vmemmap-optimized at a statement.
//
// Clang's dataflow framework refuses C translation units, so this is a small
// forward "must" analysis of its own over Clang's CFG: a worklist over
// blocks, facts intersected at joins.  A fact says "folio F is not
// vmemmap-optimized here" and remembers its evidence:
//   - the false edge of folio_test_hugetlb_vmemmap_optimized(F) or
//     HPageVmemmapOptimized(&F->page) (configurable tests);
//   - the success edge of hugetlb_vmemmap_restore_folio(h, F), directly in
//     the condition or through a variable holding its result;
//   - the entry of a function that optimizes the folio later: everything
//     before the optimize call is preparation of a not-yet-optimized folio;
//   - the false edge of folio_test_hugetlb(F), and the statement after an
//     assertion that F is not hugetlb, e.g. VM_WARN_ON_FOLIO(
//     folio_test_hugetlb(folio), folio): only hugetlb folios have read-only
//     shared tails in Linux 6.12.  (The assertion is no branch: the macro
//     compiles to sizeof() without CONFIG_DEBUG_VM.)
// Facts die at an optimize call and when the folio variable is reassigned.
#ifndef HVO_CHECKERS_VMEMMAPGUARDANALYSIS_H
#define HVO_CHECKERS_VMEMMAPGUARDANALYSIS_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::hvo {

struct GuardOptions {
  std::vector<std::string> OptimizedTests;
  /// Tests whose false result proves the folio cannot be optimized, in a
  /// branch or asserted: VM_WARN_ON_FOLIO(folio_test_hugetlb(f), f).
  std::vector<std::string> NotOptimizableTests;
  std::vector<std::string> AssertionMacros;
  std::vector<std::string> RestoreFunctions;
  std::vector<std::string> OptimizeFunctions;
};

struct NotOptimizedFact {
  enum class Why { TestedFalse, Restored, BeforeOptimize, NotHugetlb };
  const VarDecl *Folio = nullptr; ///< nullptr: any folio of the function
  Why Reason = Why::TestedFalse;
  SourceLocation Evidence;
};

class VmemmapGuardAnalysis {
public:
  VmemmapGuardAnalysis(const FunctionDecl &Fn, ASTContext &Ctx,
                       const GuardOptions &Options);

  /// The fact protecting a write to \p Folio (nullptr: folio unknown) at
  /// \p At, if one holds on every path reaching it.
  std::optional<NotOptimizedFact> guardAt(const Stmt *At,
                                          const VarDecl *Folio) const;

private:
  using FactSet = std::vector<NotOptimizedFact>;
  struct Branch {
    std::optional<NotOptimizedFact> OnTrue, OnFalse;
  };

  void collectRestoreResults(const Stmt *Body);
  void collectAssertions(const Stmt *Body);
  bool isInAssertionMacro(const Expr *E) const;
  void run();
  void transfer(const Stmt *S, FactSet &Facts) const;
  Branch interpretCondition(const Expr *Cond) const;
  static FactSet join(const FactSet &A, const FactSet &B);
  const Stmt *elementFor(const Stmt *S, const CFGBlock *&Block,
                         unsigned &Index) const;

  ASTContext &Ctx;
  const GuardOptions &Options;
  std::unique_ptr<CFG> Graph;
  // Per block id: facts at entry, nullopt while unreached.
  std::vector<std::optional<FactSet>> EntryFacts;
  llvm::DenseMap<const Stmt *, std::pair<const CFGBlock *, unsigned>> Where;
  // Variables that hold a restore result, with the folio restored.
  llvm::DenseMap<const VarDecl *, std::pair<const VarDecl *, SourceLocation>>
      RestoreResults;
  std::optional<SourceLocation> FirstOptimizeCall;
  // Top-level statements that assert a folio is not optimizable.
  llvm::DenseMap<const Stmt *, NotOptimizedFact> Assertions;
};

} // namespace clang::tidy::hvo

#endif
