// SPDX-License-Identifier: GPL-2.0-only
//
// Is a struct member access a read, a store, or not evaluated at all?
// Kernel accessors make this less obvious than it looks: WRITE_ONCE(x, v)
// stores through *(volatile typeof(x) *)&(x), and READ_ONCE/WRITE_ONCE
// repeat their argument inside typeof().
#ifndef HVO_CHECKERS_FIELDACCESS_H
#define HVO_CHECKERS_FIELDACCESS_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"

namespace clang::tidy::hvo {

enum class FieldAccess { Read, Store, Unevaluated };

FieldAccess accessKind(const MemberExpr *ME, ASTContext &Ctx);

} // namespace clang::tidy::hvo

#endif
