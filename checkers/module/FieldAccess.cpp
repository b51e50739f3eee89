// SPDX-License-Identifier: GPL-2.0-only
#include "FieldAccess.h"
#include "clang/AST/ParentMapContext.h"

namespace clang::tidy::hvo {

// Walking up through what keeps it an lvalue
// (parens, & and *, casts other than the load), an assignment or ++/--
// makes it a store; typeof()/sizeof() make it unevaluated (READ_ONCE and
// WRITE_ONCE repeat their argument inside typeof).
FieldAccess accessKind(const MemberExpr *ME, ASTContext &Ctx) {
  const Stmt *Cur = ME;
  bool StillLValue = true;
  FieldAccess Kind = FieldAccess::Read;
  for (unsigned Steps = 0; Steps < 256; ++Steps) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    if (Parents.empty())
      return Kind;
    if (Parents[0].get<TypeLoc>())
      return FieldAccess::Unevaluated;
    const Stmt *P = Parents[0].get<Stmt>();
    if (!P)
      return Kind;
    if (isa<UnaryExprOrTypeTraitExpr>(P))
      return FieldAccess::Unevaluated;
    if (StillLValue && Kind == FieldAccess::Read) {
      const auto *BO = dyn_cast<BinaryOperator>(P);
      const auto *UO = dyn_cast<UnaryOperator>(P);
      const auto *Cast = dyn_cast<CastExpr>(P);
      if (BO && BO->isAssignmentOp() && BO->getLHS() == Cur)
        Kind = FieldAccess::Store;
      else if (UO && UO->isIncrementDecrementOp())
        Kind = FieldAccess::Store;
      else if (!(isa<ParenExpr>(P) ||
                 (UO && (UO->getOpcode() == UO_AddrOf ||
                         UO->getOpcode() == UO_Deref)) ||
                 (Cast && Cast->getCastKind() != CK_LValueToRValue)))
        StillLValue = false;
    }
    Cur = P;
  }
  return Kind;
}

} // namespace clang::tidy::hvo
