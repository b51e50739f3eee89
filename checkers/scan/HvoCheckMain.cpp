// SPDX-License-Identifier: GPL-2.0-only
//
// hvo-check: the sparse-style entry point, for the kernel's own build:
//   make LLVM=-19 C=2 CHECK=/path/to/hvo-check mm/
// kbuild runs `$(CHECK) $(CHECKFLAGS) $(c_flags) file.c` in the tree's top
// directory.  CHECKFLAGS are sparse's (-D__STDC__, --arch=..., -Wbitwise):
// clang predefines or rejects them, and with the kernel's -Werror a
// redefined builtin macro is an error, so everything before c_flags (which
// kbuild starts with -Wp,-MMD,<depfile>) is dropped.  Findings go to stderr
// like sparse's; the exit status is 0 so the build goes on, unless
// --fail-on-findings is given first.  Options for hvo-check itself come
// before the compiler flags: --checks=GLOB, --fail-on-findings.
#include "CompileDatabase.h"
#include "Findings.h"
#include "GccFlags.h"
#include "TextReport.h"
#include "UnitAnalysis.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace hvo::scan;

int main(int argc, const char **argv) {
  llvm::InitLLVM Init(argc, argv);
  std::string Checks = HVO_SCAN_DEFAULT_CHECKS;
  bool FailOnFindings = false;
  int First = 1;
  for (; First < argc; ++First) {
    llvm::StringRef Arg = argv[First];
    if (Arg.consume_front("--checks="))
      Checks = Arg.str();
    else if (Arg == "--fail-on-findings")
      FailOnFindings = true;
    else
      break;
  }
  std::vector<std::string> Flags(argv + First, argv + argc);
  auto DepFlag = std::find_if(Flags.begin(), Flags.end(), [](const std::string &F) {
    return llvm::StringRef(F).starts_with("-Wp,-MMD,") || llvm::StringRef(F).starts_with("-Wp,-MD,");
  });
  if (DepFlag != Flags.end())
    Flags.erase(Flags.begin(), DepFlag); // sparse's CHECKFLAGS

  // The unit is the last argument naming a C file.
  auto Source = std::find_if(Flags.rbegin(), Flags.rend(), [](const std::string &F) {
    return !llvm::StringRef(F).starts_with("-") && llvm::StringRef(F).ends_with(".c");
  });
  if (Source == Flags.rend()) {
    llvm::errs() << "hvo-check: error: no C source file among the arguments "
                    "(usage: hvo-check [--checks=GLOB] [--fail-on-findings] FLAGS... file.c)\n";
    return 2;
  }
  llvm::SmallString<256> Cwd;
  llvm::sys::fs::current_path(Cwd);
  CompileUnit Unit;
  Unit.Directory = std::string(Cwd);
  llvm::SmallString<256> File(*Source);
  llvm::sys::fs::make_absolute(File);
  llvm::sys::path::remove_dots(File, true);
  Unit.File = std::string(File);
  if (!llvm::sys::fs::is_regular_file(Unit.File)) {
    llvm::errs() << "hvo-check: error: " << *Source << ": no such file\n";
    return 2;
  }
  std::vector<std::string> Command{"clang"};
  Command.insert(Command.end(), Flags.begin(), Flags.end());
  Unit.Args = dropFlagsClangCannotUse(Command).Args;

  llvm::Expected<clang::tidy::ClangTidyOptions> Parsed = scanTidyOptions(Checks, std::nullopt);
  if (!Parsed) {
    llvm::errs() << "hvo-check: error: " << llvm::toString(Parsed.takeError()) << '\n';
    return 2;
  }
  clang::tidy::ClangTidyOptions &Options = *Parsed;
  if (enabledCheckNames(Options).empty()) {
    llvm::errs() << "hvo-check: error: --checks='" << Checks << "' enables no check\n";
    return 2;
  }
  std::atomic<unsigned> Skipped{0};
  UnitResult Result = analyseUnit(Unit, Options, nullptr, Skipped);
  std::vector<Finding> Findings = collectFindings(Result.Errors, Unit.Directory);
  printFindings(llvm::errs(), Findings);
  if (Result.FrontendFailed)
    return 2;
  return FailOnFindings && !Findings.empty() ? 1 : 0;
}
