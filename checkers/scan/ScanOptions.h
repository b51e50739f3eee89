// SPDX-License-Identifier: GPL-2.0-only
//
// The command line of hvo-scan, parsed by hand so that every usage error is
// one line on stderr and exit status 2 (llvm::cl exits with 1).
#ifndef HVO_SCAN_SCANOPTIONS_H
#define HVO_SCAN_SCANOPTIONS_H

#include <optional>
#include <string>
#include <vector>

namespace hvo::scan {

struct ScanOptions {
  std::optional<std::string> Tree;      // --tree DIR; unset: Debian 6.12
  std::optional<std::string> BuildDir;  // -p DIR: where compile_commands.json is
  std::optional<std::string> SarifFile;
  std::optional<std::string> FixesFile;
  std::optional<std::string> BaselineFile;
  std::optional<std::string> WriteBaselineFile;
  std::optional<std::string> ConfigFile; // clang-tidy YAML: check options
  std::optional<std::string> Checks;     // unset: the config's, else the default
  unsigned Jobs = 0;                    // 0: one per hardware thread
  bool SkipAnalysedHeaderBodies = true; // --no-skip-header-bodies turns it off
  bool Quiet = false;                   // -q: no per-finding lines
  std::vector<std::string> Paths;       // units under these paths
};

// Either the options or a one-line error message (without "hvo-scan: ").
struct ParsedOptions {
  std::optional<ScanOptions> Options;
  std::string Error;
  bool HelpRequested = false;
};

ParsedOptions parseScanOptions(int Argc, const char *const *Argv);
const char *scanUsage();

} // namespace hvo::scan

#endif
