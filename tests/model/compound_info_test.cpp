// SPDX-License-Identifier: GPL-2.0-only
//
// Mask-encoded compound_info (shared-tail era) and the constants it rests on,
// against kernel-reference sections 3.1, 3.2 and 4.
#include "hvo/compound_info.h"
#include "hvo/vmemmap_optimization.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hvo {
namespace {

struct ConstantsRow {
  unsigned page_shift;
  std::uint64_t spp;
  unsigned min_order;
  unsigned max_order;
  unsigned nr_tails;
  std::uint64_t align;
};

class SharedTailConstants : public ::testing::TestWithParam<ConstantsRow> {};

// kernel-reference section 4, first table.
TEST_P(SharedTailConstants, MatchKernelReferenceTable) {
  const ConstantsRow row = GetParam();
  const VmemmapGeometry g{row.page_shift, 64, true};
  EXPECT_EQ(g.struct_pages_per_page(), row.spp);
  EXPECT_EQ(vmemmap_tail_min_order(g), row.min_order);
  EXPECT_EQ(max_folio_order(g), row.max_order);
  EXPECT_EQ(nr_vmemmap_tails(g), row.nr_tails);
  EXPECT_EQ(max_folio_vmemmap_align(g), row.align);
  EXPECT_TRUE(compound_info_has_mask(g));
  EXPECT_FALSE(vmemmap_optimizable_order(g, row.min_order - 1));
  EXPECT_TRUE(vmemmap_optimizable_order(g, row.min_order));
}

INSTANTIATE_TEST_SUITE_P(
    PageSizes, SharedTailConstants,
    ::testing::Values(ConstantsRow{12, 64, 7, 22, 16, std::uint64_t{256} << 20},
                      ConstantsRow{14, 256, 9, 20, 12, std::uint64_t{64} << 20},
                      ConstantsRow{16, 1024, 11, 18, 8, std::uint64_t{16} << 20}),
    [](const auto &info) { return std::to_string(1u << (info.param.page_shift - 10)) + "K"; });

TEST(SharedTailConstants, NonPowerOfTwoStructPageDisablesMaskAndAlignment) {
  for (std::uint64_t s : {72u, 80u}) {
    const VmemmapGeometry g{12, s, true};
    EXPECT_FALSE(compound_info_has_mask(g)) << s;
    EXPECT_EQ(max_folio_vmemmap_align(g), 0u) << s;
    EXPECT_FALSE(vmemmap_optimizable_order(g, 18)) << s;
    EXPECT_TRUE(vmemmap_base_is_aligned(g, 0xffffea0000001000ull)) << s;
  }
}

TEST(SharedTailConstants, HvoConfigOffKeepsPointerEncoding) {
  const VmemmapGeometry g{12, 64, false};
  EXPECT_FALSE(compound_info_has_mask(g));
  EXPECT_EQ(compound_info_encode(g, 0xffffea0000000040ull, 9), 0xffffea0000000041ull);
}

// One (page size, order) pair of the encode/decode sweep.
struct EncodeCase {
  unsigned page_shift;
  unsigned order;
};

std::vector<EncodeCase> every_order_every_page_size() {
  std::vector<EncodeCase> cases;
  for (unsigned shift : {12u, 14u, 16u}) {
    const VmemmapGeometry g{shift, 64, true};
    for (unsigned o = 0; o <= max_folio_order(g); ++o)
      cases.push_back({shift, o});
  }
  return cases;
}

class MaskEncoding : public ::testing::TestWithParam<EncodeCase> {
protected:
  // x86-64's VMEMMAP_START, a multiple of every MAX_FOLIO_VMEMMAP_ALIGN.
  static constexpr std::uint64_t kAlignedBase = 0xffffea0000000000ull;
};

// Slots of a folio worth checking without visiting 2^22 of them: the first and
// last two vmemmap pages' worth and a stride through the middle.
std::vector<std::uint64_t> sample_tail_indices(std::uint64_t nr, std::uint64_t spp) {
  std::vector<std::uint64_t> idx;
  for (std::uint64_t i = 1; i < nr && i <= 2 * spp; ++i)
    idx.push_back(i);
  const std::uint64_t stride = nr / 97 + 1;
  for (std::uint64_t i = 2 * spp; i < nr; i += stride)
    idx.push_back(i);
  for (std::uint64_t i = nr > 2 * spp ? nr - 2 * spp : 1; i < nr; ++i)
    idx.push_back(i);
  return idx;
}

TEST_P(MaskEncoding, EveryTailDecodesToItsHeadOnAnAlignedBase) {
  const auto [shift, order] = GetParam();
  const VmemmapGeometry g{shift, 64, true};
  ASSERT_TRUE(vmemmap_base_is_aligned(g, kAlignedBase));
  const std::uint64_t nr = std::uint64_t{1} << order;
  const std::uint64_t info = compound_info_mask(g, order);
  // Three folios: pfn 0, a middle one and the last order-aligned one below 2^34 pfns.
  for (std::uint64_t folio : {std::uint64_t{0}, std::uint64_t{5}, (std::uint64_t{1} << (34 - order)) - 1}) {
    const std::uint64_t head = kAlignedBase + folio * nr * g.struct_page_size;
    EXPECT_EQ(compound_info_encode(g, head, order), info) << "tails must not depend on the head";
    EXPECT_EQ(compound_info_decode(g, head, 0), head) << "a head decodes to itself";
    for (std::uint64_t i : sample_tail_indices(nr, g.struct_pages_per_page())) {
      const std::uint64_t slot = head + i * g.struct_page_size;
      ASSERT_EQ(compound_info_decode(g, slot, info), head) << "order " << order << " slot " << i;
      ASSERT_TRUE(compound_info_is_tail(info));
    }
  }
}

TEST_P(MaskEncoding, MisalignedBaseResolvesSomeTailToAWrongHead) {
  const auto [shift, order] = GetParam();
  const VmemmapGeometry g{shift, 64, true};
  const std::uint64_t nr = std::uint64_t{1} << order;
  // Misaligned by one vmemmap page: every order whose struct pages span more
  // than one page is decoded wrongly for its first tail.
  const std::uint64_t base = kAlignedBase + g.page_size();
  EXPECT_FALSE(vmemmap_base_is_aligned(g, base));
  const std::uint64_t head = base; // folio at pfn 0
  const std::uint64_t info = compound_info_mask(g, order);
  const std::uint64_t first_tail = head + g.struct_page_size;
  const bool folio_fits_in_one_page = nr * g.struct_page_size <= g.page_size();
  if (order == 0)
    return; // an order-0 page has no tail
  EXPECT_EQ(compound_info_decode(g, first_tail, info) == head, folio_fits_in_one_page)
      << "order " << order;
}

INSTANTIATE_TEST_SUITE_P(AllOrders, MaskEncoding, ::testing::ValuesIn(every_order_every_page_size()),
                         [](const auto &info) {
                           return std::to_string(1u << (info.param.page_shift - 10)) + "K_order" +
                                  std::to_string(info.param.order);
                         });

TEST(PointerEncoding, NonPowerOfTwoStructPageFallsBackToHeadPointer) {
  for (std::uint64_t s : {72u, 80u}) {
    const VmemmapGeometry g{12, s, true};
    const std::uint64_t base = 0xffffea0000000000ull + 8; // alignment is irrelevant here
    for (unsigned order : {1u, 9u, 18u}) {
      const std::uint64_t head = base + (std::uint64_t{3} << order) * s;
      const std::uint64_t info = compound_info_encode(g, head, order);
      EXPECT_EQ(info, head | 1);
      for (std::uint64_t i : {std::uint64_t{1}, std::uint64_t{63}, (std::uint64_t{1} << order) - 1})
        EXPECT_EQ(compound_info_decode(g, head + i * s, info), head);
      EXPECT_EQ(compound_info_decode(g, head, 0), head);
    }
  }
}

} // namespace
} // namespace hvo
