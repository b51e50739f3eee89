// SPDX-License-Identifier: GPL-2.0-only
//
// Encode and decode of a tail's compound_info word (include/linux/page-flags.h
// in linux-mm @03e0599d: set_compound_head, _compound_head).
#include "hvo/compound_info.h"

namespace hvo {

std::uint64_t compound_info_pointer(std::uint64_t head_addr) { return head_addr | 1; }

// set_compound_head() mask branch: GENMASK(63, shift) | 1.
std::uint64_t compound_info_mask(const VmemmapGeometry &g, unsigned order) {
  const unsigned shift = order + ilog2_u64(g.struct_page_size);
  const std::uint64_t mask = shift >= 64 ? 0 : ~std::uint64_t{0} << shift;
  return mask | 1;
}

std::uint64_t compound_info_encode(const VmemmapGeometry &g, std::uint64_t head_addr,
                                   unsigned order) {
  if (!compound_info_has_mask(g))
    return compound_info_pointer(head_addr);
  return compound_info_mask(g, order);
}

// _compound_head(): the mask branch has no conditional on the tail bit; the
// only branch is the configuration one, which the kernel resolves at compile
// time.
std::uint64_t compound_info_decode(const VmemmapGeometry &g, std::uint64_t page_addr,
                                   std::uint64_t info) {
  if (!compound_info_has_mask(g)) {
    if (info & 1)
      return info - 1;
    return page_addr;
  }
  std::uint64_t mask = (info & 1) - 1; // non-tail: all ones, tail: 0
  mask |= info;                        // non-tail: all ones, tail: info
  return page_addr & mask;
}

} // namespace hvo
