// SPDX-License-Identifier: GPL-2.0-only
//
// Port of the Book3S-64 radix vmemmap paths of Debian 6.12.117:
// arch/powerpc/mm/book3s64/radix_pgtable.c (cited "l.N") and
// arch/powerpc/mm/init_64.c ("init_64 l.N").  The model's page table starts
// at the PMD level (docs/model.md, "page table"), so the PUD/P4D allocations
// of the kernel walks are the span growth of ensure_covers(); vmemmap_verify
// only warns about a node mismatch and is not modelled.
#include "hvo/ppc_radix_vmemmap.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "hvo/hugetlb_vmemmap.h"  // ENOMEM_
#include "hvo/machine.h"
#include "hvo/sparse_vmemmap.h"

namespace hvo {

namespace {

uint64_t pmd_addr_end(const Machine &m, uint64_t addr, uint64_t end) {
  return std::min(end, (addr & ~(m.cfg.pmd_size() - 1)) + m.cfg.pmd_size());
}

// pfn_valid (include/linux/mmzone.h 6.12 l.2026-2056): the section has a
// memmap, and is early or has the pfn's subsection.
bool pfn_valid(const HotplugState &hp, uint64_t pfn) {
  if (!hp.sections.in_range(pfn))
    return false;
  const MemSection &ms = hp.sections.pfn_to_section(pfn);
  return ms.has_mem_map &&
         (ms.early || ms.subsection_map.test(hp.sections.geo.subsection_map_index(pfn)));
}

// vmemmap_populated (init_64 l.96-113): some subsection whose memmap starts
// in [vmemmap_addr, vmemmap_addr + size) is valid.
bool vmemmap_populated(const Machine &m, const HotplugState &hp, uint64_t vmemmap_addr,
                       uint64_t size) {
  const uint64_t end = vmemmap_addr + size, sub = m.cfg.pages_per_subsection();
  // vmemmap_subsection_start (init_64 l.74-81).
  for (uint64_t pfn = m.page_to_pfn(vmemmap_addr) & ~(sub - 1); m.page(pfn) < end; pfn += sub)
    if (pfn_valid(hp, pfn))
      return true;
  return false;
}

// altmap_cross_boundary (init_64 l.187-200): the struct pages at
// [start, start + page_size) describe pfns outside the device.
bool altmap_cross_boundary(const Machine &m, const VmemAltmap &altmap, uint64_t start,
                           uint64_t page_size) {
  const uint64_t nr_pfn = page_size / m.cfg.struct_page_size;
  const uint64_t start_pfn = m.page_to_pfn(start);
  return start_pfn + nr_pfn - 1 > altmap.end_pfn || start_pfn < altmap.base_pfn;
}

DevPagemap *with_altmap(DevPagemap *p) { return p && p->altmap ? p : nullptr; }

// vmemmap_alloc_block_buf with an altmap, remembering that the frames are
// the device's (free_vmemmap_pages tells them apart by pfn; the model backs
// altmap pages with node frames, so it keeps the set).
std::optional<FrameId> alloc_block(Machine &m, HotplugState &hp, uint64_t nr_pages, unsigned node,
                                   DevPagemap *altmap_owner) {
  std::optional<FrameId> p = vmemmap_alloc_block_buf(m, hp, nr_pages, node, altmap_owner);
  if (p && altmap_owner)
    hp.altmap_frames.insert(*p);
  return p;
}

// vmemmap_pte_alloc (l.1107-1122): a PTE table where the PMD is none.
bool vmemmap_pte_alloc(Machine &m, uint64_t addr, unsigned node) {
  m.pt.ensure_covers(addr + 1);
  const size_t i = m.pt.pmd_index(addr);
  if (m.pt.pmd(i).kind != PmdKind::None)
    return true;
  std::optional<FrameId> p = m.phys.alloc_frame(node, AllocPurpose::PageTable);
  if (!p)
    return false;
  m.pt.pmd_populate_kernel(i, m.pt.pte_table_create(*p));
  return true;
}

bool pmd_leaf_at(Machine &m, uint64_t addr) {
  m.pt.ensure_covers(addr + 1);
  return m.pt.pmd_leaf(m.pt.pmd_index(addr));
}

// radix__vmemmap_pte_populate (l.1026-1072) on an installed PTE table;
// false where the kernel returns NULL.  @reuse == kNoFrame: allocate.
bool radix__vmemmap_pte_populate(Machine &m, HotplugState &hp, uint64_t addr, unsigned node,
                                 DevPagemap *altmap_owner, FrameId reuse) {
  if (m.pt.ptep_get(addr).present())
    return true;
  FrameId f;
  if (reuse == kNoFrame) {
    // No altmap mapping that covers struct pages outside the device.
    DevPagemap *owner = with_altmap(altmap_owner);
    if (owner && altmap_cross_boundary(m, *owner->altmap, addr, m.cfg.page_size()))
      owner = nullptr;
    std::optional<FrameId> p = alloc_block(m, hp, 1, node, owner);
    if (!p && owner)
      p = alloc_block(m, hp, 1, node, nullptr);
    if (!p)
      return false;
    f = *p;
    set_frame_origin(m, f, addr);
  } else {
    // Paired with put_page_testzero() on the freeing path.
    frame_get(hp, reuse);
    f = reuse;
  }
  m.pt.set_pte_at(addr & ~(m.cfg.page_size() - 1), Pte{f, false});  // PAGE_KERNEL: RW
  return true;
}

// radix__vmemmap_populate_address (l.1224-1255).  The result of the PTE
// populate is ignored, as in the kernel: only a PMD leaf or a failed PTE
// table allocation makes it fail.
bool radix__vmemmap_populate_address(Machine &m, HotplugState &hp, uint64_t addr, unsigned node) {
  if (pmd_leaf_at(m, addr))
    return false;  // mapped as a hugepage due to a nearby request
  if (!vmemmap_pte_alloc(m, addr, node))
    return false;
  radix__vmemmap_pte_populate(m, hp, addr, node, nullptr, kNoFrame);
  return true;
}

// vmemmap_compound_tail_page (l.1257-1308): the frame of the compound
// page's second vmemmap page, found by address arithmetic from the
// position @pfn_offset and populated (with the head's page) if missing;
// nullopt where the kernel returns NULL.
std::optional<FrameId> vmemmap_compound_tail_page(Machine &m, HotplugState &hp, uint64_t addr,
                                                  uint64_t pfn_offset, unsigned node) {
  const uint64_t ps = m.cfg.page_size();
  const uint64_t map_addr = addr - pfn_offset * m.cfg.struct_page_size + ps;
  if (pmd_leaf_at(m, map_addr))
    return std::nullopt;  // second page in a hugepage: no deduplication
  if (!vmemmap_pte_alloc(m, map_addr, node))
    return std::nullopt;
  if (!m.pt.ptep_get(map_addr).present()) {
    // The head page's vmemmap page can fall in a different PMD.
    if (!radix__vmemmap_populate_address(m, hp, map_addr - ps, node))
      return std::nullopt;
    if (!radix__vmemmap_pte_populate(m, hp, map_addr, node, nullptr, kNoFrame))
      return std::nullopt;
  }
  return m.pt.ptep_get(map_addr).frame;
}

// free_vmemmap_pages (l.766-796): altmap pages back to the altmap, memblock
// pages one by one, buddy pages when their last reference goes.
void free_vmemmap_pages(Machine &m, HotplugState &hp, FrameId page, DevPagemap *pgmap,
                        uint64_t nr_pages) {
  auto free_all = [&] {
    hp.frame_refcount.erase(page);
    for (uint64_t k = 0; k < nr_pages; k++)
      m.phys.free_frame(page + static_cast<FrameId>(k));
  };
  if (DevPagemap *owner = with_altmap(pgmap); owner && hp.altmap_frames.count(page)) {
    owner->altmap->alloc -= nr_pages;  // vmem_altmap_free (mm.h 6.12 l.3923-3927)
    hp.altmap_frames.erase(page);
    free_all();
    return;
  }
  if (std::as_const(m.phys).frame(page).attrs & kFrameReserved) {
    free_all();  // free_reserved_page
    return;
  }
  if (frame_put_testzero(m, hp, page)) {  // free_pages(addr, order)
    hp.altmap_frames.erase(page);
    for (uint64_t k = 0; k < nr_pages; k++)
      m.phys.free_frame(page + static_cast<FrameId>(k));
  }
}

} // namespace

// l.1125-1222.
int radix__vmemmap_populate(Machine &m, HotplugState &hp, uint64_t start, uint64_t end,
                            unsigned node, DevPagemap *altmap_owner) {
  const uint64_t ps = m.cfg.page_size(), pmd_size = m.cfg.pmd_size();
  DevPagemap *altmap = with_altmap(altmap_owner);
  start &= ~(ps - 1);
  for (uint64_t addr = start, next; addr < end; addr = next) {
    next = pmd_addr_end(m, addr, end);
    m.pt.ensure_covers(addr + 1);
    const size_t i = m.pt.pmd_index(addr);
    if (m.pt.pmd(i).kind == PmdKind::None) {
      // A PMD mapping needs an aligned address and, with an altmap, a block
      // whose struct pages all describe the device.
      const bool aligned = (addr & (pmd_size - 1)) == 0;
      if (aligned && !(altmap && altmap_cross_boundary(m, *altmap->altmap, addr, pmd_size))) {
        if (std::optional<FrameId> p = alloc_block(m, hp, m.cfg.ptrs_per_pte(), node, altmap)) {
          m.pt.pmd_set_leaf(i, *p);  // vmemmap_set_pmd (l.1012-1024)
          for (uint64_t k = 0; k < m.cfg.ptrs_per_pte(); k++)
            m.phys.frame(*p + static_cast<FrameId>(k)).origin_vpn =
                static_cast<uint32_t>(m.vpn(m.pt.pmd_addr(i)) + k);
          continue;
        }
        // Without an altmap a failed block also ends in base pages.
      }
    } else if (m.pt.pmd_leaf(i)) {
      continue;  // vmemmap_check_pmd (l.1001-1010): use the existing huge mapping
    }
    // base_mapping:
    if (!vmemmap_pte_alloc(m, addr, node))
      return -ENOMEM_;
    if (!radix__vmemmap_pte_populate(m, hp, addr, node, altmap, kNoFrame))
      return -ENOMEM_;
    next = addr + ps;
  }
  return 0;
}

// l.1310-1410.
int radix_vmemmap_populate_compound_pages(Machine &m, HotplugState &hp, uint64_t start_pfn,
                                          uint64_t start, uint64_t end, unsigned node,
                                          DevPagemap &pgmap) {
  const uint64_t ps = m.cfg.page_size();
  const uint64_t nr_pages = pgmap_vmemmap_nr(pgmap);
  // Historic bug PpcCompoundWrongPfn: addr_pfn is loop state that starts at
  // start_pfn and advances by one pfn per vmemmap page (two after a head
  // page, PMD_SIZE >> PAGE_SHIFT over a leaf) instead of by the
  // PAGE_SIZE / sizeof(struct page) pfns each vmemmap page describes.
  const bool wrong_pfn = m.cfg.has(Bug::PpcCompoundWrongPfn);
  uint64_t addr_pfn = start_pfn;
  for (uint64_t addr = start, next; addr < end; addr = next) {
    if (pmd_leaf_at(m, addr)) {
      // An existing huge mapping: skip the range.
      if (wrong_pfn)
        addr_pfn += m.cfg.pmd_size() >> m.cfg.page_shift;
      next = pmd_addr_end(m, addr, end);
      continue;
    }
    if (!vmemmap_pte_alloc(m, addr, node))
      return -ENOMEM_;
    if (m.pt.ptep_get(addr).present()) {
      // A compound page whose VMEMMAP_RESERVE_NR pages were already mapped.
      if (wrong_pfn)
        addr_pfn += 1;
      next = addr + ps;
      continue;
    }
    // The fix: derive the pfn from the vmemmap address (page_to_pfn).
    if (!wrong_pfn)
      addr_pfn = m.page_to_pfn(addr);
    const uint64_t pfn_offset = addr_pfn - (addr_pfn & ~(nr_pages - 1));
    if (pfn_offset == 0) {
      // The head page's vmemmap page, then the page of tails the rest reuse
      // (possibly in the next PMD).
      if (!radix__vmemmap_pte_populate(m, hp, addr, node, nullptr, kNoFrame))
        return -ENOMEM_;
      if (!radix__vmemmap_populate_address(m, hp, addr + ps, node))
        return -ENOMEM_;
      if (wrong_pfn)
        addr_pfn += 2;
      next = addr + 2 * ps;
      continue;
    }
    std::optional<FrameId> tail = vmemmap_compound_tail_page(m, hp, addr, pfn_offset, node);
    if (!radix__vmemmap_pte_populate(m, hp, addr, node, nullptr, tail ? *tail : kNoFrame))
      return -ENOMEM_;
    if (wrong_pfn)
      addr_pfn += 1;
    next = addr + ps;
  }
  return 0;
}

// l.1419-1423 -> remove_pagetable (l.905-942) -> remove_pmd_table
// (l.831-868) -> remove_pte_table (l.798-829), then free_pte_table
// (l.704-716) and radix__flush_tlb_kernel_range over [start, end).
void radix__vmemmap_free(Machine &m, HotplugState &hp, uint64_t start, uint64_t end,
                         DevPagemap *pgmap) {
  const uint64_t ps = m.cfg.page_size(), pmd_size = m.cfg.pmd_size();
  for (uint64_t addr = start, next; addr < end; addr = next) {
    next = pmd_addr_end(m, addr, end);
    if (!m.pt.covers(addr))
      continue;
    const size_t i = m.pt.pmd_index(addr);
    const Pmd pmd = m.pt.pmd(i);
    if (pmd.kind == PmdKind::None)
      continue;
    if (pmd.kind == PmdKind::Leaf) {
      const bool whole = (addr & (pmd_size - 1)) == 0 && (next & (pmd_size - 1)) == 0;
      // vmemmap_pmd_is_unused (l.750-755).
      if (whole || !vmemmap_populated(m, hp, addr & ~(pmd_size - 1), pmd_size)) {
        free_vmemmap_pages(m, hp, static_cast<FrameId>(pmd.value), pgmap, m.cfg.ptrs_per_pte());
        m.pt.pmd_clear(i);
      }
      continue;
    }
    for (uint64_t a = addr, an; a < next; a = an) {
      an = std::min(next, (a + ps) & ~(ps - 1));
      const Pte pte = m.pt.ptep_get(a);
      if (!pte.present())
        continue;
      const bool whole = (a & (ps - 1)) == 0 && (an & (ps - 1)) == 0;
      // vmemmap_page_is_unused (l.757-763).
      if (whole || !vmemmap_populated(m, hp, a & ~(ps - 1), ps)) {
        free_vmemmap_pages(m, hp, pte.frame, pgmap, 1);
        m.pt.set_pte_at(a & ~(ps - 1), Pte{});
      }
    }
    if (m.pt.pte_table_empty(i))
      m.phys.free_frame(m.pt.pmd_clear(i));
  }
  m.pt.flush_tlb_kernel_range(start, end);
}

} // namespace hvo
