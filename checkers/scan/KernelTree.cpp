// SPDX-License-Identifier: GPL-2.0-only
#include "KernelTree.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace hvo::scan {

namespace {

llvm::Error inputError(const llvm::Twine &Message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Message);
}

std::string absolute(llvm::StringRef Path) {
  llvm::SmallString<256> Result(Path);
  llvm::sys::fs::make_absolute(Result);
  llvm::sys::path::remove_dots(Result, /*remove_dot_dot=*/true);
  return std::string(Result);
}

std::string joined(llvm::StringRef Dir, llvm::StringRef Name) {
  llvm::SmallString<256> Result(Dir);
  llvm::sys::path::append(Result, Name);
  return std::string(Result);
}

// The preparation is idempotent and cheap once its stamp matches, so it runs
// on every default scan: that is what notices an edited .config.
llvm::Error prepareDefaultTree() {
  std::string Script = joined(HVO_SCAN_SCRIPTS_DIR, "prepare-kernel-tree.sh");
  if (!llvm::sys::fs::can_execute(Script))
    return inputError(Script + ": preparation script missing or not executable");
  llvm::StringRef Argv[] = {Script, DefaultTree};
  std::string Message;
  int Status = llvm::sys::ExecuteAndWait(Script, Argv, std::nullopt, {}, 0, 0, &Message);
  if (Status != 0)
    return inputError("preparing " + llvm::Twine(DefaultTree) + " failed" +
                      (Message.empty() ? llvm::Twine(" (exit status ") + llvm::Twine(Status) + ")"
                                       : llvm::Twine(": ") + Message) +
                      "; see the messages above");
  return llvm::Error::success();
}

} // namespace

llvm::Expected<KernelTree> locateKernelTree(const ScanOptions &Options) {
  KernelTree Tree;
  bool IsDefault = !Options.Tree && !Options.BuildDir;
  if (IsDefault) {
    if (llvm::Error E = prepareDefaultTree())
      return std::move(E);
    Tree.Root = DefaultTree;
  } else {
    Tree.Root = absolute(Options.Tree ? *Options.Tree : *Options.BuildDir);
  }
  if (!llvm::sys::fs::is_directory(Tree.Root))
    return inputError(Tree.Root + ": no such directory");

  std::string BuildDir = Options.BuildDir ? absolute(*Options.BuildDir) : Tree.Root;
  if (!llvm::sys::fs::is_directory(BuildDir))
    return inputError(BuildDir + ": no such directory");
  Tree.DatabasePath = joined(BuildDir, "compile_commands.json");
  if (!llvm::sys::fs::exists(Tree.DatabasePath))
    return inputError(Tree.DatabasePath +
                      ": no compile database (build the tree, then run "
                      "scripts/clang-tools/gen_compile_commands.py)");
  if (!llvm::sys::fs::exists(joined(BuildDir, ".config")) &&
      !llvm::sys::fs::exists(joined(Tree.Root, ".config")))
    return inputError(Tree.Root + ": no .config; not a configured kernel tree "
                                  "(configure and build it, or pass -p BUILD_DIR for O= builds)");

  std::vector<std::string> Paths = Options.Paths;
  if (Paths.empty() && IsDefault)
    Paths.push_back("mm");
  if (Paths.empty())
    Tree.Paths.push_back(Tree.Root);
  for (const std::string &Path : Paths) {
    std::string Full = llvm::sys::path::is_absolute(Path) ? Path : joined(Tree.Root, Path);
    llvm::SmallString<256> Normal(Full);
    llvm::sys::path::remove_dots(Normal, /*remove_dot_dot=*/true);
    if (!llvm::sys::fs::exists(Normal))
      return inputError(Path + ": no such file or directory in " + Tree.Root);
    Tree.Paths.emplace_back(Normal.str());
  }
  return Tree;
}

} // namespace hvo::scan
