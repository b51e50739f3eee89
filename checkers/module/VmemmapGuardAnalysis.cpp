// SPDX-License-Identifier: GPL-2.0-only
#include "VmemmapGuardAnalysis.h"
#include "KernelNames.h"
#include "TailSlotOrigin.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/Lex/Lexer.h"
#include <deque>

namespace clang::tidy::hvo {
namespace {

// The argument of a restore/test call that names the folio: the first
// `struct folio *` or `struct page *` argument.
const Expr *folioArgument(const CallExpr *Call) {
  for (const Expr *Arg : Call->arguments()) {
    QualType T = Arg->IgnoreParenImpCasts()->getType();
    if (isPointerToKernelStruct(T, "folio") || isPointerToKernelStruct(T, "page"))
      return Arg;
  }
  return Call->getNumArgs() ? Call->getArg(0) : nullptr;
}

bool isZero(const Expr *E, ASTContext &Ctx) {
  Expr::EvalResult R;
  return E && !E->isValueDependent() && E->EvaluateAsInt(R, Ctx) &&
         R.Val.getInt().isZero();
}

} // namespace

VmemmapGuardAnalysis::VmemmapGuardAnalysis(const FunctionDecl &Fn,
                                           ASTContext &Ctx,
                                           const GuardOptions &Options)
    : Ctx(Ctx), Options(Options) {
  Stmt *Body = Fn.getBody();
  if (!Body)
    return;
  CFG::BuildOptions BO;
  BO.setAllAlwaysAdd();
  BO.AddImplicitDtors = false;
  BO.AddTemporaryDtors = false;
  Graph = CFG::buildCFG(&Fn, Body, &Ctx, BO);
  if (!Graph)
    return;
  for (const CFGBlock *B : *Graph) {
    unsigned I = 0;
    for (const CFGElement &E : *B) {
      if (auto CS = E.getAs<CFGStmt>())
        Where.try_emplace(CS->getStmt(), B, I);
      ++I;
    }
  }
  collectRestoreResults(Body);
  collectAssertions(Body);
  forEachStmt(Body, [&](const Stmt *S) {
    if (const auto *Call = dyn_cast<CallExpr>(S))
      if (!FirstOptimizeCall && isOneOf(calleeName(Call), Options.OptimizeFunctions))
        FirstOptimizeCall = Call->getBeginLoc();
  });
  run();
}

void VmemmapGuardAnalysis::collectRestoreResults(const Stmt *Body) {
  auto Record = [&](const VarDecl *V, const Expr *Value) {
    const auto *Call = dyn_cast_or_null<CallExpr>(stripNoise(Value));
    if (!V || !Call || !isOneOf(calleeName(Call), Options.RestoreFunctions))
      return;
    RestoreResults.try_emplace(
        V, folioVariableOf(folioArgument(Call)), Call->getBeginLoc());
  };
  forEachStmt(Body, [&](const Stmt *S) {
    if (const auto *DS = dyn_cast<DeclStmt>(S)) {
      for (const Decl *D : DS->decls())
        if (const auto *V = dyn_cast<VarDecl>(D))
          Record(V, V->getInit());
    } else if (const auto *BO = dyn_cast<BinaryOperator>(S)) {
      if (BO->getOpcode() == BO_Assign)
        if (const auto *Ref = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParens()))
          Record(dyn_cast<VarDecl>(Ref->getDecl()), BO->getRHS());
    }
  });
}

bool VmemmapGuardAnalysis::isInAssertionMacro(const Expr *E) const {
  const SourceManager &SM = Ctx.getSourceManager();
  for (SourceLocation L = E->getBeginLoc(); L.isMacroID();
       L = SM.getImmediateMacroCallerLoc(L))
    if (isOneOf(Lexer::getImmediateMacroName(L, SM, Ctx.getLangOpts()),
                Options.AssertionMacros))
      return true;
  return false;
}

void VmemmapGuardAnalysis::collectAssertions(const Stmt *Body) {
  if (Options.NotOptimizableTests.empty())
    return;
  forEachStmt(Body, [&](const Stmt *S) {
    const auto *Call = dyn_cast<CallExpr>(S);
    if (!Call || !isOneOf(calleeName(Call), Options.NotOptimizableTests))
      return;
    if (!isInAssertionMacro(Call))
      return;
    // Asserting the test false means "not hugetlb"; an odd number of
    // negations (the !! of likely() counts two) asserts the opposite.
    const Stmt *Child = Call;
    unsigned Negations = 0;
    DynTypedNodeList Parents = Ctx.getParents(*Call);
    for (unsigned Steps = 0; !Parents.empty() && Steps < 64; ++Steps) {
      const Stmt *Parent = Parents[0].get<Stmt>();
      if (!Parent)
        return;
      if (const auto *UO = dyn_cast<UnaryOperator>(Parent);
          UO && UO->getOpcode() == UO_LNot)
        ++Negations;
      if (isa<CompoundStmt>(Parent))
        break;
      Child = Parent;
      Parents = Ctx.getParents(*Parent);
    }
    if (Negations % 2)
      return;
    // The CFG lists expressions without their parentheses.
    if (const auto *E = dyn_cast<Expr>(Child))
      Child = E->IgnoreParens();
    NotOptimizedFact F;
    F.Folio = folioVariableOf(folioArgument(Call));
    F.Reason = NotOptimizedFact::Why::NotHugetlb;
    F.Evidence = Call->getBeginLoc();
    Assertions.try_emplace(Child, F);
  });
}

VmemmapGuardAnalysis::Branch
VmemmapGuardAnalysis::interpretCondition(const Expr *Cond) const {
  const Expr *C = stripNoise(Cond);
  if (!C)
    return {};
  if (const auto *UO = dyn_cast<UnaryOperator>(C); UO && UO->getOpcode() == UO_LNot) {
    Branch B = interpretCondition(UO->getSubExpr());
    std::swap(B.OnTrue, B.OnFalse);
    return B;
  }
  if (const auto *BO = dyn_cast<BinaryOperator>(C)) {
    switch (BO->getOpcode()) {
    case BO_Assign:
    case BO_Comma:
      return interpretCondition(BO->getRHS());
    case BO_EQ:
    case BO_NE: {
      const Expr *Other = isZero(BO->getRHS(), Ctx)   ? BO->getLHS()
                          : isZero(BO->getLHS(), Ctx) ? BO->getRHS()
                                                      : nullptr;
      if (!Other)
        return {};
      Branch B = interpretCondition(Other);
      if (BO->getOpcode() == BO_EQ)
        std::swap(B.OnTrue, B.OnFalse);
      return B;
    }
    case BO_LT: // ret < 0: restore reports failure as a negative errno
      if (isZero(BO->getRHS(), Ctx))
        return interpretCondition(BO->getLHS());
      return {};
    default:
      return {};
    }
  }
  if (const auto *Call = dyn_cast<CallExpr>(C)) {
    StringRef Name = calleeName(Call);
    NotOptimizedFact F;
    F.Evidence = Call->getBeginLoc();
    F.Folio = folioVariableOf(folioArgument(Call));
    if (isOneOf(Name, Options.OptimizedTests)) {
      F.Reason = NotOptimizedFact::Why::TestedFalse;
      return {std::nullopt, F};
    }
    if (isOneOf(Name, Options.RestoreFunctions)) {
      F.Reason = NotOptimizedFact::Why::Restored;
      return {std::nullopt, F};
    }
    // if (folio_test_hugetlb(folio)) return; and BUG_ON(folio_test_hugetlb(
    // folio)) (VM_BUG_ON under CONFIG_DEBUG_VM): on the false edge the folio
    // is not hugetlb, hence never vmemmap-optimized in 6.12.
    if (isOneOf(Name, Options.NotOptimizableTests)) {
      F.Reason = NotOptimizedFact::Why::NotHugetlb;
      return {std::nullopt, F};
    }
    return {};
  }
  if (const auto *Ref = dyn_cast<DeclRefExpr>(C)) {
    const auto *V = dyn_cast<VarDecl>(Ref->getDecl());
    auto It = V ? RestoreResults.find(V) : RestoreResults.end();
    if (It == RestoreResults.end())
      return {};
    NotOptimizedFact F;
    F.Folio = It->second.first;
    F.Reason = NotOptimizedFact::Why::Restored;
    F.Evidence = It->second.second;
    return {std::nullopt, F};
  }
  return {};
}

void VmemmapGuardAnalysis::transfer(const Stmt *S, FactSet &Facts) const {
  if (auto It = Assertions.find(S); It != Assertions.end()) {
    std::erase_if(Facts, [&](const NotOptimizedFact &F) {
      return F.Folio == It->second.Folio;
    });
    Facts.push_back(It->second);
    return;
  }
  if (Facts.empty())
    return;
  if (const auto *Call = dyn_cast<CallExpr>(S)) {
    if (isOneOf(calleeName(Call), Options.OptimizeFunctions))
      Facts.clear();
    return;
  }
  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp()) {
    if (const auto *Ref = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParens())) {
      const Decl *Assigned = Ref->getDecl();
      std::erase_if(Facts, [&](const NotOptimizedFact &F) {
        return F.Folio && F.Folio == Assigned;
      });
    }
  }
}

VmemmapGuardAnalysis::FactSet VmemmapGuardAnalysis::join(const FactSet &A,
                                                         const FactSet &B) {
  FactSet Out;
  for (const NotOptimizedFact &F : A)
    for (const NotOptimizedFact &G : B)
      if (F.Folio == G.Folio) {
        Out.push_back(F);
        break;
      }
  return Out;
}

void VmemmapGuardAnalysis::run() {
  EntryFacts.assign(Graph->getNumBlockIDs(), std::nullopt);
  FactSet Initial;
  if (FirstOptimizeCall) {
    NotOptimizedFact F;
    F.Reason = NotOptimizedFact::Why::BeforeOptimize;
    F.Evidence = *FirstOptimizeCall;
    Initial.push_back(F);
  }
  const CFGBlock &Entry = Graph->getEntry();
  EntryFacts[Entry.getBlockID()] = Initial;
  std::deque<const CFGBlock *> Work{&Entry};
  std::vector<bool> Queued(Graph->getNumBlockIDs(), false);
  Queued[Entry.getBlockID()] = true;
  // The lattice is finite and facts only shrink after a block's first
  // visit, so this terminates; the cap is a guard against surprises.
  unsigned Budget = 64 * Graph->getNumBlockIDs() + 64;
  while (!Work.empty() && Budget--) {
    const CFGBlock *B = Work.front();
    Work.pop_front();
    Queued[B->getBlockID()] = false;
    FactSet Facts = *EntryFacts[B->getBlockID()];
    for (const CFGElement &E : *B)
      if (auto CS = E.getAs<CFGStmt>())
        transfer(CS->getStmt(), Facts);
    Branch Edges;
    if (B->succ_size() == 2)
      if (const Expr *Cond = B->getLastCondition())
        Edges = interpretCondition(Cond);
    unsigned SuccIndex = 0;
    for (const CFGBlock::AdjacentBlock &Succ : B->succs()) {
      const CFGBlock *S = Succ.getReachableBlock();
      unsigned Index = SuccIndex++;
      if (!S)
        continue;
      FactSet Out = Facts;
      const auto &Extra = Index == 0 ? Edges.OnTrue : Edges.OnFalse;
      if (B->succ_size() == 2 && Extra) {
        std::erase_if(Out, [&](const NotOptimizedFact &F) {
          return F.Folio == Extra->Folio;
        });
        Out.push_back(*Extra);
      }
      auto &Slot = EntryFacts[S->getBlockID()];
      FactSet Next = Slot ? join(*Slot, Out) : Out;
      bool Changed = !Slot || Next.size() != Slot->size();
      if (!Changed)
        continue;
      Slot = std::move(Next);
      if (!Queued[S->getBlockID()]) {
        Queued[S->getBlockID()] = true;
        Work.push_back(S);
      }
    }
  }
}

const Stmt *VmemmapGuardAnalysis::elementFor(const Stmt *S,
                                             const CFGBlock *&Block,
                                             unsigned &Index) const {
  // The statement itself, or the closest enclosing statement the CFG lists.
  for (unsigned Steps = 0; S && Steps < 64; ++Steps) {
    auto It = Where.find(S);
    if (It != Where.end()) {
      Block = It->second.first;
      Index = It->second.second;
      return S;
    }
    DynTypedNodeList Parents = Ctx.getParents(*S);
    if (Parents.empty())
      return nullptr;
    S = Parents[0].get<Stmt>();
  }
  return nullptr;
}

std::optional<NotOptimizedFact>
VmemmapGuardAnalysis::guardAt(const Stmt *At, const VarDecl *Folio) const {
  if (!Graph)
    return std::nullopt;
  const CFGBlock *Block = nullptr;
  unsigned Index = 0;
  if (!elementFor(At, Block, Index))
    return std::nullopt;
  const auto &Entry = EntryFacts[Block->getBlockID()];
  if (!Entry)
    return std::nullopt; // unreachable code: nothing proven
  FactSet Facts = *Entry;
  unsigned I = 0;
  for (const CFGElement &E : *Block) {
    if (I++ >= Index)
      break;
    if (auto CS = E.getAs<CFGStmt>())
      transfer(CS->getStmt(), Facts);
  }
  for (const NotOptimizedFact &F : Facts)
    if (!F.Folio || !Folio || F.Folio == Folio)
      return F;
  return std::nullopt;
}

} // namespace clang::tidy::hvo
