// SPDX-License-Identifier: GPL-2.0-only
#include "SharedTailWriteCheck.h"
#include "KernelNames.h"
#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Preprocessor.h"

using namespace clang::ast_matchers;

namespace clang::tidy::hvo {
namespace {

// Page setters in Linux 6.12 whose first argument is the struct page they
// write (include/linux/page_ref.h, mm.h, page-flags.h, mm/internal.h).
constexpr llvm::StringLiteral DefaultSetters =
    "set_page_count;init_page_count;set_page_refcounted;page_ref_add;"
    "page_ref_sub;page_ref_inc;page_ref_dec;page_ref_sub_return;"
    "page_ref_inc_return;page_ref_dec_return;page_ref_sub_and_test;"
    "page_ref_dec_and_test;page_ref_add_unless;page_ref_freeze;"
    "page_ref_unfreeze;set_page_private;set_compound_head;"
    "clear_compound_head;set_page_links;set_page_zone;set_page_node;"
    "set_page_section;page_mapcount_reset;page_cpupid_reset_last;"
    "set_page_address;prep_compound_tail;init_compound_tail";
constexpr llvm::StringLiteral DefaultFlagSetterPrefixes =
    "SetPage;ClearPage;__SetPage;__ClearPage;TestSetPage;TestClearPage";
constexpr llvm::StringLiteral DefaultAtomicReads =
    "atomic_read;atomic_read_acquire;raw_atomic_read;raw_atomic_read_acquire;"
    "arch_atomic_read;atomic_long_read";

// The struct page a store's left-hand side lands in: the base of the
// outermost member access whose object is a struct page.
const Expr *storedPage(const Expr *LHS) {
  const Expr *E = LHS->IgnoreParenImpCasts();
  const Expr *Page = nullptr;
  while (const auto *ME = dyn_cast<MemberExpr>(E)) {
    QualType BaseType = ME->getBase()->getType();
    if (ME->isArrow() ? isPointerToKernelStruct(BaseType, "page")
                      : isKernelStruct(BaseType, "page"))
      Page = ME->getBase();
    E = ME->getBase()->IgnoreParenImpCasts();
  }
  if (!Page)
    if (const auto *AS = dyn_cast<ArraySubscriptExpr>(E)) // page->field[i]
      return storedPage(AS->getBase());
  return Page;
}

AST_MATCHER(MemberExpr, landsInStructPage) {
  (void)Finder;
  (void)Builder;
  return storedPage(&Node) != nullptr;
}

// Plain identifier prefix test: cheaper than matchesName(), which builds
// the qualified name of every callee in the unit.
AST_MATCHER_P(NamedDecl, hasIdentifierPrefixIn, std::vector<std::string>,
              Prefixes) {
  (void)Finder;
  (void)Builder;
  return Node.getIdentifier() && hasPrefixIn(Node.getName(), Prefixes);
}

} // namespace

SharedTailWriteCheck::SharedTailWriteCheck(StringRef Name,
                                           ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      Setters(Options.get("Setters", DefaultSetters)),
      FlagSetterPrefixes(
          Options.get("FlagSetterPrefixes", DefaultFlagSetterPrefixes)),
      AtomicReadFunctions(Options.get("AtomicReadFunctions", DefaultAtomicReads)),
      SetterList(splitOptionList(Setters)),
      PrefixList(splitOptionList(FlagSetterPrefixes)),
      AtomicReadList(splitOptionList(AtomicReadFunctions)), Judge(Options) {}

void SharedTailWriteCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "Setters", Setters);
  Options.store(Opts, "FlagSetterPrefixes", FlagSetterPrefixes);
  Options.store(Opts, "AtomicReadFunctions", AtomicReadFunctions);
  Judge.storeOptions(Options, Opts);
}

void SharedTailWriteCheck::registerPPCallbacks(const SourceManager &,
                                               Preprocessor *PP, Preprocessor *) {
  Judge.setPreprocessor(PP);
}

void SharedTailWriteCheck::onEndOfTranslationUnit() { Judge.reset(); }

void SharedTailWriteCheck::registerMatchers(MatchFinder *Finder) {
  const auto StructPage = recordDecl(hasName("page"));
  const auto PagePointerArg =
      expr(ignoringParenImpCasts(expr(hasType(pointsTo(StructPage)))))
          .bind("page");
  const auto InFunction = forFunction(functionDecl().bind("fn"));
  const auto Evaluated = unless(hasAncestor(unaryExprOrTypeTraitExpr()));

  // set_page_count(page, 0), SetPageDirty(page), ... : first argument.
  std::vector<StringRef> SetterNames(SetterList.begin(), SetterList.end());
  const auto Setter = functionDecl(
      anyOf(hasAnyName(SetterNames), hasIdentifierPrefixIn(PrefixList)));
  Finder->addMatcher(
      callExpr(callee(Setter.bind("callee")),
               hasArgument(0, PagePointerArg), InFunction, Evaluated)
          .bind("call"),
      this);

  // page->mapping = NULL, page->flags &= ~x, ++page->private.
  // WRITE_ONCE(page->field, v) stores through *(volatile T *)&(page->field).
  const auto PageField = memberExpr(landsInStructPage()).bind("lhs");
  const auto StoreTarget = ignoringParenImpCasts(anyOf(
      PageField,
      unaryOperator(hasOperatorName("*"),
                    hasUnaryOperand(ignoringParenCasts(unaryOperator(
                        hasOperatorName("&"),
                        hasUnaryOperand(ignoringParenImpCasts(PageField))))))));
  Finder->addMatcher(
      binaryOperator(isAssignmentOperator(), hasLHS(StoreTarget), InFunction,
                     Evaluated)
          .bind("store"),
      this);
  Finder->addMatcher(
      unaryOperator(hasAnyOperatorName("++", "--"),
                    hasUnaryOperand(ignoringParenImpCasts(PageField)),
                    InFunction, Evaluated)
          .bind("store"),
      this);

  // atomic_set(&page->_refcount, 1), atomic_inc(&page->_mapcount), ...
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasIdentifierPrefixIn(std::vector<std::string>{
                                       "atomic", "raw_atomic", "arch_atomic"}))
                          .bind("callee")),
               hasArgument(0, ignoringParenImpCasts(unaryOperator(
                                  hasOperatorName("&"),
                                  hasUnaryOperand(ignoringParenImpCasts(
                                      memberExpr(member(fieldDecl(hasAnyName(
                                                     "_refcount", "_mapcount"))))
                                          .bind("atomic-field")))))),
               InFunction, Evaluated)
          .bind("atomic"),
      this);
}

void SharedTailWriteCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *Fn = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  const Stmt *At = nullptr;
  const Expr *Page = nullptr;
  std::string What;

  if (const auto *Call = Result.Nodes.getNodeAs<CallExpr>("atomic")) {
    const auto *Callee = Result.Nodes.getNodeAs<FunctionDecl>("callee");
    if (!Callee->getIdentifier() || isOneOf(Callee->getName(), AtomicReadList))
      return;
    const auto *Field = Result.Nodes.getNodeAs<MemberExpr>("atomic-field");
    Page = storedPage(Field);
    At = Call;
    What = (Callee->getName() + "() on '" +
            Field->getMemberDecl()->getName() + "'")
               .str();
  } else if (const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call")) {
    const auto *Callee = Result.Nodes.getNodeAs<FunctionDecl>("callee");
    if (!Callee->getIdentifier())
      return;
    StringRef Name = Callee->getName();
    Page = Result.Nodes.getNodeAs<Expr>("page");
    At = Call;
    What = (Name + "()").str();
  } else if (const auto *Store = Result.Nodes.getNodeAs<Expr>("store")) {
    const auto *LHS = Result.Nodes.getNodeAs<MemberExpr>("lhs");
    Page = storedPage(LHS);
    At = Store;
    What = ("store to '" + LHS->getMemberDecl()->getName() + "'").str();
  }
  if (!Page || !At)
    return;

  auto Access = Judge.judge(Page, At, Fn, *Result.Context);
  if (!Access)
    return;
  diag(At->getBeginLoc(),
       "%0 writes a struct page that may be a tail slot of a "
       "vmemmap-optimized folio, mapped from a shared read-only frame")
      << What;
  noteTailSlotEvidence(*this, *Access);
}

} // namespace clang::tidy::hvo
