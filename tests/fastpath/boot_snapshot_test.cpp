// SPDX-License-Identifier: GPL-2.0-only
//
// Model::reset(booted) and Model::copy_of_booted(booted) against a fresh
// Model (the fuzz harness's boot cache,
// fuzz/harness/include/hvo/fuzz/boot_cache.h): after a reset, a model that
// ran something else before is indistinguishable from a fresh boot, and
// stays so through the same ops; so is a copy made without booting.  Inputs are fuzz-decoded byte strings from
// a fixed-seed generator, so every op family and configuration space of the
// targets is covered (several page sizes, struct page sizes, eras, nodes,
// zones, ZONE_DEVICE).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/trace.h"
#include "hvo/model.h"
#include "harness_trace.h"
#include "target_param_name.h"
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

// The changed-frames mark PhysMem keeps for the whole-machine check and the
// touched list: bookkeeping machine_state_diff leaves out, which a copy
// must carry over as well (the oracle reads it in check_all).
std::string mark_text(const Machine &m) {
  std::string t = "limit " + std::to_string(m.phys.unchanged_limit()) + " changed";
  for (FrameId f : m.phys.changed_frames())
    t += " " + std::to_string(f);
  t += " bits";
  for (uint64_t w : m.phys.changed_bits())
    if (w)
      t += " " + std::to_string(w);
  return t;
}

// The fuzz inputs of boot_mutant_inputs.txt for `target`, decoded.
std::vector<std::vector<uint8_t>> mutant_inputs(std::string_view target) {
  std::ifstream in(std::string(HVO_FASTPATH_DIR) + "/boot_mutant_inputs.txt");
  EXPECT_TRUE(in) << "cannot open boot_mutant_inputs.txt";
  std::vector<std::vector<uint8_t>> out;
  std::string line;
  unsigned lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream words(line);
    std::string t, hex;
    words >> t >> hex;
    EXPECT_TRUE(!t.empty() && hex.size() % 2 == 0) << "boot_mutant_inputs.txt:" << lineno;
    if (t != target)
      continue;
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      bytes.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    out.push_back(std::move(bytes));
  }
  return out;
}

// A copy of a booted Model equals a fresh boot of the same Config before and
// after running `s`, and running the copy leaves the booted Model as it was.
// With `run` false only the states right after the copy are compared; with
// `deep` also the states after the ops and the booted model against another
// boot (machine_state_diff reads every word of every frame: most of the
// test's time).
void expect_copy_equals_fresh(const Scenario &s, const std::string &what, bool deep, bool run) {
  SCOPED_TRACE(what + ": " + print_config(s.config));
  const Model booted(s.config);
  const std::unique_ptr<Model> copy = Model::copy_of_booted(booted);
  Model fresh(s.config);
  ASSERT_EQ(copy->config(), fresh.config());
  ASSERT_EQ(test::machine_state_diff(fresh.machine(), copy->machine()), "") << "after the copy";
  ASSERT_EQ(mark_text(fresh.machine()), mark_text(copy->machine()));
  EXPECT_EQ(copy->ops_applied(), fresh.ops_applied());
  if (!run)
    return;
  EXPECT_EQ(run_ops(fresh, s), run_ops(*copy, s));
  EXPECT_EQ(mark_text(fresh.machine()), mark_text(copy->machine())) << "after the ops";
  EXPECT_EQ(copy->oracle().optimized_folios(), fresh.oracle().optimized_folios());
  if (deep) {
    EXPECT_EQ(test::machine_state_diff(fresh.machine(), copy->machine()), "") << "after the ops";
    const Model again(s.config);
    EXPECT_EQ(test::machine_state_diff(again.machine(), booted.machine()), "")
        << "running the copy changed the booted model";
  }
}

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
                         test::TargetParamName());

// Model::copy_of_booted, which the boot cache uses on a miss instead of a
// second boot, over the corpus and its mutants, random inputs and the
// configurations libFuzzer reached (boot_mutant_inputs.txt), running each
// input's ops on both; the corpus's and random inputs' Configs also with
// every historic bug switch on, compared as booted (NoMemmapAlignmentCheck moves the vmemmap base at boot:
// a copy must not move it again).
class BootCopy : public testing::TestWithParam<const char *> {};

TEST_P(BootCopy, CopyOfBootedEqualsFreshBoot) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(20261122);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 1, rng);
  for (unsigned i = 0; i < 6; i++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 40));
  const size_t from_files = inputs.size();
  // Every other one: boot_cache_replay.sh replays them all through the cache.
  const std::vector<std::vector<uint8_t>> mutants = mutant_inputs(p->name);
  for (size_t k = 0; k < mutants.size(); k += 2)
    inputs.push_back(fuzz::decode_input(*p, mutants[k]));
  EXPECT_GE(inputs.size() - from_files, 20u) << "boot_mutant_inputs.txt lost its inputs";
  const bool differential = p->runner == fuzz::Runner::Differential;
  unsigned compared = 0, moved_base = 0;
  for (size_t i = 0; i < inputs.size(); i++) {
    std::vector<Config> configs;
    if (differential) {  // the two eras the differential target compares
      for (auto [era, v] : {std::pair{Era::Legacy, Variant::V6_12_0},
                            std::pair{Era::SharedTail, Variant::KirylV7}}) {
        Config c = inputs[i].config;
        c.era = era;
        c.variant = v;
        configs.push_back(c);
      }
    } else {
      configs.push_back(inputs[i].config);
    }
    for (Config c : std::vector<Config>(configs)) {
      c.bugs.set();
      if (i < from_files && !(c == configs.front()))
        configs.push_back(c);
    }
    const size_t plain = configs.size();
    for (size_t k = 0; k < configs.size(); k++) {
      const Config &c = configs[k];
      std::string error;
      if (!Model::create(c, &error))
        continue;  // e.g. an era the bug switches rule out: nothing booted
      Scenario s = inputs[i];
      s.config = c;
      expect_copy_equals_fresh(s, "input " + std::to_string(i), i % 6 == 0, k < plain);
      if (HasFatalFailure())
        return;
      compared++;
      moved_base += c.era == Era::SharedTail && c.has(Bug::NoMemmapAlignmentCheck);
    }
  }
  EXPECT_GE(compared, inputs.size()) << "most configurations should boot";
  std::printf("BootCopy %s: %u machines compared, %u with the moved base\n",
              std::string(p->name).c_str(),
              compared, moved_base);
  if (std::string_view(p->name) != "hvo_fuzz_dax")
    EXPECT_GT(moved_base, 0u) << "no shared-tail config with the moved vmemmap base";
}

INSTANTIATE_TEST_SUITE_P(Targets, BootCopy,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head",
                                         "hvo_fuzz_dax", "hvo_fuzz_boot",
                                         "hvo_fuzz_differential"),
                         test::TargetParamName());

// Model::copy_of_booted(booted, as): the boot cache's copy of a machine
// booted with another era, variant, hvo or hotplug setting of the same
// memory (Machine::boots_alike) against a fresh boot of `as`, before and
// after the input's ops, for every input's Config crossed with every shape
// (era and variant), both hvo and hotplug settings, and no bug switch or
// all of them.  A Config that does not boot alike (the shared-tail era
// under no-memory-alignment-check moves the vmemmap base) must be refused,
// and its fresh boot must indeed lay the memmap out elsewhere.
class BootRetarget : public testing::TestWithParam<const char *> {};

TEST_P(BootRetarget, RetargetedCopyEqualsFreshBoot) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(20261123);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 1, rng);
  for (unsigned i = 0; i < 4; i++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 40));
  const std::vector<std::vector<uint8_t>> mutants = mutant_inputs(p->name);
  for (size_t k = 1; k < mutants.size(); k += 6)
    inputs.push_back(fuzz::decode_input(*p, mutants[k]));
  const std::pair<Era, Variant> shapes[] = {{Era::Legacy, Variant::V6_12_0},
                                            {Era::Legacy, Variant::D612},
                                            {Era::SharedTail, Variant::KirylV7},
                                            {Era::SharedTail, Variant::Muchun}};
  unsigned copied = 0, refused = 0, with_ops = 0;
  for (size_t i = 0; i < inputs.size(); i++) {
    for (const bool all_bugs : {false, true}) {
      Config from = inputs[i].config;
      if (all_bugs)
        from.bugs.set();
      std::string error;
      if (!Model::create(from, &error))
        continue;
      const Model booted(from);
      // A target per source, drawn from the 16 shape x hvo x hotplug
      // combinations: every combination is reached over the inputs.
      {
        const unsigned k = static_cast<unsigned>(rng() % 16);
        Config as = from;
        as.era = shapes[k % 4].first;
        as.variant = shapes[k % 4].second;
        as.hvo_enabled = (k / 4) % 2;
        as.memory_hotplug = k / 8;
        if (!Model::create(as, &error))
          continue;
        SCOPED_TRACE("input " + std::to_string(i) + ": " + print_config(from) + " as " +
                     print_config(as));
        const std::unique_ptr<Model> copy = Model::copy_of_booted(booted, as, &error);
        Model fresh(as);
        if (!Machine::boots_alike(from, as)) {
          EXPECT_EQ(copy, nullptr);
          EXPECT_NE(fresh.machine().cfg.vmemmap_base, booted.machine().cfg.vmemmap_base)
              << "refused a configuration that boots the same machine";
          refused++;
          continue;
        }
        ASSERT_NE(copy, nullptr) << error;
        ASSERT_EQ(copy->config(), fresh.config());
        ASSERT_EQ(copy->machine().phys.config(), fresh.machine().phys.config());
        EXPECT_EQ(copy->machine().vmemmap_optimize_enabled, fresh.machine().vmemmap_optimize_enabled);
        ASSERT_EQ(test::machine_state_diff(fresh.machine(), copy->machine()), "") << "after the copy";
        ASSERT_EQ(mark_text(fresh.machine()), mark_text(copy->machine()));
        Scenario s = inputs[i];
        s.config = as;
        EXPECT_EQ(run_ops(fresh, s), run_ops(*copy, s));
        EXPECT_EQ(mark_text(fresh.machine()), mark_text(copy->machine())) << "after the ops";
        if (i % 4 == 0)
          EXPECT_EQ(test::machine_state_diff(fresh.machine(), copy->machine()), "") << "after the ops";
        // A copy of the copy (what the cache keeps as the working Model).
        if (i % 8 == 1) {
          const std::unique_ptr<Model> again = Model::copy_of_booted(booted, as, &error);
          ASSERT_NE(again, nullptr);
          const std::unique_ptr<Model> work = Model::copy_of_booted(*again);
          Model fresh2(as);
          EXPECT_EQ(run_ops(fresh2, s), run_ops(*work, s));
        }
        if (HasFatalFailure())
          return;
        copied++;
        with_ops += !s.ops.empty();
      }
    }
  }
  std::printf("BootRetarget %s: %u copies compared, %u refused\n", std::string(p->name).c_str(),
              copied, refused);
  EXPECT_GE(copied, inputs.size() / 2) << "most combinations should boot alike";
  EXPECT_GE(with_ops, inputs.size() / 2);
  if (std::string_view(p->name) != "hvo_fuzz_dax")
    EXPECT_GT(refused, 0u) << "no configuration whose era moves the vmemmap base";
}

INSTANTIATE_TEST_SUITE_P(Targets, BootRetarget,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head",
                                         "hvo_fuzz_dax", "hvo_fuzz_boot",
                                         "hvo_fuzz_differential"),
                         test::TargetParamName());

// Machine::boots_alike field by field: what boot reads tells two Configs
// apart, what it does not read does not.
TEST(BootRetarget, BootsAlikeComparesWhatBootReads) {
  Config a;
  Config b = a;
  b.era = Era::SharedTail;
  b.variant = Variant::KirylV7;
  b.hvo_enabled = false;
  b.memory_hotplug = false;
  EXPECT_TRUE(Machine::boots_alike(a, b));
  for (const std::function<void(Config &)> &change : std::vector<std::function<void(Config &)>>{
           [](Config &c) { c.page_shift = 14; },
           [](Config &c) { c.struct_page_size = 72; },
           [](Config &c) { c.nodes.push_back(c.nodes.front()); },
           [](Config &c) { c.nodes[0].zones[0].pages *= 2; },
           [](Config &c) { c.section_size_bits = 28; },
           [](Config &c) { c.subsection_size_bits = 22; },
           [](Config &c) { c.vmemmap_base += c.pmd_size(); },
           [](Config &c) { c.arch = Arch::Ppc64Radix; },
           [](Config &c) { c.bugs.set(static_cast<unsigned>(Bug::RestoreNoResetStructPages)); },
       }) {
    Config c = a;
    change(c);
    EXPECT_FALSE(Machine::boots_alike(a, c)) << print_config(c);
  }
  // The moved base: the same Config in the other era boots elsewhere.
  Config legacy = a, shared = b;
  legacy.bugs.set(static_cast<unsigned>(Bug::NoMemmapAlignmentCheck));
  shared.bugs = legacy.bugs;
  EXPECT_FALSE(Machine::boots_alike(legacy, shared));
}

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
