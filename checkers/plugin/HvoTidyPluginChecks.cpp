// SPDX-License-Identifier: GPL-2.0-only
//
// The checks half of the plugin: referencing the anchor pulls the module's
// registration (and with it every check) out of the static library.  The
// registration runs when hvo-tidy-plugin.so loads this library.
namespace clang::tidy {
extern volatile int HvoModuleAnchorSource;
[[maybe_unused]] static int HvoModuleAnchorDestination = HvoModuleAnchorSource;
} // namespace clang::tidy
