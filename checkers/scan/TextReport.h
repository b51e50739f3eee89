// SPDX-License-Identifier: GPL-2.0-only
//
// The human side of a scan: each finding in clang's file:line:col format with
// its notes, and the summary table of findings per check.
#ifndef HVO_SCAN_TEXTREPORT_H
#define HVO_SCAN_TEXTREPORT_H

#include "Findings.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace hvo::scan {

void printFindings(llvm::raw_ostream &OS, const std::vector<Finding> &Findings);

struct ScanCounts {
  size_t Units = 0;
  size_t UnitsWithErrors = 0;   // units the front end could not fully parse
  size_t KnownByBaseline = 0;   // findings hidden by --baseline
  bool BaselineUsed = false;
};

// One row per enabled check (zeros included, so a reader sees what ran),
// then any other rule that produced findings, then the total.
void printSummary(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
                  const std::vector<std::string> &EnabledChecks, const ScanCounts &Counts);

} // namespace hvo::scan

#endif
