// SPDX-License-Identifier: GPL-2.0-only
//
// Port of the memmap population and removal paths of mm/sparse-vmemmap.c
// (Debian 6.12.117, which carries the SPARSEMEM_VMEMMAP hotplug helpers of
// mm/sparse.c), the x86-64 arch hooks they call (arch/x86/mm/init_64.c
// vmemmap_populate / vmemmap_free), and include/linux/mm.h
// vmemmap_can_optimize.  This is where device-DAX compound pagemaps
// deduplicate their tail struct pages (Joao Martins, seed 003).
#pragma once

#include <cstdint>
#include <optional>

#include "hvo/memremap.h"

namespace hvo {

class Machine;

/// VMEMMAP_RESERVE_NR (mm.h 6.12 l.3940): vmemmap pages a DAX compound page
/// keeps (head page + one page of tails that every other page aliases).
inline constexpr unsigned VMEMMAP_RESERVE_NR = 2;

/// __vmemmap_optimize (mm.h 6.12 l.3942-3958): pgmap present, power-of-two
/// struct page, no altmap, and more than VMEMMAP_RESERVE_NR vmemmap pages per
/// compound page.
bool vmemmap_can_optimize(const Machine &m, const DevPagemap *pgmap);

/// section_nr_vmemmap_pages (6.12 mm/sparse-vmemmap.c l.542-565): the memmap
/// pages that populating [pfn, pfn + nr_pages) adds to memmap_pages.
std::int64_t section_nr_vmemmap_pages(const Machine &m, std::uint64_t pfn, std::uint64_t nr_pages,
                                      const DevPagemap *pgmap);

/// __populate_section_memmap (l.459-480): returns false on failure (the
/// kernel returns NULL).
bool __populate_section_memmap(Machine &m, HotplugState &hp, std::uint64_t pfn,
                               std::uint64_t nr_pages, unsigned nid, DevPagemap *pgmap);

/// vmemmap_free (arch/x86/mm/init_64.c 6.12 l.1278-1285, remove_pagetable
/// with direct = false): unmaps [start, end) and drops one reference on every
/// frame it mapped; frees page-table pages that became empty.
void vmemmap_free(Machine &m, HotplugState &hp, std::uint64_t start, std::uint64_t end,
                  DevPagemap *pgmap);

/// sparse_add_section (l.770-802): 0, -EEXIST, -ENOMEM, -EINVAL.
int sparse_add_section(Machine &m, HotplugState &hp, unsigned nid, std::uint64_t start_pfn,
                       std::uint64_t nr_pages, DevPagemap *pgmap);

/// sparse_remove_section (l.804-813).
void sparse_remove_section(Machine &m, HotplugState &hp, std::uint64_t pfn, std::uint64_t nr_pages,
                           DevPagemap *pgmap);

/// __add_pages (mm/memory_hotplug.c 6.12 l.388-428) and __remove_pages
/// (l.593-610): section-by-section, stopping at the first error without
/// undoing the sections already added (as the kernel does).
int __add_pages(Machine &m, HotplugState &hp, unsigned nid, std::uint64_t pfn, std::uint64_t nr_pages,
                DevPagemap *pgmap);
void __remove_pages(Machine &m, HotplugState &hp, std::uint64_t pfn, std::uint64_t nr_pages,
                    DevPagemap *pgmap);

/// check_pfn_span (mm/memory_hotplug.c 6.12 l.318-337, SPARSEMEM_VMEMMAP).
int check_pfn_span(const Machine &m, std::uint64_t pfn, std::uint64_t nr_pages);

// Helpers of the generic path that the architecture ports
// (ppc_radix_vmemmap.cpp) share: they keep the model's frame refcounts and
// origins in one place.

/// vmemmap_alloc_block_buf (l.79-91) for @nr_pages pages (1 or
/// PTRS_PER_PTE), from @altmap_owner's altmap when it has one
/// (altmap_alloc_block_buf, l.108-133); the frame starts with refcount 1.
std::optional<FrameId> vmemmap_alloc_block_buf(Machine &m, HotplugState &hp, std::uint64_t nr_pages,
                                               unsigned node, DevPagemap *altmap_owner);
/// get_page() on a memmap frame (l.169).
void frame_get(HotplugState &hp, FrameId f);
/// put_page_testzero(): true when the last reference went away.
bool frame_put_testzero(Machine &m, HotplugState &hp, FrameId f);
/// Records which vmemmap page a freshly allocated memmap frame backs.
void set_frame_origin(Machine &m, FrameId f, std::uint64_t vaddr);
/// free_pagetable (x86 l.1015-1031) for one memmap frame: reserved frames
/// at once, buddy frames when their last reference goes.
void free_pagetable_frame(Machine &m, HotplugState &hp, FrameId f);

} // namespace hvo
