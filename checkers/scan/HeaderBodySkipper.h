// SPDX-License-Identifier: GPL-2.0-only
//
// The work every kernel unit repeats: the same inline functions of the same
// headers are parsed, checked and matched again in each unit.  With
// FrontendOptions::SkipFunctionBodies on, the parser asks the AST consumer
// before parsing each body; this consumer lets the first unit that reaches a
// header definition parse and check it, and tells every later unit (in any
// thread) to skip it.  A definition is identified by its file (inode), the
// file offset of its expansion and its name: macro-generated functions share
// an expansion point, so the name tells them apart.
#ifndef HVO_SCAN_HEADERBODYSKIPPER_H
#define HVO_SCAN_HEADERBODYSKIPPER_H

#include "clang/Frontend/MultiplexConsumer.h"
#include "llvm/Support/FileSystem/UniqueID.h"

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

namespace clang {
class SourceManager;
}

namespace hvo::scan {

struct HeaderDefinition {
  llvm::sys::fs::UniqueID File;
  unsigned Offset = 0;
  std::string Name;
  bool operator<(const HeaderDefinition &Other) const {
    return std::tie(File, Offset, Name) < std::tie(Other.File, Other.Offset, Other.Name);
  }
};

// Shared by all threads of one scan.
class AnalysedHeaderDefinitions {
public:
  // True for the first caller with this definition: it must analyse it.
  bool claim(HeaderDefinition Definition);
  size_t size() const;

private:
  mutable std::mutex Mutex;
  std::set<HeaderDefinition> Claimed;
};

class SkipAnalysedHeaderBodies : public clang::MultiplexConsumer {
public:
  SkipAnalysedHeaderBodies(std::unique_ptr<clang::ASTConsumer> Inner,
                           clang::SourceManager &Sources,
                           AnalysedHeaderDefinitions &Analysed,
                           std::atomic<unsigned> &SkippedBodies);
  bool shouldSkipFunctionBody(clang::Decl *D) override;

private:
  clang::SourceManager &Sources;
  AnalysedHeaderDefinitions &Analysed;
  std::atomic<unsigned> &SkippedBodies;
};

} // namespace hvo::scan

#endif
