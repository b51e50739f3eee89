// SPDX-License-Identifier: GPL-2.0-only
//
// Reads a compile_commands.json, validates it with errors that name the file
// and the line, and turns each entry into a unit clang can analyse (GCC-only
// flags dropped).  Commands are only parsed, never run.
#ifndef HVO_SCAN_COMPILEDATABASE_H
#define HVO_SCAN_COMPILEDATABASE_H

#include "clang/Tooling/CompilationDatabase.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace hvo::scan {

struct CompileUnit {
  std::string File;      // absolute, without . and .. components
  std::string Directory; // the directory the command runs in
  std::vector<std::string> Args;
};

struct CompileDatabase {
  std::string Path;
  std::vector<CompileUnit> Units; // sorted by File, one per file
  // Dropped flag spelling -> number of units it was dropped from.
  std::map<std::string, unsigned> DroppedFlags;
};

llvm::Expected<CompileDatabase> loadCompileDatabase(const std::string &JsonPath);

// The units whose file lies under one of Paths (absolute, normalized).
// Error when a path selects nothing or a selected file does not exist.
llvm::Expected<std::vector<const CompileUnit *>>
selectUnits(const CompileDatabase &Db, const std::vector<std::string> &Paths);

// Presents the chosen units to clang's tooling, one command per file.
class SelectedUnitsDatabase : public clang::tooling::CompilationDatabase {
public:
  explicit SelectedUnitsDatabase(std::vector<const CompileUnit *> Units);
  std::vector<clang::tooling::CompileCommand>
  getCompileCommands(llvm::StringRef FilePath) const override;
  std::vector<std::string> getAllFiles() const override;

private:
  std::map<std::string, const CompileUnit *, std::less<>> ByFile;
};

} // namespace hvo::scan

#endif
