// SPDX-License-Identifier: GPL-2.0-only
//
// Shared-tail era constants of the vmemmap optimization, as functions of the
// simulated configuration (page size, sizeof(struct page)).  In the kernel
// these are compile-time macros; the model is one binary for every
// configuration, so they are computed here from the two numbers they depend
// on.  Every function names the macro it ports.
#pragma once

#include <cstdint>

namespace hvo {

/// The two numbers every constant below depends on.
struct VmemmapGeometry {
  unsigned page_shift = 12;            ///< 12 (4K), 14 (16K) or 16 (64K)
  std::uint64_t struct_page_size = 64; ///< sizeof(struct page): 64, 72 or 80
  /// CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP (the boot/sysctl switch is separate).
  bool hvo_config = true;

  std::uint64_t page_size() const { return std::uint64_t{1} << page_shift; }
  /// Struct pages per vmemmap page ("SPP" in docs/model.md).
  std::uint64_t struct_pages_per_page() const { return page_size() / struct_page_size; }
  bool struct_page_is_power_of_two() const {
    return struct_page_size != 0 && (struct_page_size & (struct_page_size - 1)) == 0;
  }
};

/// ilog2 of a non-zero value (floor).
unsigned ilog2_u64(std::uint64_t v);

/// MAX_FOLIO_ORDER for a 64-bit kernel with HugeTLB: ilog2(SZ_16G) - PAGE_SHIFT
/// (include/linux/mmzone.h, Kiryl v7 12/18, post-patch l.81-97).  The
/// "no HugeTLB" branch (PUD_SHIFT - PAGE_SHIFT) is not modelled: HVO depends on
/// CONFIG_HUGETLB_PAGE.
unsigned max_folio_order(const VmemmapGeometry &g);

/// VMEMMAP_TAIL_MIN_ORDER = ilog2(2 * PAGE_SIZE / sizeof(struct page))
/// (mmzone.h, Kiryl v7 12/18, post-patch l.110-116): the smallest order whose
/// struct pages fill two or more vmemmap pages.
unsigned vmemmap_tail_min_order(const VmemmapGeometry &g);

/// NR_VMEMMAP_TAILS = max(0, MAX_FOLIO_ORDER - VMEMMAP_TAIL_MIN_ORDER + 1)
/// (same lines): slots of zone->vmemmap_tails[] (per node in v3-v6).
unsigned nr_vmemmap_tails(const VmemmapGeometry &g);

/// MAX_FOLIO_VMEMMAP_ALIGN (mmzone.h @00f68374, below MAX_FOLIO_NR_PAGES):
/// MAX_FOLIO_NR_PAGES * sizeof(struct page) when HVO is configured and the
/// struct page size is a power of two, else 0 (no requirement).
std::uint64_t max_folio_vmemmap_align(const VmemmapGeometry &g);

/// compound_info_has_mask() (include/linux/page-flags.h @03e0599d): the mask
/// encoding is used iff CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP and
/// sizeof(struct page) is a power of two.
bool compound_info_has_mask(const VmemmapGeometry &g);

/// vmemmap_optimizable_order() (include/linux/vmemmap-optimization.h, mm
/// tree @5543e26f): config on, power-of-two struct page, order >= the
/// minimum order (VMEMMAP_OPTIMIZATION_MIN_ORDER == VMEMMAP_TAIL_MIN_ORDER,
/// see docs/model.md "shared-tail era" for why the values coincide).
bool vmemmap_optimizable_order(const VmemmapGeometry &g, unsigned order);

/// Whether a VMEMMAP_BASE (the address of pfn 0's struct page) satisfies the
/// alignment the mask decode needs; sparse_init() warns once otherwise
/// (Kiryl v7 08/18).  A zero requirement is always satisfied.
bool vmemmap_base_is_aligned(const VmemmapGeometry &g, std::uint64_t vmemmap_base);

} // namespace hvo
