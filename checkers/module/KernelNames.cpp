// SPDX-License-Identifier: GPL-2.0-only
#include "KernelNames.h"
#include "clang/AST/Decl.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/STLExtras.h"

namespace clang::tidy::hvo {

bool isKernelStruct(QualType T, llvm::StringRef Name) {
  if (T.isNull())
    return false;
  const auto *RD = T.getCanonicalType()->getAsRecordDecl();
  return RD && RD->getIdentifier() && RD->getName() == Name;
}

bool isPointerToKernelStruct(QualType T, llvm::StringRef Name) {
  if (T.isNull())
    return false;
  const auto *PT = T.getCanonicalType()->getAs<PointerType>();
  return PT && isKernelStruct(PT->getPointeeType(), Name);
}

const Expr *stripNoise(const Expr *E) {
  while (E) {
    const Expr *Before = E;
    E = E->IgnoreParenCasts();
    if (const auto *UO = dyn_cast<UnaryOperator>(E)) {
      // `!!x` keeps x's truth value.
      if (UO->getOpcode() == UO_LNot)
        if (const auto *Inner =
                dyn_cast<UnaryOperator>(UO->getSubExpr()->IgnoreParenCasts()))
          if (Inner->getOpcode() == UO_LNot)
            E = Inner->getSubExpr();
    } else if (const auto *Call = dyn_cast<CallExpr>(E)) {
      if (Call->getBuiltinCallee() == Builtin::BI__builtin_expect &&
          Call->getNumArgs() == 2)
        E = Call->getArg(0);
    }
    if (E == Before)
      return E;
  }
  return E;
}

llvm::StringRef calleeName(const CallExpr *Call) {
  if (!Call)
    return "";
  const auto *FD = Call->getDirectCallee();
  if (!FD || !FD->getIdentifier())
    return "";
  return FD->getName();
}

bool startsMacroNamed(SourceLocation Loc, llvm::StringRef Name,
                      const SourceManager &SM, const LangOptions &LangOpts) {
  while (Loc.isMacroID()) {
    SourceLocation ExpansionStart;
    if (!SM.isAtStartOfImmediateMacroExpansion(Loc, &ExpansionStart))
      return false;
    if (Lexer::getImmediateMacroName(Loc, SM, LangOpts) == Name)
      return true;
    Loc = ExpansionStart;
  }
  return false;
}

std::vector<std::string> splitOptionList(llvm::StringRef Value) {
  llvm::SmallVector<llvm::StringRef, 16> Parts;
  Value.split(Parts, ';', -1, /*KeepEmpty=*/false);
  std::vector<std::string> Out;
  for (llvm::StringRef Part : Parts) {
    Part = Part.trim();
    if (!Part.empty())
      Out.push_back(Part.str());
  }
  return Out;
}

bool isOneOf(llvm::StringRef Name, const std::vector<std::string> &Names) {
  return llvm::any_of(Names, [&](const std::string &N) { return N == Name; });
}

bool hasPrefixIn(llvm::StringRef Name, const std::vector<std::string> &Prefixes) {
  return llvm::any_of(Prefixes, [&](const std::string &P) {
    return Name.size() > P.size() && Name.starts_with(P);
  });
}

} // namespace clang::tidy::hvo
