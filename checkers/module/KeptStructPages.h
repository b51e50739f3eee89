// SPDX-License-Identifier: GPL-2.0-only
//
// The number of struct pages HVO keeps writable at the start of every
// optimized folio: one vmemmap page worth, PAGE_SIZE / sizeof(struct page)
// (HUGETLB_VMEMMAP_RESERVE_PAGES in mm/hugetlb_vmemmap.h, 6.12 l.17-18).
// Both numbers come from the translation unit itself, so a 16K-page or a
// 72-byte struct page configuration gets its own bound.
#ifndef HVO_CHECKERS_KEPTSTRUCTPAGES_H
#define HVO_CHECKERS_KEPTSTRUCTPAGES_H

#include "clang/AST/ASTContext.h"
#include "clang/Lex/Preprocessor.h"
#include <cstdint>
#include <optional>

namespace clang::tidy::hvo {

struct KeptStructPages {
  uint64_t Count = 0;         ///< struct pages kept per folio
  uint64_t PageSize = 0;      ///< PAGE_SIZE as the unit defines it
  uint64_t StructPageSize = 0;
  bool PageSizeFromUnit = false; ///< false: the PageSize option was used
};

/// Evaluates the PAGE_SIZE macro of the unit (object-like macros, integer
/// literals, parentheses, `_AC(x, UL)`-style wrappers, << >> * / + - | ~).
std::optional<uint64_t> evaluatePageSizeMacro(const Preprocessor &PP);

/// The kept bound for this unit; the layout of \p StructPage (the `struct
/// page` definition) gives its size.  \p FallbackPageSize is used when the
/// unit has no evaluable PAGE_SIZE.
std::optional<KeptStructPages> computeKeptStructPages(const Preprocessor *PP,
                                                      const ASTContext &Ctx,
                                                      const RecordDecl *StructPage,
                                                      uint64_t FallbackPageSize);

} // namespace clang::tidy::hvo

#endif
