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

#include "hvo/concurrency/scenarios.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/race_input.h"
#include "hvo/fuzz/trace.h"
#include "hvo/model.h"
#include "hvo/oracle.h"
#include "hvo/ops.h"

#include "harness_trace.h"
#include "target_param_name.h"
#include "race_inputs.h"

namespace hvo {
namespace {

std::string run_ops(Model &md, const Scenario &s, bool every_op_full) {
  md.oracle().full = every_op_full;  // check_all is a full check either way
  std::string out = test::harness_trace(md, s);
  md.oracle().full = false;
  return out;
}

// A frame record made bad in one of three ways the whole-machine check
// reports (I6), or mended (shape 3).
void plant_record(FrameRec &r, unsigned shape) {
  if (shape == 0) {  // an allocated memmap frame on a list
    r.state = FrameState::Allocated;
    r.attrs |= kFrameMemmap | kFrameOnList;
  } else if (shape == 1) {  // an allocated memmap frame, unmapped
    r.state = FrameState::Allocated;
    r.attrs = static_cast<uint8_t>((r.attrs | kFrameMemmap) & ~kFrameSharedTail);
    r.map_count = 0;
  } else if (shape == 2) {  // a free frame still mapped
    r.state = FrameState::Free;
    r.map_count += 1;
  } else {  // mended: an allocated memmap frame mapped once, on no list
    r.state = FrameState::Allocated;
    r.attrs = static_cast<uint8_t>((r.attrs | kFrameMemmap) & ~kFrameOnList);
    r.map_count = 1;
  }
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
                         test::TargetParamName());

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

// The race target's runs: each ends in Model::check_all over a machine whose
// PMD split changed PTRS_PER_PTE consecutive frames.  Every stored input
// and random inputs, under the fixed kernel and each race bug switch, on a
// machine whose oracle takes the reference paths and on one whose oracle
// does not; then a second whole check of each.
TEST(FastOracle, RaceRunsSameAsTheReferencePaths) {
  std::mt19937 rng(1122);
  std::vector<std::pair<std::string, fuzz::RaceInput>> inputs = test::stored_race_inputs();
  ASSERT_GE(inputs.size(), 10u) << "the race seeds were not found";
  for (auto &in : test::random_race_inputs(rng, 64))
    inputs.push_back(std::move(in));
  const std::vector<Config> bugs = test::race_bug_sets();
  unsigned runs = 0, with_violations = 0;
  for (const Config &b : bugs)
    for (const auto &[name, in] : inputs) {
      std::unique_ptr<Model> models[2];
      std::string text[2];
      for (int reference = 0; reference < 2; reference++) {
        const concurrency::ModelSource source = [&, reference](const Config &c, std::string *e) {
          models[reference] = Model::create(c, e);
          if (models[reference])
            models[reference]->oracle().reference_paths = reference;
          return models[reference].get();
        };
        const concurrency::ScenarioOptions opt = fuzz::race_options(in, b);
        text[reference] = test::describe(concurrency::run_scenario(in.kind, opt, in.schedule, source));
        ASSERT_NE(models[reference], nullptr);
        for (const Violation &v : models[reference]->check_all())
          text[reference] += "again " + format_violation(v) + "\n";
      }
      EXPECT_EQ(text[0], text[1]) << name << ": " << fuzz::print_race_input(in);
      runs++;
      with_violations += text[0].find("VIOLATION") != std::string::npos;
    }
  EXPECT_EQ(runs, bugs.size() * inputs.size());
  EXPECT_GE(with_violations, 5u) << "no run reported: the comparison is vacuous";
}

// Frame records planted in each of check_frames' three cases (a frame left
// on a vmemmap_pages list, an allocated memmap frame nothing maps, a free
// frame still mapped) after random op sequences: alone, a few (below the
// bitmap's threshold: the sorted list), in runs of whole 64-frame words
// (more than max_per_id of one case), among frames created since the mark,
// and on the boot's own frames.  The whole check must report what the
// check of every frame reports, in the same order and with the same caps.
TEST(FastOracle, PlantedFrameRecordsSameReports) {
  std::mt19937 rng(1123);
  unsigned reported = 0, capped = 0;
  for (const char *target : {"hvo_fuzz_hugetlb", "hvo_fuzz_boot", "hvo_fuzz_dax"}) {
    const fuzz::TargetProfile *p = fuzz::find_profile(target);
    ASSERT_NE(p, nullptr);
    for (unsigned i = 0; i < 24; i++) {
      const Scenario s = test::random_fuzz_scenario(*p, rng, 8, 40);
      Model fast(s.config), slow(s.config);
      slow.oracle().reference_paths = true;
      for (const Op &op : s.ops) {
        fast.apply(op);
        slow.apply(op);
      }
      // The same plants in both, from the same random choices.
      const size_t table = fast.machine().phys.frame_table_size();
      ASSERT_EQ(table, slow.machine().phys.frame_table_size());
      const size_t limit = fast.machine().phys.unchanged_limit();
      std::vector<std::pair<size_t, unsigned>> plants;  // frame, case
      const unsigned shape = i % 4;
      const size_t n = shape == 0 ? 1 : shape == 1 ? 3 : shape == 2 ? 200 : 20;
      for (size_t k = 0; k < n && table; k++) {
        size_t f;
        if (shape == 2)  // a run from a word boundary
          f = (static_cast<size_t>(rng()) % table & ~size_t{63}) + k;
        else if (shape == 3 && table > limit)  // created since the mark
          f = limit + static_cast<size_t>(rng()) % (table - limit);
        else
          f = static_cast<size_t>(rng()) % table;
        if (f < table)
          plants.emplace_back(f, static_cast<unsigned>(rng() % 3));
      }
      for (Model *md : {&fast, &slow})
        for (const auto &[f, c] : plants)
          plant_record(md->machine().phys.frame(static_cast<FrameId>(f)), c);
      std::string text[2];
      for (int k = 0; k < 2; k++)
        for (const Violation &v : (k ? slow : fast).check_all())
          text[k] += format_violation(v) + "\n";
      EXPECT_EQ(text[0], text[1]) << target << " input " << i << " shape " << shape;
      reported += text[0].find("I6-frame-accounting") != std::string::npos;
      capped += text[0].find("I6-frame-accounting") != std::string::npos && shape == 2;
    }
  }
  EXPECT_GE(reported, 60u);
  EXPECT_GE(capped, 15u);
}

// Frames that already report when the oracle is built (its mark): they
// are looked at through the list (and bitmap) taken then, whether or not
// they change after it.  Two machines planted alike before and after the
// mark, one oracle each, the fast one and the reference; few plants after
// the mark (the sorted list) and many (the bitmaps, with runs of whole
// words whose only bad frame is the last), and new frames past the mark
// whose only bad one is the last of the table.
TEST(FastOracle, FramesReportingAtTheMarkSameReports) {
  std::mt19937 rng(1124);
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_hugetlb");
  ASSERT_NE(p, nullptr);
  unsigned compared = 0, reported = 0;
  for (unsigned i = 0; i < 24; i++) {
    const Config cfg = test::random_fuzz_scenario(*p, rng, 8, 40).config;
    Machine fast_m(cfg), slow_m(cfg);
    const size_t boot_table = fast_m.phys.frame_table_size();
    ASSERT_EQ(boot_table, slow_m.phys.frame_table_size());
    if (boot_table < 256)
      continue;
    auto plant = [](Machine &m, size_t f, unsigned c) {
      plant_record(m.phys.frame(static_cast<FrameId>(f)), c);
    };
    // Before the mark: a few bad frames.
    std::vector<std::pair<size_t, unsigned>> before;
    for (unsigned k = 0; k < 6; k++)
      before.emplace_back(static_cast<size_t>(rng()) % boot_table, static_cast<unsigned>(rng() % 3));
    for (Machine *m : {&fast_m, &slow_m})
      for (const auto &[f, c] : before)
        plant(*m, f, c);
    Oracle fast(fast_m), slow(slow_m);
    slow.reference_paths = true;
    fast.full = slow.full = true;
    // After the mark: some mended, and few or many more changed.
    std::vector<std::pair<size_t, unsigned>> after;
    for (size_t k = 0; k < before.size(); k += 2)
      after.emplace_back(before[k].first, 3);
    if (i % 2) {
      // Two whole words changed, each bad only in its last frame.
      const size_t first = (static_cast<size_t>(rng()) % (boot_table - 128)) & ~size_t{63};
      for (size_t f = first; f < first + 128; f++)
        after.emplace_back(f, f % 64 == 63 ? static_cast<unsigned>(rng() % 3) : 3);
    }
    for (Machine *m : {&fast_m, &slow_m}) {
      for (const auto &[f, c] : after)
        plant(*m, f, c);
      // Past the mark: new frames, only the last left bad (allocated and
      // unmapped: a leak).
      for (unsigned k = 0; k < 3; k++) {
        const std::optional<FrameId> f = m->phys.alloc_frame(0, AllocPurpose::Memmap);
        ASSERT_TRUE(f.has_value());
        if (k < 2)
          m->phys.frame(*f).map_count = 1;
      }
    }
    std::string text[2];
    for (int k = 0; k < 2; k++)
      for (const Violation &v : (k ? slow : fast).check(0, {}))
        text[k] += format_violation(v) + "\n";
    EXPECT_EQ(text[0], text[1]) << "config " << i;
    compared++;
    reported += text[0].find("I6-frame-accounting") != std::string::npos;
  }
  EXPECT_GE(compared, 12u);
  EXPECT_EQ(reported, compared) << "the last new frame is a leak in every machine";
}

// A shared tail published in a frame recycled from the free list (below
// the mark, changed since) and then corrupted: the whole check must look
// at it as the reference (every frame) does.
TEST(FastOracle, SharedTailInARecycledFrameSameReports) {
  unsigned recycled = 0, reported = 0;
  for (const char *variant : {"kiryl-v7", "kiryl-v6"}) {
    Scenario s;
    std::string error;
    ASSERT_TRUE(parse_scenario(std::string("config page-size=4K mem=0:Normal:256M era=shared-tail "
                                           "variant=") +
                                   variant +
                                   "\nalloc_folio order=9 node=0\nalloc_folio order=9 node=0\n"
                                   "alloc_folio order=10 node=0\nalloc_folio order=11 node=0\n"
                                   "alloc_folio order=12 node=0\n",
                               "recycled", s, error))
        << error;
    Model fast(s.config), slow(s.config);
    slow.oracle().reference_paths = true;
    for (Model *md : {&fast, &slow}) {
      for (const Op &op : s.ops)
        md->apply(op);
      Machine &m = md->machine();
      for (const std::vector<FrameId> &per_owner : m.shared_tails.tails)
        for (FrameId f : per_owner)
          if (f != kNoFrame && f < m.phys.unchanged_limit() && m.phys.changed_since_mark(f)) {
            m.phys.write_word(f, 1, 0xbad);
            recycled += md == &fast;
          }
    }
    std::string text[2];
    for (int k = 0; k < 2; k++)
      for (const Violation &v : (k ? slow : fast).check_all())
        text[k] += format_violation(v) + "\n";
    EXPECT_EQ(text[0], text[1]) << variant;
    reported += text[0].find("I4-shared-tail-content") != std::string::npos;
  }
  EXPECT_GT(recycled, 0u) << "no tail landed in a recycled frame: the test is vacuous";
  EXPECT_GT(reported, 0u);
}

}  // namespace
}  // namespace hvo
