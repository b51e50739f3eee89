// SPDX-License-Identifier: GPL-2.0-only
//
// hvo-tidy: clang-tidy with the hvo module built in.  The whole command line
// (-checks, -p, --export-fixes, --header-filter, --line-filter,
// --config-file, NOLINT handling, ...) is clang-tidy's own, from
// libclangTidyMain; this file only keeps the module's static registration
// from being dropped by the linker.
#include "clang-tidy/tool/ClangTidyMain.h"

namespace clang::tidy {
extern volatile int HvoModuleAnchorSource;
[[maybe_unused]] static int HvoModuleAnchorDestination = HvoModuleAnchorSource;
} // namespace clang::tidy

int main(int argc, const char **argv) { return clang::tidy::clangTidyMain(argc, argv); }
