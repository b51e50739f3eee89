// SPDX-License-Identifier: GPL-2.0-only
#include "ScanDriver.h"

#include "HeaderBodySkipper.h"
#include "Progress.h"
#include "UnitAnalysis.h"

#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace hvo::scan {

namespace {
std::string displayName(const std::string &File, llvm::StringRef Root) {
  llvm::StringRef Path = File;
  Root = Root.rtrim('/');
  if (Path.starts_with(Root) && Path.size() > Root.size() && Path[Root.size()] == '/')
    return Path.drop_front(Root.size() + 1).str();
  return File;
}

bool hasCompilerError(const UnitResult &Result) {
  return Result.FrontendFailed ||
         std::any_of(Result.Errors.begin(), Result.Errors.end(), [](const auto &E) {
           return E.DiagLevel == clang::tooling::Diagnostic::Error &&
                  llvm::StringRef(E.DiagnosticName).starts_with("clang-diagnostic-");
         });
}
} // namespace

ScanOutcome runScan(const ScanRun &Run) {
  std::vector<UnitResult> Results(Run.Units.size());
  AnalysedHeaderDefinitions Analysed;
  std::atomic<unsigned> SkippedBodies{0};
  std::atomic<size_t> Next{0};
  std::optional<Progress> Bar;
  if (Run.ShowProgress)
    Bar.emplace(Run.Units.size());

  auto Worker = [&] {
    for (size_t I = Next++; I < Run.Units.size(); I = Next++) {
      Results[I] = analyseUnit(*Run.Units[I], Run.TidyOptions,
                               Run.SkipAnalysedHeaderBodies ? &Analysed : nullptr,
                               SkippedBodies);
      if (Bar)
        Bar->unitDone(displayName(Run.Units[I]->File, Run.TreeRoot));
    }
  };
  unsigned Threads = std::max(1u, std::min<unsigned>(Run.Jobs, Run.Units.size()));
  std::vector<std::thread> Pool;
  for (unsigned T = 1; T < Threads; ++T)
    Pool.emplace_back(Worker);
  Worker();
  for (std::thread &T : Pool)
    T.join();
  if (Bar)
    Bar->finish();

  ScanOutcome Outcome;
  for (size_t I = 0; I < Results.size(); ++I) {
    if (hasCompilerError(Results[I]))
      Outcome.UnitsWithErrors.push_back(displayName(Run.Units[I]->File, Run.TreeRoot));
    for (clang::tidy::ClangTidyError &E : Results[I].Errors)
      Outcome.Errors.push_back(std::move(E));
  }
  Outcome.SkippedHeaderBodies = SkippedBodies;
  Outcome.AnalysedHeaderDefinitions = Analysed.size();
  return Outcome;
}

} // namespace hvo::scan
