// SPDX-License-Identifier: GPL-2.0-only
//
// Runs the enabled clang-tidy checks over one translation unit, in-process,
// the way clang-tidy's own runClangTidy() does (same argument adjusters,
// __clang_analyzer__ defined), with header bodies already analysed by another
// unit skipped when a shared AnalysedHeaderDefinitions is given.
#ifndef HVO_SCAN_UNITANALYSIS_H
#define HVO_SCAN_UNITANALYSIS_H

#include "CompileDatabase.h"
#include "HeaderBodySkipper.h"

#include "clang-tidy/ClangTidyDiagnosticConsumer.h"
#include "clang-tidy/ClangTidyOptions.h"

#include "llvm/Support/Error.h"

#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace hvo::scan {

struct UnitResult {
  std::vector<clang::tidy::ClangTidyError> Errors;
  bool FrontendFailed = false; // a fatal error or an unusable command line
};

// The clang-tidy options of a scan: the configuration file's (CheckOptions,
// Checks) if any, Checks overriding its glob, every header reported
// (findings in headers are deduplicated later), no system headers.
llvm::Expected<clang::tidy::ClangTidyOptions>
scanTidyOptions(const std::optional<std::string> &Checks,
                const std::optional<std::string> &ConfigFile);

// The names of the checks Options enables, sorted.
std::vector<std::string> enabledCheckNames(const clang::tidy::ClangTidyOptions &Options);

// Thread-safe as long as each thread uses its own call; Analysed may be null
// (every body parsed).  SkippedBodies counts the bodies this skipped.
UnitResult analyseUnit(const CompileUnit &Unit, const clang::tidy::ClangTidyOptions &Options,
                       AnalysedHeaderDefinitions *Analysed,
                       std::atomic<unsigned> &SkippedBodies);

} // namespace hvo::scan

#endif
