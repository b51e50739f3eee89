// SPDX-License-Identifier: GPL-2.0-only
#include "UnitAnalysis.h"

#include "clang-tidy/ClangTidy.h"
#include "clang-tidy/ClangTidyModule.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/VirtualFileSystem.h"

namespace clang::tidy {
// Keeps the module's registration in the static link (see CMakeLists.txt).
extern volatile int HVO_SCAN_MODULE_ANCHOR;
[[maybe_unused]] static int ModuleAnchorDestination = HVO_SCAN_MODULE_ANCHOR;
} // namespace clang::tidy

namespace hvo::scan {

using namespace clang;

namespace {

class ScanAction : public ASTFrontendAction {
public:
  ScanAction(tidy::ClangTidyASTConsumerFactory &Checks, AnalysedHeaderDefinitions *Analysed,
             std::atomic<unsigned> &SkippedBodies)
      : Checks(Checks), Analysed(Analysed), SkippedBodies(SkippedBodies) {}

  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &Compiler,
                                                 StringRef File) override {
    std::unique_ptr<ASTConsumer> Tidy = Checks.createASTConsumer(Compiler, File);
    if (!Analysed)
      return Tidy;
    return std::make_unique<SkipAnalysedHeaderBodies>(
        std::move(Tidy), Compiler.getSourceManager(), *Analysed, SkippedBodies);
  }

private:
  tidy::ClangTidyASTConsumerFactory &Checks;
  AnalysedHeaderDefinitions *Analysed;
  std::atomic<unsigned> &SkippedBodies;
};

class ScanActionFactory : public tooling::FrontendActionFactory {
public:
  ScanActionFactory(tidy::ClangTidyASTConsumerFactory &Checks,
                    AnalysedHeaderDefinitions *Analysed, std::atomic<unsigned> &SkippedBodies)
      : Checks(Checks), Analysed(Analysed), SkippedBodies(SkippedBodies) {}

  std::unique_ptr<FrontendAction> create() override {
    return std::make_unique<ScanAction>(Checks, Analysed, SkippedBodies);
  }

  bool runInvocation(std::shared_ptr<CompilerInvocation> Invocation, FileManager *Files,
                     std::shared_ptr<PCHContainerOperations> PCHContainerOps,
                     DiagnosticConsumer *DiagConsumer) override {
    // As clang-tidy: define __clang_analyzer__ so code sees the same macros.
    Invocation->getPreprocessorOpts().SetUpStaticAnalyzer = true;
    // The parser asks the consumer before each body only with this set.
    Invocation->getFrontendOpts().SkipFunctionBodies = Analysed != nullptr;
    // No "N errors generated." on stderr: errors are reported as findings.
    Invocation->getDiagnosticOpts().ShowCarets = false;
    return FrontendActionFactory::runInvocation(std::move(Invocation), Files,
                                                std::move(PCHContainerOps), DiagConsumer);
  }

private:
  tidy::ClangTidyASTConsumerFactory &Checks;
  AnalysedHeaderDefinitions *Analysed;
  std::atomic<unsigned> &SkippedBodies;
};

} // namespace

llvm::Expected<tidy::ClangTidyOptions>
scanTidyOptions(const std::optional<std::string> &Checks,
                const std::optional<std::string> &ConfigFile) {
  tidy::ClangTidyOptions Options = tidy::ClangTidyOptions::getDefaults();
  Options.Checks = HVO_SCAN_DEFAULT_CHECKS;
  if (ConfigFile) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Text =
        llvm::MemoryBuffer::getFile(*ConfigFile);
    if (!Text)
      return llvm::createStringError(Text.getError(),
                                     *ConfigFile + ": " + Text.getError().message());
    // The first YAML diagnostic becomes the one-line error (file:line:col).
    std::string Problem;
    llvm::ErrorOr<tidy::ClangTidyOptions> Parsed = tidy::parseConfigurationWithDiags(
        (*Text)->getMemBufferRef(), [&](const llvm::SMDiagnostic &D) {
          if (Problem.empty())
            Problem = (llvm::Twine(D.getLineNo()) + ":" + llvm::Twine(D.getColumnNo() + 1) +
                       ": " + D.getMessage())
                          .str();
        });
    if (!Parsed)
      return llvm::createStringError(Parsed.getError(),
                                     *ConfigFile + ":" +
                                         (Problem.empty() ? Parsed.getError().message() : Problem) +
                                         " (not a clang-tidy configuration)");
    Options.mergeWith(*Parsed, 0);
  }
  if (Checks)
    Options.Checks = *Checks;
  // Reporting and filtering are hvo-scan's: every header, deduplicated.
  Options.HeaderFilterRegex = ".*";
  Options.SystemHeaders = false;
  return Options;
}

std::vector<std::string> enabledCheckNames(const tidy::ClangTidyOptions &Options) {
  std::vector<std::string> Names = tidy::getCheckNames(Options, false);
  std::sort(Names.begin(), Names.end());
  return Names;
}

UnitResult analyseUnit(const CompileUnit &Unit, const tidy::ClangTidyOptions &Options,
                       AnalysedHeaderDefinitions *Analysed,
                       std::atomic<unsigned> &SkippedBodies) {
  tidy::ClangTidyContext Context(std::make_unique<tidy::DefaultOptionsProvider>(
      tidy::ClangTidyGlobalOptions(), Options));
  SelectedUnitsDatabase Database({&Unit});

  // A physical file system of its own: each has its own working directory,
  // where the process-wide one would be shared by every thread.
  llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> FileSystem(
      new llvm::vfs::OverlayFileSystem(llvm::vfs::createPhysicalFileSystem()));
  tooling::ClangTool Tool(Database, {Unit.File}, std::make_shared<PCHContainerOperations>(),
                          FileSystem);
  Tool.appendArgumentsAdjuster(tooling::getStripPluginsAdjuster());
  // The tool's own guess looks next to this executable; use clang 19's.
  Tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
      "-resource-dir=" HVO_SCAN_CLANG_RESOURCE_DIR, tooling::ArgumentInsertPosition::END));

  if (Analysed)
    // A skipped body leaves the static functions and variables it used
    // looking unused; under the kernel's -Werror those warnings would be
    // errors that a full parse does not have.  Appended last, so they win.
    Tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
        {"-Wno-unused-function", "-Wno-unused-variable", "-Wno-unneeded-internal-declaration"},
        tooling::ArgumentInsertPosition::END));

  tidy::ClangTidyDiagnosticConsumer Diagnostics(Context, nullptr, true, false);
  DiagnosticsEngine Engine(new DiagnosticIDs(), new DiagnosticOptions(), &Diagnostics,
                           /*ShouldOwnClient=*/false);
  Context.setDiagnosticsEngine(&Engine);
  Tool.setDiagnosticConsumer(&Diagnostics);
  Tool.setPrintErrorMessage(false);

  tidy::ClangTidyASTConsumerFactory Checks(Context, FileSystem);
  ScanActionFactory Factory(Checks, Analysed, SkippedBodies);
  UnitResult Result;
  Result.FrontendFailed = Tool.run(&Factory) != 0;
  Result.Errors = Diagnostics.take();
  return Result;
}

} // namespace hvo::scan
