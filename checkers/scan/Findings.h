// SPDX-License-Identifier: GPL-2.0-only
//
// What a scan reports: clang-tidy's per-unit errors turned into findings with
// tree-relative paths and lines, each reported once however many units saw
// it, in a fixed order, with a fingerprint that survives line shifts.
#ifndef HVO_SCAN_FINDINGS_H
#define HVO_SCAN_FINDINGS_H

#include "clang-tidy/ClangTidyDiagnosticConsumer.h"

#include <string>
#include <vector>

namespace hvo::scan {

struct FindingLocation {
  std::string File;         // relative to the tree root when inside it
  std::string AbsoluteFile; // for reading the source
  unsigned Offset = 0;
  unsigned Line = 0;
  unsigned Column = 0;
  std::string LineText;
};

struct FindingNote {
  FindingLocation Where;
  std::string Message;
};

struct Finding {
  std::string Check;
  bool IsError = false; // a compiler error rather than a check's warning
  std::string Message;
  FindingLocation Where;
  std::vector<FindingNote> Notes;
  std::string Fingerprint;
  clang::tidy::ClangTidyError Original; // fixes for --export-fixes
};

// Errors of all units, in unit order.  Deduplicates by check, file, offset and
// message, sorts by file, line, column, check, message, and fingerprints.
std::vector<Finding> collectFindings(const std::vector<clang::tidy::ClangTidyError> &Errors,
                                     const std::string &TreeRoot);

} // namespace hvo::scan

#endif
