// SPDX-License-Identifier: GPL-2.0-only
//
// Pins for docs/findings-model.md: where the ported Debian 6.12 code and the
// oracle disagree.  Each test shows the disagreement in D612 and that the
// v6.12.0 walk shape does not have it.  If one of these starts failing, the
// port changed: update the finding, do not loosen the test.
#include <gtest/gtest.h>

#include "hvo/page_flags.h"
#include "hvo/struct_page.h"
#include "model_test_util.h"

namespace hvo {
namespace {

using test::count_id;
using test::dump;
using test::run;

Model machine(Variant v) { return Model(test::machine_config(12, 4ull << 30, 1, v)); }

// F1: D612's vmemmap_restore_pte copies the frame the PTE maps, which is the
// head copy, into every restored vmemmap page: struct page k*SPP becomes a
// copy of the head (PG_head, lru instead of a tail encoding), k*SPP+1..3
// copies of the folio metadata.
TEST(FindingF1, D612RestoreCopiesTheHeadPageIntoEveryVmemmapPage) {
  Model md = machine(Variant::D612);
  Machine &m = md.machine();
  ASSERT_EQ(run(md, "alloc_folio", {9, 0}).result.ret, 0);
  uint64_t head = m.page(m.folios[0].pfn);
  StepResult r = run(md, "restore", {0});
  ASSERT_EQ(r.result.ret, 0);
  EXPECT_EQ(count_id(r.violations, "I7-restore-fidelity"), 1u) << dump(r.violations);
  // The key went to 0 with the last restore: slot 64 is no longer resolved.
  EXPECT_EQ(m.hugetlb_optimize_vmemmap_key, 0);
  uint64_t slot64 = head + 64 * 64;
  EXPECT_TRUE(test_page_flag(m, slot64, sp::PG_head));
  EXPECT_EQ(compound_head(m, slot64), slot64);
  EXPECT_FALSE(PageTail(m, slot64));
  EXPECT_TRUE(PageHead(m, slot64));
  EXPECT_GE(count_id(r.violations, "I1-head-resolution"), 1u);
  // Freeing it trips the page allocator's own checks.
  StepResult f = run(md, "free_folio", {0});
  EXPECT_GE(count_id(f.violations, "K-bad-page"), 1u) << dump(f.violations);
  EXPECT_EQ(f.violations.front().found, "corrupted mapping in tail page");
}

TEST(FindingF1, V6120RestoreResetsTheCopiedHeadStructPages) {
  Model md = machine(Variant::V6_12_0);
  ASSERT_EQ(run(md, "alloc_folio", {9, 0}).result.ret, 0);
  StepResult r = run(md, "restore", {0});
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
  StepResult f = run(md, "free_folio", {0});
  EXPECT_TRUE(f.violations.empty()) << dump(f.violations);
}

// F2: D612's rollback after a mid-walk failure: vmemmap_tail is the head copy
// and PTE 0 maps it too, so the rollback also "restores" PTE 0, hands the old
// frames back in reverse and copies the head copy into all of them; the head
// copy is then neither mapped nor on the list.
TEST(FindingF2, D612RollbackLeaksTheHeadCopyAndCorruptsTails) {
  Model md = machine(Variant::D612);
  Machine &m = md.machine();
  run(md, "sysctl_hvo", {0});
  ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
  run(md, "sysctl_hvo", {1});
  int64_t buddy = m.phys.memmap_pages;
  // Allocation 1: head copy; 2: PTE table of PMD 1; 3: PTE table of PMD 2.
  run(md, "fail_nth", {3});
  StepResult r = run(md, "optimize", {0});
  EXPECT_FALSE(folio_test_hugetlb_vmemmap_optimized(m, m.page(m.folios[0].pfn)));
  EXPECT_EQ(count_id(r.violations, "I6-frame-accounting"), 1u) << dump(r.violations);
  EXPECT_EQ(count_id(r.violations, "I9-failure-atomicity"), 1u) << dump(r.violations);
  EXPECT_EQ(count_id(r.violations, "K-VM_WARN_ON"), 1u) << dump(r.violations);
  EXPECT_EQ(m.phys.memmap_pages, buddy + 1);  // counted, never freed
}

TEST(FindingF2, V6120RollbackIsClean) {
  Model md = machine(Variant::V6_12_0);
  run(md, "sysctl_hvo", {0});
  ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
  run(md, "sysctl_hvo", {1});
  run(md, "fail_nth", {3});
  StepResult r = run(md, "optimize", {0});
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
  EXPECT_TRUE(md.check_all().empty()) << dump(md.check_all());
}

// F3: the head copy carries HPG_vmemmap_optimized (set before the copy on
// purpose); F1 spreads it to struct page k*SPP of every restored vmemmap
// page; demote makes those struct pages heads of new folios without
// clearing private, so the new folios look optimized but are not.  Restoring
// one of them leaks V - 1 frames and decrements the static key.
TEST(FindingF3, D612DemoteAfterRestoreCreatesFalselyOptimizedFolios) {
  Model md = machine(Variant::D612);
  Machine &m = md.machine();
  ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
  StepResult d = run(md, "demote", {0, 9});
  ASSERT_EQ(d.result.ret, 0);
  // 512 children; the first has a real head, the other 511 inherited the flag.
  unsigned flagged = 0;
  for (FolioId id = 1; id <= 512; id++)
    flagged += folio_test_hugetlb_vmemmap_optimized(m, m.page(m.folios[id].pfn));
  EXPECT_EQ(flagged, 512u);
  EXPECT_EQ(m.hugetlb_optimize_vmemmap_key, 1);  // only child 1 was optimized
  EXPECT_GE(count_id(d.violations, "I2-fake-head"), 1u);
  int64_t before = m.phys.memmap_pages;
  StepResult r = run(md, "restore", {2});
  EXPECT_EQ(r.result.ret, 0);
  EXPECT_EQ(m.phys.memmap_pages, before + 7);
  EXPECT_EQ(count_id(r.violations, "I6-frame-accounting"), 7u) << dump(r.violations);
  EXPECT_EQ(m.hugetlb_optimize_vmemmap_key, 0);  // while child 1 is still optimized
}

TEST(FindingF3, V6120DemoteAfterRestoreIsClean) {
  Model md = machine(Variant::V6_12_0);
  Machine &m = md.machine();
  ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
  StepResult d = run(md, "demote", {0, 9});
  EXPECT_TRUE(d.violations.empty()) << dump(d.violations);
  EXPECT_EQ(m.hugetlb_optimize_vmemmap_key, 512);
  EXPECT_TRUE(run(md, "restore", {2}).violations.empty());
}

}  // namespace
}  // namespace hvo
