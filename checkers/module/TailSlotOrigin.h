// SPDX-License-Identifier: GPL-2.0-only
//
// Decides whether a struct page expression may denote a tail slot of a huge
// folio beyond the struct pages HVO keeps writable, and remembers where that
// pointer was formed so a diagnostic can point at it.
#ifndef HVO_CHECKERS_TAILSLOTORIGIN_H
#define HVO_CHECKERS_TAILSLOTORIGIN_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::hvo {

struct TailSlotOrigin {
  enum class Kind {
    FolioPage,     ///< folio_page(folio, i), &folio->page + i
    PageOffset,    ///< page + i / &page[i] / nth_page(page, i) in a folio loop
    PfnInFolio,    ///< pfn_to_page(folio_pfn(folio) + i)
    PointerWalk,   ///< p++ / p = nth_page(p, 1) in a loop over the folio
  };
  Kind How = Kind::FolioPage;
  const Expr *Formed = nullptr;  ///< where the tail pointer is formed
  const Expr *Index = nullptr;   ///< the offset into the folio (null: a walk)
  const Expr *Folio = nullptr;   ///< the folio, when the pointer names one
  const VarDecl *Through = nullptr; ///< local pointer variable in between
};

/// Answers "may this be a tail slot?" for one function.  Cheap to build; the
/// heavy work (parents, assignments) happens only for candidate pointers.
class TailSlotFinder {
public:
  TailSlotFinder(ASTContext &Ctx, const FunctionDecl *Fn,
                 const std::vector<std::string> &FolioSizeFunctions,
                 uint64_t KeptStructPages);

  /// \p Page is a `struct page *` expression or a `struct page` lvalue.
  std::optional<TailSlotOrigin> originOf(const Expr *Page) const;

  /// True when \p Index at \p Use is provably below the kept struct pages:
  /// a constant, or a loop counter whose enclosing loop bounds it.
  bool isIndexBelowKept(const Expr *Index) const;

private:
  std::optional<TailSlotOrigin> classify(const Expr *E, unsigned Depth) const;
  std::optional<TailSlotOrigin> classifyOffset(const Expr *Whole,
                                               const Expr *Base,
                                               const Expr *Index,
                                               unsigned Depth) const;
  std::optional<TailSlotOrigin> classifyWalk(const VarDecl *V,
                                             unsigned Depth) const;
  std::optional<TailSlotOrigin> classifyPfn(const Expr *Whole, const Expr *Pfn,
                                            unsigned Depth) const;
  const Expr *folioOfBase(const Expr *Base, unsigned Depth) const;
  bool isFolioSizedLoopCounter(const Expr *Index) const;
  bool mentionsFolioSize(const Expr *E) const;
  bool callsFolioSize(const Stmt *S) const;
  std::vector<const Expr *> valuesAssignedTo(const VarDecl *V) const;

  ASTContext &Ctx;
  const FunctionDecl *Fn;
  const std::vector<std::string> &FolioSizeFunctions;
  uint64_t Kept;
};

/// The folio variable an expression names, looking through `&folio->page`,
/// page_folio(), folio_page(); nullptr when it is not a plain variable.
const VarDecl *folioVariableOf(const Expr *E);

} // namespace clang::tidy::hvo

#endif
