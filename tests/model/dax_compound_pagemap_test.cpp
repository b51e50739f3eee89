// SPDX-License-Identifier: GPL-2.0-only
//
// Device-DAX compound pagemaps, legacy era (Debian 6.12): tail struct page
// reuse, refcounts of aliased frames, altmap and early sections without
// dedup, section/subsection bookkeeping, accounting, failure paths.  Numbers
// from kernel-reference section 4 ("DAX 6.12: saved V - 2").
#include "hvo/dax_oracle.h"
#include "hvo/machine.h"
#include "hvo/memremap.h"
#include "hvo/mm_init.h"
#include "hvo/page_flags.h"
#include "hvo/savings.h"
#include "hvo/sparse_vmemmap.h"
#include "hvo/struct_page.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

namespace hvo {
namespace {

constexpr int kENOMEM = -12, kEINVAL = -22, kEEXIST = -17, kENXIO = -6;

struct Dax {
  std::unique_ptr<Machine> m;
  HotplugState &hp;

  explicit Dax(unsigned page_shift = 12) : m(boot(page_shift)), hp(m->hotplug) {
    hotplug_state_init(*m, hp);
  }
  static std::unique_ptr<Machine> boot(unsigned page_shift) {
    Config c;
    c.page_shift = page_shift;
    return std::make_unique<Machine>(c);
  }
  // A device range aligned to @align pages above boot RAM, in a PMD of
  // vmemmap the boot memmap does not use (at 16K/64K one PMD of memmap spans
  // more than a section and the boot memmap is PMD-mapped).
  uint64_t device_base(uint64_t align) const {
    const uint64_t end = m->cfg.total_pages();
    align = std::max(align, m->cfg.pmd_size() / m->cfg.struct_page_size);
    return (end + align - 1) / align * align;
  }
  DevPagemap request(uint64_t pfn, uint64_t nr, unsigned shift) const {
    DevPagemap p;
    p.range_start_pfn = pfn;
    p.range_nr_pages = nr;
    p.vmemmap_shift = shift;
    return p;
  }
  // Distinct frames mapping the memmap of [pfn, pfn + nr).
  std::set<FrameId> frames(uint64_t pfn, uint64_t nr) const {
    std::set<FrameId> f;
    const uint64_t ps = m->cfg.page_size();
    for (uint64_t a = m->page(pfn) & ~(ps - 1); a < m->page(pfn + nr); a += ps)
      if (m->pt.ptep_get(a).present())
        f.insert(m->pt.ptep_get(a).frame);
    return f;
  }
  uint64_t live_frames() const { return m->phys.frames_allocated() - m->phys.frames_freed(); }
};

std::string describe(const std::vector<Violation> &v) {
  std::string s;
  for (const Violation &x : v)
    s += format_violation(x) + "\n";
  return s;
}

// ---- savings: V - 2 per compound page, measured ------------------------------

struct SavingsCase {
  unsigned page_shift;
  unsigned order;
};

std::vector<SavingsCase> savings_cases() {
  std::vector<SavingsCase> v;
  for (unsigned o = 6; o <= 22; o++)
    v.push_back({12, o});
  for (unsigned o : {8u, 9u, 10u, 11u, 16u, 20u})
    v.push_back({14, o});
  for (unsigned o : {10u, 11u, 12u, 13u, 14u, 18u})
    v.push_back({16, o});
  return v;
}

class DaxPerOrder : public ::testing::TestWithParam<SavingsCase> {};

TEST_P(DaxPerOrder, EachCompoundPageKeepsTwoFramesAndSavesVMinusTwo) {
  const auto [shift, order] = GetParam();
  Dax d(shift);
  const Config &c = d.m->cfg;
  const uint64_t nr_compound = uint64_t{1} << order;
  const uint64_t nr = std::max(nr_compound, c.pages_per_subsection());
  const uint64_t pfn = d.device_base(std::max(nr, c.pages_per_section()));
  const uint64_t v_num = nr_compound * c.struct_page_size;  // V * PAGE_SIZE
  const bool optimizable = v_num > 2 * c.page_size();

  const int64_t memmap_before = d.m->phys.memmap_pages;
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.request(pfn, nr, order), id), 0);
  const uint64_t compounds = nr / nr_compound;
  const uint64_t frames = d.frames(pfn, nr).size();
  const uint64_t vmemmap_pages = (nr * c.struct_page_size + c.page_size() - 1) / c.page_size();
  if (optimizable) {
    EXPECT_EQ(frames, 2 * compounds);
    const uint64_t v = v_num / c.page_size();
    EXPECT_EQ(vmemmap_pages / compounds - frames / compounds, v - 2) << "saved per compound page";
  } else {
    EXPECT_EQ(frames, vmemmap_pages) << "V <= 2: nothing is shared";
  }
  // section_nr_vmemmap_pages accounts exactly the frames populated (I6).
  EXPECT_EQ(d.m->phys.memmap_pages - memmap_before, static_cast<int64_t>(frames));
  EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "");
}

INSTANTIATE_TEST_SUITE_P(Orders, DaxPerOrder, ::testing::ValuesIn(savings_cases()),
                         [](const auto &i) {
                           return std::to_string(1u << (i.param.page_shift - 10)) + "K_order" +
                                  std::to_string(i.param.order);
                         });

// ---- the 2 MiB and 1 GiB cases in detail ------------------------------------

TEST(DaxCompoundPages, TwoMegPagesAliasTheirSecondVmemmapPageWithRefcounts) {
  Dax d;
  const uint64_t pfn = d.device_base(d.m->cfg.pages_per_section());
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.request(pfn, 2048, 9), id), 0);  // 4 x 2 MiB
  const uint64_t ps = d.m->cfg.page_size();
  for (uint64_t k = 0; k < 4; k++) {
    const uint64_t head = d.m->page(pfn + k * 512);
    const FrameId h = d.m->pt.ptep_get(head).frame, t = d.m->pt.ptep_get(head + ps).frame;
    ASSERT_NE(h, t);
    for (uint64_t i = 2; i < 8; i++) {
      const Pte pte = d.m->pt.ptep_get(head + i * ps);
      EXPECT_EQ(pte.frame, t);
      EXPECT_FALSE(pte.ro) << "DAX tails are read-write in 6.12";
    }
    EXPECT_EQ(d.hp.frame_refcount.at(t), 7u) << "1 + 6 extra PTEs";
    EXPECT_EQ(d.hp.frame_refcount.at(h), 1u);
    // The struct pages every compound page shows.
    EXPECT_TRUE(PageHead(*d.m, head));
    EXPECT_TRUE(test_page_flag(*d.m, head, sp::PG_reserved));
    for (uint64_t i : {1ull, 63ull, 64ull, 127ull, 128ull, 300ull, 511ull}) {
      EXPECT_EQ(compound_head(*d.m, head + i * d.m->cfg.struct_page_size), head) << i;
      EXPECT_TRUE(PageTail(*d.m, head + i * d.m->cfg.struct_page_size)) << i;
    }
  }
}

TEST(DaxCompoundPages, OneGigPageReusesTheFirstSectionsTailFrameInLaterSections) {
  Dax d;
  const uint64_t nr = uint64_t{1} << 18;  // one 1 GiB compound page, 8 sections
  const uint64_t pfn = d.device_base(nr);
  const uint64_t live_before = d.live_frames();
  const int64_t memmap_before = d.m->phys.memmap_pages;
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.request(pfn, nr, 18), id), 0);
  EXPECT_EQ(d.frames(pfn, nr).size(), 2u);
  const FrameId t = d.m->pt.ptep_get(d.m->page(pfn) + d.m->cfg.page_size()).frame;
  EXPECT_EQ(d.hp.frame_refcount.at(t), 4095u) << "1 + 4094 aliases";
  EXPECT_EQ(d.m->phys.memmap_pages - memmap_before, 2);
  EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "");

  ASSERT_EQ(memunmap_pages(*d.m, d.hp, id), 0);
  EXPECT_EQ(d.live_frames(), live_before) << "depopulate returns every frame, tables included";
  EXPECT_EQ(d.m->phys.memmap_pages, memmap_before);
  EXPECT_TRUE(d.hp.frame_refcount.empty());
  EXPECT_EQ(d.m->pt.stale_tlb_entries(), 0u);
  EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "");
}

// ---- no dedup: altmap, V <= 2 --------------------------------------------------

TEST(DaxCompoundPages, AltmapDisablesDedupAndIsGivenBack) {
  Dax d;
  const uint64_t nr = d.m->cfg.pages_per_section();
  const uint64_t pfn = d.device_base(nr);
  DevPagemap req = d.request(pfn, nr, 9);
  req.altmap = VmemAltmap{pfn, pfn + nr, 0, 1024, 0, 0};  // room for one PMD block
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, req, id), 0);
  EXPECT_FALSE(vmemmap_can_optimize(*d.m, &d.hp.pgmaps[id]));
  EXPECT_EQ(d.hp.pgmaps[id].altmap->alloc, d.m->cfg.ptrs_per_pte()) << "one PMD block from the device";
  EXPECT_EQ(d.frames(pfn, nr).size(), 512u) << "every vmemmap page has its own frame";
  // Struct pages start after the altmap's own pfns and are all initialised.
  const uint64_t first = pfn + 1024;
  EXPECT_TRUE(PageHead(*d.m, d.m->page(first)));
  EXPECT_EQ(compound_head(*d.m, d.m->page(first + 511)), d.m->page(first));
  EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "");
  ASSERT_EQ(memunmap_pages(*d.m, d.hp, id), 0);
  EXPECT_EQ(d.hp.pgmaps[id].altmap->alloc, 0u);
}

TEST(DaxCompoundPages, AltmapTooSmallForThePmdBlockFailsWithoutFallback) {
  Dax d;
  const uint64_t nr = d.m->cfg.pages_per_section();
  const uint64_t pfn = d.device_base(nr);
  DevPagemap req = d.request(pfn, nr, 9);
  req.altmap = VmemAltmap{pfn, pfn + nr, 0, 100, 0, 0};
  const uint64_t live_before = d.live_frames();
  uint32_t id = 0;
  EXPECT_EQ(memremap_pages(*d.m, d.hp, req, id), kENOMEM);
  EXPECT_EQ(d.live_frames(), live_before);
  EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "");
}

// ---- refusals ----------------------------------------------------------------------

TEST(DaxRefusals, RangesThatTheKernelRejects) {
  Dax d;
  const uint64_t base = d.device_base(d.m->cfg.pages_per_section());
  uint32_t id = 0;
  EXPECT_EQ(memremap_pages(*d.m, d.hp, d.request(0, 512, 9), id), kENXIO) << "System RAM";
  EXPECT_EQ(memremap_pages(*d.m, d.hp, d.request(base + 1, 512, 9), id), kEINVAL) << "misaligned";
  EXPECT_EQ(memremap_pages(*d.m, d.hp, d.request(base, 100, 0), id), kEINVAL) << "partial subsection";
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.request(base, 1024, 9), id), 0);
  uint32_t id2 = 0;
  EXPECT_EQ(memremap_pages(*d.m, d.hp, d.request(base + 512, 1024, 9), id2), kENOMEM)
      << "conflicting pgmap";
  EXPECT_EQ(memunmap_pages(*d.m, d.hp, 99), kEINVAL);
  EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "");
}

TEST(DaxRefusals, HotAddIntoAFullyPopulatedEarlySectionIsEExist) {
  Dax d;
  const uint64_t live_before = d.live_frames();
  EXPECT_EQ(__add_pages(*d.m, d.hp, 0, 0, 512, nullptr), kEEXIST);
  EXPECT_EQ(d.live_frames(), live_before);
}

// ---- subsections -------------------------------------------------------------------

TEST(DaxSubsections, TwoPgmapsShareOneSectionAndLeaveIndependently) {
  Dax d;
  const uint64_t s = d.device_base(d.m->cfg.pages_per_section());
  const uint64_t live_before = d.live_frames();
  uint32_t a = 0, b = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.request(s, 512, 9), a), 0);
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.request(s + 512, 1024, 9), b), 0);
  const MemSection &ms = d.hp.sections.pfn_to_section(s);
  EXPECT_TRUE(ms.subsection_map.test(0) && ms.subsection_map.test(1) && ms.subsection_map.test(2));
  EXPECT_FALSE(ms.subsection_map.test(3));
  ASSERT_EQ(memunmap_pages(*d.m, d.hp, a), 0);
  EXPECT_TRUE(ms.has_mem_map) << "the other pgmap still uses the section";
  EXPECT_EQ(d.frames(s + 512, 1024).size(), 4u);
  EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "");
  ASSERT_EQ(memunmap_pages(*d.m, d.hp, b), 0);
  EXPECT_FALSE(ms.has_mem_map);
  EXPECT_FALSE(ms.has_usage) << "a hot-added usage map is freed with the last subsection";
  EXPECT_EQ(d.live_frames(), live_before);
}

// ---- allocation failure at every point ---------------------------------------------

// Number of allocation attempts a clean memremap of @req makes.
uint64_t attempts_of(const DevPagemap &req) {
  Dax d;
  const uint64_t before = d.m->phys.alloc_attempts();
  uint32_t id = 0;
  EXPECT_EQ(memremap_pages(*d.m, d.hp, req, id), 0);
  return d.m->phys.alloc_attempts() - before;
}

TEST(DaxFailureInjection, OneSectionFailureAtEveryAllocationLeavesNothing) {
  Dax probe;
  const uint64_t pfn = probe.device_base(probe.m->cfg.pages_per_section());
  const DevPagemap req = probe.request(pfn, probe.m->cfg.pages_per_section(), 9);
  const uint64_t n = attempts_of(req);
  ASSERT_GT(n, 64u);
  for (uint64_t nth = 1; nth <= n; nth++) {
    Dax d;
    const uint64_t live_before = d.live_frames();
    const int64_t memmap_before = d.m->phys.memmap_pages;
    d.m->phys.fault.fail_nth = nth;
    d.m->phys.fault.attempts_since_arm = 0;
    uint32_t id = 0;
    ASSERT_EQ(memremap_pages(*d.m, d.hp, req, id), kENOMEM) << nth;
    EXPECT_EQ(d.live_frames(), live_before) << "attempt " << nth;
    EXPECT_EQ(d.m->phys.memmap_pages, memmap_before) << "attempt " << nth;
    EXPECT_TRUE(d.hp.frame_refcount.empty()) << "attempt " << nth;
    EXPECT_EQ(describe(check_dax(*d.m, d.hp)), "") << "attempt " << nth;
  }
}

// Kernel behaviour pinned (docs/findings-model.md "memremap_pages partial
// failure"): __add_pages stops at the failing section and pagemap_range's
// error path removes nothing, so the sections added before it keep their
// memmap with no pgmap left to remove them.
TEST(DaxFailureInjection, FailureInALaterSectionLeavesTheEarlierSectionsBehind) {
  Dax probe;
  const uint64_t nr = uint64_t{1} << 18;
  const uint64_t pfn = probe.device_base(nr);
  const DevPagemap req = probe.request(pfn, nr, 18);
  Dax d;
  const uint64_t live_before = d.live_frames();
  // Attempts in section 0: usage map, PTE table, head, tail frames = 4;
  // section 1 starts with its usage map.
  d.m->phys.fault.fail_nth = 5;
  d.m->phys.fault.attempts_since_arm = 0;
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, req, id), kENOMEM);
  EXPECT_GT(d.live_frames(), live_before) << "section 0's memmap stays";
  const std::vector<Violation> v = check_dax(*d.m, d.hp);
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].id, "I13-dax-orphan-section");
  EXPECT_EQ(v[0].pfn, pfn);
  // The leftover subsection bits make a retry of the same range fail.
  EXPECT_EQ(memremap_pages(*d.m, d.hp, req, id), kEEXIST);
}

} // namespace
} // namespace hvo

namespace hvo {
namespace {

// ---- hvo-sim savings, DAX columns: kernel-reference section 4 -----------------

struct DaxRow {
  unsigned page_shift, order;
  uint64_t v;
  int64_t saved;
};

class DaxSavingsReport : public ::testing::TestWithParam<unsigned> {};

TEST_P(DaxSavingsReport, MatchesKernelReferenceSection4) {
  const unsigned shift = GetParam();
  std::string err;
  const std::vector<DaxSavings> rows = compute_dax_savings(shift, 64, err);
  ASSERT_EQ(err, "");
  ASSERT_EQ(rows.back().order, 34 - shift) << "up to MAX_FOLIO_ORDER";
  const std::vector<DaxRow> expected = {
      {12, 6, 1, 0},    {12, 7, 2, 0},     {12, 8, 4, 2},        {12, 9, 8, 6},
      {12, 18, 4096, 4094}, {12, 22, 65536, 65534}, {14, 8, 1, 0}, {14, 9, 2, 0},
      {14, 11, 8, 6},   {14, 16, 256, 254}, {14, 20, 4096, 4094}, {16, 10, 1, 0},
      {16, 11, 2, 0},   {16, 13, 8, 6},    {16, 14, 16, 14},     {16, 18, 256, 254}};
  unsigned checked = 0;
  for (const DaxRow &e : expected) {
    if (e.page_shift != shift)
      continue;
    for (const DaxSavings &r : rows) {
      if (r.order != e.order)
        continue;
      EXPECT_EQ(r.vmemmap_pages, e.v) << "order " << e.order;
      EXPECT_EQ(r.saved, e.saved) << "order " << e.order;
      EXPECT_EQ(r.optimized, e.v > 2) << "order " << e.order;
      EXPECT_EQ(r.keeps, e.v > 2 ? 2 : e.v) << "order " << e.order;
      checked++;
    }
  }
  EXPECT_GE(checked, 5u);
  // Every row: saved is V - 2 exactly when optimized.
  for (const DaxSavings &r : rows)
    EXPECT_EQ(r.saved, r.optimized ? static_cast<int64_t>(r.vmemmap_pages) - 2 : 0) << r.order;
}

INSTANTIATE_TEST_SUITE_P(PageSizes, DaxSavingsReport, ::testing::Values(12u, 14u, 16u),
                         [](const auto &i) { return std::to_string(1u << (i.param - 10)) + "K"; });

} // namespace
} // namespace hvo
