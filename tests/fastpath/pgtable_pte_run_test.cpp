// SPDX-License-Identifier: GPL-2.0-only
//
// VmemmapPageTable::pte_run against ptep_get page by page: after every op
// of the corpus, mutants and random inputs of the targets whose machines
// split PMDs and remap PTEs, every vmemmap page of every PMD is asked for
// its run with a spread of limits, and the answer must be what reading
// ptep_get page by page gives.  Plus hand-made tables for the edges: a
// change of ro alone ends a run, none PTEs form runs of their own, a run
// stops at the end of its PMD and at the limit, and none PMDs, leaves and
// addresses outside the span answer 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"

#include "harness_trace.h"
#include "target_param_name.h"

namespace hvo {
namespace {

// The small limits every page is asked with (0 and 1 must answer 1); a
// limit past the run costs pte_run the run's length, so the unlimited and
// PMD-sized ones are asked where a run starts, in its middle and at its
// last page (every page would make the test quadratic in the run length).
constexpr uint64_t kSmallLimits[] = {0, 1, 2, 3, 7};

// What pte_run must answer, read off ptep_get: for each page of PMD i the
// number of pages from it to the end of its run of identical PTEs.
std::vector<uint64_t> reference_runs(const VmemmapPageTable &pt, size_t i) {
  const uint64_t per = pt.ptes_per_table();
  const uint64_t page = (pt.end() - pt.start()) / (pt.nr_pmds() * per);
  std::vector<uint64_t> run(per, 1);
  if (pt.pmd(i).kind != PmdKind::Table)
    return run;  // none PMDs and leaves answer 1 whatever the limit
  for (uint64_t k = per - 1; k-- > 0;)
    if (pt.ptep_get(pt.pmd_addr(i) + k * page) == pt.ptep_get(pt.pmd_addr(i) + (k + 1) * page))
      run[k] = run[k + 1] + 1;
  return run;
}

// Every page of every PMD, every limit: the first disagreement, or "".
// `runs_over_1` counts the answers longer than one page (the check is
// vacuous if no table ever holds a run).
std::string check_every_page(const VmemmapPageTable &pt, uint64_t &pages_checked,
                             uint64_t &runs_over_1) {
  const uint64_t per = pt.ptes_per_table();
  if (pt.nr_pmds() == 0)
    return "";
  const uint64_t page = (pt.end() - pt.start()) / (pt.nr_pmds() * per);
  const uint64_t big_limits[] = {per / 2, per - 1, per, per + 1, UINT64_MAX};
  for (size_t i = 0; i < pt.nr_pmds(); i++) {
    const std::vector<uint64_t> run = reference_runs(pt, i);
    for (uint64_t k = 0; k < per; k++) {
      const uint64_t v = pt.pmd_addr(i) + k * page;
      const bool run_start = k == 0 || run[k - 1] == 1;
      auto ask = [&](uint64_t m) -> std::string {
        const uint64_t want = std::max<uint64_t>(1, std::min(run[k], m));
        const uint64_t got = pt.pte_run(v, m);
        if (got != want)
          return "pmd " + std::to_string(i) + " page " + std::to_string(k) + " limit " +
                 std::to_string(m) + ": pte_run " + std::to_string(got) + ", ptep_get says " +
                 std::to_string(want);
        runs_over_1 += got > 1;
        return "";
      };
      for (uint64_t m : kSmallLimits)
        if (std::string e = ask(m); !e.empty())
          return e;
      // A run's first and last page, and every 61st page (some middles).
      if (run_start || run[k] == 1 || k % 61 == 0)
        for (uint64_t m : big_limits)
          if (std::string e = ask(m); !e.empty())
            return e;
      // An address inside the page is the page.
      if (pt.pte_run(v + page / 2, 7) != pt.pte_run(v, 7))
        return "pmd " + std::to_string(i) + " page " + std::to_string(k) + ": mid-page address";
      pages_checked++;
    }
  }
  if (pt.pte_run(pt.end(), UINT64_MAX) != 1 || pt.pte_run(pt.start() - page, UINT64_MAX) != 1)
    return "an address outside the span did not answer 1";
  return "";
}

class PteRun : public testing::TestWithParam<const char *> {};

TEST_P(PteRun, EqualsPtepGetPageByPage) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(4242);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 1, rng);
  for (unsigned k = 0; k < 16; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 64));
  uint64_t pages = 0, runs = 0;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    Model md(s.config);
    const VmemmapPageTable &pt = md.machine().pt;
    ASSERT_EQ(check_every_page(pt, pages, runs), "") << GetParam() << " input " << i << " boot";
    unsigned n = 0;
    for (const Op &op : s.ops) {
      md.apply(op);
      ASSERT_EQ(check_every_page(pt, pages, runs), "")
          << GetParam() << " input " << i << " after op " << n;
      n++;
    }
    i++;
  }
  RecordProperty("pages_checked", static_cast<int>(std::min<uint64_t>(pages, INT32_MAX)));
  EXPECT_GT(runs, 1000u) << "no table held a run of equal PTEs: the comparison is vacuous";
}

INSTANTIATE_TEST_SUITE_P(Targets, PteRun,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_boot", "hvo_fuzz_dax"),
                         test::TargetParamName());

// A table laid out by hand, page index -> PTE:
//   0..9 frame A rw, 10 frame A ro, 11..12 none, 13..19 frame B ro,
//   20 frame A rw, 21..end frame C rw.
// A leaf at PMD 2; PMD 3 stays none.
TEST(PteRunHandMade, RunsEndWhereThePteChanges) {
  Config cfg;
  cfg.variant = Variant::V6_12_0;
  Model md(cfg);
  VmemmapPageTable &pt = md.machine().pt;
  PhysMem &phys = md.machine().phys;
  ASSERT_GE(pt.nr_pmds(), 4u);
  const uint64_t per = pt.ptes_per_table();
  const uint64_t page = cfg.page_size();
  const FrameId a = *phys.alloc_frame(0, AllocPurpose::Memmap);
  const FrameId b = *phys.alloc_frame(0, AllocPurpose::Memmap);
  const FrameId c = *phys.alloc_frame(0, AllocPurpose::Memmap);
  const uint32_t table = pt.pte_table_create(*phys.alloc_frame(0, AllocPurpose::PageTable));
  for (uint64_t k = 0; k < per; k++) {
    Pte e;
    if (k < 10)
      e = Pte{a, false};
    else if (k == 10)
      e = Pte{a, true};
    else if (k < 13)
      e = Pte{};
    else if (k < 20)
      e = Pte{b, true};
    else if (k == 20)
      e = Pte{a, false};
    else
      e = Pte{c, false};
    pt.pte_table_set(table, k, e);
  }
  pt.pmd_clear(1);
  pt.pmd_populate_kernel(1, table);
  pt.pmd_clear(2);
  pt.pmd_set_leaf(2, *phys.alloc_frame(0, AllocPurpose::Memmap));
  pt.pmd_clear(3);
  const uint64_t base = pt.pmd_addr(1);
  auto run = [&](uint64_t k, uint64_t m) { return pt.pte_run(base + k * page, m); };
  EXPECT_EQ(run(0, UINT64_MAX), 10u);
  EXPECT_EQ(run(3, UINT64_MAX), 7u);
  EXPECT_EQ(run(3, 4), 4u);
  EXPECT_EQ(run(9, UINT64_MAX), 1u);
  EXPECT_EQ(run(10, UINT64_MAX), 1u) << "same frame, ro differs: a run of its own";
  EXPECT_EQ(run(11, UINT64_MAX), 2u) << "none PTEs in a table run like any other";
  EXPECT_EQ(run(13, UINT64_MAX), 7u);
  EXPECT_EQ(run(20, UINT64_MAX), 1u) << "frame A again after B: not part of A's first run";
  EXPECT_EQ(run(21, UINT64_MAX), per - 21) << "stops at the end of the PMD";
  EXPECT_EQ(run(per - 1, UINT64_MAX), 1u);
  EXPECT_EQ(run(0, 0), 1u);
  EXPECT_EQ(run(0, 1), 1u);
  EXPECT_EQ(pt.pte_run(pt.pmd_addr(2) + 5 * page, UINT64_MAX), 1u) << "a leaf";
  EXPECT_EQ(pt.pte_run(pt.pmd_addr(3), UINT64_MAX), 1u) << "a none PMD";
  uint64_t pages = 0, runs = 0;
  EXPECT_EQ(check_every_page(pt, pages, runs), "");
  EXPECT_GT(runs, 0u);
}

}  // namespace
}  // namespace hvo
