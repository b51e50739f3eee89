// SPDX-License-Identifier: GPL-2.0-only
#include "HeaderBodySkipper.h"

#include "clang/AST/Decl.h"
#include "clang/Basic/SourceManager.h"

#include <vector>

namespace hvo::scan {

bool AnalysedHeaderDefinitions::claim(HeaderDefinition Definition) {
  std::lock_guard<std::mutex> Lock(Mutex);
  return Claimed.insert(std::move(Definition)).second;
}

size_t AnalysedHeaderDefinitions::size() const {
  std::lock_guard<std::mutex> Lock(Mutex);
  return Claimed.size();
}

namespace {
std::vector<std::unique_ptr<clang::ASTConsumer>> single(std::unique_ptr<clang::ASTConsumer> C) {
  std::vector<std::unique_ptr<clang::ASTConsumer>> V;
  V.push_back(std::move(C));
  return V;
}
} // namespace

SkipAnalysedHeaderBodies::SkipAnalysedHeaderBodies(std::unique_ptr<clang::ASTConsumer> Inner,
                                                   clang::SourceManager &Sources,
                                                   AnalysedHeaderDefinitions &Analysed,
                                                   std::atomic<unsigned> &SkippedBodies)
    : MultiplexConsumer(single(std::move(Inner))), Sources(Sources), Analysed(Analysed),
      SkippedBodies(SkippedBodies) {}

bool SkipAnalysedHeaderBodies::shouldSkipFunctionBody(clang::Decl *D) {
  // The main file's own functions are always analysed: they are this unit's.
  clang::SourceLocation Where = Sources.getExpansionLoc(D->getLocation());
  if (Where.isInvalid() || Sources.isInMainFile(Where))
    return false;
  clang::FileID File = Sources.getFileID(Where);
  clang::OptionalFileEntryRef Entry = Sources.getFileEntryRefForID(File);
  if (!Entry)
    return false;
  HeaderDefinition Definition;
  Definition.File = Entry->getUniqueID();
  Definition.Offset = Sources.getFileOffset(Where);
  if (const auto *Named = llvm::dyn_cast<clang::NamedDecl>(D))
    Definition.Name = Named->getDeclName().getAsString();
  if (Analysed.claim(std::move(Definition)))
    return false;
  ++SkippedBodies;
  return true;
}

} // namespace hvo::scan
