// SPDX-License-Identifier: GPL-2.0-only
//
// Muchun's partial-HVO state (variant=muchun; linux-mm 0454b15e
// mm/hugetlb_vmemmap.c): the PTE updates of the HVO walk can fail
// (hvo_update_vmemmap_pte, l.86-91, CONFIG_FAIL_HUGETLB_VMEMMAP), so the
// rollback of a failed optimize can itself fail.  vmemmap_remap_free then
// returns VMEMMAP_REMAP_INCOMPLETE (l.364, l.414-415), the folio keeps its
// HPG_vmemmap_optimized flag (l.685-691), and a later restore restores only
// the PTEs that still map the shared tail (vmemmap_restore_pte, l.309-343),
// freeing the pages it allocated but did not need (l.483-487).
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "model_test_util.h"

#include <gtest/gtest.h>

#include <string>

namespace hvo {
namespace {

struct HvoRun {
  std::unique_ptr<Model> md;
  std::string violations;

  explicit HvoRun(const std::string &config) : md(test::boot_text(config)) {}
  StepResult op(const std::string &line) {
    StepResult r = test::apply_text(*md, line);
    for (const Violation &v : r.violations)
      violations += line + ": " + format_violation(v) + "\n";
    return r;
  }
  Machine &m() { return md->machine(); }
  bool flagged(FolioId id) {
    return folio_test_hugetlb_vmemmap_optimized(m(), m().page(m().folios[id].pfn));
  }
  int64_t memmap() { return m().phys.memmap_pages + m().phys.memmap_boot_pages; }
  FrameId tail(FolioId id) {
    return shared_tail_lookup(m(), m().folios[id].order, tail_owner_of_pfn(m(), m().folios[id].pfn));
  }
  // PTE k of folio id's vmemmap.
  Pte pte(FolioId id, uint64_t k) {
    return m().pt.ptep_get(m().page(m().folios[id].pfn) + k * m().cfg.page_size());
  }
  uint64_t shared_ptes(FolioId id, uint64_t v) {
    uint64_t n = 0;
    for (uint64_t k = 1; k < v; k++)
      n += pte(id, k).frame == tail(id) && pte(id, k).ro;
    return n;
  }
};

const char *kMuchun4K = "page-size=4K struct-page=64 mem=0:Normal:4G era=shared-tail variant=muchun";

// A 2 MiB folio at 4K: V = 8 vmemmap pages in one PMD.  The folio is
// allocated with HVO off so that the optimize below is the one that fails.
HvoRun fresh_order9() {
  HvoRun r(kMuchun4K);
  r.op("sysctl_hvo value=0");
  EXPECT_EQ(r.op("alloc_folio order=9 node=0").result.ret, 0);
  r.op("sysctl_hvo value=1");
  return r;
}

TEST(PartialHvo, FailedRollbackLeavesTheFolioFlaggedWithTheWalkedTailsShared) {
  HvoRun r = fresh_order9();
  const int64_t memmap0 = r.memmap();
  // Walk: call 1 = PTE 0 (head copy), 2..4 = PTEs 1..3, call 5 = PTE 4 fails.
  // Rollback over PTEs 0..3: PTE 0 maps the head copy and is kept, call 6 =
  // PTE 1's restore fails: VMEMMAP_REMAP_INCOMPLETE.
  r.op("fail_vmemmap_pte nth=5 times=2");
  const StepResult s = r.op("optimize folio=0");
  EXPECT_EQ(s.result.ret, 0);  // hugetlb_vmemmap_optimize_folio is void
  EXPECT_TRUE(r.flagged(0)) << "INCOMPLETE keeps HPG_vmemmap_optimized";
  EXPECT_FALSE(r.pte(0, 0).ro);
  EXPECT_EQ(r.shared_ptes(0, 8), 3u) << "PTEs 1..3 still map the shared tail";
  for (uint64_t k = 4; k < 8; k++)
    EXPECT_FALSE(r.pte(0, k).ro) << "PTE " << k << " was never remapped";
  // The 4 pages unmapped by the walk are freed, the head copy was added: 3.
  EXPECT_EQ(memmap0 - r.memmap(), 3);
  EXPECT_EQ(r.violations, "");
  EXPECT_EQ(r.md->check_all().size(), 0u);

  // A second optimize does nothing: the folio is flagged already.
  r.op("optimize folio=0");
  EXPECT_EQ(r.shared_ptes(0, 8), 3u);

  // Restore allocates V - 1 = 7 pages, restores the 3 shared PTEs and frees
  // the 4 it did not need: memmap back where it started.
  EXPECT_EQ(r.op("restore folio=0").result.ret, 0);
  EXPECT_FALSE(r.flagged(0));
  EXPECT_EQ(r.shared_ptes(0, 8), 0u);
  EXPECT_EQ(r.memmap(), memmap0);
  EXPECT_EQ(r.op("free_folio folio=0").result.ret, 0);
  EXPECT_EQ(r.violations, "");
  EXPECT_EQ(r.md->check_all().size(), 0u);
}

TEST(PartialHvo, SuccessfulRollbackClearsTheFlagAndKeepsNoSharedTail) {
  HvoRun r = fresh_order9();
  const int64_t memmap0 = r.memmap();
  r.op("fail_vmemmap_pte nth=5 times=1");
  r.op("optimize folio=0");
  EXPECT_FALSE(r.flagged(0)) << "-EAGAIN: the flag is cleared";
  EXPECT_EQ(r.shared_ptes(0, 8), 0u);
  // Head copy mapped, old head freed: no change in the count.
  EXPECT_EQ(r.memmap(), memmap0);
  EXPECT_EQ(r.violations, "");
}

TEST(PartialHvo, FailedHeadUpdateChangesNothing) {
  HvoRun r = fresh_order9();
  const int64_t memmap0 = r.memmap();
  r.op("fail_vmemmap_pte nth=1 times=4");
  r.op("optimize folio=0");
  EXPECT_FALSE(r.flagged(0)) << "nothing was walked: -EAGAIN, no rollback";
  EXPECT_EQ(r.memmap(), memmap0) << "the unused head copy is freed by the caller";
  EXPECT_EQ(r.violations, "");
}

TEST(PartialHvo, RestoreThatFailsPartWayIsCompletedByTheNextRestore) {
  HvoRun r(kMuchun4K);
  ASSERT_EQ(r.op("alloc_folio order=9 node=0").result.ret, 0);
  ASSERT_TRUE(r.flagged(0));
  const int64_t memmap0 = r.memmap();
  // Restore walks PTEs 1..7: calls 1..2 restore PTEs 1..2, call 3 fails.
  r.op("fail_vmemmap_pte nth=3 times=1");
  EXPECT_EQ(r.op("restore folio=0").result.ret, -EAGAIN_);
  EXPECT_TRUE(r.flagged(0)) << "a failed restore keeps the flag";
  EXPECT_EQ(r.shared_ptes(0, 8), 5u);
  EXPECT_EQ(r.memmap() - memmap0, 2) << "7 allocated, 2 used, 5 freed";
  EXPECT_EQ(r.op("restore folio=0").result.ret, 0);
  EXPECT_EQ(r.shared_ptes(0, 8), 0u);
  EXPECT_EQ(r.memmap() - memmap0, 7);
  EXPECT_EQ(r.violations, "");
  EXPECT_EQ(r.md->check_all().size(), 0u);
}

// A 1 GiB folio at 4K spans 8 PMD-mapped blocks of boot memmap.  The split
// of the second fails (hvo_populate_vmemmap_pmd, l.93-99), and the rollback's
// first PTE update fails too: PTEs 1..511 stay shared, 512.. are the boot
// memmap, still under PMD leaves.  The restore splits those leaves and
// restores only the 511 shared PTEs.
TEST(PartialHvo, SplitFailureThenRollbackFailureOnAGigantic4KFolio) {
  HvoRun r(kMuchun4K);
  r.op("sysctl_hvo value=0");
  ASSERT_EQ(r.op("alloc_folio order=18 node=0").result.ret, 0);
  r.op("sysctl_hvo value=1");
  const int64_t memmap0 = r.memmap();
  r.op("fail_vmemmap_pmd nth=2 times=1");
  r.op("fail_vmemmap_pte nth=513 times=1");
  r.op("optimize folio=0");
  EXPECT_TRUE(r.flagged(0));
  EXPECT_EQ(r.shared_ptes(0, 512), 511u);
  EXPECT_EQ(memmap0 - r.memmap(), 511);
  EXPECT_EQ(r.violations, "");
  EXPECT_EQ(r.op("restore folio=0").result.ret, 0);
  EXPECT_EQ(r.shared_ptes(0, 4096), 0u);
  EXPECT_EQ(r.memmap(), memmap0);
  EXPECT_EQ(r.op("free_folio folio=0").result.ret, 0);
  EXPECT_EQ(r.violations, "");
  EXPECT_EQ(r.md->check_all().size(), 0u);
}

// Every failure point of the walk and of its rollback, single and batch
// optimize, then restore and free: the oracle (I6 frames, I7 fidelity, I9,
// I10, I4) is clean throughout and the memmap count returns to its start.
struct Point {
  unsigned order;
  bool batch;
};

class PartialHvoEverywhere : public ::testing::TestWithParam<Point> {};

TEST_P(PartialHvoEverywhere, EveryFailurePointLeavesAConsistentFolio) {
  const Point p = GetParam();
  const uint64_t v = (uint64_t{1} << p.order) * 64 / 4096;
  const std::string order = std::to_string(p.order);
  unsigned incomplete = 0;
  for (uint64_t nth = 1; nth <= v + 1; nth++) {
    for (unsigned times = 1; times <= 3; times++) {
      HvoRun r(kMuchun4K);
      r.op("sysctl_hvo value=0");
      ASSERT_EQ(r.op("alloc_folios order=" + order + " node=0 count=2").result.ret, 0);
      r.op("sysctl_hvo value=1");
      const int64_t memmap0 = r.memmap();
      r.op("fail_vmemmap_pte nth=" + std::to_string(nth) + " times=" + std::to_string(times));
      r.op(p.batch ? "optimize_batch first=0 count=2" : "optimize folio=0");
      const std::string where = "nth=" + std::to_string(nth) + " times=" + std::to_string(times);
      const uint64_t shared = r.shared_ptes(0, v);
      // Partially optimized exactly when the flag stayed and some pages are
      // private: the walk failed and so did its rollback.
      if (r.flagged(0) && shared < v - 1)
        incomplete++;
      if (!r.flagged(0))
        EXPECT_EQ(shared, 0u) << where;
      r.op("fail_vmemmap_pte nth=0 times=0");
      EXPECT_EQ(r.op("restore folio=0").result.ret, 0) << where;
      if (p.batch)
        EXPECT_EQ(r.op("restore folio=1").result.ret, 0) << where;
      EXPECT_EQ(r.memmap(), memmap0) << where;
      EXPECT_EQ(r.op("free_folio folio=0").result.ret, 0) << where;
      EXPECT_EQ(r.violations, "") << where;
      EXPECT_EQ(r.md->check_all().size(), 0u) << where;
    }
  }
  // The rollback fails whenever the forward walk failed after the head and
  // times >= 2 (the first restore of the rollback is the next call): nth in
  // 3..V (nth = 2 fails PTE 1 with only the head walked, which the
  // rollback keeps), times 2 and 3.
  EXPECT_EQ(incomplete, 2 * (v - 2));
}

INSTANTIATE_TEST_SUITE_P(Orders, PartialHvoEverywhere,
                         ::testing::Values(Point{9, false}, Point{9, true}, Point{11, false},
                                           Point{11, true}),
                         [](const auto &info) {
                           return "order" + std::to_string(info.param.order) +
                                  (info.param.batch ? "_batch" : "_single");
                         });

// Finding (docs/findings-model.md, "A batch restore that fails in its first
// folio leaves stale TLB entries"): hugetlb_vmemmap_restore_folios walks
// with VMEMMAP_REMAP_NO_TLB_FLUSH (MS l.585-611) and flushes only
// `if (restored)`; vmemmap_remap_range skips its own flush for that flag
// (l.229-230).  When the first optimized folio's restore fails after some
// PTEs were switched to private pages, nothing flushes them: the oracle
// reports I8 until the next flush.  The single-folio restore (flags 0)
// flushes on error and is clean.
TEST(PartialHvo, BatchRestoreFailingInItsFirstFolioLeavesStaleTlbEntries) {
  HvoRun r(kMuchun4K);
  ASSERT_EQ(r.op("alloc_folios order=9 node=0 count=2").result.ret, 0);
  r.op("fail_vmemmap_pte nth=3 times=1");
  const StepResult s = r.op("restore_batch first=0 count=2");
  EXPECT_EQ(s.result.ret, -EAGAIN_);
  size_t i8 = 0;
  for (const Violation &v : s.violations)
    i8 += v.id == "I8-tlb-coverage";
  EXPECT_EQ(i8, 1u) << r.violations;
  EXPECT_EQ(r.shared_ptes(0, 8), 5u) << "PTEs 1..2 restored, 3..7 still shared";
  // The stale entries translate to the shared tail, which is never freed,
  // and hold the same bytes as the copies: a later flush ends it.
  r.violations.clear();
  r.op("flush_tlb_all");
  EXPECT_EQ(r.violations, "");
  EXPECT_EQ(r.op("restore_batch first=0 count=2").result.ret, 2);
  EXPECT_EQ(r.violations, "");
  EXPECT_EQ(r.md->check_all().size(), 0u);
}

TEST(PartialHvo, SingleRestoreFailureFlushesWhatItChanged) {
  HvoRun r(kMuchun4K);
  ASSERT_EQ(r.op("alloc_folios order=9 node=0 count=2").result.ret, 0);
  r.op("fail_vmemmap_pte nth=3 times=1");
  EXPECT_EQ(r.op("restore folio=0").result.ret, -EAGAIN_);
  EXPECT_EQ(r.violations, "");
}

TEST(PartialHvo, TheFaultAttributesExistOnlyInMuchunsTree) {
  for (const char *variant : {"kiryl-v7", "kiryl-v6"}) {
    HvoRun r(std::string("page-size=4K mem=0:Normal:4G era=shared-tail variant=") + variant);
    EXPECT_EQ(r.op("fail_vmemmap_pte nth=1 times=1").result.ret, -EINVAL_) << variant;
    EXPECT_EQ(r.op("fail_vmemmap_pmd nth=1 times=1").result.ret, -EINVAL_) << variant;
  }
  HvoRun legacy("page-size=4K mem=0:Normal:4G variant=D612");
  EXPECT_EQ(legacy.op("fail_vmemmap_pte nth=1 times=1").result.ret, -EINVAL_);
}

}  // namespace
}  // namespace hvo
