// SPDX-License-Identifier: GPL-2.0-only
//
// Gigantic bootmem pages that memblock placed across a zone boundary
// (boot_gigantic_at).  Debian 6.12 makes them folios whose tails all take the
// head's zone (no check in gather_bootmem_prealloc_node); the 6.15+ trees the
// shared-tail era ports never use them: Kiryl v7 09/18's
// hugetlb_vmemmap_init_late populates the memmap of a pre-HVO candidate
// normally and memblock_phys_free()s it, and gather_bootmem_prealloc_node's
// hugetlb_bootmem_page_zones_valid() check frees any other one.
#include "hvo/differential.h"
#include "hvo/hugetlb_boot_hvo.h"
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

struct BootRun {
  std::unique_ptr<Model> md;
  std::vector<Violation> violations;

  explicit BootRun(const std::string &config) : md(test::boot_text(config)) {}
  StepResult op(const std::string &line) {
    StepResult r = test::apply_text(*md, line);
    violations.insert(violations.end(), r.violations.begin(), r.violations.end());
    return r;
  }
  Machine &m() { return md->machine(); }
  std::string report() const {
    std::string s;
    for (const Violation &v : violations)
      s += format_violation(v) + "\n";
    return s;
  }
  size_t count(std::string_view id) const {
    size_t n = 0;
    for (const Violation &v : violations)
      n += v.id == id;
    return n;
  }
};

// DMA32 ends at 640 MiB (a section multiple, not a 1 GiB multiple): the
// 1 GiB page at pfn 0 straddles DMA32 and Normal; the one at 1 GiB does not.
std::string config(const std::string &era_variant) {
  return "page-size=4K struct-page=64 mem=0:DMA32:640M,0:Normal:3456M " + era_variant;
}

class BootCrossZoneShared : public ::testing::TestWithParam<const char *> {};

TEST_P(BootCrossZoneShared, APageSpanningZonesIsGivenBackAndNeverAFolio) {
  BootRun r(config(std::string("era=shared-tail variant=") + GetParam()));
  const uint64_t free0 = r.m().phys.node_free_pages(0);
  const int64_t memmap0 = r.m().phys.memmap_pages + r.m().phys.memmap_boot_pages;
  const StepResult s = r.op("boot_gigantic_at order=18 slot=0");
  EXPECT_EQ(s.result.ret, -ENOMEM_);
  EXPECT_TRUE(s.result.folios.empty());
  EXPECT_TRUE(r.m().folios.empty());
  EXPECT_EQ(r.m().phys.node_free_pages(0), free0) << "memblock_phys_free: every pfn back";
  EXPECT_EQ(r.m().phys.memmap_pages + r.m().phys.memmap_boot_pages, memmap0)
      << "the memmap stays the normal one";
  EXPECT_EQ(r.m().shared_tails.frames, 0u) << "no tail is allocated for a discarded page";
  // The same pfns can be used again (the page is really free).
  EXPECT_EQ(r.op("boot_gigantic_at order=9 slot=0").result.ret, 0);
  EXPECT_EQ(r.report(), "");
  EXPECT_EQ(r.md->check_all().size(), 0u);
}

TEST_P(BootCrossZoneShared, APageInsideOneZoneIsPreHvoed) {
  BootRun r(config(std::string("era=shared-tail variant=") + GetParam()));
  const StepResult s = r.op("boot_gigantic_at order=18 slot=1");
  ASSERT_EQ(s.result.ret, 0);
  ASSERT_EQ(s.result.folios.size(), 1u);
  Machine &m = r.m();
  const HugetlbFolio &f = m.folios[s.result.folios[0]];
  EXPECT_EQ(f.pfn, uint64_t{1} << 18);
  EXPECT_TRUE(folio_test_hugetlb_vmemmap_optimized(m, m.page(f.pfn)));
  EXPECT_EQ(r.op("free_folio folio=0").result.ret, 0);
  EXPECT_EQ(r.report(), "");
}

TEST_P(BootCrossZoneShared, HvoOffTakesGathersOwnZoneCheck) {
  // With HVO off no page is a pre-HVO candidate: the discard comes from
  // gather_bootmem_prealloc_node's hugetlb_bootmem_page_zones_valid().
  BootRun r(config(std::string("era=shared-tail variant=") + GetParam()));
  r.op("sysctl_hvo value=0");
  EXPECT_EQ(r.op("boot_gigantic_at order=18 slot=0").result.ret, -ENOMEM_);
  EXPECT_TRUE(r.m().folios.empty());
  EXPECT_EQ(r.report(), "");
}

// kiryl-v6 discards the same way; its tails carry the I4 finding of
// docs/findings-model.md, which would drown these expectations.
INSTANTIATE_TEST_SUITE_P(Variants, BootCrossZoneShared, ::testing::Values("kiryl-v7", "muchun"),
                         [](const auto &info) {
                           std::string s = info.param;
                           for (char &c : s)
                             if (c == '-')
                               c = '_';
                           return s;
                         });

// Debian 6.12: no zone check.  The page becomes a folio, its tails take the
// head's zone (DMA32) although pfns 640 MiB.. are Normal, and the batch
// optimizes it: the oracle reports I5 (the folio spans zones).  Fixed
// upstream in 6.15 (hugetlb_bootmem_page_zones_valid).
TEST(BootCrossZoneLegacy, D612MakesAFolioThatSpansZones) {
  BootRun r(config("variant=D612"));
  const StepResult s = r.op("boot_gigantic_at order=18 slot=0");
  ASSERT_EQ(s.result.ret, 0);
  ASSERT_EQ(s.result.folios.size(), 1u);
  EXPECT_EQ(r.count("I5-zone-node"), 1u) << r.report();
  Machine &m = r.m();
  const uint64_t normal_pfn = (640ull << 20) >> 12;  // first Normal pfn
  const uint64_t tail = m.page(normal_pfn);
  EXPECT_EQ(page_zonenum(m, tail), static_cast<unsigned>(ZoneType::DMA32))
      << "a Normal pfn reads the head's zone";
  EXPECT_TRUE(folio_test_hugetlb_vmemmap_optimized(m, m.page(0)));
}

TEST(BootCrossZoneLegacy, RefusesMisalignedOrForeignPlacements) {
  BootRun r(config("variant=D612"));
  EXPECT_EQ(r.op("boot_gigantic_at order=18 slot=4").result.ret, -EINVAL_)
      << "pfns 4 GiB.. are not memory";
  EXPECT_EQ(r.op("boot_gigantic_at order=18 slot=1").result.ret, 0);
  EXPECT_EQ(r.op("boot_gigantic_at order=18 slot=1").result.ret, -ENOMEM_) << "already taken";
  EXPECT_EQ(r.op("boot_gigantic_at order=1 slot=0").result.ret, -EINVAL_) << "below hstate orders";
}

// The differential oracle (legacy D612 vs shared-tail) stops at the op with
// the documented allowance instead of reporting a divergence; a boot page
// inside one zone is compared as usual.
TEST(BootCrossZoneDifferential, TheDiscardIsADocumentedDifference) {
  Config c;
  ASSERT_EQ(parse_config_args(config("variant=D612"), c), "");
  for (Variant shared : {Variant::KirylV7, Variant::Muchun}) {
    Op inside, across;
    ASSERT_EQ(parse_op("boot_gigantic_at order=18 slot=1", inside), "");
    ASSERT_EQ(parse_op("boot_gigantic_at order=18 slot=0", across), "");
    DiffOptions opt;
    opt.shared_variant = shared;
    const std::vector<Op> ops{inside, across};
    const DiffResult r = run_differential(c, ops, opt);
    EXPECT_FALSE(r.diverged) << r.format();
    ASSERT_TRUE(r.stopped) << r.format();
    ASSERT_EQ(r.allowed.size(), 1u);
    EXPECT_EQ(r.allowed[0].id, "boot-cross-zone");
    EXPECT_EQ(r.allowed[0].op_index, 1u);
  }
}

}  // namespace
}  // namespace hvo
