// SPDX-License-Identifier: GPL-2.0-only
//
// The HugeTLB remap walks' fast paths against the kernel's step-by-step
// walk they replace (hugetlb_vmemmap_reference_walks): vmemmap_split_pmd as
// one pass (VmemmapPageTable::split_leaf) and the restore walk's one
// translation of the reuse address.  Random fuzz-decoded inputs of every
// target whose ops reach the walks, and planted states (allocation failures
// mid-walk with their rollback, PMD fault injection, a split under stale
// TLB entries), each run both ways: the same step results and violations,
// the same faults in order, the same frames changed in the same order and
// the same machine afterwards (TLB included).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "hvo/compound.h"
#include "hvo/compound_info.h"
#include "hvo/differential.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/trace.h"
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"
#include "harness_trace.h"
#include "target_param_name.h"
#include "machine_state.h"

namespace hvo {
namespace {

// Sets the switch for the lifetime of the object (tests must not leak it).
struct ReferenceWalks : test::ScopedSwitch {
  explicit ReferenceWalks(bool on) : ScopedSwitch(hugetlb_vmemmap_reference_walks, on) {}
};

// Everything of one run the two ways must agree on besides the machine:
// the harness trace, the faults in order, the frames changed in order.
std::string run_text(Model &md, const Scenario &s, bool reference) {
  ReferenceWalks mode(reference);
  std::string out = test::harness_trace(md, s);
  return out + test::faults_and_changed_text(md);
}

class RemapWalkRandom : public testing::TestWithParam<const char *> {};

TEST_P(RemapWalkRandom, SameResultsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(5150);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 1, rng);
  for (unsigned k = 0; k < 24; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 64));
  uint64_t splits = 0;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    Model fast(s.config), slow(s.config);
    const std::string a = run_text(fast, s, false);
    const std::string b = run_text(slow, s, true);
    ASSERT_EQ(a, b) << GetParam() << " input " << i;
    EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << "input " << i;
    splits += fast.machine().events.pmd_splits;
    i++;
  }
  RecordProperty("pmd_splits", static_cast<int>(std::min<uint64_t>(splits, INT32_MAX)));
  EXPECT_GT(splits, 3u) << "the inputs hardly split a PMD: the comparison is vacuous";
}

INSTANTIATE_TEST_SUITE_P(Targets, RemapWalkRandom,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head",
                                         "hvo_fuzz_boot"),
                         test::TargetParamName());

// The differential target runs each input on both eras at once.
TEST(RemapWalkRandomDifferential, SameResultsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_differential");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(808);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 1, rng);
  for (unsigned k = 0; k < 16; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 64));
  uint64_t splits = 0;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    Differential fast(s.config), slow(s.config);
    std::string a, b;
    for (const Op &op : s.ops) {
      {
        ReferenceWalks mode(false);
        fast.step(op);
        a += fuzz::format_result(fast.last_legacy_step()) + "\n";
      }
      {
        ReferenceWalks mode(true);
        slow.step(op);
        b += fuzz::format_result(slow.last_legacy_step()) + "\n";
      }
    }
    a += fast.result().format() + test::faults_text(fast.legacy().machine().mmu.faults) +
         test::faults_text(fast.shared().machine().mmu.faults);
    b += slow.result().format() + test::faults_text(slow.legacy().machine().mmu.faults) +
         test::faults_text(slow.shared().machine().mmu.faults);
    ASSERT_EQ(a, b) << "input " << i;
    EXPECT_EQ(test::machine_state_diff(fast.legacy().machine(), slow.legacy().machine()), "");
    EXPECT_EQ(test::machine_state_diff(fast.shared().machine(), slow.shared().machine()), "");
    splits += fast.legacy().machine().events.pmd_splits + fast.shared().machine().events.pmd_splits;
    i++;
  }
  EXPECT_GT(splits, 3u) << "the inputs hardly split a PMD: the comparison is vacuous";
}

// ---------------------------------------------------------------------------
// Planted scenarios: allocation failures at every point of a multi-PMD
// optimize (the split of the second PMD fails: rollback) and of a restore,
// the MS tree's PMD and PTE fault attributes, in each walk variant.
// ---------------------------------------------------------------------------

// Runs `text` both ways; returns the (common) trace.
std::string same_both_ways(const std::string &text) {
  Scenario s;
  std::string error;
  EXPECT_TRUE(parse_scenario(text, "planted", s, error)) << error;
  Model fast(s.config), slow(s.config);
  const std::string a = run_text(fast, s, false);
  const std::string b = run_text(slow, s, true);
  EXPECT_EQ(a, b) << text;
  EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << text;
  return a;
}

const char *const kVariants[] = {"era=legacy variant=v6.12.0", "era=legacy variant=D612",
                                 "era=shared-tail variant=muchun"};

TEST(RemapWalkPlanted, AllocationFailureAtEveryPointOfOptimize) {
  unsigned rollbacks = 0;
  for (const char *v : kVariants)
    for (unsigned n = 1; n <= 8; n++) {
      const std::string trace = same_both_ways(
          std::string("config page-size=4K struct-page=64 mem=0:Normal:2G ") + v +
          "\nsysctl_hvo value=0\nalloc_folio order=16 node=0\nsysctl_hvo value=1\n"
          "fail_nth n=" + std::to_string(n) + "\noptimize folio=0\nfail_nth n=0\n"
          "optimize folio=0\nrestore folio=0\nfree_folio folio=0\n");
      rollbacks += trace.find("-> 0 not optimized") != std::string::npos;
    }
  EXPECT_GT(rollbacks, 3u) << "no injected failure reached the walk";
}

TEST(RemapWalkPlanted, AllocationFailureAtEveryPointOfRestore) {
  for (const char *v : kVariants)
    for (unsigned n = 1; n <= 6; n++)
      same_both_ways(std::string("config page-size=4K struct-page=64 mem=0:Normal:2G ") + v +
                     "\nalloc_folio order=16 node=0\nfail_nth n=" + std::to_string(n) +
                     "\nrestore folio=0\nfail_nth n=0\nrestore folio=0\noptimize folio=0\n"
                     "free_folio folio=0\n");
}

// The MS tree's fault attributes: a PMD population that fails (the table
// is built and thrown away), a PTE update that fails mid-walk (rollback,
// possibly incomplete).
TEST(RemapWalkPlanted, MuchunFaultAttributes) {
  for (unsigned nth = 0; nth <= 2; nth++)
    for (unsigned times = 1; times <= 2; times++) {
      const std::string arm =
          "nth=" + std::to_string(nth) + " times=" + std::to_string(times) + "\n";
      same_both_ways("config page-size=4K struct-page=64 mem=0:Normal:2G era=shared-tail "
                     "variant=muchun\nsysctl_hvo value=0\nalloc_folio order=16 node=0\n"
                     "sysctl_hvo value=1\nfail_vmemmap_pmd " + arm +
                     "optimize folio=0\noptimize folio=0\nfree_folio folio=0\n");
      same_both_ways("config page-size=4K struct-page=64 mem=0:Normal:2G era=shared-tail "
                     "variant=muchun\nsysctl_hvo value=0\nalloc_folio order=16 node=0\n"
                     "sysctl_hvo value=1\nfail_vmemmap_pte " + arm +
                     "optimize folio=0\nrestore folio=0\noptimize folio=0\nfree_folio folio=0\n");
    }
}

// Batches split every PMD first without a flush (VMEMMAP_SPLIT_NO_TLB_FLUSH:
// the stale huge entries stay until flush_tlb_all).
TEST(RemapWalkPlanted, BatchSplitsWithoutFlush) {
  for (const char *v : kVariants)
    same_both_ways(std::string("config page-size=4K struct-page=64 mem=0:Normal:2G ") + v +
                   "\nsysctl_hvo value=0\nalloc_folio order=9 node=0\nalloc_folio order=16 node=0\n"
                   "alloc_folio order=9 node=0\nsysctl_hvo value=1\noptimize_batch first=0 count=3\n"
                   "restore_batch first=0 count=3\nfree_folio folio=1\n");
}

// ---------------------------------------------------------------------------
// split_leaf on its own against the calls it stands for, on a PMD that has
// stale translations already: a stale huge entry from an earlier pmd_clear
// and stale PTEs from an earlier table at the same PMD.
// ---------------------------------------------------------------------------

struct SplitOutcome {
  std::vector<FrameId> touched, changed;
  size_t stale = 0;
};

// Plants stale translations at PMD `i` of `m`, then maps it by a leaf over
// fresh frames: with `stale_ptes`, a table whose PTEs 7 and 9 changed
// without a flush, then cleared; with `huge`, a leaf cleared without a flush
// (a stale huge entry).  Neither: the boot leaf stays.
void plant_stale(Machine &m, size_t i, bool stale_ptes, bool huge) {
  VmemmapPageTable &pt = m.pt;
  const uint64_t n = pt.ptes_per_table(), ps = m.cfg.page_size();
  if (!stale_ptes && !huge)
    return;
  const FrameId first = m.phys.memblock_alloc_frames(0, n);
  if (stale_ptes) {
    pt.pmd_clear(i);
    pt.flush_tlb_all();
    const uint32_t t = pt.pte_table_create(m.phys.memblock_alloc_pagetable(0));
    for (uint64_t k = 0; k < n; k++)
      pt.pte_table_set(t, k, Pte{static_cast<FrameId>(first + k), false});
    pt.pmd_populate_kernel(i, t);
    pt.set_pte_at(pt.pmd_addr(i) + 7 * ps, Pte{first, true});
    pt.set_pte_at(pt.pmd_addr(i) + 9 * ps, Pte{first, true});
    m.phys.free_frame(pt.pmd_clear(i));
  }
  if (huge) {
    if (pt.pmd(i).kind == PmdKind::None)
      pt.pmd_set_leaf(i, m.phys.memblock_alloc_frames(0, n));
    pt.pmd_clear(i);
  }
  pt.pmd_set_leaf(i, first);
}

SplitOutcome split_once(Machine &m, size_t i, bool flush, bool reference) {
  VmemmapPageTable &pt = m.pt;
  m.phys.take_touched();
  m.phys.mark_unchanged();
  const FrameId backing = *m.phys.alloc_frame(0, AllocPurpose::PageTable);
  const uint64_t start = pt.pmd_addr(i);
  if (reference) {
    const FrameId first = pt.pmd(i).value;
    const uint32_t t = pt.pte_table_create(backing);
    for (uint64_t k = 0; k < pt.ptes_per_table(); k++)
      pt.pte_table_set(t, k, Pte{static_cast<FrameId>(first + k), false});
    pt.pmd_populate_kernel(i, t);
    if (flush)
      pt.flush_tlb_kernel_range(start, start + m.cfg.pmd_size());
  } else {
    pt.split_leaf(i, backing, flush, start);
  }
  return SplitOutcome{m.phys.take_touched(), m.phys.changed_frames(), pt.stale_tlb_entries()};
}

TEST(SplitLeaf, EqualsTheCallsItStandsFor) {
  Config cfg;
  cfg.variant = Variant::V6_12_0;
  unsigned cases = 0;
  for (bool stale_ptes : {false, true})
    for (bool huge : {false, true})
      for (bool flush : {false, true}) {
        Model a(cfg), b(cfg);
        const size_t i = 1;
        ASSERT_TRUE(a.machine().pt.pmd_leaf(i));
        plant_stale(a.machine(), i, stale_ptes, huge);
        plant_stale(b.machine(), i, stale_ptes, huge);
        const SplitOutcome x = split_once(a.machine(), i, flush, false);
        const SplitOutcome y = split_once(b.machine(), i, flush, true);
        const std::string what = std::string("stale_ptes=") + (stale_ptes ? "1" : "0") +
                                 " huge=" + (huge ? "1" : "0") + " flush=" + (flush ? "1" : "0");
        EXPECT_EQ(x.touched, y.touched) << what;
        EXPECT_EQ(x.changed, y.changed) << what;
        EXPECT_EQ(x.stale, y.stale) << what;
        EXPECT_EQ(test::machine_state_diff(a.machine(), b.machine()), "") << what;
        cases += x.stale > 0;
      }
  EXPECT_GE(cases, 3u) << "the planted stale translations did not survive: vacuous";
}

// free_compound_page_prepare's clean-page memo (compound.cpp) may skip a
// vmemmap page only where compound_head's decode does not depend on the
// struct page's address.  Here it does: every tail vmemmap page of a
// shared-tail folio holds the same image (made for vmemmap page 1: the
// memo's key is the same for all), whose compound_head is the mask
// of a folio half as large, so the tails of the second half decode to the
// middle of the folio.  The memo must not carry the first half's verdict
// over; the per-struct-page loop is the judge.
TEST(FreeMemo, MaskThatHoldsForHalfTheFolio) {
  Scenario s;
  std::string error;
  ASSERT_TRUE(parse_scenario("config page-size=4K struct-page=64 mem=0:Normal:1G era=shared-tail "
                             "variant=kiryl-v7 hvo=off\nalloc_folio order=9 node=0\n",
                             "half-mask", s, error))
      << error;
  auto run = [&](bool per_struct_page) {
    Model md(s.config);
    for (const Op &op : s.ops)
      md.apply(op);
    Machine &m = md.machine();
    EXPECT_TRUE(mask_encoding(m.cfg));
    const uint64_t head = m.page(m.folios[0].pfn), ps = m.cfg.page_size();
    const FieldSpec half{compound_info_mask(vmemmap_geometry(m.cfg), 8)};
    auto frame = [&](uint64_t k) { return m.mmu.translate(head + k * ps).pte.frame; };
    m.phys.store_field_all(frame(1), sp::kCompoundHead, ~uint64_t{0}, half);
    for (uint64_t k = 2; k < 8; k++)  // one image, one origin: what the memo keys on
      m.phys.copy_frame(frame(k), frame(1));
    m.mmu.faults.clear();
    m.phys.take_touched();
    const bool saved = free_tail_checks_per_struct_page;
    free_tail_checks_per_struct_page = per_struct_page;
    std::string out;
    for (const BadPage &b : free_compound_page_prepare(m, head, 9, 1000))
      out += std::to_string(m.page_to_pfn(b.page)) + " " + b.reason + "\n";
    free_tail_checks_per_struct_page = saved;
    out += test::faults_text(m.mmu.faults);
    for (FrameId f : m.phys.take_touched())
      out += " " + std::to_string(f);
    return out;
  };
  const std::string fast = run(false), slow = run(true);
  EXPECT_EQ(fast, slow);
  EXPECT_NE(slow.find("compound_head not consistent"), std::string::npos) << slow;
}

}  // namespace
}  // namespace hvo
