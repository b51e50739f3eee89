// SPDX-License-Identifier: GPL-2.0-only
//
// The value stored in word 1 of a tail struct page (compound_head in 6.12,
// renamed compound_info by Kiryl Shutsemau) and its decode, in both forms:
//
//  - pointer form (6.12, and the shared-tail era when sizeof(struct page) is
//    not a power of two): head address | 1;
//  - mask form (shared-tail era): GENMASK(63, order + log2(S)) | 1, the same
//    value for every tail of every folio of one order, which is what lets
//    one tail frame be shared.
//
// These are pure functions of addresses; reading word 1 through the MMU is
// the caller's job (the model core's struct page accessors).
#pragma once

#include "hvo/vmemmap_optimization.h"

#include <cstdint>

namespace hvo {

/// set_compound_head() pointer branch (page-flags.h @03e0599d; 6.12 l.853-856):
/// the word written into a tail that points at @head_addr.
std::uint64_t compound_info_pointer(std::uint64_t head_addr);

/// set_compound_head() mask branch (page-flags.h @03e0599d):
/// GENMASK(BITS_PER_LONG - 1, order + order_base_2(S)) | 1.
std::uint64_t compound_info_mask(const VmemmapGeometry &g, unsigned order);

/// set_compound_head(tail, head, order): picks the branch by
/// compound_info_has_mask().
std::uint64_t compound_info_encode(const VmemmapGeometry &g, std::uint64_t head_addr,
                                   unsigned order);

/// _compound_head() (page-flags.h @03e0599d) for @page_addr whose word 1 reads
/// @info.  Mask form, branch-free as in the kernel:
///   mask = (info & 1) - 1   (non-tail: all ones; tail: 0)
///   mask |= info            (non-tail: all ones; tail: info)
///   head = page & mask
/// Pointer form: info - 1 if bit 0 is set, else the page itself.  The 6.12
/// fake-head fallback (page_fixed_fake_head) is not here: it reads a second
/// struct page and lives with the legacy core.
std::uint64_t compound_info_decode(const VmemmapGeometry &g, std::uint64_t page_addr,
                                   std::uint64_t info);

/// PageTail() in the shared-tail era: bit 0 of word 1, nothing else.
inline bool compound_info_is_tail(std::uint64_t info) { return (info & 1) != 0; }

} // namespace hvo
