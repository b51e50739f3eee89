// SPDX-License-Identifier: GPL-2.0-only
//
// Replay driver: a main() that feeds files to a fuzz target's
// LLVMFuzzerTestOneInput, so every target can rerun its corpus, a crash
// reproducer or a regression input without libFuzzer and with any compiler.
//
//   <target>_replay [--twice] [--verbose] [--repeat=N] [--passes=N] FILE_OR_DIR...
//
// Directories are read recursively; inputs run in sorted path order, so two
// runs over the same tree do the same work in the same order.  --twice replays
// the whole set a second time in the same process and compares each input's
// outcome digest with the first pass: a difference means the target's result
// depends on something other than its input (leaked state, uninitialised
// memory, iteration over pointers), which libFuzzer would turn into
// irreproducible crashes.  --repeat=N runs each input N times and reports
// executions per second on stderr (the exec/s figures in docs/fuzzing.md).
// --passes=N runs the whole set N times in order and reports the same: unlike
// --repeat, consecutive executions then differ the way a libFuzzer campaign's
// do (another input, often another machine configuration, so the boot cache
// misses), which is what a sample of libFuzzer's own mutants must be timed
// with.
// A violation in the target aborts the process, as it does under libFuzzer.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);
// Digest of everything the last LLVMFuzzerTestOneInput call observed.  The
// hvocheck harness defines it; a target without it cannot be checked for
// determinism, and --twice says so instead of passing vacuously.
extern "C" __attribute__((weak)) uint64_t HvoFuzzLastOutcomeDigest();

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitMismatch = 1;

struct Input {
  std::string path;
  std::vector<uint8_t> bytes;
};

void usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s [--twice] [--verbose] [--repeat=N] [--passes=N] FILE_OR_DIR...\n"
               "  Runs each file (directories recursively, sorted) through "
               "LLVMFuzzerTestOneInput.\n"
               "  --twice    replay everything twice and require identical "
               "outcome digests\n"
               "  --verbose  print one line per input with its digest\n"
               "  --repeat=N run each input N times; executions per second on stderr\n"
               "  --passes=N run the whole set N times in order; executions per second on stderr\n",
               argv0);
}

bool read_file(const std::string &path, std::vector<uint8_t> &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Collects the regular files under |arg|; returns false with a one-line
// message on stderr when |arg| does not exist or cannot be read.
bool collect(const std::string &arg, std::vector<std::string> &paths) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(arg, ec);
  if (ec || !fs::exists(st)) {
    std::fprintf(stderr, "hvo-replay: error: %s: no such file or directory\n", arg.c_str());
    return false;
  }
  if (fs::is_regular_file(st)) {
    paths.push_back(arg);
    return true;
  }
  if (!fs::is_directory(st)) {
    std::fprintf(stderr, "hvo-replay: error: %s: not a regular file or directory\n", arg.c_str());
    return false;
  }
  for (fs::recursive_directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec))
      paths.push_back(it->path().string());
  }
  if (ec) {
    std::fprintf(stderr, "hvo-replay: error: %s: %s\n", arg.c_str(), ec.message().c_str());
    return false;
  }
  return true;
}

// Parses "--name=N" into |count|; false with a one-line error otherwise.
bool parse_count(const std::string &arg, const char *prefix, unsigned long &count) {
  const size_t plen = std::strlen(prefix);
  char *end = nullptr;
  errno = 0;
  count = std::strtoul(arg.c_str() + plen, &end, 10);
  if (arg.size() == plen || !end || *end || errno || count == 0 || count > 100000000) {
    std::fprintf(stderr, "hvo-replay: error: %.*s needs a count in 1..100000000\n",
                 static_cast<int>(plen - 1), prefix);
    return false;
  }
  return true;
}

uint64_t run_one(const Input &input) {
  // libFuzzer hands the target a heap copy of exactly |size| bytes, so an
  // out-of-bounds read is caught by ASan; do the same here.
  std::vector<uint8_t> copy(input.bytes);
  LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
  return HvoFuzzLastOutcomeDigest ? HvoFuzzLastOutcomeDigest() : 0;
}

} // namespace

int main(int argc, char **argv) {
  bool twice = false;
  bool verbose = false;
  unsigned long repeat = 1;
  unsigned long passes = 1;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--twice")
      twice = true;
    else if (a == "--verbose")
      verbose = true;
    else if (a.rfind("--repeat=", 0) == 0) {
      if (!parse_count(a, "--repeat=", repeat))
        return kExitUsage;
    } else if (a.rfind("--passes=", 0) == 0) {
      if (!parse_count(a, "--passes=", passes))
        return kExitUsage;
    }
    else if (a == "--help" || a == "-h") {
      usage(argv[0]);
      return 0;
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "hvo-replay: error: unknown option '%s'\n", a.c_str());
      usage(argv[0]);
      return kExitUsage;
    } else
      args.push_back(a);
  }
  if (args.empty()) {
    usage(argv[0]);
    return kExitUsage;
  }
  if (twice && !HvoFuzzLastOutcomeDigest) {
    std::fprintf(stderr, "hvo-replay: error: --twice needs a target built with the hvocheck "
                         "harness (HvoFuzzLastOutcomeDigest is missing)\n");
    return kExitUsage;
  }

  std::vector<std::string> paths;
  for (const std::string &a : args)
    if (!collect(a, paths))
      return kExitUsage;
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  if (paths.empty()) {
    // An empty corpus would make a replay test pass while testing nothing.
    std::fprintf(stderr, "hvo-replay: error: no input files found\n");
    return kExitUsage;
  }

  std::vector<Input> inputs;
  inputs.reserve(paths.size());
  size_t total_bytes = 0;
  for (const std::string &p : paths) {
    Input in{p, {}};
    if (!read_file(p, in.bytes)) {
      std::fprintf(stderr, "hvo-replay: error: %s: cannot read: %s\n", p.c_str(),
                   std::strerror(errno));
      return kExitUsage;
    }
    total_bytes += in.bytes.size();
    inputs.push_back(std::move(in));
  }

  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);

  std::vector<uint64_t> first(inputs.size());
  const auto start = std::chrono::steady_clock::now();
  for (unsigned long pass = 0; pass < passes; ++pass)
    for (size_t i = 0; i < inputs.size(); ++i) {
      for (unsigned long r = 1; r < repeat; ++r)
        run_one(inputs[i]);
      const uint64_t digest = run_one(inputs[i]);
      if (pass > 0)
        continue;
      first[i] = digest;
      if (verbose)
        std::printf("%s %016llx\n", inputs[i].path.c_str(),
                    static_cast<unsigned long long>(first[i]));
    }

  if (repeat > 1 || passes > 1) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double execs = static_cast<double>(repeat) * static_cast<double>(passes) *
                         static_cast<double>(inputs.size());
    std::fprintf(stderr, "hvo-replay: %.0f executions in %.2f s: %.0f exec/s\n", execs, secs,
                 secs > 0 ? execs / secs : 0.0);
  }

  size_t mismatches = 0;
  if (twice) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      uint64_t again = run_one(inputs[i]);
      if (again != first[i]) {
        ++mismatches;
        std::fprintf(stderr, "hvo-replay: nondeterministic: %s: first %016llx, second %016llx\n",
                     inputs[i].path.c_str(), static_cast<unsigned long long>(first[i]),
                     static_cast<unsigned long long>(again));
      }
    }
  }

  std::printf("hvo-replay: %zu inputs, %zu bytes%s\n", inputs.size(), total_bytes,
              twice ? (mismatches ? ", NOT deterministic" : ", replayed twice, identical")
                    : "");
  return mismatches ? kExitMismatch : 0;
}
