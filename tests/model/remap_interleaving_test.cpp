// SPDX-License-Identifier: GPL-2.0-only
//
// Issue 4 section 3 inside the remap: the optimize and restore walks cut at
// their interleave points (remap_steps), so a reader or another CPU runs
// between two PTE updates, before the TLB flush, between the flush and the
// frees.  Order-9 folios within a preemption bound of 3, order-7 folios
// (the same walk over fewer PTEs) under every schedule; the unbounded order-9
// runs are in remap_interleaving_slow_test.cpp (label slow).  The counts are the
// model's own, asserted so that a change of the walk or of the scheduler
// shows up as a change of the numbers.
#include "hvo/concurrency/scenarios.h"

#include <gtest/gtest.h>

#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/page_flags.h"
#include "model_test_util.h"
#include "reader_remap_cases.h"

namespace hvo::concurrency {
namespace {

using reader_cases::expect_reader_case;
using reader_cases::first_message;
using reader_cases::reader_options;
using reader_cases::ReaderCase;

class ReaderInsideTheRemap : public ::testing::TestWithParam<ReaderCase> {};

// Legacy era, D612 optimize (v6.12.0 restore): page_ref_add_unless on the
// first struct page of vmemmap page 1 against freeze / synchronize_rcu /
// remap in 23 steps / unfreeze.
TEST_P(ReaderInsideTheRemap, OnlyThe612ReadOrderWritesTheReadOnlyAlias) {
  const ReaderCase c = GetParam();
  const ScenarioOptions opt = reader_options(c, 9);
  const Exploration e = expect_reader_case(c, opt, 3);
  // The remap is many steps, not one: a reader fits between any two.
  EXPECT_GE(e.max_steps, c.restore ? 20u : 25u);
  if (c.bad) {
    const ScenarioRun a = run_scenario(ScenarioKind::SpeculativeReader, opt, e.first_bad);
    const ScenarioRun b = run_scenario(ScenarioKind::SpeculativeReader, opt, e.first_bad);
    EXPECT_EQ(a.trace, b.trace);
    ASSERT_FALSE(a.violations.empty());
    EXPECT_EQ(a.violations.front().id, "I12-speculative-ref") << a.trace;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Orders, ReaderInsideTheRemap,
    ::testing::Values(ReaderCase{"FakeHeadFirst612_WithRcu", false, true, false, 966, 12},
                      ReaderCase{"FakeHeadFirst612_NoRcu", false, false, false, 1161, 25},
                      ReaderCase{"RefcountFirst_WithRcu", true, true, false, 966, 0},
                      ReaderCase{"RefcountFirst_NoRcu", true, false, false, 1161, 0},
                      ReaderCase{"Restore_FakeHeadFirst612", false, true, true, 581, 0},
                      ReaderCase{"Restore_RefcountFirst", true, true, true, 581, 0}),
    [](const auto &i) { return std::string(i.param.name); });

// The same at order 7, the smallest order HVO optimizes at 4K (two vmemmap
// pages: the walk is the same code over 2 PTEs instead of 8), under every
// schedule, no bound.
class ReaderInsideTheRemapEverySchedule : public ::testing::TestWithParam<ReaderCase> {};

TEST_P(ReaderInsideTheRemapEverySchedule, OnlyThe612ReadOrderWritesTheReadOnlyAlias) {
  expect_reader_case(GetParam(), reader_options(GetParam(), 7));
}

INSTANTIATE_TEST_SUITE_P(
    Order7, ReaderInsideTheRemapEverySchedule,
    ::testing::Values(ReaderCase{"FakeHeadFirst612_WithRcu", false, true, false, 2022, 21},
                      ReaderCase{"FakeHeadFirst612_NoRcu", false, false, false, 3003, 28},
                      ReaderCase{"RefcountFirst_WithRcu", true, true, false, 2022, 0},
                      ReaderCase{"RefcountFirst_NoRcu", true, false, false, 3003, 0},
                      ReaderCase{"Restore_FakeHeadFirst612", false, true, true, 146, 0},
                      ReaderCase{"Restore_RefcountFirst", true, true, true, 146, 0}),
    [](const auto &i) { return std::string(i.param.name); });

// The batch API (hugetlb_vmemmap_optimize_folios / _restore_folios, the
// pool-allocation and demote paths): its walks leave the flush to one
// flush_tlb_all, after the RCU wait and the split; the same read orders hold
// and fail.  Order 7 under every schedule, order 9 within 3 preemptions.
TEST(ReaderInsideTheBatchRemap, OnlyThe612ReadOrderWritesTheReadOnlyAlias) {
  struct Case {
    ReaderCase reader;
    unsigned order, bound;
  };
  const unsigned all = kUnboundedPreemptions;
  for (const Case &c : {Case{{"612 rcu o7", false, true, false, 917, 10}, 7, all},
                        Case{{"612 no-rcu o7", false, false, false, 4368, 36}, 7, all},
                        Case{{"fixed rcu o7", true, true, false, 917, 0}, 7, all},
                        Case{{"fixed no-rcu o7", true, false, false, 4368, 0}, 7, all},
                        Case{{"612 restore o7", false, true, true, 146, 0}, 7, all},
                        Case{{"612 rcu o9", false, true, false, 842, 10}, 9, 3},
                        Case{{"612 no-rcu o9", false, false, false, 1260, 27}, 9, 3},
                        Case{{"fixed rcu o9", true, true, false, 842, 0}, 9, 3},
                        Case{{"fixed restore o9", true, true, true, 581, 0}, 9, 3}}) {
    SCOPED_TRACE(c.reader.name);
    ScenarioOptions opt = reader_options(c.reader, c.order);
    opt.batch = true;
    expect_reader_case(c.reader, opt, c.bound);
  }
}

// The steps of the 6.12 hole when the remap is cut: the reader tests the
// fake head after the PTE of its vmemmap page already maps the read-only
// head copy, but before the flush, so the stale TLB entry still shows the
// real tail ("not fake"); it reads the count after the unfreeze and writes.
// With a whole-call remap this placement did not exist.
TEST(ReaderInsideTheRemap, TheStaleTlbEntryHidesTheFakeHeadUntilTheFlush) {
  ScenarioOptions opt;
  opt.remap_steps = true;
  opt.refcount_first = false;
  // Thread 0 is the reader, 1 the writer: writer to set_pte_at(page 1),
  // reader's lock and fake-head test, the writer to its end, reader's rest.
  std::vector<uint8_t> s(7, 1);
  s.insert(s.end(), {0, 0});
  s.insert(s.end(), 16, 1);
  const ScenarioRun r = run_scenario(ScenarioKind::SpeculativeReader, opt, s);
  const size_t pte1 = r.trace.find("writer: set_pte_at(folio vmemmap page 1)");
  const size_t fake = r.trace.find("reader: page_is_fake_head = false");
  const size_t flush = r.trace.find("writer: flush_tlb_kernel_range(folio vmemmap page 0)");
  const size_t add = r.trace.find("reader: atomic_add_unless: 1 -> 2");
  ASSERT_NE(pte1, std::string::npos) << r.trace;
  ASSERT_NE(add, std::string::npos) << r.trace;
  EXPECT_LT(pte1, fake) << r.trace;
  EXPECT_LT(fake, flush) << r.trace;
  EXPECT_LT(flush, add) << r.trace;
  ASSERT_FALSE(r.violations.empty()) << r.trace;
  EXPECT_EQ(r.violations.front().id, "I12-speculative-ref");
  // The fixed order on the same schedule: the count is read first, through
  // the stale entry (the real tail, 0), and nothing is written.
  opt.refcount_first = true;
  const ScenarioRun fixed = run_scenario(ScenarioKind::SpeculativeReader, opt, s);
  EXPECT_TRUE(fixed.violations.empty()) << fixed.trace;
}

TEST(ReaderInsideTheRemap, WithoutFakeHeadsNoPlacementWritesTheSharedTail) {
  for (Variant v : {Variant::KirylV7, Variant::Muchun})
    for (bool restore : {false, true}) {
      ScenarioOptions opt;
      opt.remap_steps = true;
      opt.era = Era::SharedTail;
      opt.shared_variant = v;
      opt.restore = restore;
      // One reader step: every placement, no bound needed.
      const Exploration e = explore_scenario(ScenarioKind::SpeculativeReader, opt);
      EXPECT_EQ(e.schedules, restore ? 18u : 23u) << variant_name(v);
      EXPECT_EQ(e.bad, 0u) << first_message(e);
    }
}

// Optimize of A against restore of B, both cut into steps (19 and 16), and a
// reader resolving both folios' tails: no lost or doubled frame (I6), no
// write through an RO alias (I3), no wrong head (I1), in every schedule
// within one preemption (two: the slow test).
TEST(OptimizeVsRestoreInSteps, FoliosSharingATailStayConsistentUnderEverySchedule) {
  for (Variant v : {Variant::KirylV7, Variant::Muchun}) {
    ScenarioOptions opt;
    opt.remap_steps = true;
    opt.shared_variant = v;
    const Exploration e = explore_scenario(ScenarioKind::OptimizeVsRestore, opt, 1);
    EXPECT_EQ(e.schedules, 216u) << variant_name(v);
    EXPECT_EQ(e.max_steps, 38u);
    EXPECT_EQ(e.bad, 0u) << first_message(e);
  }
}

// At order 7 (A: 7 steps, B: 4, the reader 3): within three preemptions
// here, every one of the 120120 schedules in the slow test.
TEST(OptimizeVsRestoreInSteps, Order7FoliosStayConsistentWithinThreePreemptions) {
  for (Variant v : {Variant::KirylV7, Variant::Muchun}) {
    ScenarioOptions opt;
    opt.remap_steps = true;
    opt.order = 7;
    opt.shared_variant = v;
    const Exploration e = explore_scenario(ScenarioKind::OptimizeVsRestore, opt, 3);
    EXPECT_EQ(e.schedules, 2702u) << variant_name(v);
    EXPECT_EQ(e.max_steps, 14u);
    EXPECT_EQ(e.bad, 0u) << first_message(e);
  }
}

TEST(RemapSteps, EveryScheduleReplaysToTheSameTrace) {
  ScenarioOptions opt;
  opt.remap_steps = true;
  const std::vector<uint8_t> s{1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0};
  const ScenarioRun a = run_scenario(ScenarioKind::OptimizeVsRestore, opt, s);
  const ScenarioRun b = run_scenario(ScenarioKind::OptimizeVsRestore, opt, a.run.choices);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_GT(a.run.trace.size(), 30u);
}

// The TLB in the middle of a remap, without a scheduler: a hook at every
// interleave point looks at vmemmap page 1 of the folio being optimized.
struct TlbProbe final : InterleaveHook {
  uint64_t page1 = 0;
  FrameId original = kNoFrame;
  std::string log;
  void at(Machine &m, const char *point, uint64_t) override {
    const Translation t = m.pt.translate(page1);
    const bool fake = page_is_fake_head(m, page1);
    log += std::string(point) + (t.stale ? " stale" : " fresh") +
           (t.pte.frame == original ? " original" : " other") + (t.pte.ro ? " ro" : " rw") +
           (fake ? " fake" : " tail") + "\n";
  }
};

TEST(TlbMidRemap, AReaderSeesTheRealTailUntilTheFlushAndTheFakeHeadAfter) {
  Model md(test::machine_config(12, 256ull << 20, 1));
  test::run(md, "sysctl_hvo", {0});
  test::run(md, "alloc_folio", {9, 0});
  test::run(md, "sysctl_hvo", {1});
  Machine &m = md.machine();
  TlbProbe probe;
  probe.page1 = m.page(m.folios[0].pfn) + m.cfg.page_size();
  probe.original = m.pt.ptep_get(probe.page1).frame;
  m.interleave = &probe;
  hugetlb_vmemmap_optimize_folio(m, Hstate{9}, m.folios[0]);
  m.interleave = nullptr;
  // From set_pte_at of page 1 to the flush the PTE maps the RO head copy but
  // the TLB still holds the old RW translation: a reader sees the real tail
  // (the old frame is not freed before the flush, so what it reads is
  // intact).  After the flush it sees the fake head, and the frees follow.
  const std::string expected_tail = "flush_tlb_kernel_range fresh other ro fake\n";
  EXPECT_NE(m.folios.size(), 0u);
  EXPECT_NE(probe.log.find("set_pte_at fresh original rw tail\n"
                           "set_pte_at stale original rw tail\n"),
            std::string::npos)
      << probe.log;
  EXPECT_NE(probe.log.find("set_pte_at stale original rw tail\n" + expected_tail +
                           "free_vmemmap_page fresh other ro fake\n"),
            std::string::npos)
      << probe.log;
  EXPECT_TRUE(md.check_all().empty()) << test::dump(md.check_all());
}

// A store through a stale read-only entry during restore (page 1's PTE
// already maps the new RW copy, the TLB still the RO head copy) is caught.
struct StaleStore final : InterleaveHook {
  uint64_t page1 = 0;
  bool stale_ro_seen = false;
  void at(Machine &m, const char *point, uint64_t addr) override {
    if (std::string_view(point) != "set_pte_at" || addr != page1 || stale_ro_seen)
      return;
    const Translation t = m.pt.translate(page1);
    stale_ro_seen = t.stale && t.pte.ro;
    m.mmu.write(Machine::field(page1, 5), 0x1234, "stale store");
  }
};

TEST(TlbMidRemap, AStoreThroughAStaleReadOnlyEntryIsAViolation) {
  Model md(test::machine_config(12, 256ull << 20, 1, Variant::V6_12_0));
  test::run(md, "alloc_folio", {9, 0});  // optimized at allocation
  Machine &m = md.machine();
  StaleStore store;
  store.page1 = m.page(m.folios[0].pfn) + m.cfg.page_size();
  m.interleave = &store;
  EXPECT_EQ(hugetlb_vmemmap_restore_folio(m, Hstate{9}, m.folios[0]), 0);
  m.interleave = nullptr;
  EXPECT_TRUE(store.stale_ro_seen);
  const std::vector<Violation> v = md.check_all();
  EXPECT_EQ(test::count_id(v, "I3-ro-write"), 1u) << test::dump(v);
}

} // namespace
} // namespace hvo::concurrency
