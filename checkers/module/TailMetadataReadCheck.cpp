// SPDX-License-Identifier: GPL-2.0-only
#include "TailMetadataReadCheck.h"
#include "KernelNames.h"
#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang::ast_matchers;

namespace clang::tidy::hvo {
namespace {

constexpr llvm::StringLiteral DefaultReaders =
    "page_zonenum;page_zone;page_to_nid;page_pgdat;page_zone_id;"
    "page_to_section;page_mapcount;page_ref_count;page_private;"
    "PageReserved;PageHWPoison";

// Readers whose folio counterpart gives the same answer for every folio the
// kernel forms (a folio lies in one zone, hence one node): the only
// rewrites offered as fix-its.
StringRef folioCounterpart(StringRef Reader) {
  return llvm::StringSwitch<StringRef>(Reader)
      .Case("page_zonenum", "folio_zonenum")
      .Case("page_zone", "folio_zone")
      .Case("page_to_nid", "folio_nid")
      .Case("page_pgdat", "folio_pgdat")
      .Default("");
}

bool isDeclaredFunction(ASTContext &Ctx, StringRef Name) {
  auto Found = Ctx.getTranslationUnitDecl()->lookup(&Ctx.Idents.get(Name));
  for (const NamedDecl *D : Found)
    if (isa<FunctionDecl>(D))
      return true;
  return false;
}

} // namespace

TailMetadataReadCheck::TailMetadataReadCheck(StringRef Name,
                                             ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      Readers(Options.get("Readers", DefaultReaders)),
      ReaderList(splitOptionList(Readers)), Judge(Options) {}

void TailMetadataReadCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "Readers", Readers);
  Judge.storeOptions(Options, Opts);
}

void TailMetadataReadCheck::registerPPCallbacks(const SourceManager &,
                                                Preprocessor *PP,
                                                Preprocessor *) {
  Judge.setPreprocessor(PP);
}

void TailMetadataReadCheck::onEndOfTranslationUnit() { Judge.reset(); }

void TailMetadataReadCheck::registerMatchers(MatchFinder *Finder) {
  std::vector<StringRef> Names(ReaderList.begin(), ReaderList.end());
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasAnyName(Names)).bind("reader")),
               hasArgument(0, expr(ignoringParenImpCasts(expr(
                                  hasType(pointsTo(recordDecl(hasName("page"))))))).bind("page")),
               forFunction(functionDecl().bind("fn")),
               unless(hasAncestor(unaryExprOrTypeTraitExpr())))
          .bind("read"),
      this);
}

void TailMetadataReadCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *Read = Result.Nodes.getNodeAs<CallExpr>("read");
  const auto *Reader = Result.Nodes.getNodeAs<FunctionDecl>("reader");
  const auto *Page = Result.Nodes.getNodeAs<Expr>("page");
  const auto *Fn = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  ASTContext &Ctx = *Result.Context;
  auto Access = Judge.judge(Page, Read, Fn, Ctx);
  if (!Access)
    return;

  StringRef Counterpart = folioCounterpart(Reader->getName());
  const Expr *Folio = Access->Origin.Folio;
  std::string Suggestion =
      Counterpart.empty() ? std::string("the head page or the folio")
                          : (Counterpart + "()").str();
  {
    auto D = diag(Read->getBeginLoc(),
                  "%0 reads per-page metadata from a struct page that may be a "
                  "tail slot of a vmemmap-optimized folio, which carries only "
                  "the shared tail's contents; read it through %1")
             << Reader << Suggestion;
    // Fix-it only when the rewrite is certainly equivalent: the page is
    // folio_page(F, i) of a side-effect-free F written in the source, the
    // call itself is not produced by a macro, and the folio accessor is
    // declared in this unit.
    const SourceManager &SM = *Result.SourceManager;
    SourceRange Range = Read->getSourceRange();
    if (!Counterpart.empty() && Folio && !Access->Origin.Through &&
        Access->Origin.How == TailSlotOrigin::Kind::FolioPage &&
        !Folio->HasSideEffects(Ctx) &&
        Access->Origin.Index && !Access->Origin.Index->HasSideEffects(Ctx) &&
        Range.getBegin().isFileID() && Range.getEnd().isFileID() &&
        isDeclaredFunction(Ctx, Counterpart)) {
      CharSourceRange FolioRange = Lexer::makeFileCharRange(
          CharSourceRange::getTokenRange(Folio->getSourceRange()), SM,
          getLangOpts());
      StringRef FolioText =
          FolioRange.isValid()
              ? Lexer::getSourceText(FolioRange, SM, getLangOpts())
              : StringRef();
      if (!FolioText.empty())
        D << FixItHint::CreateReplacement(
            CharSourceRange::getTokenRange(Range),
            (Counterpart + "(" + FolioText + ")").str());
    }
  } // the warning is emitted here, before its notes
  noteTailSlotEvidence(*this, *Access);
}

} // namespace clang::tidy::hvo
