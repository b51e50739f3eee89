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

// Output files are opened before the scan: a path that cannot be written is
// an input error found in a second, not after the scan.
struct OutputFile {
  std::string Path;
  std::unique_ptr<llvm::raw_fd_ostream> Stream;
};

llvm::Expected<std::optional<OutputFile>> openOutput(const std::optional<std::string> &Path) {
  if (!Path)
    return std::nullopt;
  std::error_code Ec;
  auto Stream = std::make_unique<llvm::raw_fd_ostream>(*Path, Ec, llvm::sys::fs::OF_Text);
  if (Ec)
    return llvm::createStringError(Ec, *Path + ": " + Ec.message());
  return OutputFile{*Path, std::move(Stream)};
}

llvm::Error closeOutput(std::optional<OutputFile> &File) {
  if (!File)
    return llvm::Error::success();
  File->Stream->close();
  if (File->Stream->has_error())
    return llvm::createStringError(File->Stream->error(),
                                   File->Path + ": " + File->Stream->error().message());
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

  llvm::Expected<clang::tidy::ClangTidyOptions> TidyOptions =
      scanTidyOptions(Options.Checks, Options.ConfigFile);
  if (!TidyOptions)
    return fail(TidyOptions.takeError());
  std::vector<std::string> Checks = enabledCheckNames(*TidyOptions);
  if (Checks.empty())
    return fail("checks '" + TidyOptions->Checks.value_or("") + "' enable no check");

  std::optional<std::set<std::string>> Known;
  if (Options.BaselineFile) {
    llvm::Expected<std::set<std::string>> Read = readBaseline(*Options.BaselineFile);
    if (!Read)
      return fail(Read.takeError());
    Known = std::move(*Read);
  }

  llvm::Expected<std::optional<OutputFile>> Sarif = openOutput(Options.SarifFile);
  if (!Sarif)
    return fail(Sarif.takeError());
  llvm::Expected<std::optional<OutputFile>> Fixes = openOutput(Options.FixesFile);
  if (!Fixes)
    return fail(Fixes.takeError());
  llvm::Expected<std::optional<OutputFile>> NewBaseline = openOutput(Options.WriteBaselineFile);
  if (!NewBaseline)
    return fail(NewBaseline.takeError());

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
  Run.TidyOptions = *TidyOptions;
  Run.TreeRoot = Tree->Root;
  Run.Jobs = Options.Jobs ? Options.Jobs : std::max(1u, std::thread::hardware_concurrency());
  Run.SkipAnalysedHeaderBodies = Options.SkipAnalysedHeaderBodies;
  ScanOutcome Outcome = runScan(Run);
  if (Options.SkipAnalysedHeaderBodies)
    llvm::errs() << "hvo-scan: " << Outcome.SkippedHeaderBodies
                 << " header function bodies skipped, already analysed in another unit ("
                 << Outcome.AnalysedHeaderDefinitions << " distinct definitions)\n";

  std::vector<Finding> Findings = collectFindings(Outcome.Errors, Tree->Root);
  if (*NewBaseline)
    writeBaseline(*(*NewBaseline)->Stream, Findings);
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
  if (*Sarif)
    writeSarif(*(*Sarif)->Stream, Findings, Checks, Tree->Root);
  if (*Fixes)
    exportFixes(*(*Fixes)->Stream, Findings);
  for (std::optional<OutputFile> *File : {&*Sarif, &*Fixes, &*NewBaseline})
    if (llvm::Error E = closeOutput(*File))
      return fail(std::move(E));

  if (!Outcome.UnitsWithErrors.empty()) {
    llvm::errs() << "hvo-scan: error: " << Outcome.UnitsWithErrors.size()
                 << " units did not compile cleanly, first " << Outcome.UnitsWithErrors.front()
                 << "; the scan is incomplete\n";
    return ExitInputError;
  }
  return Findings.empty() ? ExitClean : ExitFindings;
}
