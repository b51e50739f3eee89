// SPDX-License-Identifier: GPL-2.0-only
//
// hvo-tidy-plugin.so: the library users pass to `clang-tidy-19 -load`.
//
// clang-tidy happily loads a plugin built for another LLVM and then reports
// nothing (or fails to resolve symbols and prints "-load request ignored"
// among its output).  This loader has no LLVM dependency, so it always
// loads; it asks the host for its LLVM version through the stable C API
// (LLVMGetVersion) and only loads the checks when major and minor match.
// Otherwise it says so and ends the run with status 2: an empty result that
// looks clean is worse than no result.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <unistd.h>

namespace {

using GetVersionFn = void (*)(unsigned *, unsigned *, unsigned *);

[[noreturn]] void refuse(const std::string &Why) {
  std::fprintf(stderr, "hvo-tidy-plugin: error: %s\n", Why.c_str());
  std::fflush(stderr);
  // _exit: the host is in the middle of option parsing; running its
  // static destructors from here would be unsafe.
  _exit(2);
}

std::string directoryOfThisLibrary() {
  Dl_info Info;
  if (!dladdr(reinterpret_cast<void *>(&directoryOfThisLibrary), &Info) ||
      !Info.dli_fname)
    return ".";
  std::string Path = Info.dli_fname;
  size_t Slash = Path.rfind('/');
  return Slash == std::string::npos ? "." : Path.substr(0, Slash);
}

std::string version(unsigned Major, unsigned Minor, unsigned Patch) {
  return std::to_string(Major) + "." + std::to_string(Minor) + "." +
         std::to_string(Patch);
}

__attribute__((constructor)) void loadHvoChecks() {
  const std::string Built = version(HVO_LLVM_MAJOR, HVO_LLVM_MINOR, HVO_LLVM_PATCH);
  auto GetVersion =
      reinterpret_cast<GetVersionFn>(dlsym(RTLD_DEFAULT, "LLVMGetVersion"));
  if (!GetVersion)
    refuse("the host process exports no LLVMGetVersion, so its LLVM version "
           "is unknown; load this plugin into clang-tidy-" +
           std::to_string(HVO_LLVM_MAJOR) + " (built for LLVM " + Built + ")");
  unsigned Major = 0, Minor = 0, Patch = 0;
  GetVersion(&Major, &Minor, &Patch);
  if (Major != HVO_LLVM_MAJOR || Minor != HVO_LLVM_MINOR)
    refuse("built for LLVM " + Built + " but loaded into a clang-tidy running LLVM " +
           version(Major, Minor, Patch) +
           "; the hvo checks would silently report nothing. Rebuild the plugin "
           "against this LLVM, or run hvo-tidy");

  const std::string Checks = directoryOfThisLibrary() + "/" + HVO_CHECKS_LIBRARY;
  if (!dlopen(Checks.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    const char *Error = dlerror();
    refuse("cannot load the hvo checks from " + Checks + ": " +
           (Error ? Error : "unknown error"));
  }
  if (std::getenv("HVO_TIDY_PLUGIN_VERBOSE"))
    std::fprintf(stderr, "hvo-tidy-plugin: LLVM %s, checks loaded from %s\n",
                 version(Major, Minor, Patch).c_str(), Checks.c_str());
}

} // namespace
