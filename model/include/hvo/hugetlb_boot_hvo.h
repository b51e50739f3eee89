// SPDX-License-Identifier: GPL-2.0-only
//
// Boot-time HVO of gigantic bootmem pages in the shared-tail era (Kiryl v7
// 09/18 "defer bootmem population" + 12/18 "remove fake head pages"):
// hugetlb_vmemmap_init_late() populates such a page's memmap HVO-style
// (vmemmap_populate_hvo: a fresh head page, every other vmemmap page mapped
// to the zone's tail frame, which at that point is allocated but not
// initialised), and the late_initcall hugetlb_vmemmap_init() initialises the
// zone tails afterwards.
//
// The model's machine is already booted when an op asks for boot gigantic
// pages, with the memmap of those pfns populated normally; the port
// therefore replaces that memmap as vmemmap_populate_hvo() would have built
// it (the frames it would never have allocated go back to memblock), then
// runs the rest of the boot sequence in order.
#pragma once

#include <cstdint>

namespace hvo {

class Machine;
struct HugetlbFolio;

/// Whether hugetlb_vmemmap_init_early() would pre-HVO a bootmem page of
/// @order at @pfn (shared-tail era, HVO on, optimizable order, the page
/// aligned to a section and to PMD_SIZE / sizeof(struct page) pages,
/// linux-mm mm/hugetlb_vmemmap.c @9fda9e6b hugetlb_vmemmap_init_early).
bool hugetlb_bootmem_page_prehvo(const Machine &m, uint64_t pfn, unsigned order);

/// What hugetlb_vmemmap_init_late() made of one bootmem page.
enum class BootHvo {
  Hvo,        // vmemmap_populate_hvo(): head page private, the rest the zone's tail
  Normal,     // HVO population failed: vmemmap_populate() fallback
  Discarded,  // the page spans zones: normal memmap, memblock_phys_free(), no folio
};

/// hugetlb_vmemmap_init_late() for one page (Kiryl v7 09/18 + 12/18): a
/// page that spans zones is taken off the list, its memmap populated
/// normally and the page given back to memblock; otherwise
/// vmemmap_populate_hvo(start, end, order, zone, PAGE_SIZE) with the zone's
/// tail allocated uninitialised, or the normal memmap if that fails.
BootHvo hugetlb_vmemmap_init_late_page(Machine &m, uint64_t pfn, unsigned order);

/// hugetlb_vmemmap_init_late_page() builds the PTE tables of a PMD-mapped
/// boot memmap with their final entries at once; true selects the port's
/// own loops (PTE-map every leaf, then set_pte_at page by page), kept as the
/// reference (tests/fastpath/boot_hvo_test.cpp).  Same state either way.
/// Process-wide; off by default.
inline bool hugetlb_boot_hvo_reference_paths = false;

/// hugetlb_vmemmap_init() (late_initcall, Kiryl v7 12/18): init_compound_tail
/// over every zone tail that was allocated but not initialised.
void hugetlb_vmemmap_init_tails(Machine &m);

} // namespace hvo
