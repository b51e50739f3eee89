// SPDX-License-Identifier: GPL-2.0-only
//
// Small questions about kernel declarations and macros that several checks
// ask: is this type struct page, which macro did this statement come from,
// what function does this call name.
#ifndef HVO_CHECKERS_KERNELNAMES_H
#define HVO_CHECKERS_KERNELNAMES_H

#include "clang/AST/Expr.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/StringRef.h"
#include <string>
#include <vector>

namespace clang::tidy::hvo {

/// True for `struct <Name>` (not a pointer), looking through typedefs and
/// qualifiers.
bool isKernelStruct(QualType T, llvm::StringRef Name);

/// True for `struct <Name> *` (any qualifiers).
bool isPointerToKernelStruct(QualType T, llvm::StringRef Name);

/// Strips what never changes which object an expression denotes: parens,
/// implicit and explicit casts, `!!x` and `__builtin_expect(x, c)` (the
/// expansion of likely()/unlikely()).
const Expr *stripNoise(const Expr *E);

/// Name of the function a call calls directly, or "" for indirect calls.
llvm::StringRef calleeName(const CallExpr *Call);

/// Whether some macro expansion named \p Name (at any nesting level) begins
/// exactly where \p Loc's expansion chain begins.
bool startsMacroNamed(SourceLocation Loc, llvm::StringRef Name,
                      const SourceManager &SM, const LangOptions &LangOpts);

/// Calls \p Visit on \p S and every statement below it, children in order.
template <typename Fn> void forEachStmt(const Stmt *S, Fn &&Visit) {
  if (!S)
    return;
  Visit(S);
  for (const Stmt *Child : S->children())
    forEachStmt(Child, Visit);
}

/// Splits a ';'-separated option value into owned strings.
std::vector<std::string> splitOptionList(llvm::StringRef Value);

/// True when \p Name equals one of \p Names.
bool isOneOf(llvm::StringRef Name, const std::vector<std::string> &Names);

/// True when \p Name is longer than, and starts with, one of \p Prefixes.
bool hasPrefixIn(llvm::StringRef Name, const std::vector<std::string> &Prefixes);

} // namespace clang::tidy::hvo

#endif
