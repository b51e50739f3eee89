// SPDX-License-Identifier: GPL-2.0-only
//
// Model::reset(booted) against a fresh Model (the fuzz harness's boot cache,
// fuzz/harness/include/hvo/fuzz/boot_cache.h): after a reset, a model that
// ran something else before is indistinguishable from a fresh boot, and
// stays so through the same ops.  Inputs are fuzz-decoded byte strings from
// a fixed-seed generator, so every op family and configuration space of the
// targets is covered (several page sizes, struct page sizes, eras, nodes,
// zones, ZONE_DEVICE).
#include <gtest/gtest.h>

#include <random>
#include <span>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/trace.h"
#include "hvo/model.h"
#include "harness_trace.h"
#include "machine_state.h"

namespace hvo {
namespace {

std::vector<uint8_t> random_bytes(std::mt19937 &rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (uint8_t &x : b)
    x = static_cast<uint8_t>(rng());
  return b;
}

// What a harness sees of `s` run on `md` (harness_trace.h).
std::string run_ops(Model &md, const Scenario &s) { return test::harness_trace(md, s); }

class BootSnapshot : public testing::TestWithParam<const char *> {};

TEST_P(BootSnapshot, ResetEqualsFreshBoot) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(20261121);
  unsigned compared = 0, with_ops = 0;
  for (unsigned i = 0; i < 24; i++) {
    const std::vector<uint8_t> bytes = random_bytes(rng, 8 + rng() % 40);
    Scenario s = fuzz::decode_input(*p, bytes);
    std::string error;
    if (!Model::create(s.config, &error))
      FAIL() << "decoder made an invalid config: " << error;
    // A model that ran a different input first (dirty state, folios, maybe
    // hot-added memory), then reset to a machine booted with this config.
    Scenario other = fuzz::decode_input(*p, random_bytes(rng, 40));
    other.config = s.config;
    Model reused(s.config);
    run_ops(reused, other);
    const Model booted(s.config);
    reused.reset(booted);

    Model fresh(s.config);
    ASSERT_EQ(test::machine_state_diff(fresh.machine(), reused.machine()), "")
        << "after reset, input " << i << ": " << print_config(s.config);
    ASSERT_EQ(test::machine_state_diff(fresh.machine(), booted.machine()), "")
        << "booted copy differs";
    const std::string a = run_ops(fresh, s), b = run_ops(reused, s);
    EXPECT_EQ(a, b) << "input " << i << ": " << print_config(s.config);
    EXPECT_EQ(test::machine_state_diff(fresh.machine(), reused.machine()), "")
        << "after the ops, input " << i;
    compared++;
    with_ops += !s.ops.empty();
  }
  EXPECT_EQ(compared, 24u);
  EXPECT_GE(with_ops, 12u) << "the generator should produce ops";
}

INSTANTIATE_TEST_SUITE_P(Targets, BootSnapshot,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head",
                                         "hvo_fuzz_dax", "hvo_fuzz_boot"),
                         [](const testing::TestParamInfo<const char *> &i) {
                           return std::string(i.param).substr(9);
                         });

// The booted machine a reset copies from is never written: resetting twice
// from it after different inputs gives the same state.
TEST(BootSnapshot, BootedMachineIsNotChangedByReset) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_hugetlb");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(7);
  Scenario s = fuzz::decode_input(*p, random_bytes(rng, 30));
  const Model booted(s.config);
  const Model reference(s.config);
  Model md(s.config);
  for (int k = 0; k < 3; k++) {
    md.reset(booted);
    run_ops(md, s);
  }
  EXPECT_EQ(test::machine_state_diff(booted.machine(), reference.machine()), "");
}

}  // namespace
}  // namespace hvo
