// SPDX-License-Identifier: GPL-2.0-only
//
// The powerpc Book3S-64 radix vmemmap paths (Config::arch = Ppc64Radix):
// Debian 6.12.117 arch/powerpc/mm/book3s64/radix_pgtable.c and the helpers
// it uses from arch/powerpc/mm/init_64.c.  The generic code in
// sparse_vmemmap.cpp calls these where the kernel calls the arch's
// vmemmap_populate, vmemmap_populate_compound_pages and vmemmap_free.
//
// The radix vmemmap_can_optimize override (radix_pgtable.c l.991-998) is the
// generic __vmemmap_can_optimize when the radix MMU is on, so the generic
// gate is used unchanged.
//
// Historic bug PpcCompoundWrongPfn (Muchun Song, v2 03/69 "powerpc/mm: Fix
// wrong addr_pfn tracking in compound vmemmap population"): before the fix,
// vmemmap_populate_compound_pages carried addr_pfn as loop state starting at
// start_pfn and advanced it by 1 per vmemmap page (2 after a head, PMD_SIZE
// >> PAGE_SHIFT over a PMD leaf), while each vmemmap page holds PAGE_SIZE /
// sizeof(struct page) struct pages; head/tail decisions were then made for
// the wrong compound-page position.  Debian 6.12.117 carries the fix.
#pragma once

#include <cstdint>

#include "hvo/memremap.h"

namespace hvo {

class Machine;

/// radix__vmemmap_populate (radix_pgtable.c 6.12 l.1125-1222): PMD-sized
/// blocks where the PMD is empty (aligned down to the PMD without an
/// altmap; with one only when the block lies inside the device), base pages
/// otherwise.  0 or -ENOMEM.
int radix__vmemmap_populate(Machine &m, HotplugState &hp, std::uint64_t start, std::uint64_t end,
                            unsigned node, DevPagemap *altmap_owner);

/// vmemmap_populate_compound_pages (radix_pgtable.c 6.12 l.1310-1410): a
/// fresh head vmemmap page and second vmemmap page per compound page, every
/// later vmemmap page mapping the second (vmemmap_compound_tail_page, found
/// by address arithmetic and populated if missing).  0 or -ENOMEM.
int radix_vmemmap_populate_compound_pages(Machine &m, HotplugState &hp, std::uint64_t start_pfn,
                                          std::uint64_t start, std::uint64_t end, unsigned node,
                                          DevPagemap &pgmap);

/// radix__vmemmap_free (radix_pgtable.c 6.12 l.1419-1423): remove_pagetable
/// (l.905-942) with direct = false at the PMD and PTE levels.  A partial
/// PMD leaf or page goes only when no valid subsection's memmap remains in
/// it (vmemmap_pmd_is_unused / vmemmap_page_is_unused).
void radix__vmemmap_free(Machine &m, HotplugState &hp, std::uint64_t start, std::uint64_t end,
                         DevPagemap *pgmap);

} // namespace hvo
