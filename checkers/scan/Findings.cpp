// SPDX-License-Identifier: GPL-2.0-only
#include "Findings.h"

#include "SourceText.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace hvo::scan {

namespace {

std::string absolutePath(llvm::StringRef File, llvm::StringRef BuildDirectory) {
  llvm::SmallString<256> Path;
  if (llvm::sys::path::is_absolute(File)) {
    Path = File;
  } else {
    Path = BuildDirectory;
    llvm::sys::path::append(Path, File);
  }
  llvm::sys::path::remove_dots(Path, /*remove_dot_dot=*/true);
  return std::string(Path);
}

std::string treeRelative(const std::string &Absolute, llvm::StringRef Root) {
  llvm::StringRef Path = Absolute;
  Root = Root.rtrim('/');
  if (Path.starts_with(Root) && Path.size() > Root.size() && Path[Root.size()] == '/')
    return Path.drop_front(Root.size() + 1).str();
  return Absolute;
}

FindingLocation locate(const clang::tooling::DiagnosticMessage &Message,
                       llvm::StringRef BuildDirectory, const std::string &Root,
                       SourceText &Sources) {
  FindingLocation Where;
  if (Message.FilePath.empty())
    return Where; // e.g. a command-line error: no location
  Where.AbsoluteFile = absolutePath(Message.FilePath, BuildDirectory);
  Where.File = treeRelative(Where.AbsoluteFile, Root);
  Where.Offset = Message.FileOffset;
  TextPosition Position = Sources.position(Where.AbsoluteFile, Message.FileOffset);
  Where.Line = Position.Line;
  Where.Column = Position.Column;
  Where.LineText = std::move(Position.LineText);
  return Where;
}

// Rule, file, normalized line text and the occurrence among equal triples:
// independent of line numbers, so inserting lines above keeps it.
std::string fingerprint(const Finding &F, unsigned Occurrence) {
  llvm::SHA256 Hash;
  std::string Text = normalizedLineText(F.Where.LineText);
  for (llvm::StringRef Part : {llvm::StringRef(F.Check), llvm::StringRef(F.Where.File),
                               llvm::StringRef(Text)}) {
    Hash.update(Part);
    Hash.update(llvm::StringRef("\0", 1));
  }
  Hash.update(std::to_string(Occurrence));
  std::array<uint8_t, 32> Digest = Hash.final();
  return llvm::toHex(llvm::ArrayRef<uint8_t>(Digest.data(), 16), /*LowerCase=*/true);
}

} // namespace

std::vector<Finding> collectFindings(const std::vector<clang::tidy::ClangTidyError> &Errors,
                                     const std::string &TreeRoot) {
  SourceText Sources;
  std::vector<Finding> Findings;
  std::set<std::tuple<std::string, std::string, unsigned, std::string>> Seen;
  for (const clang::tidy::ClangTidyError &Error : Errors) {
    Finding F{Error.DiagnosticName,
              Error.DiagLevel == clang::tooling::Diagnostic::Error,
              Error.Message.Message,
              locate(Error.Message, Error.BuildDirectory, TreeRoot, Sources),
              {},
              {},
              Error};
    if (!Seen.emplace(F.Check, F.Where.AbsoluteFile, F.Where.Offset, F.Message).second)
      continue;
    for (const clang::tooling::DiagnosticMessage &Note : Error.Notes)
      F.Notes.push_back({locate(Note, Error.BuildDirectory, TreeRoot, Sources), Note.Message});
    Findings.push_back(std::move(F));
  }
  std::sort(Findings.begin(), Findings.end(), [](const Finding &A, const Finding &B) {
    return std::tie(A.Where.File, A.Where.Line, A.Where.Column, A.Check, A.Message) <
           std::tie(B.Where.File, B.Where.Line, B.Where.Column, B.Check, B.Message);
  });
  std::map<std::tuple<std::string, std::string, std::string>, unsigned> Occurrences;
  for (Finding &F : Findings) {
    unsigned &N = Occurrences[{F.Check, F.Where.File, normalizedLineText(F.Where.LineText)}];
    F.Fingerprint = fingerprint(F, N++);
  }
  return Findings;
}

} // namespace hvo::scan
