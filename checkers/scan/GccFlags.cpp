// SPDX-License-Identifier: GPL-2.0-only
#include "GccFlags.h"

#include "clang/Basic/DiagnosticIDs.h"
#include "clang/Driver/Options.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Option/ArgList.h"
#include "llvm/Option/OptTable.h"

namespace hvo::scan {
namespace opts = clang::driver::options;
using llvm::StringRef;

namespace {

// Flags clang's driver knows but that only make sense for GCC.  Each is added
// by the kernel's Makefiles for GCC builds only (cc-option / CONFIG_CC_IS_GCC).
bool isGccOnlyKnownFlag(StringRef Arg) {
  return Arg == "-mrecord-mcount" ||          // clang: unsupported for x86_64
         Arg == "-fsanitize=bounds-strict" || // GCC's UBSAN_BOUNDS_STRICT
         Arg.starts_with("--param");          // GCC optimizer parameters
}

// Never load code named by a compile database: a GCC plugin cannot load into
// clang anyway, and a clang plugin is code we did not choose to run.
bool loadsCode(StringRef Arg) {
  return Arg.starts_with("-fplugin=") || Arg.starts_with("-fplugin-arg-") ||
         Arg.starts_with("-fpass-plugin=");
}

bool writesDependencyFile(StringRef Arg) {
  return Arg.starts_with("-Wp,-MMD,") || Arg.starts_with("-Wp,-MD,");
}

// -W<group>, -Wno-<group>, -Werror=<group>: true when clang has no such group.
// With the kernel's -Werror an unknown group is an error, not a warning.
bool namesUnknownWarningGroup(StringRef Value, const clang::DiagnosticIDs &Ids) {
  Value.consume_front("no-");
  if (Value == "error" || Value == "fatal-errors" || Value == "everything" ||
      Value == "system-headers")
    return false;
  if (!Value.consume_front("error="))
    Value.consume_front("fatal-errors=");
  llvm::SmallVector<clang::diag::kind, 16> Diags;
  return Ids.getDiagnosticsInGroup(clang::diag::Flavor::WarningOrError, Value, Diags);
}

} // namespace

FilteredCommand dropFlagsClangCannotUse(const std::vector<std::string> &Argv) {
  FilteredCommand Out;
  if (Argv.empty())
    return Out;
  Out.Args.push_back(Argv.front());

  std::vector<const char *> Rest;
  for (size_t I = 1; I < Argv.size(); ++I)
    if (!writesDependencyFile(Argv[I]))
      Rest.push_back(Argv[I].c_str());

  const llvm::opt::OptTable &Table = clang::driver::getDriverOptTable();
  unsigned MissingIndex = 0, MissingCount = 0;
  llvm::opt::InputArgList Args =
      Table.ParseArgs(Rest, MissingIndex, MissingCount,
                      llvm::opt::Visibility(opts::ClangOption));
  static const llvm::IntrusiveRefCntPtr<clang::DiagnosticIDs> Ids(new clang::DiagnosticIDs);

  // Each parsed Arg owns the argv slots from its index up to the next Arg's:
  // keep or drop them together, as spelled, so values stay with their flag.
  std::vector<const llvm::opt::Arg *> Parsed(Args.begin(), Args.end());
  for (size_t K = 0; K < Parsed.size(); ++K) {
    const llvm::opt::Arg *A = Parsed[K];
    unsigned Begin = A->getIndex();
    unsigned End = K + 1 < Parsed.size() ? Parsed[K + 1]->getIndex()
                                         : static_cast<unsigned>(Rest.size());
    StringRef Spelling = Rest[Begin];
    const llvm::opt::Option &O = A->getOption();
    bool Drop = O.getKind() == llvm::opt::Option::UnknownClass ||
                // clang warns about these, an error under the kernel's
                // -Werror; the other ignored groups it accepts silently.
                O.matches(opts::OPT_clang_ignored_gcc_optimization_f_Group) ||
                isGccOnlyKnownFlag(Spelling) || loadsCode(Spelling) ||
                (O.getID() == opts::OPT_W_Joined &&
                 namesUnknownWarningGroup(A->getValue(), *Ids));
    for (unsigned I = Begin; I < End; ++I) {
      if (Drop)
        Out.Dropped.emplace_back(Rest[I]);
      else
        Out.Args.emplace_back(Rest[I]);
    }
  }
  return Out;
}

} // namespace hvo::scan
