// SPDX-License-Identifier: GPL-2.0-only
//
// Section-based generic HVO (Muchun Song, variant muchun): device DAX on the
// shared-tail path -- the order recorded per section, one private vmemmap
// page per compound page, the device zone's read-only shared tail for the
// rest (saving V - 1), sub-section hot-add into an optimized section
// refused, and `hvo-sim savings --era shared-tail` against kernel-reference
// section 4.
#include "hvo/dax_oracle.h"
#include "hvo/machine.h"
#include "hvo/memremap.h"
#include "hvo/page_flags.h"
#include "hvo/savings.h"
#include "hvo/shared_tail.h"
#include "hvo/sparse_vmemmap.h"
#include "hvo/struct_page.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

namespace hvo {
namespace {

constexpr int kEOPNOTSUPP = -95, kEEXIST = -17;

struct MsDax {
  std::unique_ptr<Machine> m;
  HotplugState &hp;
  explicit MsDax(unsigned page_shift = 12, Era e = Era::SharedTail, Variant v = Variant::Muchun)
      : m(boot(page_shift, e, v)), hp(m->hotplug) {}
  static std::unique_ptr<Machine> boot(unsigned page_shift, Era e, Variant v) {
    Config c;
    c.page_shift = page_shift;
    c.era = e;
    c.variant = v;
    return std::make_unique<Machine>(c);
  }
  uint64_t base(uint64_t align) const {
    align = std::max({align, m->cfg.pages_per_section(), m->cfg.pmd_size() / m->cfg.struct_page_size});
    return (m->cfg.total_pages() + align - 1) / align * align;
  }
  DevPagemap req(uint64_t pfn, uint64_t nr, unsigned shift) const {
    DevPagemap p;
    p.range_start_pfn = pfn;
    p.range_nr_pages = nr;
    p.vmemmap_shift = shift;
    return p;
  }
  uint64_t live() const { return m->phys.frames_allocated() - m->phys.frames_freed(); }
  std::string violations() {
    std::string s;
    for (const Violation &v : check_dax(*m, hp))
      s += format_violation(v) + "\n";
    std::vector<Violation> st;
    std::vector<FrameId> all(m->phys.frame_table_size());
    for (size_t i = 0; i < all.size(); i++)
      all[i] = static_cast<FrameId>(i);
    check_shared_tails(*m, all, 8, st);
    for (const Violation &v : st)
      s += format_violation(v) + "\n";
    return s;
  }
};

TEST(MuchunDax, WholeSectionRangeKeepsOnePrivatePagePerCompoundPage) {
  MsDax d;
  const uint64_t nr = d.m->cfg.pages_per_section();
  const uint64_t pfn = d.base(nr);
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.req(pfn, nr, 9), id), 0);
  EXPECT_EQ(d.hp.sections.pfn_to_section(pfn).compound_order, 9u) << "order recorded per section";
  const FrameId tail = shared_tail_lookup(*d.m, 9, tail_owner_device(*d.m, 0));
  ASSERT_NE(tail, kNoFrame);
  const uint64_t ps = d.m->cfg.page_size();
  std::set<FrameId> heads;
  for (uint64_t k = 0; k < nr / 512; k++) {
    const uint64_t h = d.m->page(pfn + k * 512);
    heads.insert(d.m->pt.ptep_get(h).frame);
    for (uint64_t i = 1; i < 8; i++) {
      const Pte pte = d.m->pt.ptep_get(h + i * ps);
      ASSERT_EQ(pte.frame, tail);
      ASSERT_TRUE(pte.ro) << "v2 46/69: the shared tail is read-only for DAX too";
    }
    for (uint64_t i : {1ull, 63ull, 64ull, 65ull, 511ull})
      ASSERT_EQ(compound_head(*d.m, h + i * d.m->cfg.struct_page_size), h);
    ASSERT_TRUE(PageHead(*d.m, h));
  }
  EXPECT_EQ(heads.size(), nr / 512);
  // The tail carries the device zone, PG_reserved, and one reference per PTE.
  EXPECT_EQ(page_zonenum(*d.m, d.m->page(pfn) + 64 * d.m->cfg.struct_page_size),
            static_cast<unsigned>(ZoneType::Device));
  EXPECT_EQ(d.hp.frame_refcount.at(tail), 1 + 7 * (nr / 512));
  EXPECT_EQ(d.violations(), "");
}

TEST(MuchunDax, OneGigPageUsesTheSharedTailInEverySection) {
  MsDax d;
  const uint64_t nr = uint64_t{1} << 18;
  const uint64_t pfn = d.base(nr);
  const uint64_t live = d.live();
  const int64_t memmap = d.m->phys.memmap_pages;
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.req(pfn, nr, 18), id), 0);
  const FrameId tail = shared_tail_lookup(*d.m, 18, tail_owner_device(*d.m, 0));
  EXPECT_EQ(d.hp.frame_refcount.at(tail), 1u + 4095u);
  EXPECT_EQ(d.m->phys.memmap_pages - memmap, 1) << "VMEMMAP_OPTIMIZATION_PAGES: the head page";
  EXPECT_EQ(d.violations(), "");
  ASSERT_EQ(memunmap_pages(*d.m, d.hp, id), 0);
  EXPECT_EQ(d.live(), live + 1) << "everything back but the lifetime shared tail";
  EXPECT_EQ(d.m->phys.memmap_pages, memmap);
  EXPECT_EQ(d.hp.frame_refcount.at(tail), 1u);
  EXPECT_EQ(d.hp.sections.pfn_to_section(pfn).compound_order, 0u);
}

// Differences from 6.12 that follow from recording the order per section.
TEST(MuchunDax, SubSectionRangesAreNotOptimizedAndCannotJoinAnOptimizedSection) {
  MsDax d;
  const uint64_t s = d.base(d.m->cfg.pages_per_section());
  uint32_t a = 0, b = 0;
  // A 2 MiB range: section_set_compound_order_range ignores it.
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.req(s, 512, 9), a), 0);
  EXPECT_EQ(d.hp.sections.pfn_to_section(s).compound_order, 0u);
  std::set<FrameId> f;
  for (uint64_t k = 0; k < 8; k++)
    f.insert(d.m->pt.ptep_get(d.m->page(s) + k * d.m->cfg.page_size()).frame);
  EXPECT_EQ(f.size(), 8u) << "no dedup below a section (6.12 would keep 2)";
  ASSERT_EQ(memunmap_pages(*d.m, d.hp, a), 0);
  // A whole optimized section, then a sub-section into it.
  const uint64_t s2 = s + d.m->cfg.pages_per_section();
  ASSERT_EQ(memremap_pages(*d.m, d.hp, d.req(s2, d.m->cfg.pages_per_section(), 9), b), 0);
  EXPECT_EQ(__add_pages(*d.m, d.hp, 0, s2, 512, &d.hp.pgmaps[b]), kEOPNOTSUPP);
  // 6.12 refuses the same request later, at the subsection map.
  MsDax legacy(12, Era::Legacy, Variant::D612);
  uint32_t c = 0;
  const uint64_t l2 = legacy.base(legacy.m->cfg.pages_per_section());
  ASSERT_EQ(memremap_pages(*legacy.m, legacy.hp, legacy.req(l2, legacy.m->cfg.pages_per_section(), 9), c), 0);
  EXPECT_EQ(__add_pages(*legacy.m, legacy.hp, 0, l2, 512, &legacy.hp.pgmaps[c]), kEEXIST);
  EXPECT_EQ(d.violations(), "");
}

TEST(MuchunDax, AllocationFailureAtEveryPointLeavesOnlyTheSharedTail) {
  MsDax probe;
  const uint64_t nr = probe.m->cfg.pages_per_section();
  const uint64_t pfn = probe.base(nr);
  const uint64_t before = probe.m->phys.alloc_attempts();
  uint32_t id = 0;
  ASSERT_EQ(memremap_pages(*probe.m, probe.hp, probe.req(pfn, nr, 9), id), 0);
  const uint64_t attempts = probe.m->phys.alloc_attempts() - before;
  ASSERT_GT(attempts, 64u);
  for (uint64_t n = 1; n <= attempts; n++) {
    MsDax d;
    const uint64_t live = d.live();
    d.m->phys.fault.fail_nth = n;
    d.m->phys.fault.attempts_since_arm = 0;
    ASSERT_NE(memremap_pages(*d.m, d.hp, d.req(pfn, nr, 9), id), 0) << n;
    EXPECT_EQ(d.live(), live + d.m->shared_tails.frames) << "attempt " << n;
    EXPECT_EQ(d.violations(), "") << "attempt " << n;
  }
}

// ---- savings, shared-tail era: kernel-reference section 4 -------------------------

class SharedTailSavings : public ::testing::TestWithParam<unsigned> {};

TEST_P(SharedTailSavings, HugetlbSavesVMinusOneAndDaxSavesVMinusOne) {
  const unsigned shift = GetParam();
  const SavingsReport r = compute_savings(shift, 64, Era::SharedTail);
  ASSERT_EQ(r.error, "");
  const unsigned min = shift == 12 ? 7 : shift == 14 ? 9 : 11;
  unsigned hugetlb_rows = 0, dax_rows = 0;
  for (const HugetlbSavings &s : r.hugetlb) {
    if (s.vmemmap_den != 1 || s.vmemmap_num < 2)
      continue;
    EXPECT_TRUE(s.optimized) << s.order;
    EXPECT_EQ(s.saved, static_cast<int64_t>(s.vmemmap_num) - 1) << s.order;
    EXPECT_EQ(s.keeps, 1u) << s.order;
    EXPECT_EQ(s.shared_tails, 1u) << "one shared frame per (zone, order): " << s.order;
    hugetlb_rows++;
  }
  for (const DaxSavings &s : r.dax) {
    EXPECT_EQ(s.optimized, s.order >= min) << s.order;
    EXPECT_EQ(s.saved, s.order >= min ? static_cast<int64_t>(s.vmemmap_pages) - 1 : 0) << s.order;
    EXPECT_EQ(s.shared_tails, s.order >= min ? 1u : 0u) << s.order;
    dax_rows++;
  }
  EXPECT_EQ(hugetlb_rows, 34 - shift - min + 1);
  EXPECT_EQ(dax_rows, 34 - shift - (min - 1) + 1);
  // Spot values of the reference table (4K: 2M 7/7, 1G 4095/4095, 16G 65535/65535).
  if (shift == 12)
    for (const DaxSavings &s : r.dax) {
      if (s.order == 9)
        EXPECT_EQ(s.saved, 7);
      if (s.order == 18)
        EXPECT_EQ(s.saved, 4095);
      if (s.order == 22)
        EXPECT_EQ(s.saved, 65535);
    }
}

INSTANTIATE_TEST_SUITE_P(PageSizes, SharedTailSavings, ::testing::Values(12u, 14u, 16u),
                         [](const auto &i) { return std::to_string(1u << (i.param - 10)) + "K"; });

} // namespace
} // namespace hvo
