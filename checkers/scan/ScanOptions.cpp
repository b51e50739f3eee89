// SPDX-License-Identifier: GPL-2.0-only
#include "ScanOptions.h"

#include <charconv>
#include <string_view>

namespace hvo::scan {

const char *scanUsage() {
  return R"(usage: hvo-scan [--tree DIR] [-p BUILD_DIR] [--sarif FILE] [--export-fixes FILE]
                [-j N] [--checks GLOB] [--baseline FILE] [--write-baseline FILE]
                [--no-skip-header-bodies] [-q] [PATH...]

Runs the hvo clang-tidy checks over the translation units of a kernel tree,
in parallel and in one process, and reports each finding once.

  --tree DIR             kernel tree with .config and compile_commands.json;
                         default: Debian's linux-source-6.12, prepared on first use
  -p BUILD_DIR           directory holding compile_commands.json (O= builds)
  --sarif FILE           write SARIF 2.1.0 for code scanning
  --export-fixes FILE    write clang-tidy's fixes YAML
  -j N                   parallel units (default: number of hardware threads)
  --checks GLOB          clang-tidy check filter (default: )" HVO_SCAN_DEFAULT_CHECKS R"()
  --config-file FILE     clang-tidy configuration (YAML, as .clang-tidy): CheckOptions,
                         and Checks unless --checks is given
  --baseline FILE        report only findings whose fingerprint is not in FILE
  --write-baseline FILE  save the fingerprints of this run's findings
  --no-skip-header-bodies  analyse every header function body in every unit
  -q                     print only the summary, not each finding
  PATH...                directories or files relative to the tree (default: mm/)

exit status: 0 no findings, 1 findings, 2 usage or input error
)";
}

namespace {

// Accepts "--opt VALUE" and "--opt=VALUE".  Returns true when Arg is Name.
bool takeValue(std::string_view Name, int &I, int Argc, const char *const *Argv,
               std::optional<std::string> &Out, std::string &Error) {
  std::string_view Arg = Argv[I];
  if (Arg == Name) {
    if (I + 1 >= Argc) {
      Error = std::string(Name) + " needs a value";
      return true;
    }
    Out = Argv[++I];
    return true;
  }
  if (Arg.size() > Name.size() && Arg.substr(0, Name.size()) == Name &&
      Arg[Name.size()] == '=') {
    Out = std::string(Arg.substr(Name.size() + 1));
    return true;
  }
  return false;
}

} // namespace

ParsedOptions parseScanOptions(int Argc, const char *const *Argv) {
  ParsedOptions Result;
  ScanOptions Opts;
  std::string &Error = Result.Error;
  bool OnlyPaths = false;
  for (int I = 1; I < Argc && Error.empty(); ++I) {
    std::string_view Arg = Argv[I];
    if (OnlyPaths || Arg.empty() || Arg[0] != '-') {
      Opts.Paths.emplace_back(Arg);
    } else if (Arg == "--") {
      OnlyPaths = true;
    } else if (Arg == "-h" || Arg == "--help") {
      Result.HelpRequested = true;
      return Result;
    } else if (Arg == "-q" || Arg == "--quiet") {
      Opts.Quiet = true;
    } else if (Arg == "--no-skip-header-bodies") {
      Opts.SkipAnalysedHeaderBodies = false;
    } else if (takeValue("--tree", I, Argc, Argv, Opts.Tree, Error) ||
               takeValue("-p", I, Argc, Argv, Opts.BuildDir, Error) ||
               takeValue("--sarif", I, Argc, Argv, Opts.SarifFile, Error) ||
               takeValue("--export-fixes", I, Argc, Argv, Opts.FixesFile, Error) ||
               takeValue("--baseline", I, Argc, Argv, Opts.BaselineFile, Error) ||
               takeValue("--write-baseline", I, Argc, Argv, Opts.WriteBaselineFile,
                         Error) ||
               takeValue("--config-file", I, Argc, Argv, Opts.ConfigFile, Error) ||
               takeValue("--checks", I, Argc, Argv, Opts.Checks, Error)) {
    } else if (Arg.substr(0, 2) == "-j") {
      std::optional<std::string> Count;
      if (Arg.size() > 2)
        Count = std::string(Arg.substr(Arg[2] == '=' ? 3 : 2));
      else
        takeValue("-j", I, Argc, Argv, Count, Error);
      if (!Error.empty())
        break;
      unsigned N = 0;
      const char *End = Count->data() + Count->size();
      auto [Ptr, Ec] = std::from_chars(Count->data(), End, N);
      if (Ec != std::errc() || Ptr != End || N == 0 || N > 1024)
        Error = "-j needs a number of jobs between 1 and 1024, not '" + *Count + "'";
      Opts.Jobs = N;
    } else {
      Error = "unknown option '" + std::string(Arg) + "' (see --help)";
    }
  }
  if (!Error.empty())
    return Result;
  for (const std::optional<std::string> *File :
       {&Opts.SarifFile, &Opts.FixesFile, &Opts.BaselineFile, &Opts.WriteBaselineFile,
        &Opts.Tree, &Opts.BuildDir, &Opts.ConfigFile})
    if (*File && (*File)->empty()) {
      Result.Error = "an option was given an empty file name";
      return Result;
    }
  Result.Options = std::move(Opts);
  return Result;
}

} // namespace hvo::scan
