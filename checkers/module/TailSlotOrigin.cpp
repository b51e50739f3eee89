// SPDX-License-Identifier: GPL-2.0-only
#include "TailSlotOrigin.h"
#include "KernelNames.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/Stmt.h"
#include "clang/AST/StmtVisitor.h"

namespace clang::tidy::hvo {
namespace {

constexpr unsigned MaxDepth = 4;

const Expr *strip(const Expr *E) { return E ? stripNoise(E) : nullptr; }

const VarDecl *localVariable(const Expr *E) {
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(strip(E));
  if (!Ref)
    return nullptr;
  const auto *V = dyn_cast<VarDecl>(Ref->getDecl());
  if (!V || isa<ParmVarDecl>(V) || !V->hasLocalStorage())
    return nullptr;
  return V;
}

bool refersTo(const Expr *E, const VarDecl *V) {
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(strip(E));
  return Ref && Ref->getDecl() == V;
}

// `vmemmap + pfn` is what pfn_to_page() expands to on SPARSEMEM_VMEMMAP
// (include/asm-generic/memory_model.h, 6.12 l.37); mem_map for FLATMEM.
// On x86-64 `vmemmap` is itself a macro around vmemmap_base or a constant
// (arch/x86/include/asm/pgtable_64.h, 6.12 l.258), so the macro name counts.
bool isMemmapBase(const Expr *E, const ASTContext &Ctx) {
  if (!E)
    return false;
  const SourceManager &SM = Ctx.getSourceManager();
  if (startsMacroNamed(E->getBeginLoc(), "vmemmap", SM, Ctx.getLangOpts()) ||
      startsMacroNamed(E->getBeginLoc(), "mem_map", SM, Ctx.getLangOpts()))
    return true;
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(strip(E));
  if (!Ref || !Ref->getDecl()->getIdentifier())
    return false;
  StringRef Name = Ref->getDecl()->getName();
  return Name == "vmemmap" || Name == "mem_map" || Name == "vmemmap_base";
}

// The comparison `V < Bound` (or Bound > V, <=, >=) inside a loop
// condition, looking through && chains.  Returns Bound and whether the
// comparison is inclusive.
std::optional<std::pair<const Expr *, bool>> upperBoundOf(const Expr *Cond,
                                                          const VarDecl *V) {
  const auto *BO = dyn_cast_or_null<BinaryOperator>(strip(Cond));
  if (!BO)
    return std::nullopt;
  if (BO->getOpcode() == BO_LAnd) {
    if (auto B = upperBoundOf(BO->getLHS(), V))
      return B;
    return upperBoundOf(BO->getRHS(), V);
  }
  switch (BO->getOpcode()) {
  case BO_LT:
  case BO_LE:
    if (refersTo(BO->getLHS(), V))
      return std::make_pair(BO->getRHS(), BO->getOpcode() == BO_LE);
    return std::nullopt;
  case BO_GT:
  case BO_GE:
    if (refersTo(BO->getRHS(), V))
      return std::make_pair(BO->getLHS(), BO->getOpcode() == BO_GE);
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

const Expr *loopCondition(const DynTypedNode &N) {
  if (const auto *For = N.get<ForStmt>())
    return For->getCond();
  if (const auto *While = N.get<WhileStmt>())
    return While->getCond();
  if (const auto *Do = N.get<DoStmt>())
    return Do->getCond();
  return nullptr;
}

} // namespace

const VarDecl *folioVariableOf(const Expr *E) {
  for (unsigned Depth = 0; E && Depth < MaxDepth; ++Depth) {
    E = strip(E);
    if (const auto *G = dyn_cast<GenericSelectionExpr>(E)) {
      // page_folio() is a _Generic over _compound_head().
      if (G->isResultDependent())
        return nullptr;
      E = G->getResultExpr();
      continue;
    }
    if (const auto *UO = dyn_cast<UnaryOperator>(E);
        UO && UO->getOpcode() == UO_AddrOf) {
      E = UO->getSubExpr();
      continue;
    }
    if (const auto *ME = dyn_cast<MemberExpr>(E)) {
      E = ME->getBase();
      continue;
    }
    if (const auto *Call = dyn_cast<CallExpr>(E)) {
      StringRef Name = calleeName(Call);
      if (Call->getNumArgs() >= 1 &&
          (Name == "page_folio" || Name == "_compound_head" ||
           Name == "compound_head" || Name == "folio_page" ||
           Name == "page_folio_const")) {
        E = Call->getArg(0);
        continue;
      }
      return nullptr;
    }
    if (const auto *Ref = dyn_cast<DeclRefExpr>(E))
      return dyn_cast<VarDecl>(Ref->getDecl());
    return nullptr;
  }
  return nullptr;
}

TailSlotFinder::TailSlotFinder(ASTContext &Ctx, const FunctionDecl *Fn,
                               const std::vector<std::string> &FolioSizeFunctions,
                               uint64_t KeptStructPages)
    : Ctx(Ctx), Fn(Fn), FolioSizeFunctions(FolioSizeFunctions),
      Kept(KeptStructPages) {}

std::optional<TailSlotOrigin> TailSlotFinder::originOf(const Expr *Page) const {
  return classify(Page, 0);
}

std::vector<const Expr *> TailSlotFinder::valuesAssignedTo(const VarDecl *V) const {
  std::vector<const Expr *> Values;
  if (const Expr *Init = V->getInit())
    Values.push_back(Init);
  if (!Fn || !Fn->getBody())
    return Values;
  forEachStmt(Fn->getBody(), [&](const Stmt *S) {
    const auto *BO = dyn_cast<BinaryOperator>(S);
    if (BO && BO->getOpcode() == BO_Assign && refersTo(BO->getLHS(), V))
      Values.push_back(BO->getRHS());
  });
  return Values;
}

bool TailSlotFinder::isIndexBelowKept(const Expr *Index) const {
  if (!Index)
    return false;
  Expr::EvalResult Result;
  if (!Index->isValueDependent() && Index->EvaluateAsInt(Result, Ctx)) {
    const llvm::APSInt &Value = Result.Val.getInt();
    return !Value.isNegative() && Value.getZExtValue() < Kept;
  }
  const VarDecl *Counter = nullptr;
  if (const auto *Ref = dyn_cast<DeclRefExpr>(strip(Index)))
    Counter = dyn_cast<VarDecl>(Ref->getDecl());
  if (!Counter)
    return false;
  // Walk up to the enclosing loops; any of them bounding the counter by a
  // constant no larger than the kept count proves the index.
  DynTypedNodeList Parents = Ctx.getParents(*Index);
  for (unsigned Steps = 0; !Parents.empty() && Steps < 64; ++Steps) {
    const DynTypedNode &N = Parents[0];
    if (const Expr *Cond = loopCondition(N)) {
      if (auto Bound = upperBoundOf(Cond, Counter)) {
        Expr::EvalResult B;
        if (!Bound->first->isValueDependent() &&
            Bound->first->EvaluateAsInt(B, Ctx)) {
          const llvm::APSInt &Limit = B.Val.getInt();
          if (!Limit.isNegative()) {
            uint64_t L = Limit.getZExtValue();
            if (Bound->second ? L < Kept : L <= Kept)
              return true;
          }
        }
      }
    }
    if (N.get<FunctionDecl>())
      break;
    Parents = Ctx.getParents(N);
  }
  return false;
}

bool TailSlotFinder::callsFolioSize(const Stmt *S) const {
  bool Found = false;
  forEachStmt(S, [&](const Stmt *Sub) {
    if (const auto *Call = dyn_cast<CallExpr>(Sub))
      if (isOneOf(calleeName(Call), FolioSizeFunctions))
        Found = true;
  });
  return Found;
}

bool TailSlotFinder::mentionsFolioSize(const Expr *E) const {
  if (callsFolioSize(E))
    return true;
  // One level through locals: nr = folio_nr_pages(folio); i < nr, or
  // end = head + folio_nr_pages(folio); p < end.
  bool Found = false;
  forEachStmt(E, [&](const Stmt *S) {
    if (Found)
      return;
    if (const VarDecl *V = localVariable(dyn_cast<Expr>(S)))
      for (const Expr *Value : valuesAssignedTo(V))
        if (callsFolioSize(Value)) {
          Found = true;
          return;
        }
  });
  return Found;
}

bool TailSlotFinder::isFolioSizedLoopCounter(const Expr *Index) const {
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(strip(Index));
  const auto *Counter = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
  if (!Counter)
    return false;
  DynTypedNodeList Parents = Ctx.getParents(*Index);
  for (unsigned Steps = 0; !Parents.empty() && Steps < 64; ++Steps) {
    const DynTypedNode &N = Parents[0];
    if (const Expr *Cond = loopCondition(N))
      if (auto Bound = upperBoundOf(Cond, Counter))
        if (mentionsFolioSize(Bound->first))
          return true;
    if (N.get<FunctionDecl>())
      break;
    Parents = Ctx.getParents(N);
  }
  return false;
}

const Expr *TailSlotFinder::folioOfBase(const Expr *Base, unsigned Depth) const {
  Base = strip(Base);
  if (!Base || Depth > MaxDepth)
    return nullptr;
  // folio_page(folio, i) written as a call passes the folio itself.
  if (isPointerToKernelStruct(Base->getType(), "folio"))
    return Base;
  // &folio->page
  if (const auto *UO = dyn_cast<UnaryOperator>(Base);
      UO && UO->getOpcode() == UO_AddrOf) {
    const auto *ME = dyn_cast<MemberExpr>(UO->getSubExpr()->IgnoreParens());
    if (!ME || !ME->getMemberDecl()->getIdentifier() ||
        ME->getMemberDecl()->getName() != "page")
      return nullptr;
    // struct folio overlays its head page in an anonymous union: step out
    // of anonymous members to the folio itself.
    const Expr *Owner = ME->getBase()->IgnoreParenImpCasts();
    while (const auto *Anon = dyn_cast<MemberExpr>(Owner)) {
      const auto *Field = dyn_cast<FieldDecl>(Anon->getMemberDecl());
      if (!Field || !Field->isAnonymousStructOrUnion())
        break;
      Owner = Anon->getBase()->IgnoreParenImpCasts();
    }
    if (isPointerToKernelStruct(Owner->getType(), "folio") ||
        isKernelStruct(Owner->getType(), "folio"))
      return Owner;
    return nullptr;
  }
  // folio_page(folio, 0) written as a call
  if (const auto *Call = dyn_cast<CallExpr>(Base)) {
    if (calleeName(Call) == "folio_page" && Call->getNumArgs() == 2) {
      Expr::EvalResult R;
      if (Call->getArg(1)->EvaluateAsInt(R, Ctx) && R.Val.getInt().isZero())
        return Call->getArg(0);
    }
    return nullptr;
  }
  // head = &folio->page; ... head + i
  if (const VarDecl *V = localVariable(Base))
    for (const Expr *Value : valuesAssignedTo(V))
      if (const Expr *F = folioOfBase(Value, Depth + 1))
        return F;
  return nullptr;
}

std::optional<TailSlotOrigin>
TailSlotFinder::classifyOffset(const Expr *Whole, const Expr *Base,
                               const Expr *Index, unsigned Depth) const {
  if (isIndexBelowKept(Index))
    return std::nullopt;
  TailSlotOrigin O;
  O.Formed = Whole;
  O.Index = Index;
  if (const Expr *Folio = folioOfBase(Base, Depth)) {
    O.How = TailSlotOrigin::Kind::FolioPage;
    O.Folio = Folio;
    return O;
  }
  if (isFolioSizedLoopCounter(Index) || mentionsFolioSize(Index)) {
    O.How = TailSlotOrigin::Kind::PageOffset;
    return O;
  }
  return std::nullopt;
}

std::optional<TailSlotOrigin>
TailSlotFinder::classifyPfn(const Expr *Whole, const Expr *Pfn,
                            unsigned Depth) const {
  Pfn = strip(Pfn);
  if (!Pfn || Depth > MaxDepth)
    return std::nullopt;
  // folio_pfn(folio) + i
  if (const auto *BO = dyn_cast<BinaryOperator>(Pfn);
      BO && BO->getOpcode() == BO_Add) {
    for (int Side = 0; Side < 2; ++Side) {
      const auto *Call = dyn_cast<CallExpr>(strip(Side ? BO->getRHS() : BO->getLHS()));
      const Expr *Offset = Side ? BO->getLHS() : BO->getRHS();
      if (Call && calleeName(Call) == "folio_pfn" && Call->getNumArgs() == 1) {
        if (isIndexBelowKept(Offset))
          return std::nullopt;
        TailSlotOrigin O;
        O.How = TailSlotOrigin::Kind::PfnInFolio;
        O.Formed = Whole;
        O.Index = Offset;
        O.Folio = Call->getArg(0);
        return O;
      }
    }
    return std::nullopt;
  }
  // pfn = folio_pfn(folio) + i; ... pfn_to_page(pfn)
  if (const VarDecl *V = localVariable(Pfn))
    for (const Expr *Value : valuesAssignedTo(V))
      if (auto O = classifyPfn(Whole, Value, Depth + 1))
        return O;
  return std::nullopt;
}

std::optional<TailSlotOrigin> TailSlotFinder::classify(const Expr *E,
                                                       unsigned Depth) const {
  E = strip(E);
  if (!E || Depth > MaxDepth)
    return std::nullopt;
  if (const auto *UO = dyn_cast<UnaryOperator>(E)) {
    if (UO->getOpcode() == UO_AddrOf || UO->getOpcode() == UO_Deref)
      return classify(UO->getSubExpr(), Depth + 1);
    return std::nullopt;
  }
  if (const auto *AS = dyn_cast<ArraySubscriptExpr>(E))
    return classifyOffset(E, AS->getBase(), AS->getIdx(), Depth);
  // ({ ...; p; }): a statement expression yields its last expression.
  if (const auto *SE = dyn_cast<StmtExpr>(E)) {
    const CompoundStmt *Body = SE->getSubStmt();
    if (Body && !Body->body_empty())
      if (const auto *Last = dyn_cast<Expr>(Body->body_back()))
        return classify(Last, Depth + 1);
    return std::nullopt;
  }
  if (const auto *BO = dyn_cast<BinaryOperator>(E)) {
    if (BO->getOpcode() != BO_Add)
      return std::nullopt;
    const Expr *L = BO->getLHS(), *R = BO->getRHS();
    if (!L->getType()->isPointerType())
      std::swap(L, R);
    if (!isPointerToKernelStruct(L->getType(), "page"))
      return std::nullopt;
    if (isMemmapBase(L, Ctx))
      return classifyPfn(E, R, Depth + 1);
    return classifyOffset(E, L, R, Depth);
  }
  if (const auto *Call = dyn_cast<CallExpr>(E)) {
    StringRef Name = calleeName(Call);
    if ((Name == "folio_page" || Name == "nth_page") && Call->getNumArgs() == 2)
      return classifyOffset(E, Call->getArg(0), Call->getArg(1), Depth);
    if (Name == "pfn_to_page" && Call->getNumArgs() == 1)
      return classifyPfn(E, Call->getArg(0), Depth + 1);
    return std::nullopt;
  }
  if (const VarDecl *V = localVariable(E)) {
    for (const Expr *Value : valuesAssignedTo(V)) {
      if (auto O = classify(Value, Depth + 1)) {
        if (!O->Through)
          O->Through = V;
        return O;
      }
    }
    return classifyWalk(V, Depth);
  }
  return std::nullopt;
}

// A page pointer stepped through a loop over the folio size:
//   for (p = &folio->page; p < end; p++)
//   for (i = 0; i < folio_nr_pages(folio); i++, p = nth_page(p, 1))
std::optional<TailSlotOrigin> TailSlotFinder::classifyWalk(const VarDecl *V,
                                                           unsigned Depth) const {
  if (!Fn || !Fn->getBody() || !isPointerToKernelStruct(V->getType(), "page"))
    return std::nullopt;
  auto SelfStep = [&](const Expr *Value) {
    Value = strip(Value);
    if (const auto *BO = dyn_cast_or_null<BinaryOperator>(Value))
      return BO->getOpcode() == BO_Add &&
             (refersTo(BO->getLHS(), V) || refersTo(BO->getRHS(), V));
    if (const auto *Call = dyn_cast_or_null<CallExpr>(Value))
      return calleeName(Call) == "nth_page" && Call->getNumArgs() == 2 &&
             refersTo(Call->getArg(0), V);
    return false;
  };
  const Stmt *Step = nullptr;
  forEachStmt(Fn->getBody(), [&](const Stmt *S) {
    if (Step)
      return;
    if (const auto *UO = dyn_cast<UnaryOperator>(S)) {
      if (UO->isIncrementOp() && refersTo(UO->getSubExpr(), V))
        Step = S;
    } else if (const auto *BO = dyn_cast<BinaryOperator>(S)) {
      if ((BO->getOpcode() == BO_AddAssign && refersTo(BO->getLHS(), V)) ||
          (BO->getOpcode() == BO_Assign && refersTo(BO->getLHS(), V) &&
           SelfStep(BO->getRHS())))
        Step = S;
    }
  });
  if (!Step)
    return std::nullopt;
  // The step must sit in a loop whose condition is about the folio size;
  // a walk over a handful of pages stays inside the kept struct pages.
  bool OverFolio = false;
  DynTypedNodeList Parents = Ctx.getParents(*Step);
  for (unsigned Steps = 0; !Parents.empty() && Steps < 64 && !OverFolio; ++Steps) {
    const DynTypedNode &N = Parents[0];
    if (const Expr *Cond = loopCondition(N))
      OverFolio = mentionsFolioSize(Cond);
    if (N.get<FunctionDecl>())
      break;
    Parents = Ctx.getParents(N);
  }
  if (!OverFolio)
    return std::nullopt;
  TailSlotOrigin O;
  O.How = TailSlotOrigin::Kind::PointerWalk;
  O.Formed = dyn_cast<Expr>(Step);
  O.Through = V;
  for (const Expr *Value : valuesAssignedTo(V))
    if (!SelfStep(Value))
      if (const Expr *Folio = folioOfBase(Value, Depth + 1)) {
        O.Folio = Folio;
        break;
      }
  if (!O.Formed)
    return std::nullopt;
  return O;
}

} // namespace clang::tidy::hvo
