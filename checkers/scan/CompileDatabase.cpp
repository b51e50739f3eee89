// SPDX-License-Identifier: GPL-2.0-only
#include "CompileDatabase.h"

#include "GccFlags.h"

#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>

namespace hvo::scan {

namespace {

llvm::Error inputError(const llvm::Twine &Message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Message);
}

std::string normalizedAbsolute(llvm::StringRef Path, llvm::StringRef Base) {
  llvm::SmallString<256> Result;
  if (llvm::sys::path::is_absolute(Path)) {
    Result = Path;
  } else {
    Result = Base;
    llvm::sys::path::append(Result, Path);
  }
  llvm::sys::path::remove_dots(Result, /*remove_dot_dot=*/true);
  return std::string(Result);
}

// 1-based line of byte Offset in Text, for error messages.
unsigned lineOf(llvm::StringRef Text, size_t Offset) {
  return 1 + Text.take_front(Offset).count('\n');
}

// The JSON parser's own checks cover syntax; this covers the shape clang's
// loader would otherwise reject with a message naming neither entry nor line.
llvm::Error checkShape(llvm::StringRef Path, llvm::StringRef Text) {
  llvm::Expected<llvm::json::Value> Root = llvm::json::parse(Text);
  if (!Root)
    return inputError(Path + ": invalid JSON: " + llvm::toString(Root.takeError()));
  const llvm::json::Array *Entries = Root->getAsArray();
  if (!Entries)
    return inputError(Path + ": expected a JSON array of compile commands");
  // Entry I starts at the I-th '{' at nesting depth 1; find it for messages.
  std::vector<size_t> EntryOffsets;
  int Depth = 0;
  bool InString = false;
  for (size_t I = 0; I < Text.size(); ++I) {
    char C = Text[I];
    if (InString) {
      if (C == '\\')
        ++I;
      else if (C == '"')
        InString = false;
      continue;
    }
    if (C == '"')
      InString = true;
    else if (C == '[' || C == '{') {
      if (C == '{' && Depth == 1)
        EntryOffsets.push_back(I);
      ++Depth;
    } else if (C == ']' || C == '}')
      --Depth;
  }
  for (size_t I = 0; I < Entries->size(); ++I) {
    std::string Where = (Path + ":" +
                         llvm::Twine(I < EntryOffsets.size() ? lineOf(Text, EntryOffsets[I]) : 1) +
                         ": entry " + llvm::Twine(I + 1))
                            .str();
    const llvm::json::Object *Entry = (*Entries)[I].getAsObject();
    if (!Entry)
      return inputError(Where + ": expected an object");
    if (!Entry->getString("directory"))
      return inputError(Where + ": missing string \"directory\"");
    if (!Entry->getString("file"))
      return inputError(Where + ": missing string \"file\"");
    const llvm::json::Array *Arguments = Entry->getArray("arguments");
    if (!Entry->getString("command") && !Arguments)
      return inputError(Where + ": needs \"command\" or \"arguments\"");
    if (Arguments && (Arguments->empty() ||
                      !std::all_of(Arguments->begin(), Arguments->end(),
                                   [](const llvm::json::Value &V) { return V.getAsString(); })))
      return inputError(Where + ": \"arguments\" must be a non-empty array of strings");
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<CompileDatabase> loadCompileDatabase(const std::string &JsonPath) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
      llvm::MemoryBuffer::getFile(JsonPath);
  if (!Buffer)
    return inputError(JsonPath + ": " + Buffer.getError().message());
  if (llvm::Error E = checkShape(JsonPath, (*Buffer)->getBuffer()))
    return std::move(E);

  std::string LoadError;
  std::unique_ptr<clang::tooling::JSONCompilationDatabase> Loaded =
      clang::tooling::JSONCompilationDatabase::loadFromBuffer(
          (*Buffer)->getBuffer(), LoadError, clang::tooling::JSONCommandLineSyntax::Gnu);
  if (!Loaded)
    return inputError(JsonPath + ": " + LoadError);

  CompileDatabase Db;
  Db.Path = JsonPath;
  std::map<std::string, CompileUnit> ByFile;
  for (clang::tooling::CompileCommand &Command : Loaded->getAllCompileCommands()) {
    if (Command.CommandLine.empty())
      return inputError(JsonPath + ": " + Command.Filename + ": empty command");
    CompileUnit Unit;
    Unit.Directory = normalizedAbsolute(Command.Directory, "/");
    Unit.File = normalizedAbsolute(Command.Filename, Unit.Directory);
    FilteredCommand Filtered = dropFlagsClangCannotUse(Command.CommandLine);
    Unit.Args = std::move(Filtered.Args);
    for (std::string &Flag : Filtered.Dropped)
      ++Db.DroppedFlags[Flag];
    // A file listed twice: the last entry wins, as in clang's own loader.
    ByFile[Unit.File] = std::move(Unit);
  }
  for (auto &[File, Unit] : ByFile)
    Db.Units.push_back(std::move(Unit));
  return Db;
}

llvm::Expected<std::vector<const CompileUnit *>>
selectUnits(const CompileDatabase &Db, const std::vector<std::string> &Paths) {
  std::vector<const CompileUnit *> Selected;
  for (const std::string &Path : Paths) {
    llvm::StringRef Prefix = llvm::StringRef(Path).rtrim('/');
    size_t Before = Selected.size();
    for (const CompileUnit &Unit : Db.Units) {
      llvm::StringRef File = Unit.File;
      if (File == Prefix || (File.starts_with(Prefix) && File[Prefix.size()] == '/'))
        Selected.push_back(&Unit);
    }
    if (Selected.size() == Before)
      return inputError(Path + ": no translation unit of " + Db.Path + " lies under this path");
  }
  std::sort(Selected.begin(), Selected.end(),
            [](const CompileUnit *A, const CompileUnit *B) { return A->File < B->File; });
  Selected.erase(std::unique(Selected.begin(), Selected.end()), Selected.end());
  for (const CompileUnit *Unit : Selected)
    if (!llvm::sys::fs::is_regular_file(Unit->File))
      return inputError(Db.Path + ": " + Unit->File + ": listed source file does not exist");
  return Selected;
}

SelectedUnitsDatabase::SelectedUnitsDatabase(std::vector<const CompileUnit *> Units) {
  for (const CompileUnit *Unit : Units)
    ByFile.emplace(Unit->File, Unit);
}

std::vector<clang::tooling::CompileCommand>
SelectedUnitsDatabase::getCompileCommands(llvm::StringRef FilePath) const {
  auto It = ByFile.find(FilePath);
  if (It == ByFile.end())
    return {};
  const CompileUnit &Unit = *It->second;
  return {clang::tooling::CompileCommand(Unit.Directory, Unit.File, Unit.Args, "")};
}

std::vector<std::string> SelectedUnitsDatabase::getAllFiles() const {
  std::vector<std::string> Files;
  for (const auto &[File, Unit] : ByFile)
    Files.push_back(File);
  return Files;
}

} // namespace hvo::scan
