// SPDX-License-Identifier: GPL-2.0-only
//
// VmemmapPageTable::translate's one-entry memo against a fresh page-table
// and TLB lookup: random fuzz-decoded op sequences of every ops target, with
// every memo hit during every op compared (VmemmapPageTable::check_memo).
// A mutator that forgot to invalidate the memo shows up as a mismatch.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"

#include "harness_trace.h"
#include "target_param_name.h"

namespace hvo {
namespace {

class TranslateMemo : public testing::TestWithParam<const char *> {};

TEST_P(TranslateMemo, EveryHitEqualsAFreshLookup) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  VmemmapPageTable::check_memo = {.on = true};
  std::mt19937 rng(2026);
  for (unsigned i = 0; i < 40; i++) {
    const Scenario s = test::random_fuzz_scenario(*p, rng, 8, 64);
    Model md(s.config);
    for (const Op &op : s.ops)
      md.apply(op);
    md.check_all();
  }
  const TranslateMemoCheck seen = VmemmapPageTable::check_memo;
  VmemmapPageTable::check_memo = {};
  EXPECT_EQ(seen.mismatches, 0u);
  EXPECT_GT(seen.hits, 1000u) << "the memo was hardly used: the comparison is vacuous";
  RecordProperty("memo_hits", static_cast<int>(std::min<uint64_t>(seen.hits, INT32_MAX)));
}

// Each mutator on its own, between two translations of an address whose
// answer it changes: the second must not come from a memo the mutator
// should have invalidated.  (The random sequences above rarely translate an
// address between a set_pte_at and its flush.)
TEST(TranslateMemoMutators, EachInvalidates) {
  Config cfg;
  cfg.variant = Variant::V6_12_0;
  Model md(cfg), other(cfg);
  VmemmapPageTable &pt = md.machine().pt;
  PhysMem &phys = md.machine().phys;
  const uint64_t v = pt.pmd_addr(1) + 5 * cfg.page_size();
  const size_t i = pt.pmd_index(v);
  const uint64_t idx = (v - pt.pmd_addr(i)) >> cfg.page_shift;
  const FrameId f1 = *phys.alloc_frame(0, AllocPurpose::Memmap);
  const FrameId f2 = *phys.alloc_frame(0, AllocPurpose::Memmap);
  VmemmapPageTable::check_memo = {.on = true};
  auto again = [&](const char *what) {
    const uint64_t before = VmemmapPageTable::check_memo.mismatches;
    pt.translate(v);
    EXPECT_EQ(VmemmapPageTable::check_memo.mismatches, before) << what;
  };
  auto step = [&](const char *what, auto &&mutate) {
    pt.translate(v);
    pt.translate(v);  // a memo hit, compared
    mutate();
    again(what);
  };
  uint32_t table = 0;
  step("pte_table_create + pmd_populate_kernel", [&] {
    table = pt.pte_table_create(*phys.alloc_frame(0, AllocPurpose::PageTable));
    for (uint64_t k = 0; k < pt.ptes_per_table(); k++)
      pt.pte_table_set(table, k, Pte{f1, false});
    pt.pmd_populate_kernel(i, table);
  });
  step("flush_tlb_kernel_range", [&] { pt.flush_tlb_kernel_range(pt.pmd_addr(i), pt.pmd_addr(i + 1)); });
  step("set_pte_at", [&] { pt.set_pte_at(v, Pte{f2, true}); });
  step("flush_tlb_all", [&] { pt.flush_tlb_all(); });
  step("pte_table_set (installed)", [&] { pt.pte_table_set(table, idx, Pte{f1, false}); });
  step("pmd_clear", [&] { pt.pmd_clear(i); });
  step("flush after pmd_clear", [&] { pt.flush_tlb_all(); });
  step("pmd_set_leaf", [&] { pt.pmd_set_leaf(i, f1); });
  step("assign_state", [&] { pt.assign_state(other.machine().pt); });
  const TranslateMemoCheck seen = VmemmapPageTable::check_memo;
  VmemmapPageTable::check_memo = {};
  EXPECT_GE(seen.hits, 9u);
  EXPECT_EQ(seen.mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(Targets, TranslateMemo,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head",
                                         "hvo_fuzz_dax", "hvo_fuzz_boot"),
                         test::TargetParamName());

}  // namespace
}  // namespace hvo
