// SPDX-License-Identifier: GPL-2.0-only
#include "KeptStructPages.h"
#include "clang/Lex/LiteralSupport.h"
#include "clang/Lex/MacroInfo.h"
#include "llvm/ADT/ArrayRef.h"

namespace clang::tidy::hvo {
namespace {

// A tiny recursive-descent evaluator over macro replacement tokens.  It is
// deliberately small: PAGE_SIZE is `(_AC(1,UL) << PAGE_SHIFT)` or similar
// on every architecture, and anything it does not understand yields nullopt.
class MacroIntEvaluator {
public:
  explicit MacroIntEvaluator(const Preprocessor &PP) : PP(PP) {}

  std::optional<uint64_t> evaluateMacro(llvm::StringRef Name, unsigned Depth) {
    if (Depth > 16)
      return std::nullopt;
    const IdentifierInfo *II = PP.getIdentifierInfo(Name);
    const MacroInfo *MI = II ? PP.getMacroInfo(II) : nullptr;
    if (!MI || MI->isFunctionLike())
      return std::nullopt;
    llvm::ArrayRef<Token> Tokens = MI->tokens();
    return evaluateTokens(Tokens, Depth + 1);
  }

private:
  const Preprocessor &PP;

  std::optional<uint64_t> evaluateTokens(llvm::ArrayRef<Token> Tokens,
                                         unsigned Depth) {
    size_t Pos = 0;
    auto V = parseOr(Tokens, Pos, Depth);
    if (!V || Pos != Tokens.size())
      return std::nullopt;
    return V;
  }

  static bool is(llvm::ArrayRef<Token> T, size_t Pos, tok::TokenKind K) {
    return Pos < T.size() && T[Pos].is(K);
  }

  std::optional<uint64_t> parseOr(llvm::ArrayRef<Token> T, size_t &Pos,
                                  unsigned Depth) {
    auto L = parseShift(T, Pos, Depth);
    while (L && is(T, Pos, tok::pipe)) {
      ++Pos;
      auto R = parseShift(T, Pos, Depth);
      if (!R)
        return std::nullopt;
      L = *L | *R;
    }
    return L;
  }

  std::optional<uint64_t> parseShift(llvm::ArrayRef<Token> T, size_t &Pos,
                                     unsigned Depth) {
    auto L = parseAdd(T, Pos, Depth);
    while (L && (is(T, Pos, tok::lessless) || is(T, Pos, tok::greatergreater))) {
      bool Left = T[Pos].is(tok::lessless);
      ++Pos;
      auto R = parseAdd(T, Pos, Depth);
      if (!R || *R >= 64)
        return std::nullopt;
      L = Left ? (*L << *R) : (*L >> *R);
    }
    return L;
  }

  std::optional<uint64_t> parseAdd(llvm::ArrayRef<Token> T, size_t &Pos,
                                   unsigned Depth) {
    auto L = parseMul(T, Pos, Depth);
    while (L && (is(T, Pos, tok::plus) || is(T, Pos, tok::minus))) {
      bool Plus = T[Pos].is(tok::plus);
      ++Pos;
      auto R = parseMul(T, Pos, Depth);
      if (!R)
        return std::nullopt;
      L = Plus ? *L + *R : *L - *R;
    }
    return L;
  }

  std::optional<uint64_t> parseMul(llvm::ArrayRef<Token> T, size_t &Pos,
                                   unsigned Depth) {
    auto L = parseUnary(T, Pos, Depth);
    while (L && (is(T, Pos, tok::star) || is(T, Pos, tok::slash))) {
      bool Mul = T[Pos].is(tok::star);
      ++Pos;
      auto R = parseUnary(T, Pos, Depth);
      if (!R || (!Mul && *R == 0))
        return std::nullopt;
      L = Mul ? *L * *R : *L / *R;
    }
    return L;
  }

  std::optional<uint64_t> parseUnary(llvm::ArrayRef<Token> T, size_t &Pos,
                                     unsigned Depth) {
    if (is(T, Pos, tok::tilde) || is(T, Pos, tok::minus)) {
      bool Tilde = T[Pos].is(tok::tilde);
      ++Pos;
      auto V = parseUnary(T, Pos, Depth);
      if (!V)
        return std::nullopt;
      return Tilde ? ~*V : (uint64_t)0 - *V;
    }
    return parsePrimary(T, Pos, Depth);
  }

  std::optional<uint64_t> parsePrimary(llvm::ArrayRef<Token> T, size_t &Pos,
                                       unsigned Depth) {
    if (Pos >= T.size())
      return std::nullopt;
    const Token &Tok = T[Pos];
    if (Tok.is(tok::l_paren)) {
      ++Pos;
      auto V = parseOr(T, Pos, Depth);
      if (!V || !is(T, Pos, tok::r_paren))
        return std::nullopt;
      ++Pos;
      return V;
    }
    if (Tok.is(tok::numeric_constant))
      return parseNumber(Tok, Pos);
    if (Tok.is(tok::identifier) || Tok.isAnyIdentifier()) {
      llvm::StringRef Name = Tok.getIdentifierInfo()->getName();
      ++Pos;
      // `_AC(1, UL)`, `UL(1)`, `_BITUL(12)`-style wrappers: the value is the
      // first argument (shifted for the BIT forms).
      if (is(T, Pos, tok::l_paren)) {
        ++Pos;
        auto Arg = parseOr(T, Pos, Depth);
        if (!Arg)
          return std::nullopt;
        while (Pos < T.size() && !T[Pos].is(tok::r_paren))
          ++Pos; // skip a type-suffix argument such as `, UL`
        if (!is(T, Pos, tok::r_paren))
          return std::nullopt;
        ++Pos;
        if (Name.contains("BIT")) {
          if (*Arg >= 64)
            return std::nullopt;
          return (uint64_t)1 << *Arg;
        }
        return Arg;
      }
      return evaluateMacro(Name, Depth);
    }
    return std::nullopt;
  }

  std::optional<uint64_t> parseNumber(const Token &Tok, size_t &Pos) {
    ++Pos;
    llvm::SmallString<32> Buffer;
    bool Invalid = false;
    llvm::StringRef Spelling = PP.getSpelling(Tok, Buffer, &Invalid);
    if (Invalid)
      return std::nullopt;
    NumericLiteralParser Literal(Spelling, Tok.getLocation(),
                                 PP.getSourceManager(), PP.getLangOpts(),
                                 PP.getTargetInfo(), PP.getDiagnostics());
    if (Literal.hadError || !Literal.isIntegerLiteral())
      return std::nullopt;
    llvm::APInt Value(64, 0);
    if (Literal.GetIntegerValue(Value))
      return std::nullopt;
    return Value.getZExtValue();
  }
};

} // namespace

std::optional<uint64_t> evaluatePageSizeMacro(const Preprocessor &PP) {
  return MacroIntEvaluator(PP).evaluateMacro("PAGE_SIZE", 0);
}

std::optional<KeptStructPages> computeKeptStructPages(const Preprocessor *PP,
                                                      const ASTContext &Ctx,
                                                      const RecordDecl *StructPage,
                                                      uint64_t FallbackPageSize) {
  if (!StructPage)
    return std::nullopt;
  const RecordDecl *Def = StructPage->getDefinition();
  if (!Def || Def->isInvalidDecl())
    return std::nullopt;
  KeptStructPages K;
  K.StructPageSize = Ctx.getTypeSizeInChars(Ctx.getRecordType(Def)).getQuantity();
  if (K.StructPageSize == 0)
    return std::nullopt;
  std::optional<uint64_t> PageSize;
  if (PP)
    PageSize = evaluatePageSizeMacro(*PP);
  K.PageSizeFromUnit = PageSize.has_value() && *PageSize != 0;
  K.PageSize = K.PageSizeFromUnit ? *PageSize : FallbackPageSize;
  K.Count = K.PageSize / K.StructPageSize;
  return K;
}

} // namespace clang::tidy::hvo
