// SPDX-License-Identifier: GPL-2.0-only
#ifndef HVO_CHECKERS_STALEFAKEHEADCHECK_H
#define HVO_CHECKERS_STALEFAKEHEADCHECK_H

#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <string>
#include <vector>

namespace clang::tidy::hvo {

/// Finds code that still relies on fake head pages or on the pointer+1
/// encoding of tail pages, both gone once HVO shares read-only tail frames
/// (Kiryl Shutsemau, "Eliminate fake head pages from HVO").
///
/// For the user-facing documentation see docs/checks/hvo-stale-fake-head.md.
class StaleFakeHeadCheck : public ClangTidyCheck {
public:
  StaleFakeHeadCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void registerPPCallbacks(const SourceManager &SM, Preprocessor *PP,
                           Preprocessor *ModuleExpanderPP) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

  /// Records a use of a fake-head era macro (called by the PP callbacks).
  void onFenceMacro(SourceLocation Loc, StringRef Name);

private:
  bool holdsCompoundField(const FunctionDecl *Fn, const VarDecl *Var,
                          ASTContext &Ctx);

  const std::string FakeHeadFunctions;
  const std::string StaticKeys;
  const std::string FenceMacros;
  const std::string RemapFunctions;
  std::vector<std::string> FakeHeadFunctionList;
  std::vector<std::string> StaticKeyList;
  std::vector<std::string> FenceMacroList;
  std::vector<std::string> RemapFunctionList;
  // Expansion sites of the fence macros in this unit, in source order.
  std::vector<SourceLocation> FenceMacroUses;
  // Per function: locals assigned from the tail-encoding field.
  llvm::DenseMap<const FunctionDecl *, llvm::SmallPtrSet<const VarDecl *, 4>>
      CompoundFieldVariables;
};

} // namespace clang::tidy::hvo

#endif
