// SPDX-License-Identifier: GPL-2.0-only
#include "VmemmapBugOnCheck.h"
#include "KernelNames.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/PPCallbacks.h"
#include "clang/Lex/Preprocessor.h"

using namespace clang::ast_matchers;

namespace clang::tidy::hvo {
namespace {

constexpr llvm::StringLiteral DefaultBugOnMacros =
    "BUG_ON;BUG;VM_BUG_ON;VM_BUG_ON_PAGE;VM_BUG_ON_FOLIO;VM_BUG_ON_VMA;"
    "VM_BUG_ON_MM";
// Function names of the vmemmap remap (mm/hugetlb_vmemmap.c) and populate
// (mm/sparse-vmemmap.c, arch vmemmap_populate*) paths.
constexpr llvm::StringLiteral DefaultVmemmapFunctions =
    "vmemmap|populate_section_memmap|^section_(de)?activate$";

class BugOnCallbacks : public PPCallbacks {
public:
  BugOnCallbacks(VmemmapBugOnCheck &Check, const std::vector<std::string> &Names)
      : Check(Check), Names(Names) {}
  void MacroExpands(const Token &NameTok, const MacroDefinition &, SourceRange,
                    const MacroArgs *) override {
    // Only macros written in the source: VM_BUG_ON expanding to BUG_ON
    // under CONFIG_DEBUG_VM is one use, not two.
    if (!NameTok.getLocation().isFileID())
      return;
    StringRef Name = NameTok.getIdentifierInfo()->getName();
    if (isOneOf(Name, Names))
      Check.onBugOn(NameTok.getLocation(), Name);
  }

private:
  VmemmapBugOnCheck &Check;
  const std::vector<std::string> &Names;
};

} // namespace

VmemmapBugOnCheck::VmemmapBugOnCheck(StringRef Name, ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      BugOnMacros(Options.get("BugOnMacros", DefaultBugOnMacros)),
      VmemmapFunctions(Options.get("VmemmapFunctions", DefaultVmemmapFunctions)),
      BugOnMacroList(splitOptionList(BugOnMacros)),
      FunctionRegex(VmemmapFunctions) {}

void VmemmapBugOnCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "BugOnMacros", BugOnMacros);
  Options.store(Opts, "VmemmapFunctions", VmemmapFunctions);
}

void VmemmapBugOnCheck::registerPPCallbacks(const SourceManager &,
                                            Preprocessor *PP, Preprocessor *) {
  PP->addPPCallbacks(std::make_unique<BugOnCallbacks>(*this, BugOnMacroList));
}

void VmemmapBugOnCheck::registerMatchers(MatchFinder *Finder) {
  std::string Error;
  if (!FunctionRegex.isValid(Error)) {
    configurationDiag("invalid VmemmapFunctions regular expression '%0': %1")
        << VmemmapFunctions << Error;
    return;
  }
  Finder->addMatcher(
      functionDecl(isDefinition(), hasBody(compoundStmt())).bind("fn"), this);
}

void VmemmapBugOnCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *Fn = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  if (Uses.empty() || !Fn->getIdentifier() ||
      !FunctionRegex.match(Fn->getName()))
    return;
  const SourceManager &SM = *Result.SourceManager;
  SourceRange Body = Fn->getBody()->getSourceRange();
  SourceLocation Begin = SM.getExpansionLoc(Body.getBegin());
  SourceLocation End = SM.getExpansionLoc(Body.getEnd());
  for (const BugOnUse &Use : Uses) {
    if (SM.isBeforeInTranslationUnit(Use.Loc, Begin) ||
        SM.isBeforeInTranslationUnit(End, Use.Loc))
      continue;
    diag(Use.Loc, "%0 in vmemmap path %1 crashes the machine on a condition "
                  "the caller can handle; warn (WARN_ON_ONCE) and return an "
                  "error instead")
        << Use.Macro << Fn;
  }
}

} // namespace clang::tidy::hvo
