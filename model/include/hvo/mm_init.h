// SPDX-License-Identifier: GPL-2.0-only
//
// Port of the ZONE_DEVICE part of mm/mm_init.c (Debian 6.12.117): the
// initialisation of device struct pages after their memmap is populated,
// which for compound pagemaps writes only the struct pages that have a
// vmemmap page of their own.
#pragma once

#include <cstdint>

#include "hvo/memremap.h"

namespace hvo {

class Machine;

/// compound_nr_pages (mm/mm_init.c 6.12 l.1034-1048): struct pages to
/// initialise per compound page: 2 * SPP when the memmap was deduplicated,
/// every one in an early section or without optimization.
std::uint64_t compound_nr_pages(const Machine &m, const HotplugState &hp, std::uint64_t pfn,
                                const DevPagemap &pgmap);

/// memmap_init_range() for ZONE_DEVICE under MEMINIT_HOTPLUG (l.864-928):
/// only the pfns that hold an altmap's memmap are initialised, as reserved
/// pages; without an altmap nothing is.
void memmap_init_range_zone_device(Machine &m, std::uint64_t start_pfn, std::uint64_t nr_pages,
                                   unsigned nid, const DevPagemap &pgmap);

/// memmap_init_zone_device (l.1077-1122) with __init_zone_device_page
/// (l.993-1023) and memmap_init_compound (l.1050-1075).  Where no store
/// can fault, the stores into the tails of an aligned compound page (and,
/// with order-0 pgmaps, into the whole range) are made as one composed
/// range store rather than a pass per kernel helper.
void memmap_init_zone_device(Machine &m, const HotplugState &hp, unsigned nid,
                             std::uint64_t start_pfn, std::uint64_t nr_pages,
                             const DevPagemap &pgmap);

/// tests/fastpath/dax_init_test.cpp turns this on: memmap_init_zone_device
/// then makes every kernel helper's stores in a pass of its own, struct page
/// range by range as the kernel's loops do (the reference the composed
/// stores are pinned to).  Process-wide; off by default.
inline bool zone_device_init_reference = false;
/// How many composed range stores memmap_init_zone_device has made (the
/// tests check that the fast path runs, not only that it would agree).
inline std::uint64_t zone_device_composed_stores = 0;
/// How many of them gave a compound page's first vmemmap page the image the
/// same stores left in an earlier one (the tests check that this runs too).
inline std::uint64_t zone_device_first_page_reuses = 0;

} // namespace hvo
