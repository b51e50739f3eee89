// SPDX-License-Identifier: GPL-2.0-only
#include "Baseline.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace hvo::scan {

namespace {
constexpr llvm::StringLiteral Header = "# hvo-scan baseline v1";
constexpr size_t FingerprintLength = 32;

bool isFingerprint(llvm::StringRef Token) {
  return Token.size() == FingerprintLength &&
         std::all_of(Token.begin(), Token.end(),
                     [](char C) { return llvm::isDigit(C) || (C >= 'a' && C <= 'f'); });
}
} // namespace

llvm::Expected<std::set<std::string>> readBaseline(const std::string &Path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer = llvm::MemoryBuffer::getFile(Path);
  if (!Buffer)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   Path + ": " + Buffer.getError().message());
  llvm::StringRef Text = (*Buffer)->getBuffer();
  if (!Text.starts_with(Header))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   Path + ":1: not an hvo-scan baseline (expected '" + Header +
                                       "')");
  std::set<std::string> Known;
  unsigned LineNumber = 0;
  while (!Text.empty()) {
    auto [Line, Rest] = Text.split('\n');
    Text = Rest;
    ++LineNumber;
    Line = Line.trim();
    if (Line.empty() || Line.starts_with("#"))
      continue;
    llvm::StringRef Token = Line.split(' ').first;
    if (!isFingerprint(Token))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     Path + ":" + llvm::Twine(LineNumber) + ": '" + Token +
                                         "' is not a fingerprint (32 lower-case hex digits)");
    Known.insert(Token.str());
  }
  return Known;
}

void writeBaseline(llvm::raw_ostream &OS, const std::vector<Finding> &Findings) {
  OS << Header << ": fingerprint, then check and location for readers\n";
  for (const Finding &F : Findings)
    OS << F.Fingerprint << ' ' << F.Check << ' ' << F.Where.File << ':' << F.Where.Line << '\n';
}

size_t dropKnownFindings(std::vector<Finding> &Findings, const std::set<std::string> &Known) {
  size_t Before = Findings.size();
  std::erase_if(Findings, [&](const Finding &F) { return Known.count(F.Fingerprint) != 0; });
  return Before - Findings.size();
}

} // namespace hvo::scan
