// SPDX-License-Identifier: GPL-2.0-only
#include "TextReport.h"

#include "llvm/Support/Format.h"

#include <algorithm>
#include <map>

namespace hvo::scan {

namespace {
void printLocation(llvm::raw_ostream &OS, const FindingLocation &Where) {
  if (Where.File.empty()) {
    OS << "hvo-scan: ";
    return;
  }
  OS << Where.File << ':' << Where.Line << ':' << Where.Column << ": ";
}
} // namespace

void printFindings(llvm::raw_ostream &OS, const std::vector<Finding> &Findings) {
  for (const Finding &F : Findings) {
    printLocation(OS, F.Where);
    OS << (F.IsError ? "error: " : "warning: ") << F.Message << " [" << F.Check << "]\n";
    if (!F.Where.LineText.empty())
      OS << "  " << F.Where.LineText << '\n';
    for (const FindingNote &Note : F.Notes) {
      printLocation(OS, Note.Where);
      OS << "note: " << Note.Message << '\n';
    }
  }
}

void printSummary(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
                  const std::vector<std::string> &EnabledChecks, const ScanCounts &Counts) {
  std::map<std::string, size_t> PerCheck;
  for (const std::string &Check : EnabledChecks)
    PerCheck[Check] = 0;
  for (const Finding &F : Findings)
    ++PerCheck[F.Check];
  size_t Width = 5;
  for (const auto &[Check, N] : PerCheck)
    Width = std::max(Width, Check.size());

  OS << "hvo-scan: " << Counts.Units << " units, " << EnabledChecks.size() << " checks, "
     << Findings.size() << (Counts.BaselineUsed ? " new" : "") << " findings";
  if (Counts.BaselineUsed)
    OS << " (" << Counts.KnownByBaseline << " known findings hidden by the baseline)";
  OS << '\n';
  OS << "  " << llvm::left_justify("check", Width) << "  findings\n";
  for (const auto &[Check, N] : PerCheck)
    OS << "  " << llvm::left_justify(Check, Width) << "  " << llvm::format_decimal(N, 8) << '\n';
  OS << "  " << llvm::left_justify("total", Width) << "  "
     << llvm::format_decimal(Findings.size(), 8) << '\n';
  if (Counts.UnitsWithErrors)
    OS << "hvo-scan: " << Counts.UnitsWithErrors
       << " units had compiler errors; their findings may be incomplete\n";
}

} // namespace hvo::scan
