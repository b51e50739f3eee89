// SPDX-License-Identifier: GPL-2.0-only
//
// The 6.12 HugeTLB HVO port across page sizes, orders, nodes, walk variants
// and single/batch paths: compound_head() of every slot before, during and
// after HVO, savings, restore fidelity.
#include <gtest/gtest.h>

#include "hvo/hugetlb.h"
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/page_flags.h"
#include "hvo/savings.h"
#include "hvo/struct_page.h"
#include "model_test_util.h"

namespace hvo {
namespace {

using test::count_id;
using test::dump;
using test::run;

// Number of slots of `f` whose compound_head() is not the head or that are
// not PageTail (the head: not PageHead or PageTail), evaluated through the
// MMU as the kernel would now.
uint64_t bad_slots(Machine &m, const HugetlbFolio &f) {
  const uint64_t head = m.page(f.pfn), S = m.cfg.struct_page_size;
  uint64_t bad = 0;
  if (compound_head(m, head) != head || !PageHead(m, head) || PageTail(m, head))
    bad++;
  for (uint64_t i = 1; i < (uint64_t{1} << f.order); i++) {
    uint64_t p = head + i * S;
    if (compound_head(m, p) != head || !PageTail(m, p))
      bad++;
  }
  return bad;
}

// Looks at every optimized folio from inside the batch, right after
// __hugetlb_vmemmap_optimize_folio returned (TLB not flushed yet), then lets
// the oracle do its part.
struct DuringHooks final : HvoHooks {
  explicit DuringHooks(HvoHooks *next) : next(next) {}
  void optimize_done(Machine &m, HugetlbFolio &f, int ret) override {
    if (ret == 0)
      bad_during += bad_slots(m, f), checked++;
    next->optimize_done(m, f, ret);
  }
  void restore_done(Machine &m, HugetlbFolio &f, int ret) override {
    next->restore_done(m, f, ret);
  }
  HvoHooks *next;
  uint64_t bad_during = 0, checked = 0;
};

struct HvoCase {
  unsigned page_shift;
  unsigned order;
  unsigned node;
  Variant variant;
  bool batch;
};

std::string case_name(const testing::TestParamInfo<HvoCase> &info) {
  const HvoCase &c = info.param;
  return std::to_string(1u << (c.page_shift - 10)) + "K_order" + std::to_string(c.order) +
         "_node" + std::to_string(c.node) +
         (c.variant == Variant::D612 ? "_D612" : "_v6120") + (c.batch ? "_batch" : "_single");
}

std::vector<HvoCase> all_cases() {
  std::vector<HvoCase> v;
  for (unsigned shift : {12u, 14u, 16u}) {
    unsigned min = shift + 1 - 6;  // V == 2: 2^o * 64 == 2 * PAGE_SIZE
    for (unsigned order : {min - 1, min, min + 1, min + 3, shift == 12 ? 18u : min + 5})
      for (unsigned node : {0u, 1u})
        for (Variant var : {Variant::D612, Variant::V6_12_0})
          for (bool batch : {false, true})
            v.push_back({shift, order, node, var, batch});
  }
  return v;
}

class HugetlbHvo : public testing::TestWithParam<HvoCase> {};

TEST_P(HugetlbHvo, EverySlotResolvesToItsHeadBeforeDuringAndAfter) {
  const HvoCase c = GetParam();
  const uint64_t folio_bytes = uint64_t{1} << (c.order + c.page_shift);
  const uint64_t node_bytes = std::max<uint64_t>(4 * folio_bytes, 1ull << 30);
  Model md(test::machine_config(c.page_shift, node_bytes, 2, c.variant));
  Machine &m = md.machine();
  DuringHooks hooks(&md.oracle());
  m.hooks = &hooks;

  ASSERT_EQ(run(md, "sysctl_hvo", {0}).result.ret, 0);
  // Two folios: the one under test and a neighbour that stays optimized.
  StepResult a = run(md, "alloc_folios", {c.order, c.node, 2});
  ASSERT_EQ(a.result.ret, 0);
  ASSERT_EQ(a.result.folios.size(), 2u);
  ASSERT_TRUE(a.violations.empty()) << dump(a.violations);
  HugetlbFolio &f = m.folios[0];
  EXPECT_EQ(f.nid, c.node);
  EXPECT_EQ(bad_slots(m, f), 0u) << "before";

  ASSERT_EQ(run(md, "sysctl_hvo", {1}).result.ret, 0);
  StepResult o = c.batch ? run(md, "optimize_batch", {0, 2}) : run(md, "optimize", {0});
  if (!c.batch)
    run(md, "optimize", {1});
  EXPECT_TRUE(o.violations.empty()) << dump(o.violations);
  const bool optimizable = hugetlb_vmemmap_optimizable(m, Hstate{c.order});
  EXPECT_EQ(folio_test_hugetlb_vmemmap_optimized(m, m.page(f.pfn)), optimizable);
  EXPECT_EQ(m.hugetlb_optimize_vmemmap_key, optimizable ? 2 : 0);
  EXPECT_EQ(hooks.checked, optimizable ? 2u : 0u);
  EXPECT_EQ(hooks.bad_during, 0u) << "inside the batch, before its flush";
  EXPECT_EQ(bad_slots(m, f), 0u) << "while optimized";
  EXPECT_TRUE(md.check_all().empty()) << dump(md.check_all());

  // Restore only the folio under test: the neighbour keeps the key on, so
  // fake heads are resolved (see findings-model.md F1 for the key-off case).
  StepResult r = c.batch ? run(md, "restore_batch", {0, 1}) : run(md, "restore", {0});
  EXPECT_GE(r.result.ret, 0);
  EXPECT_FALSE(folio_test_hugetlb_vmemmap_optimized(m, m.page(f.pfn)));
  EXPECT_EQ(bad_slots(m, f), 0u) << "after restore, key on";
  if (c.variant == Variant::V6_12_0 || !optimizable) {
    EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
  } else {
    // D612 restores copies of the head page (findings F1): pinned.
    EXPECT_EQ(count_id(r.violations, "I7-restore-fidelity"), 1u) << dump(r.violations);
  }
  m.hooks = &md.oracle();
}

INSTANTIATE_TEST_SUITE_P(Model, HugetlbHvo, testing::ValuesIn(all_cases()), case_name);

// kernel-reference section 4: saved = V - 1 for V >= 2, else nothing.
struct SavingsCase {
  unsigned page_shift;
  std::vector<std::pair<unsigned, int64_t>> spot;  // (order, saved) from the table
};

class HvoSavings : public testing::TestWithParam<SavingsCase> {};

TEST_P(HvoSavings, MatchKernelReferenceSection4) {
  const SavingsCase c = GetParam();
  SavingsReport r = compute_savings(c.page_shift);
  ASSERT_EQ(r.error, "");
  ASSERT_FALSE(r.hugetlb.empty());
  EXPECT_EQ(r.hugetlb.back().order, 34 - c.page_shift);  // 16 GiB folios
  for (const HugetlbSavings &s : r.hugetlb) {
    uint64_t v_num = s.vmemmap_num, v_den = s.vmemmap_den;
    bool eligible = v_den == 1 && v_num >= 2;
    EXPECT_EQ(s.optimized, eligible) << "order " << s.order;
    EXPECT_EQ(s.saved, eligible ? static_cast<int64_t>(v_num) - 1 : 0) << "order " << s.order;
    if (eligible) {
      EXPECT_EQ(s.keeps, 1u);
      EXPECT_EQ(s.frees, v_num);
      EXPECT_EQ(s.allocates, 1u);
      EXPECT_EQ(s.shares, v_num);
    }
  }
  for (auto [order, saved] : c.spot) {
    auto it = std::find_if(r.hugetlb.begin(), r.hugetlb.end(),
                           [&](const HugetlbSavings &s) { return s.order == order; });
    ASSERT_NE(it, r.hugetlb.end());
    EXPECT_EQ(it->saved, saved) << "order " << order;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Model, HvoSavings,
    testing::Values(SavingsCase{12, {{6, 0}, {7, 1}, {8, 3}, {9, 7}, {10, 15}, {18, 4095}, {22, 65535}}},
                    SavingsCase{14, {{8, 0}, {9, 1}, {11, 7}, {16, 255}, {20, 4095}, {7, 0}}},
                    SavingsCase{16, {{10, 0}, {11, 1}, {13, 7}, {14, 15}, {18, 255}, {7, 0}}}),
    [](const testing::TestParamInfo<SavingsCase> &i) {
      return std::to_string(1u << (i.param.page_shift - 10)) + "K";
    });

TEST(HvoSavings, NonPowerOfTwoStructPageDisablesHvo) {
  for (unsigned s : {72u, 80u}) {
    SavingsReport r = compute_savings(12, s);
    ASSERT_EQ(r.error, "");
    for (const HugetlbSavings &x : r.hugetlb) {
      EXPECT_FALSE(x.optimized) << s << " order " << x.order;
      EXPECT_EQ(x.saved, 0) << s << " order " << x.order;
    }
  }
}

// Every word of every struct page after restore equals what it was before
// optimize, except lru.prev of tails beyond the folio metadata (I7's doc).
TEST(RestoreFidelity, V6120RestoresEveryStructPage) {
  for (unsigned order : {9u, 10u, 18u}) {
    Model md(test::machine_config(12, 4ull << 30, 1, Variant::V6_12_0));
    Machine &m = md.machine();
    run(md, "sysctl_hvo", {0});
    ASSERT_EQ(run(md, "alloc_folio", {order, 0}).result.ret, 0);
    HugetlbFolio &f = m.folios[0];
    const uint64_t head = m.page(f.pfn), W = m.cfg.words_per_struct_page();
    const uint64_t n = uint64_t{1} << order;
    std::vector<uint64_t> before(n * W);
    for (uint64_t i = 0; i < n; i++)
      for (uint64_t w = 0; w < W; w++)
        before[i * W + w] = m.mmu.read(head + i * 64 + 8 * w, "test");
    run(md, "sysctl_hvo", {1});
    StepResult o = run(md, "optimize", {0});
    ASSERT_TRUE(o.violations.empty()) << dump(o.violations);
    StepResult r = run(md, "restore", {0});
    ASSERT_EQ(r.result.ret, 0);
    EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
    uint64_t diffs = 0;
    std::string first;
    for (uint64_t i = 0; i < n; i++)
      for (uint64_t w = 0; w < W; w++) {
        if (w == sp::kLruPrev && i >= 4)
          continue;
        uint64_t now = m.mmu.read(head + i * 64 + 8 * w, "test");
        if (now != before[i * W + w] && diffs++ == 0)
          first = "struct page " + std::to_string(i) + " word " + std::to_string(w) + ": " +
                  std::to_string(before[i * W + w]) + " -> " + std::to_string(now);
      }
    EXPECT_EQ(diffs, 0u) << "order " << order << ", first: " << first;
  }
}

TEST(RestoreFidelity, RestoredPagesArePrivateAndWritable) {
  Model md(test::machine_config(12, 4ull << 30, 1, Variant::V6_12_0));
  Machine &m = md.machine();
  ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
  ASSERT_EQ(run(md, "restore", {0}).result.ret, 0);
  uint64_t head = m.page(m.folios[0].pfn);
  for (uint64_t k = 0; k < 4096; k++) {
    Pte p = m.pt.ptep_get(head + k * 4096);
    ASSERT_TRUE(p.present());
    EXPECT_FALSE(p.ro) << k;
    EXPECT_EQ(m.phys.frame(p.frame).map_count, 1u) << k;
  }
}

// memmap_pages / memmap_boot_pages: optimize frees V boot frames and
// allocates one; restore allocates V - 1; the counters follow.
TEST(Accounting, OptimizeAndRestoreMoveTheCounters) {
  Model md(test::machine_config(12, 4ull << 30, 1));
  Machine &m = md.machine();
  int64_t boot = m.phys.memmap_boot_pages, buddy = m.phys.memmap_pages;
  ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
  EXPECT_EQ(m.phys.memmap_boot_pages, boot - 4096);
  EXPECT_EQ(m.phys.memmap_pages, buddy + 1);
  ASSERT_EQ(run(md, "restore", {0}).result.ret, 0);
  EXPECT_EQ(m.phys.memmap_pages, buddy + 4096);
  EXPECT_EQ(m.events.synchronize_rcu, 2u);
}

TEST(Gates, SysctlOffAndNonPowerOfTwoStructPageNeverOptimize) {
  Config c = test::machine_config(12, 4ull << 30, 1);
  c.hvo_enabled = false;
  Model off(c);
  ASSERT_EQ(run(off, "alloc_folio", {9, 0}).result.ret, 0);
  EXPECT_FALSE(folio_test_hugetlb_vmemmap_optimized(off.machine(), off.machine().page(off.machine().folios[0].pfn)));
  c.hvo_enabled = true;
  c.struct_page_size = 72;
  Model s72(c);
  StepResult r = run(s72, "alloc_folio", {9, 0});
  ASSERT_EQ(r.result.ret, 0);
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
  EXPECT_FALSE(folio_test_hugetlb_vmemmap_optimized(s72.machine(), s72.machine().page(s72.machine().folios[0].pfn)));
  EXPECT_TRUE(s72.check_all().empty()) << dump(s72.check_all());
}

// Found by hvo-triage (tests/triage reproducer i10_demote_sp72): with a
// 72-byte struct page a head's private word can lie in the next vmemmap
// page; the oracle read it from the head's page and saw HPG flags that were
// not there.  A demote on such a machine flags nothing.
TEST(Gates, DemoteWithStraddlingStructPagesFlagsNothing) {
  Scenario sc;
  std::string err;
  ASSERT_TRUE(parse_scenario(
      "config page-size=4K struct-page=72 mem=0:DMA:128M,0:DMA32:512M,0:Normal:256M "
      "vmemmap-base=0xffffea0000200000 variant=v6.12.0\n"
      "alloc_folios order=12 node=0 count=16\n"
      "memory_failure folio=4 index=3137\n"
      "alloc_folios order=5 node=0 count=15\n"
      "demote folio=0 order=1\n",
      "t.hvo", sc, err))
      << err;
  Model md(sc.config);
  for (const Op &op : sc.ops) {
    StepResult r = md.apply(op);
    EXPECT_TRUE(r.violations.empty()) << print_op(op) << "\n" << dump(r.violations);
  }
  EXPECT_TRUE(md.check_all().empty()) << dump(md.check_all());
}

TEST(Callers, FailedRestoreOnFreeKeepsTheFolioAsSurplusWithTheFlag) {
  Model md(test::machine_config(12, 4ull << 30, 1));
  Machine &m = md.machine();
  ASSERT_EQ(run(md, "alloc_folio", {9, 0}).result.ret, 0);
  run(md, "fail_node", {0, 1});
  StepResult r = run(md, "free_folio", {0});
  run(md, "fail_node", {0, 0});
  EXPECT_EQ(r.result.ret, 0);
  EXPECT_EQ(r.result.note, "kept as surplus");
  EXPECT_TRUE(m.folios[0].surplus);
  EXPECT_TRUE(folio_test_hugetlb_vmemmap_optimized(m, m.page(m.folios[0].pfn)));
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
}

TEST(Callers, BootGigantic1GInitialisesOnlyTheFirstStructPagesWhenOptimized) {
  Model md(test::machine_config(12, 4ull << 30, 1, Variant::V6_12_0));
  Machine &m = md.machine();
  StepResult r = run(md, "boot_gigantic", {18, 0, 2});
  ASSERT_EQ(r.result.ret, 0);
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
  EXPECT_EQ(bad_slots(m, m.folios[0]), 0u);
  // HVO off: every tail is initialised by the fallback loop.
  run(md, "sysctl_hvo", {0});
  StepResult r2 = run(md, "boot_gigantic", {18, 0, 1});
  ASSERT_EQ(r2.result.ret, 0);
  EXPECT_TRUE(r2.violations.empty()) << dump(r2.violations);
  EXPECT_EQ(bad_slots(m, m.folios[2]), 0u);
}

TEST(Callers, DemoteSplitsIntoOptimizedSmallerFolios) {
  Model md(test::machine_config(12, 4ull << 30, 1, Variant::V6_12_0));
  Machine &m = md.machine();
  ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
  StepResult r = run(md, "demote", {0, 9});
  ASSERT_EQ(r.result.ret, 0);
  EXPECT_EQ(r.result.folios.size(), 513u);  // 512 new + the source
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
  EXPECT_EQ(m.hugetlb_optimize_vmemmap_key, 512);
  EXPECT_EQ(bad_slots(m, m.folios[1]), 0u);
  EXPECT_EQ(bad_slots(m, m.folios[512]), 0u);
}

TEST(Callers, MemoryFailureOnOptimizedFreeFolioDissolvesAndMovesTheFlag) {
  Model md(test::machine_config(12, 4ull << 30, 1, Variant::V6_12_0));
  Machine &m = md.machine();
  ASSERT_EQ(run(md, "alloc_folio", {9, 0}).result.ret, 0);
  uint64_t pfn = m.folios[0].pfn;
  StepResult r = run(md, "memory_failure", {0, 100});
  EXPECT_EQ(r.result.ret, 0);
  EXPECT_EQ(m.folios[0].state, FolioState::Gone);
  EXPECT_TRUE(test_page_flag(m, m.page(pfn + 100), sp::PG_hwpoison));
  EXPECT_FALSE(test_page_flag(m, m.page(pfn), sp::PG_hwpoison));
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
}

TEST(Callers, SpeculativeGetOnAFakeHeadIsRefused) {
  Model md(test::machine_config(12, 4ull << 30, 1));
  ASSERT_EQ(run(md, "alloc_folio", {9, 0}).result.ret, 0);
  StepResult r = run(md, "ref_add_unless", {0, 64, 1, 0});
  EXPECT_EQ(r.result.ret, 0);  // page_is_fake_head: no reference taken
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
}

TEST(Determinism, SameOpsSameResultsByteForByte) {
  auto once = [] {
    Model md(test::machine_config(12, 4ull << 30, 2));
    std::string out;
    for (const Op &op : {test::make_op("alloc_folios", {9, 0, 3}), test::make_op("alloc_folio", {18, 1}),
                         test::make_op("restore", {1}), test::make_op("free_folio", {0}),
                         test::make_op("demote", {3, 9})}) {
      StepResult r = md.apply(op);
      out += print_op(op) + " " + format_ret(r.result.ret) + " " + r.result.note + "\n" +
             dump(r.violations);
    }
    return out;
  };
  EXPECT_EQ(once(), once());
}

}  // namespace
}  // namespace hvo

namespace hvo {
namespace {

// The walk flags, one combination at a time, on the kernel entry points:
// VMEMMAP_SYNCHRONIZE_RCU waits for readers once; VMEMMAP_REMAP_NO_TLB_FLUSH
// leaves the remapped PTEs to the caller's flush_tlb_all (stale until then);
// VMEMMAP_SPLIT_NO_TLB_FLUSH does the same for the PMD split.
class WalkFlags : public testing::TestWithParam<unsigned> {};

TEST_P(WalkFlags, FlushAndRcuFollowTheFlags) {
  const unsigned flags = GetParam();
  Model md(test::machine_config(12, 4ull << 30, 2));
  Machine &m = md.machine();
  run(md, "sysctl_hvo", {0});
  ASSERT_EQ(run(md, "alloc_folio", {18, 1}).result.ret, 0);
  run(md, "sysctl_hvo", {1});
  HugetlbFolio &f = m.folios[0];
  const Hstate h{18};
  uint64_t rcu = m.events.synchronize_rcu;
  FrameList list;
  if (flags & VMEMMAP_SPLIT_NO_TLB_FLUSH) {
    // The batch's way to split: no flush per PMD...
    ASSERT_EQ(hugetlb_vmemmap_split_folio(m, h, f), 0);
    EXPECT_GT(m.pt.stale_tlb_entries(), 0u);  // old huge translations cached
    m.pt.flush_tlb_all();                     // ...one flush for all
  }
  ASSERT_EQ(__hugetlb_vmemmap_optimize_folio(m, h, f, list, flags & ~VMEMMAP_SPLIT_NO_TLB_FLUSH), 0);
  EXPECT_EQ(m.events.synchronize_rcu - rcu, (flags & VMEMMAP_SYNCHRONIZE_RCU) ? 1u : 0u);
  if (flags & VMEMMAP_REMAP_NO_TLB_FLUSH) {
    EXPECT_EQ(m.pt.stale_tlb_entries(), 4096u);  // every remapped PTE
    // Reads through the stale entries still see the old frames, which are
    // on the list: the reason the caller flushes before freeing them.
    uint64_t tail = m.page(f.pfn + 100);
    EXPECT_TRUE(m.pt.translate(tail).stale);
    m.pt.flush_tlb_all();
  } else {
    EXPECT_EQ(m.pt.stale_tlb_entries(), 0u);
  }
  EXPECT_EQ(list.size(), 4096u);  // every original frame, to be freed
  free_vmemmap_page_list(m, list);
  EXPECT_EQ(bad_slots(m, f), 0u);
  auto v = md.check_all();
  EXPECT_TRUE(v.empty()) << dump(v);
  EXPECT_EQ(__hugetlb_vmemmap_restore_folio(m, h, f, flags & ~VMEMMAP_SPLIT_NO_TLB_FLUSH), 0);
  EXPECT_EQ(m.pt.stale_tlb_entries(), (flags & VMEMMAP_REMAP_NO_TLB_FLUSH) ? 4095u : 0u);
  m.pt.flush_tlb_all();
}

INSTANTIATE_TEST_SUITE_P(Model, WalkFlags,
                         testing::Values(0u, VMEMMAP_SYNCHRONIZE_RCU, VMEMMAP_REMAP_NO_TLB_FLUSH,
                                         VMEMMAP_SPLIT_NO_TLB_FLUSH | VMEMMAP_REMAP_NO_TLB_FLUSH,
                                         VMEMMAP_SPLIT_NO_TLB_FLUSH | VMEMMAP_REMAP_NO_TLB_FLUSH |
                                             VMEMMAP_SYNCHRONIZE_RCU),
                         [](const testing::TestParamInfo<unsigned> &i) {
                           return "flags" + std::to_string(i.param);
                         });

}  // namespace
}  // namespace hvo
