// SPDX-License-Identifier: GPL-2.0-only
//
// The page table's two run primitives against the calls they stand for:
//  * VmemmapPageTable::set_ptes (the remap walks' runs, hugetlb_vmemmap.cpp)
//    against set_pte_at entry by entry, and read_ptes / stale_in against
//    ptep_get / translate;
//  * VmemmapPageTable::populate_leaf_with (boot pre-HVO,
//    hugetlb_boot_hvo.cpp) against pte_table_create, pte_table_set per entry
//    and pmd_populate_kernel.
// On twin machines with planted stale translations (stale PTEs of earlier
// tables, a stale huge entry of an earlier leaf), each must leave the same
// machine (machine_state_diff: entries, TLB, every frame record), touch the
// same frames in the same order and note the same frames changed in the
// same order.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "hvo/model.h"
#include "machine_state.h"

namespace hvo {
namespace {

struct Outcome {
  std::vector<FrameId> touched, changed;
  size_t stale = 0;
};

Outcome outcome(Machine &m) {
  return Outcome{m.phys.take_touched(), m.phys.changed_frames(), m.pt.stale_tlb_entries()};
}

// `a` after the fast call and `b` after the calls it stands for: the same
// frames touched and changed in order, the same stale TLB entries, the same
// state.  Returns a's outcome.
Outcome expect_same_outcome(Machine &a, Machine &b, const std::string &what) {
  const Outcome x = outcome(a), y = outcome(b);
  EXPECT_EQ(x.touched, y.touched) << what;
  EXPECT_EQ(x.changed, y.changed) << what;
  EXPECT_EQ(x.stale, y.stale) << what;
  EXPECT_EQ(test::machine_state_diff(a, b), "") << what;
  return x;
}

void start(Machine &m) {
  m.phys.take_touched();
  m.phys.mark_unchanged();
}

// PMD i of `m` becomes a PTE table over fresh frames; with `stale_ptes`
// some of its entries then change without a flush (stale PTEs), with
// `huge` an earlier leaf at i is cleared without a flush first (a stale
// huge entry covers the whole PMD).  Returns the table's first frame.
FrameId plant_table(Machine &m, size_t i, bool stale_ptes, bool huge) {
  VmemmapPageTable &pt = m.pt;
  const uint64_t n = pt.ptes_per_table(), ps = m.cfg.page_size();
  if (pt.pmd(i).kind == PmdKind::Leaf)
    pt.pmd_clear(i);
  if (!huge)
    pt.flush_tlb_all();
  const FrameId first = m.phys.memblock_alloc_frames(0, n);
  const uint32_t t = pt.pte_table_create(m.phys.memblock_alloc_pagetable(0));
  for (uint64_t k = 0; k < n; k++)
    pt.pte_table_set(t, k, Pte{static_cast<FrameId>(first + k), false});
  pt.pmd_populate_kernel(i, t);
  if (stale_ptes)
    for (uint64_t k : {3u, 7u, 9u, 200u})
      pt.set_pte_at(pt.pmd_addr(i) + k * ps, Pte{first, true});
  return first;
}

// The new entries of one case: `shape` 0 = every entry onto one frame (an
// optimize), 1 = every entry from one frame onto fresh ones (a restore:
// the table is first pointed at one frame), 2 = a random mix including
// entries equal to the old one and none entries.
std::vector<Pte> entries(Machine &m, size_t i, uint64_t from, uint64_t n, int shape,
                         FrameId one, std::mt19937 &rng) {
  const uint64_t ps = m.cfg.page_size();
  std::vector<Pte> news(n);
  for (uint64_t k = 0; k < n; k++) {
    const Pte old = m.pt.ptep_get(m.pt.pmd_addr(i) + (from + k) * ps);
    switch (shape) {
    case 0:
      news[k] = Pte{one, true};
      break;
    case 1:
      news[k] = Pte{m.phys.memblock_alloc_frames(0, 1), false};
      break;
    default:
      switch (rng() % 5) {
      case 0: news[k] = old; break;
      case 1: news[k] = Pte{}; break;
      case 2: news[k] = Pte{one, rng() % 2 == 0}; break;
      case 3: news[k] = Pte{old.frame, !old.ro}; break;
      default: news[k] = Pte{m.phys.memblock_alloc_frames(0, 1), false}; break;
      }
    }
  }
  return news;
}

TEST(SetPtes, EqualsSetPteAtEntryByEntry) {
  Config cfg;
  cfg.variant = Variant::V6_12_0;
  std::mt19937 rng(4242);
  unsigned cases = 0, with_stale = 0;
  for (bool stale_ptes : {false, true})
    for (bool huge : {false, true})
      for (int shape : {0, 1, 2})
        for (int recurring_kind : {0, 1, 2}) {
          Model a(cfg), b(cfg);
          const size_t i = 1;
          const uint64_t ps = a.machine().cfg.page_size();
          const uint64_t per = a.machine().pt.ptes_per_table();
          // A frame every old (shape 1) or every new (shape 0) entry names.
          const FrameId one_a = a.machine().phys.memblock_alloc_frames(0, 1);
          const FrameId one_b = b.machine().phys.memblock_alloc_frames(0, 1);
          ASSERT_EQ(one_a, one_b);
          for (Model *md : {&a, &b}) {
            plant_table(md->machine(), i, stale_ptes, huge);
            if (shape == 1)  // restore: the run maps one frame
              for (uint64_t k = 1; k < per; k++)
                md->machine().pt.set_pte_at(md->machine().pt.pmd_addr(i) + k * ps,
                                            Pte{one_a, true});
          }
          // Both machines draw the same frames: same seed for both.
          std::mt19937 ra = rng, rb = rng;
          rng.discard(1000);
          const uint64_t from = 1 + rng() % 5, n = per - from - rng() % 3;
          const std::vector<Pte> na = entries(a.machine(), i, from, n, shape, one_a, ra);
          const std::vector<Pte> nb = entries(b.machine(), i, from, n, shape, one_b, rb);
          ASSERT_EQ(na, nb);
          // The counts of `recurring` are summed: the right frame, none, or
          // one no entry names must all give the calls' result.
          const FrameId recurring = recurring_kind == 0 ? one_a
                                    : recurring_kind == 1 ? kNoFrame
                                                          : na[0].frame;
          const uint64_t vaddr = a.machine().pt.pmd_addr(i) + from * ps;
          std::vector<Pte> read(n);
          a.machine().pt.read_ptes(vaddr, n, read.data());
          bool any_stale = false;
          for (uint64_t k = 0; k < n; k++) {
            ASSERT_EQ(read[k], a.machine().pt.ptep_get(vaddr + k * ps)) << k;
            const Translation t = a.machine().pt.translate(vaddr + k * ps);
            any_stale |= t.stale;
            ASSERT_EQ(a.machine().pt.stale_in(vaddr + k * ps, 1), t.stale) << k;
          }
          ASSERT_EQ(a.machine().pt.stale_in(vaddr, n), any_stale);
          with_stale += any_stale;
          start(a.machine());
          start(b.machine());
          a.machine().pt.set_ptes(vaddr, na.data(), n, recurring);
          for (uint64_t k = 0; k < n; k++)
            b.machine().pt.set_pte_at(vaddr + k * ps, nb[k]);
          const std::string what = "stale_ptes=" + std::to_string(stale_ptes) +
                                   " huge=" + std::to_string(huge) +
                                   " shape=" + std::to_string(shape) +
                                   " recurring=" + std::to_string(recurring_kind);
          expect_same_outcome(a.machine(), b.machine(), what);
          // And the flush that follows a walk takes the same entries out.
          a.machine().pt.flush_tlb_kernel_range(vaddr, vaddr + n * ps);
          b.machine().pt.flush_tlb_kernel_range(vaddr, vaddr + n * ps);
          EXPECT_EQ(test::machine_state_diff(a.machine(), b.machine()), "") << what << " flushed";
          cases++;
        }
  EXPECT_EQ(cases, 36u);
  EXPECT_GT(with_stale, 6u) << "the planted stale translations did not survive: vacuous";
}

TEST(PopulateLeafWith, EqualsTheCallsItStandsFor) {
  Config cfg;
  cfg.era = Era::SharedTail;
  cfg.variant = Variant::KirylV7;
  unsigned cases = 0, remembered = 0;
  for (bool stale_ptes : {false, true})
    for (bool huge : {false, true})
      for (bool keep_first : {false, true})
        for (int fill_kind : {0, 1, 2}) {
          Model a(cfg), b(cfg);
          const size_t i = 1;
          const uint64_t per = a.machine().pt.ptes_per_table();
          for (Model *md : {&a, &b}) {
            Machine &m = md->machine();
            if (stale_ptes || huge) {
              plant_table(m, i, stale_ptes, huge);
              m.phys.free_frame(m.pt.pmd_clear(i));
              m.pt.pmd_set_leaf(i, m.phys.memblock_alloc_frames(0, per));
            }
          }
          // fill: a fresh frame (the shared tail), one of the leaf's own
          // frames, or none.
          Machine &ma = a.machine();
          const FrameId fresh = ma.phys.memblock_alloc_frames(0, 1);
          ASSERT_EQ(fresh, b.machine().phys.memblock_alloc_frames(0, 1));
          const Pte fill = fill_kind == 0   ? Pte{fresh, true}
                           : fill_kind == 1 ? Pte{ma.pt.pmd(i).value + 5, true}
                                            : Pte{};
          ASSERT_TRUE(ma.pt.pmd_leaf(i));
          start(a.machine());
          start(b.machine());
          const FrameId backing_a = a.machine().phys.memblock_alloc_pagetable(0);
          const FrameId backing_b = b.machine().phys.memblock_alloc_pagetable(0);
          ASSERT_EQ(backing_a, backing_b);
          a.machine().pt.populate_leaf_with(i, backing_a, keep_first, fill);
          {
            VmemmapPageTable &pt = b.machine().pt;
            const FrameId first = pt.pmd(i).value;
            const uint32_t t = pt.pte_table_create(backing_b);
            for (uint64_t k = 0; k < per; k++)
              pt.pte_table_set(t, k, keep_first && k == 0 ? Pte{first, false} : fill);
            pt.pmd_populate_kernel(i, t);
          }
          const std::string what = "stale_ptes=" + std::to_string(stale_ptes) +
                                   " huge=" + std::to_string(huge) +
                                   " keep_first=" + std::to_string(keep_first) +
                                   " fill=" + std::to_string(fill_kind);
          const Outcome x = expect_same_outcome(a.machine(), b.machine(), what);
          a.machine().pt.flush_tlb_all();
          b.machine().pt.flush_tlb_all();
          EXPECT_EQ(test::machine_state_diff(a.machine(), b.machine()), "") << what << " flushed";
          remembered += !huge && x.stale > 0;
          cases++;
        }
  EXPECT_EQ(cases, 24u);
  EXPECT_GT(remembered, 0u) << "no populate left a stale huge entry: vacuous";
}

}  // namespace
}  // namespace hvo
