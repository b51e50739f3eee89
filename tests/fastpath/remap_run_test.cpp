// SPDX-License-Identifier: GPL-2.0-only
//
// The remap walks' run fast path (vmemmap_pte_run, hugetlb_vmemmap.cpp:
// a run of PTEs restored from one frame, or remapped onto the reuse page /
// tail, decided at once) against the kernel's one vmemmap_pte_entry per
// PTE (hugetlb_vmemmap_reference_walks).  Planted scenarios in every walk
// shape the fast path takes (v6.12.0's reuse walk, D612's head/tail walk in
// the legacy era and in Kiryl's shared-tail trees) and the one it leaves
// alone (Muchun's, whose PTE updates can fail): folios of one to 512
// vmemmap pages and several PMDs, rollbacks after an allocation failure at
// every point, batches that leave stale translations for the next walk,
// and the historic bugs whose lines these walks hold.  Each runs both ways
// twice: the ops alone (each op's result, its faults in order, the frames
// it touched in order), then under the oracle (every step's result and
// violations, the faults, the frames changed in order), and the machines
// must then be the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "hvo/fuzz/trace.h"
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/struct_page.h"
#include "harness_trace.h"
#include "machine_state.h"

namespace hvo {
namespace {

struct ReferenceWalks : test::ScopedSwitch {
  explicit ReferenceWalks(bool on) : ScopedSwitch(hugetlb_vmemmap_reference_walks, on) {}
};

std::string oracle_text(Model &md, const Scenario &s) {
  std::string out = test::harness_trace(md, s);
  return out + test::faults_and_changed_text(md);
}

// Runs `text` both ways; returns the PTEs the fast path decided in runs.
uint64_t same_both_ways(const std::string &text) {
  const Scenario s = test::planted_scenario(text);
  const uint64_t before = hugetlb_vmemmap_run_ptes;
  {
    Model fast(s.config), slow(s.config);
    std::string a, b;
    {
      ReferenceWalks mode(false);
      a = test::raw_op_trace(fast, s);
    }
    {
      ReferenceWalks mode(true);
      b = test::raw_op_trace(slow, s);
    }
    EXPECT_EQ(a, b) << text;
    EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << text;
  }
  const uint64_t runs = hugetlb_vmemmap_run_ptes - before;
  Model fast(s.config), slow(s.config);
  std::string a, b;
  {
    ReferenceWalks mode(false);
    a = oracle_text(fast, s);
  }
  {
    ReferenceWalks mode(true);
    b = oracle_text(slow, s);
  }
  EXPECT_EQ(a, b) << text;
  EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << text;
  return runs;
}

const char *const kShapes[] = {
    "era=legacy variant=v6.12.0", "era=legacy variant=D612",
    "era=shared-tail variant=kiryl-v7", "era=shared-tail variant=kiryl-v6",
    "era=shared-tail variant=muchun"};

bool takes_runs(const std::string &shape) { return shape.find("muchun") == std::string::npos; }

std::string config(const std::string &shape, const char *mem = "0:Normal:2G") {
  return "config page-size=4K struct-page=64 mem=" + std::string(mem) + " " + shape + "\n";
}

// Optimize, restore, optimize again and free, folios of 2 to 4,096 vmemmap
// pages (orders 7 to 18), the last spanning eight PMDs.
TEST(RemapRun, OptimizeRestoreFreeEveryOrder) {
  for (const char *shape : kShapes)
    for (unsigned order : {7u, 9u, 10u, 13u, 16u, 18u}) {
      const uint64_t runs = same_both_ways(
          config(shape) + "sysctl_hvo value=0\nalloc_folio order=" + std::to_string(order) +
          " node=0\nsysctl_hvo value=1\noptimize folio=0\nrestore folio=0\noptimize folio=0\n"
          "free_folio folio=0\n");
      if (takes_runs(shape) && order >= 9)
        EXPECT_GT(runs, (uint64_t{1} << (order - 6)) / 2) << shape << " order " << order;
      if (!takes_runs(shape))
        EXPECT_EQ(runs, 0u) << shape;
    }
}

// An allocation failure at every point of an optimize of a folio that spans
// two PMDs (the second split fails mid-walk: the rollback walks the first
// PMD's PTEs back, D612 shape only those on the tail) and of a restore
// (fewer pages on the list than PTEs), with the historic bugs of these
// lines on and off.
TEST(RemapRun, FailureAtEveryPointWithAndWithoutTheBugs) {
  uint64_t runs = 0;
  // Each bug where its line runs: the rollback's start in the D612-shaped
  // walk of Kiryl's trees, reset_struct_pages in v6.12.0's restore.
  const std::string cases[] = {kShapes[0], kShapes[1], kShapes[2], kShapes[3], kShapes[4],
                               std::string(kShapes[2]) + " bugs=rollback-flush-wrong-start",
                               std::string(kShapes[0]) + " bugs=restore-no-reset-struct-pages"};
  for (const std::string &shape : cases)
    for (unsigned n : {1u, 2u, 3u, 5u})
      runs += same_both_ways(config(shape) + "sysctl_hvo value=0\nalloc_folio order=16 node=0\n"
                                             "sysctl_hvo value=1\nfail_nth n=" + std::to_string(n) +
                             "\noptimize folio=0\nfail_nth n=0\noptimize folio=0\n"
                             "fail_nth n=" + std::to_string(n) +
                             "\nrestore folio=0\nfail_nth n=0\nfree_folio folio=0\n");
  EXPECT_GT(runs, 50000u) << "the runs fast path was hardly reached";
}

// Batches split and remap without flushing between folios
// (VMEMMAP_SPLIT_NO_TLB_FLUSH / VMEMMAP_REMAP_NO_TLB_FLUSH): later walks
// meet stale translations, where D612's PageHead / PageTail reads go
// through the TLB; demote and memory_failure restore on their own paths.
TEST(RemapRun, BatchesWithStaleTranslations) {
  uint64_t runs = 0;
  for (const char *shape : kShapes) {
    runs += same_both_ways(config(shape) +
                           "sysctl_hvo value=0\nalloc_folio order=9 node=0\n"
                           "alloc_folio order=16 node=0\nalloc_folio order=10 node=0\n"
                           "sysctl_hvo value=1\noptimize_batch first=0 count=3\n"
                           "restore_batch first=0 count=3\noptimize_batch first=0 count=3\n"
                           "restore folio=1\nfree_folios first=0 count=3\n");
    runs += same_both_ways(config(shape) +
                           "alloc_folios order=16 node=0 count=3\nrestore_batch first=0 count=2\n"
                           "demote folio=2 order=9\nmemory_failure folio=1 index=77\n"
                           "optimize_batch first=0 count=8\nfree_folios first=0 count=8\n");
  }
  EXPECT_GT(runs, 10000u) << "the runs fast path was hardly reached";
}

// HVO turned off with folios still optimized (the static key stays on in
// the legacy era while any folio is), a 1 GiB folio over eight PMDs, and
// allocation failures on a whole node during a restore.
TEST(RemapRun, KeyAndNodeFailures) {
  for (const char *shape : kShapes) {
    same_both_ways(config(shape, "0:Normal:2G,1:Normal:2G") +
                   "alloc_folio order=18 node=1\nalloc_folio order=9 node=0\n"
                   "sysctl_hvo value=0\nrestore folio=1\nfail_node node=1 on=1\n"
                   "restore folio=0\nfail_node node=1 on=0\nrestore folio=0\n"
                   "optimize folio=0\nfree_folio folio=0\nfree_folio folio=1\n");
  }
}


// ---------------------------------------------------------------------------
// Planted states the runs must stop at: tail vmemmap pages whose first
// struct page is not a tail (D612's PageTail warns per PTE in optimize),
// a tail frame whose first struct page reads as a head (PageHead warns per
// PTE in restore), and stale translations inside the restored range that
// show another frame to PageHead.
// ---------------------------------------------------------------------------

using Plant = void (*)(Machine &m);

// `before` ops, the plant, `after` ops, on twin machines both ways: each
// step's result, violations and faults, and the machines after.
void planted_both_ways(const std::string &before, Plant plant, const std::string &after,
                       const char *what) {
  auto run = [&](bool reference) {
    ReferenceWalks mode(reference);
    const Scenario a = test::planted_scenario(before), b = test::planted_scenario(after);
    auto md = std::make_unique<Model>(a.config);
    std::string out;
    auto steps = [&](const Scenario &s) {
      for (const Op &op : s.ops) {
        const StepResult r = md->apply(op);
        out += fuzz::format_result(r) + "\n" + test::violations_text(r.violations) +
               test::faults_text(md->machine().mmu.faults);
      }
    };
    steps(a);
    plant(md->machine());
    steps(b);
    return std::make_pair(out, std::move(md));
  };
  const auto [a, fast] = run(false);
  const auto [b, slow] = run(true);
  EXPECT_EQ(a, b) << what;
  EXPECT_EQ(test::machine_state_diff(fast->machine(), slow->machine()), "") << what;
  EXPECT_NE(a.find("K-VM_WARN_ON"), std::string::npos) << what << ": the plant changed nothing";
}

// Folio 0's vmemmap page k.
uint64_t page_of(const Machine &m, uint64_t k) {
  return m.page(m.folios[0].pfn) + k * m.cfg.page_size();
}

// Leaves stale translations of folio 0's vmemmap pages `ks` that show
// frame `f`: each PTE is pointed at f and flushed, then put back unflushed.
void stale_at(Machine &m, std::initializer_list<uint64_t> ks, FrameId f) {
  m.pt.flush_tlb_all();
  for (uint64_t k : ks) {
    const Pte was = m.pt.ptep_get(page_of(m, k));
    m.pt.set_pte_at(page_of(m, k), Pte{f, false});
    m.pt.flush_tlb_all();
    m.pt.set_pte_at(page_of(m, k), was);
  }
}

TEST(RemapRun, PlantedStatesStopTheRuns) {
  const std::string opt = "sysctl_hvo value=0\nalloc_folio order=13 node=0\n";
  const std::string after_opt = "sysctl_hvo value=1\noptimize folio=0\nrestore folio=0\n"
                                "free_folio folio=0\n";
  const std::string both = "alloc_folio order=13 node=0\n";
  const std::string after_restore = "restore folio=0\noptimize folio=0\nfree_folio folio=0\n";
  for (const char *shape : {"era=legacy variant=D612", "era=shared-tail variant=kiryl-v7"}) {
    const std::string cfg = config(shape);
    // Pages 5, 6 and 77 of 128 lose their first struct page's tail bit.
    planted_both_ways(cfg + opt, [](Machine &m) {
      for (uint64_t k : {5u, 6u, 77u})
        m.phys.write_word(m.pt.ptep_get(page_of(m, k)).frame, sp::kCompoundHead, 0);
    }, after_opt, shape);
    // The tail frame's first struct page reads as a head: PG_head, and the
    // next struct page not a tail (no fake head).
    planted_both_ways(cfg + both, [](Machine &m) {
      const FrameId tail = m.pt.ptep_get(page_of(m, 9)).frame;
      m.phys.write_word(tail, sp::kFlags,
                        m.phys.read_word(tail, sp::kFlags) | uint64_t{1} << sp::PG_head);
      m.phys.write_word(tail, m.cfg.words_per_struct_page() + sp::kCompoundHead, 0);
    }, after_restore, shape);
    // Stale translations of pages 3 and 40 show a frame whose first struct
    // page is a head (PG_head, the next one no tail: not a fake head).
    planted_both_ways(cfg + both, [](Machine &m) {
      const FrameId f = *m.phys.alloc_frame(0, AllocPurpose::Memmap);
      m.phys.write_word(f, sp::kFlags, uint64_t{1} << sp::PG_head);
      stale_at(m, {3, 40}, f);
    }, after_restore, shape);
    // Before an optimize (the PMD split by an earlier restore), stale
    // translations of pages 12 and 50 show a zeroed frame: not a tail.
    planted_both_ways(cfg + both + "restore folio=0\n", [](Machine &m) {
      stale_at(m, {12, 50}, *m.phys.alloc_frame(0, AllocPurpose::Memmap));
    }, "optimize folio=0\nfree_folio folio=0\n", shape);
  }
}

}  // namespace
}  // namespace hvo
