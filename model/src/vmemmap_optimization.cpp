// SPDX-License-Identifier: GPL-2.0-only
//
// Shared-tail era constants (include/linux/mmzone.h after Kiryl Shutsemau's
// "Eliminate fake head pages", include/linux/vmemmap-optimization.h in the mm
// tree), computed from the simulated configuration.
#include "hvo/vmemmap_optimization.h"

namespace hvo {

unsigned ilog2_u64(std::uint64_t v) {
  unsigned r = 0;
  while (v >>= 1)
    ++r;
  return r;
}

// mmzone.h (KV7 12/18) l.81-97: 64-bit with HugeTLB caps folios at 16 GiB.
unsigned max_folio_order(const VmemmapGeometry &g) {
  constexpr unsigned kLog2Sz16G = 34;
  return kLog2Sz16G - g.page_shift;
}

// mmzone.h (KV7 12/18) l.110-116.
unsigned vmemmap_tail_min_order(const VmemmapGeometry &g) {
  return ilog2_u64(2 * g.page_size() / g.struct_page_size);
}

// mmzone.h (KV7 12/18) l.110-116: __NR_VMEMMAP_TAILS clamped at 0.
unsigned nr_vmemmap_tails(const VmemmapGeometry &g) {
  const int n = static_cast<int>(max_folio_order(g)) -
                static_cast<int>(vmemmap_tail_min_order(g)) + 1;
  return n > 0 ? static_cast<unsigned>(n) : 0;
}

// mmzone.h @00f68374, MAX_FOLIO_VMEMMAP_ALIGN.
std::uint64_t max_folio_vmemmap_align(const VmemmapGeometry &g) {
  if (!g.hvo_config || !g.struct_page_is_power_of_two())
    return 0;
  return (std::uint64_t{1} << max_folio_order(g)) * g.struct_page_size;
}

// page-flags.h @03e0599d, compound_info_has_mask().
bool compound_info_has_mask(const VmemmapGeometry &g) {
  return g.hvo_config && g.struct_page_is_power_of_two();
}

// vmemmap-optimization.h (mm tree), vmemmap_optimizable_order().
bool vmemmap_optimizable_order(const VmemmapGeometry &g, unsigned order) {
  if (!g.hvo_config || !g.struct_page_is_power_of_two())
    return false;
  return order >= vmemmap_tail_min_order(g);
}

bool vmemmap_base_is_aligned(const VmemmapGeometry &g, std::uint64_t vmemmap_base) {
  const std::uint64_t align = max_folio_vmemmap_align(g);
  return align == 0 || vmemmap_base % align == 0;
}

} // namespace hvo
