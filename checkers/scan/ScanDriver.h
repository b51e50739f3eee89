// SPDX-License-Identifier: GPL-2.0-only
//
// Analyses the selected units on N threads in one process.  Results are
// kept per unit and merged in unit order, so the output does not depend on
// which thread finished first.
#ifndef HVO_SCAN_SCANDRIVER_H
#define HVO_SCAN_SCANDRIVER_H

#include "CompileDatabase.h"

#include "clang-tidy/ClangTidyDiagnosticConsumer.h"
#include "clang-tidy/ClangTidyOptions.h"

#include <string>
#include <vector>

namespace hvo::scan {

struct ScanRun {
  std::vector<const CompileUnit *> Units;
  clang::tidy::ClangTidyOptions TidyOptions;
  std::string TreeRoot;  // for the progress line's unit names
  unsigned Jobs = 1;
  bool SkipAnalysedHeaderBodies = true;
  bool ShowProgress = true;
};

struct ScanOutcome {
  std::vector<clang::tidy::ClangTidyError> Errors; // all units, in unit order
  std::vector<std::string> UnitsWithErrors;        // front-end failures
  unsigned SkippedHeaderBodies = 0;
  size_t AnalysedHeaderDefinitions = 0;
};

ScanOutcome runScan(const ScanRun &Run);

} // namespace hvo::scan

#endif
