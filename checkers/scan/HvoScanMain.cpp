// SPDX-License-Identifier: GPL-2.0-only
//
// hvo-scan: run the hvo checks over a kernel tree.  See docs/hvo-scan.md.
#include "Baseline.h"
#include "CompileDatabase.h"
#include "Findings.h"
#include "FixesExport.h"
#include "KernelTree.h"
#include "SarifWriter.h"
#include "ScanDriver.h"
#include "ScanOptions.h"
#include "TextReport.h"
#include "UnitAnalysis.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <set>
#include <thread>

using namespace hvo::scan;

namespace {

constexpr int ExitClean = 0;
constexpr int ExitFindings = 1;
constexpr int ExitInputError = 2;

int fail(const llvm::Twine &Message) {
  llvm::errs() << "hvo-scan: error: " << Message << '\n';
  return ExitInputError;
}

int fail(llvm::Error E) { return fail(llvm::toString(std::move(E))); }

// One note for the whole database, not one error per unit.
void noteDroppedFlags(const CompileDatabase &Db) {
  if (Db.DroppedFlags.empty())
    return;
  llvm::errs() << "hvo-scan: note: dropped " << Db.DroppedFlags.size()
               << " compiler flags clang cannot use (GCC-only):";
  for (const auto &[Flag, Units] : Db.DroppedFlags)
    llvm::errs() << ' ' << Flag;
  llvm::errs() << '\n';
}

llvm::Error writeSarifFile(const std::string &Path, const std::vector<Finding> &Findings,
                           const std::vector<std::string> &Checks, const std::string &Root) {
  std::error_code Ec;
  llvm::raw_fd_ostream OS(Path, Ec, llvm::sys::fs::OF_Text);
  if (Ec)
    return llvm::createStringError(Ec, Path + ": " + Ec.message());
  writeSarif(OS, Findings, Checks, Root);
  OS.close();
  if (OS.has_error())
    return llvm::createStringError(OS.error(), Path + ": " + OS.error().message());
  return llvm::Error::success();
}

} // namespace

int main(int argc, const char **argv) {
  llvm::InitLLVM Init(argc, argv);
  ParsedOptions Parsed = parseScanOptions(argc, argv);
  if (Parsed.HelpRequested) {
    llvm::outs() << scanUsage();
    return ExitClean;
  }
  if (!Parsed.Options)
    return fail(Parsed.Error);
  const ScanOptions &Options = *Parsed.Options;

  clang::tidy::ClangTidyOptions TidyOptions = scanTidyOptions(Options.Checks);
  std::vector<std::string> Checks = enabledCheckNames(TidyOptions);
  if (Checks.empty())
    return fail("--checks '" + Options.Checks + "' enables no check");

  std::optional<std::set<std::string>> Known;
  if (Options.BaselineFile) {
    llvm::Expected<std::set<std::string>> Read = readBaseline(*Options.BaselineFile);
    if (!Read)
      return fail(Read.takeError());
    Known = std::move(*Read);
  }

  llvm::Expected<KernelTree> Tree = locateKernelTree(Options);
  if (!Tree)
    return fail(Tree.takeError());
  llvm::Expected<CompileDatabase> Db = loadCompileDatabase(Tree->DatabasePath);
  if (!Db)
    return fail(Db.takeError());
  llvm::Expected<std::vector<const CompileUnit *>> Units = selectUnits(*Db, Tree->Paths);
  if (!Units)
    return fail(Units.takeError());
  noteDroppedFlags(*Db);

  ScanRun Run;
  Run.Units = *Units;
  Run.TidyOptions = TidyOptions;
  Run.TreeRoot = Tree->Root;
  Run.Jobs = Options.Jobs ? Options.Jobs : std::max(1u, std::thread::hardware_concurrency());
  Run.SkipAnalysedHeaderBodies = Options.SkipAnalysedHeaderBodies;
  ScanOutcome Outcome = runScan(Run);
  if (Options.SkipAnalysedHeaderBodies)
    llvm::errs() << "hvo-scan: " << Outcome.SkippedHeaderBodies
                 << " header function bodies skipped, already analysed in another unit ("
                 << Outcome.AnalysedHeaderDefinitions << " distinct definitions)\n";

  std::vector<Finding> Findings = collectFindings(Outcome.Errors, Tree->Root);
  if (Options.WriteBaselineFile)
    if (llvm::Error E = writeBaseline(*Options.WriteBaselineFile, Findings))
      return fail(std::move(E));
  ScanCounts Counts;
  Counts.Units = Run.Units.size();
  Counts.UnitsWithErrors = Outcome.UnitsWithErrors.size();
  if (Known) {
    Counts.BaselineUsed = true;
    Counts.KnownByBaseline = dropKnownFindings(Findings, *Known);
  }

  if (!Options.Quiet)
    printFindings(llvm::outs(), Findings);
  printSummary(llvm::outs(), Findings, Checks, Counts);
  llvm::outs().flush();
  if (Options.SarifFile)
    if (llvm::Error E = writeSarifFile(*Options.SarifFile, Findings, Checks, Tree->Root))
      return fail(std::move(E));
  if (Options.FixesFile)
    if (llvm::Error E = exportFixes(*Options.FixesFile, Findings))
      return fail(std::move(E));

  if (!Outcome.UnitsWithErrors.empty()) {
    llvm::errs() << "hvo-scan: error: " << Outcome.UnitsWithErrors.size()
                 << " units did not compile cleanly, first " << Outcome.UnitsWithErrors.front()
                 << "; the scan is incomplete\n";
    return ExitInputError;
  }
  return Findings.empty() ? ExitClean : ExitFindings;
}
