// SPDX-License-Identifier: GPL-2.0-only
//
// The race inputs the fast-path tests run (see race_inputs.h).
#include "race_inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "hvo/fuzz/outcome.h"
#include "hvo/model.h"

namespace hvo::test {

std::vector<std::pair<std::string, fuzz::RaceInput>> stored_race_inputs() {
  std::vector<std::pair<std::string, fuzz::RaceInput>> out;
  std::vector<std::filesystem::path> files;
  for (const char *dir : {HVO_FUZZ_CORPUS_DIR "/hvo_fuzz_race", HVO_FUZZ_REGRESSIONS_DIR})
    for (const auto &e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".hvo")
        files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const std::filesystem::path &f : files) {
    std::ifstream in(f);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("\nrace ") == std::string::npos && text.rfind("race ", 0) != 0)
      continue;  // a regression of another target
    fuzz::RaceInput r;
    const std::string err = fuzz::parse_race_input(text, f.filename().string(), r);
    EXPECT_EQ(err, "") << f;
    if (err.empty())
      out.emplace_back(f.filename().string(), r);
  }
  return out;
}

std::vector<std::pair<std::string, fuzz::RaceInput>> random_race_inputs(std::mt19937 &rng,
                                                                        unsigned n) {
  std::vector<std::pair<std::string, fuzz::RaceInput>> out;
  for (unsigned i = 0; i < n; i++) {
    std::vector<uint8_t> bytes(1 + rng() % 40);
    for (uint8_t &x : bytes)
      x = static_cast<uint8_t>(rng());
    out.emplace_back("random input " + std::to_string(i), fuzz::decode_race_input(bytes));
  }
  return out;
}

std::vector<Config> race_bug_sets() {
  std::vector<Config> out(1);
  for (const char *bug : {"get-tail-plain-store", "speculative-ref-fake-head-first",
                          "hvo-no-synchronize-rcu"}) {
    Config c;
    EXPECT_EQ(fuzz::parse_bug_list(bug, c.bugs), "") << bug;
    out.push_back(c);
  }
  return out;
}

std::string describe(const concurrency::ScenarioRun &r) {
  std::string out = r.trace;
  auto bytes = [&out](const char *name, const std::vector<uint8_t> &v) {
    out += name;
    for (uint8_t b : v)
      out += ' ' + std::to_string(b);
    out += '\n';
  };
  bytes("choices", r.run.choices);
  bytes("branching", r.run.branching);
  bytes("continuing", r.run.continuing);
  bytes("defaults", r.run.defaults);
  out += r.run.step_limit_hit ? "step limit hit\n" : "";
  out += r.run.deadlock ? "deadlock\n" : "";
  for (const Violation &v : r.violations)
    out += "VIOLATION " + format_violation(v) + '\n';
  return out;
}

}  // namespace hvo::test
