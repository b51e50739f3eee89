// SPDX-License-Identifier: GPL-2.0-only
//
// The oracle's fast paths against the slow ones they replace
// (Oracle::reference_paths): the whole-machine check that looks only at
// frames changed since boot, and restore fidelity decided per field
// (ImagePool::same_page_words) before word by word.  Random fuzz-decoded op
// sequences of every ops target; every op is also checked in full mode, so
// the changed-frame list is exercised after each op, not only at the end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/trace.h"
#include "hvo/model.h"

#include "harness_trace.h"

namespace hvo {
namespace {

std::string run_ops(Model &md, const Scenario &s, bool every_op_full) {
  md.oracle().full = every_op_full;  // check_all is a full check either way
  std::string out = test::harness_trace(md, s);
  md.oracle().full = false;
  return out;
}

class FastOracle : public testing::TestWithParam<const char *> {};

TEST_P(FastOracle, SameReportsAsTheReferencePaths) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(1121);
  unsigned violations = 0;
  for (unsigned i = 0; i < 40; i++) {
    const Scenario s = test::random_fuzz_scenario(*p, rng, 8, 48);
    for (bool every_op_full : {false, true}) {
      Model fast(s.config), slow(s.config);
      slow.oracle().reference_paths = true;
      const std::string a = run_ops(fast, s, every_op_full), b = run_ops(slow, s, every_op_full);
      EXPECT_EQ(a, b) << "input " << i << (every_op_full ? " (full after every op)" : "");
      violations += a.find("VIOLATION") != std::string::npos || a.find(" op=") != std::string::npos;
    }
  }
  // Not vacuous: some sequences break invariants, so reports are compared.
  RecordProperty("inputs_with_reports", static_cast<int>(violations));
}

INSTANTIATE_TEST_SUITE_P(Targets, FastOracle,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head",
                                         "hvo_fuzz_dax", "hvo_fuzz_boot"),
                         [](const testing::TestParamInfo<const char *> &i) {
                           return std::string(i.param).substr(9);
                         });

// Historic bugs make the oracle report; the fast paths must report the same.
TEST(FastOracle, SameReportsWithHistoricBugs) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_hugetlb");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(33);
  unsigned reported = 0;
  for (unsigned bit = 0; bit < bug_switch_count(); bit++)
    for (unsigned i = 0; i < 64; i++) {
      Scenario s = test::random_fuzz_scenario(*p, rng, 12, 40);
      s.config.bugs.set(bit);
      std::string error;
      if (!Model::create(s.config, &error))
        continue;  // a switch that does not apply to this config
      Model fast(s.config), slow(s.config);
      slow.oracle().reference_paths = true;
      const std::string a = run_ops(fast, s, false), b = run_ops(slow, s, false);
      EXPECT_EQ(a, b) << bug_switch_name(bit) << " input " << i;
      reported += a.find(" op=") != std::string::npos;
    }
  RecordProperty("inputs_with_reports", static_cast<int>(reported));
  EXPECT_GT(reported, 0u) << "no sequence made the oracle report: the comparison is vacuous";
}

// Every historic bug's regression input (deterministic, unlike the random
// inputs above, so a change of the fuzz profiles cannot make it vacuous):
// the inputs are fuzz/regressions/<bug>.hvo (the op-sequence ones; the race
// ones run concurrency scenarios), each with its bug switched on.
TEST(FastOracle, SameReportsOnEveryBugsRegression) {
  unsigned scenarios = 0, reported = 0;
  for (const auto &entry : std::filesystem::directory_iterator(HVO_FUZZ_REGRESSIONS_DIR)) {
    if (entry.path().extension() != ".hvo")
      continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("\nrace ") != std::string::npos)
      continue;
    Scenario s;
    std::string error;
    ASSERT_TRUE(parse_scenario(text, entry.path().string(), s, error)) << error;
    const std::optional<unsigned> bit = parse_bug_switch(entry.path().stem().string());
    ASSERT_TRUE(bit.has_value()) << entry.path();
    s.config.bugs.set(*bit);
    for (bool every_op_full : {false, true}) {
      Model fast(s.config), slow(s.config);
      slow.oracle().reference_paths = true;
      const std::string a = run_ops(fast, s, every_op_full), b = run_ops(slow, s, every_op_full);
      EXPECT_EQ(a, b) << entry.path() << (every_op_full ? " (full after every op)" : "");
      reported += a.find(" op=") != std::string::npos;
    }
    scenarios++;
  }
  EXPECT_GE(scenarios, 5u);
  EXPECT_GT(reported, 0u) << "no regression made the oracle report: the comparison is vacuous";
}

}  // namespace
}  // namespace hvo
