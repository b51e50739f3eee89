// SPDX-License-Identifier: GPL-2.0-only
//
// Registers every hvo check with clang-tidy under its public name.  Binaries
// that link this library statically reference HvoModuleAnchorSource so the
// linker keeps the registration below.
#include "SharedTailWriteCheck.h"
#include "StaleFakeHeadCheck.h"
#include "TailMetadataReadCheck.h"
#include "VmemmapBugOnCheck.h"
#include "clang-tidy/ClangTidyModule.h"
#include "clang-tidy/ClangTidyModuleRegistry.h"

namespace clang::tidy {
namespace hvo {

class HvoTidyModule : public ClangTidyModule {
public:
  void addCheckFactories(ClangTidyCheckFactories &CheckFactories) override {
    CheckFactories.registerCheck<SharedTailWriteCheck>("hvo-shared-tail-write");
    CheckFactories.registerCheck<StaleFakeHeadCheck>("hvo-stale-fake-head");
    CheckFactories.registerCheck<TailMetadataReadCheck>("hvo-tail-metadata-read");
    CheckFactories.registerCheck<VmemmapBugOnCheck>("hvo-vmemmap-bug-on");
  }
};

static ClangTidyModuleRegistry::Add<HvoTidyModule>
    X("hvo-module", "Checks for code that breaks the kernel's Hugepage "
                    "Vmemmap Optimization (HVO).");

} // namespace hvo

// Referenced by every binary that links the module statically
// (HvoModuleAnchorDestination in hvo-tidy and hvo-scan).
volatile int HvoModuleAnchorSource = 0;

} // namespace clang::tidy
