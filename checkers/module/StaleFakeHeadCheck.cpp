// SPDX-License-Identifier: GPL-2.0-only
#include "StaleFakeHeadCheck.h"
#include "FieldAccess.h"
#include "KernelNames.h"
#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/PPCallbacks.h"
#include "clang/Lex/Preprocessor.h"
#include "llvm/ADT/STLExtras.h"

using namespace clang::ast_matchers;

namespace clang::tidy::hvo {
namespace {

// The replacement each fake-head helper's diagnostic names.
StringRef replacementFor(StringRef Function) {
  if (Function == "page_is_fake_head")
    return "PageTail()";
  if (Function == "page_count_writable")
    return "page_ref_add_unless() without the fake-head test";
  return "compound_head() or page_folio()";
}

// True when \p Field is declared (possibly in nested anonymous records)
// inside `struct page`.
bool isStructPageField(const FieldDecl *Field) {
  for (const DeclContext *DC = Field->getDeclContext(); DC;
       DC = DC->getParent()) {
    const auto *RD = dyn_cast<RecordDecl>(DC);
    if (!RD)
      return false;
    if (RD->getIdentifier() && RD->getName() == "page")
      return true;
    if (RD->getIdentifier())
      return false;
  }
  return false;
}

class FenceMacroCallbacks : public PPCallbacks {
public:
  FenceMacroCallbacks(StaleFakeHeadCheck &Check,
                      const std::vector<std::string> &Names)
      : Check(Check), Names(Names) {}

  void MacroExpands(const Token &MacroNameTok, const MacroDefinition &,
                    SourceRange Range, const MacroArgs *) override {
    StringRef Name = MacroNameTok.getIdentifierInfo()->getName();
    if (isOneOf(Name, Names))
      Check.onFenceMacro(Range.getBegin(), Name);
  }

private:
  StaleFakeHeadCheck &Check;
  const std::vector<std::string> &Names;
};

} // namespace

StaleFakeHeadCheck::StaleFakeHeadCheck(StringRef Name, ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      FakeHeadFunctions(Options.get(
          "FakeHeadFunctions",
          "page_fixed_fake_head;page_is_fake_head;page_count_writable")),
      StaticKeys(Options.get("StaticKeys", "hugetlb_optimize_vmemmap_key")),
      FenceMacros(Options.get("FenceMacros", "VMEMMAP_SYNCHRONIZE_RCU")),
      RemapFunctions(Options.get(
          "RemapFunctions",
          "vmemmap_remap_free;vmemmap_remap_alloc;vmemmap_remap_range;"
          "vmemmap_remap_split")),
      FakeHeadFunctionList(splitOptionList(FakeHeadFunctions)),
      StaticKeyList(splitOptionList(StaticKeys)),
      FenceMacroList(splitOptionList(FenceMacros)),
      RemapFunctionList(splitOptionList(RemapFunctions)) {}

bool StaleFakeHeadCheck::holdsCompoundField(const FunctionDecl *Fn,
                                            const VarDecl *Var,
                                            ASTContext &Ctx) {
  if (!Fn || !Var || !Fn->hasBody())
    return false;
  auto [It, Inserted] = CompoundFieldVariables.try_emplace(Fn);
  if (Inserted) {
    // Locals assigned a value read from ->compound_head / ->compound_info.
    const auto Field = memberExpr(
        member(fieldDecl(hasAnyName("compound_head", "compound_info"))));
    auto Assignments = match(
        functionDecl(forEachDescendant(
            binaryOperator(
                hasOperatorName("="),
                hasLHS(ignoringParenImpCasts(
                    declRefExpr(to(varDecl().bind("v"))))),
                hasRHS(anyOf(ignoringParenImpCasts(Field), hasDescendant(Field))))
                .bind("a"))),
        *Fn, Ctx);
    for (const BoundNodes &B : Assignments)
      It->second.insert(B.getNodeAs<VarDecl>("v"));
  }
  return It->second.contains(Var);
}

void StaleFakeHeadCheck::onEndOfTranslationUnit() {
  CompoundFieldVariables.clear();
}

void StaleFakeHeadCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "FakeHeadFunctions", FakeHeadFunctions);
  Options.store(Opts, "StaticKeys", StaticKeys);
  Options.store(Opts, "FenceMacros", FenceMacros);
  Options.store(Opts, "RemapFunctions", RemapFunctions);
}

void StaleFakeHeadCheck::registerPPCallbacks(const SourceManager &,
                                             Preprocessor *PP,
                                             Preprocessor *) {
  PP->addPPCallbacks(
      std::make_unique<FenceMacroCallbacks>(*this, FenceMacroList));
}

void StaleFakeHeadCheck::onFenceMacro(SourceLocation Loc, StringRef Name) {
  FenceMacroUses.push_back(Loc);
  diag(Loc, "%0 fences vmemmap remapping against fake-head readers; shared "
            "read-only tails have no fake heads, so the flag and its "
            "synchronize_rcu() go away")
      << Name;
}

void StaleFakeHeadCheck::registerMatchers(MatchFinder *Finder) {
  std::vector<StringRef> FakeHeadNames(FakeHeadFunctionList.begin(),
                                       FakeHeadFunctionList.end());
  std::vector<StringRef> KeyNames(StaticKeyList.begin(), StaticKeyList.end());

  const auto StructPage = recordDecl(hasName("page"));
  const auto PagePointer = hasType(pointsTo(StructPage));
  const auto Evaluated = unless(hasAncestor(unaryExprOrTypeTraitExpr()));
  const auto CompoundField =
      fieldDecl(hasAnyName("compound_head", "compound_info"));
  const auto ReadOfCompoundField = memberExpr(member(CompoundField));

  // page_fixed_fake_head(page), page_is_fake_head(page), ...
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasAnyName(FakeHeadNames)).bind("helper")))
          .bind("helper-call"),
      this);

  // static_branch_unlikely(&hugetlb_optimize_vmemmap_key) and friends.
  Finder->addMatcher(
      declRefExpr(to(varDecl(hasAnyName(KeyNames)).bind("key")), Evaluated)
          .bind("key-ref"),
      this);

  // synchronize_rcu() in a function that remaps vmemmap: the RCU fence
  // against speculative walkers that might miss a fake head.
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasName("synchronize_rcu"))),
               forFunction(functionDecl().bind("fn")))
          .bind("rcu-call"),
      this);

  // IS_ALIGNED((unsigned long)page, PAGE_SIZE) && test_bit(PG_head, ...):
  // the fake-head test written out.
  const auto PageAddressBits = binaryOperator(
      hasAnyOperatorName("&", "%"),
      hasEitherOperand(ignoringParenImpCasts(
          explicitCastExpr(hasSourceExpression(PagePointer)))));
  // Start from the rare PG_head reference and look up for the &&.
  Finder->addMatcher(
      declRefExpr(to(enumConstantDecl(hasName("PG_head"))), hasAncestor(
          binaryOperator(hasOperatorName("&&"),
                         hasEitherOperand(expr(anyOf(
                             hasDescendant(PageAddressBits),
                             ignoringParenImpCasts(PageAddressBits)))))
              .bind("aligned-head-test"))),
      this);

  // head - 1 where head holds ->compound_head: decoding the tail encoding
  // as a pointer by hand.
  const auto CompoundValue = expr(ignoringParenImpCasts(anyOf(
      ReadOfCompoundField, hasDescendant(ReadOfCompoundField),
      declRefExpr(to(varDecl(hasInitializer(anyOf(
          ignoringParenImpCasts(ReadOfCompoundField),
          hasDescendant(ReadOfCompoundField)))))))));
  Finder->addMatcher(
      binaryOperator(hasOperatorName("-"),
                     hasRHS(ignoringParenImpCasts(integerLiteral(equals(1)))),
                     hasLHS(CompoundValue))
          .bind("decode"),
      this);
  // The same with the variable assigned later (`head = p.compound_head;`,
  // 6.12 mm/debug.c): decided in check() from the function's assignments.
  Finder->addMatcher(
      binaryOperator(
          hasOperatorName("-"),
          hasRHS(ignoringParenImpCasts(integerLiteral(equals(1)))),
          hasLHS(ignoringParenImpCasts(
              declRefExpr(to(varDecl(hasLocalStorage(),
                                     unless(hasInitializer(anything())))
                                 .bind("decoded-var"))))),
          forFunction(functionDecl().bind("decode-fn")))
          .bind("decode-assigned"),
      this);

  // Any evaluated read of, or store to, the pre-rename field.
  Finder->addMatcher(
      memberExpr(member(fieldDecl(hasName("compound_head")).bind("field")))
          .bind("old-field"),
      this);
}

void StaleFakeHeadCheck::check(const MatchFinder::MatchResult &Result) {
  if (const auto *Call = Result.Nodes.getNodeAs<CallExpr>("helper-call")) {
    const auto *Helper = Result.Nodes.getNodeAs<FunctionDecl>("helper");
    diag(Call->getBeginLoc(),
         "%0 relies on fake head pages, which shared read-only tails remove; "
         "use %1")
        << Helper << replacementFor(Helper->getName());
    diag(Helper->getLocation(), "%0 declared here", DiagnosticIDs::Note)
        << Helper;
    return;
  }
  if (const auto *Ref = Result.Nodes.getNodeAs<DeclRefExpr>("key-ref")) {
    diag(Ref->getBeginLoc(),
         "static key %0 only exists to switch fake-head detection on; code "
         "that tests or counts it relies on fake heads")
        << Result.Nodes.getNodeAs<VarDecl>("key");
    return;
  }
  if (const auto *Call = Result.Nodes.getNodeAs<CallExpr>("rcu-call")) {
    const auto *Fn = Result.Nodes.getNodeAs<FunctionDecl>("fn");
    if (!Fn || !Fn->hasBody())
      return;
    SourceRange Body = Fn->getBody()->getSourceRange();
    const SourceManager &SMgr = *Result.SourceManager;
    // The fence is a vmemmap fence if the function consults a fence macro
    // or calls a vmemmap remap walk.
    auto InFunction = [&](SourceLocation L) {
      L = SMgr.getExpansionLoc(L);
      return !SMgr.isBeforeInTranslationUnit(L, SMgr.getExpansionLoc(Body.getBegin())) &&
             !SMgr.isBeforeInTranslationUnit(SMgr.getExpansionLoc(Body.getEnd()), L);
    };
    auto Flag = llvm::find_if(FenceMacroUses, InFunction);
    if (Flag != FenceMacroUses.end()) {
      diag(Call->getBeginLoc(),
           "synchronize_rcu() fences vmemmap remapping against speculative "
           "fake-head readers; shared read-only tails need no such fence");
      diag(*Flag, "the fence is tied to vmemmap remapping here",
           DiagnosticIDs::Note);
      return;
    }
    auto Remaps = match(
        functionDecl(hasBody(hasDescendant(
            callExpr(callee(functionDecl(hasAnyName(std::vector<StringRef>(
                         RemapFunctionList.begin(), RemapFunctionList.end())))))
                .bind("remap")))),
        *Fn, *Result.Context);
    if (!Remaps.empty()) {
      const auto *Remap = Remaps.front().getNodeAs<CallExpr>("remap");
      diag(Call->getBeginLoc(),
           "synchronize_rcu() fences vmemmap remapping against speculative "
           "fake-head readers; shared read-only tails need no such fence");
      diag(Remap->getBeginLoc(), "vmemmap is remapped here",
           DiagnosticIDs::Note);
    }
    return;
  }
  if (const auto *Test =
          Result.Nodes.getNodeAs<BinaryOperator>("aligned-head-test")) {
    diag(Test->getBeginLoc(),
         "fake-head test: PG_head on a page-aligned struct page identifies a "
         "tail slot aliased to the head frame; shared tails never carry "
         "PG_head, use PageTail() or compound_head()");
    return;
  }
  if (const auto *Decode = Result.Nodes.getNodeAs<BinaryOperator>("decode")) {
    diag(Decode->getOperatorLoc(),
         "open-coded decoding of the tail encoding as a pointer; the "
         "shared-tail encoding stores a mask, use compound_head() or "
         "page_folio()");
    return;
  }
  if (const auto *Decode =
          Result.Nodes.getNodeAs<BinaryOperator>("decode-assigned")) {
    const auto *Var = Result.Nodes.getNodeAs<VarDecl>("decoded-var");
    const auto *Fn = Result.Nodes.getNodeAs<FunctionDecl>("decode-fn");
    if (!holdsCompoundField(Fn, Var, *Result.Context))
      return;
    diag(Decode->getOperatorLoc(),
         "open-coded decoding of the tail encoding as a pointer; the "
         "shared-tail encoding stores a mask, use compound_head() or "
         "page_folio()");
    return;
  }
  if (const auto *Old = Result.Nodes.getNodeAs<MemberExpr>("old-field")) {
    const auto *Field = Result.Nodes.getNodeAs<FieldDecl>("field");
    if (!isStructPageField(Field))
      return;
    switch (accessKind(Old, *Result.Context)) {
    case FieldAccess::Unevaluated:
      return;
    case FieldAccess::Read:
      diag(Old->getMemberLoc(),
           "read of 'compound_head', renamed 'compound_info' when tails became "
           "shareable; its value is no longer a head pointer, use "
           "compound_head() or page_folio()");
      return;
    case FieldAccess::Store:
      diag(Old->getMemberLoc(),
           "store to 'compound_head' manipulates the pointer+1 tail encoding; "
           "shareable tails store an order mask in 'compound_info', written "
           "only by set_compound_head()/prep_compound_tail()");
      return;
    }
  }
}

} // namespace clang::tidy::hvo
