// SPDX-License-Identifier: GPL-2.0-only
//
// Boot-time HVO of gigantic bootmem pages, shared-tail era (see
// hugetlb_boot_hvo.h).  Sources: Kiryl v7 09/18 and 12/18
// (mm/hugetlb_vmemmap.c hugetlb_vmemmap_init_late / hugetlb_vmemmap_init,
// mm/sparse-vmemmap.c vmemmap_get_tail / vmemmap_populate_hvo), linux-mm
// mm/hugetlb_vmemmap.c @9fda9e6b hugetlb_vmemmap_init_early (eligibility).
#include "hvo/hugetlb_boot_hvo.h"

#include <utility>
#include <vector>

#include "hvo/machine.h"
#include "hvo/shared_tail.h"

namespace hvo {

bool hugetlb_bootmem_page_prehvo(const Machine &m, uint64_t pfn, unsigned order) {
  if (m.cfg.era != Era::SharedTail || !m.vmemmap_optimize_enabled)
    return false;
  if (!vmemmap_optimizable_order(vmemmap_geometry(m.cfg), order))
    return false;
  const uint64_t nr = uint64_t{1} << order;
  const uint64_t pmd_pfns = m.cfg.pmd_size() / m.cfg.struct_page_size;
  const uint64_t section = m.cfg.pages_per_section();
  // Section aligned and PMD_SIZE / sizeof(struct page) aligned, whole PMDs
  // of memmap (so the early population can own them outright).
  return pfn % section == 0 && pfn % pmd_pfns == 0 && nr % pmd_pfns == 0;
}

namespace {

// vmemmap_get_tail at boot (v7 12/18, mm/sparse-vmemmap.c): the existing
// tail, else a zeroed block that is *not* initialised, since memmap_init
// would overwrite it; no cmpxchg this early.
FrameId boot_get_tail(Machine &m, unsigned order, const TailOwner &owner) {
  FrameId t = shared_tail_lookup(m, order, owner);
  if (t != kNoFrame)
    return t;
  std::optional<FrameId> f = m.phys.alloc_frame(owner.nid, AllocPurpose::Memmap);
  if (!f)
    return kNoFrame;
  m.phys.frame(*f).attrs |= kFrameSharedTail;
  m.shared_tails.frames++;
  const FrameId published = tail_publish(m, order, owner, *f);
  if (published == *f) {
    const unsigned min = vmemmap_tail_min_order(vmemmap_geometry(m.cfg));
    m.shared_tails.uninitialized[owner.key][order - min] = true;
  }
  return published;
}

// The two loops of hugetlb_vmemmap_init_late_page below (PTE-map each PMD
// leaf, then set_pte_at every vmemmap page but the first to the tail) when
// every PMD of [start, end) is a leaf at entry, which is how the boot memmap
// maps a pre-HVO page: each PTE table is built once with its final entries
// instead of with the leaf's frames that the second loop then replaces one
// by one.  What the loops leave is what this leaves: the same tables (same
// backing frames, same entries), the same map counts (a replaced leaf frame
// ends unmapped, vmemmap page 0's frame mapped once, the tail once per
// page), the same stale huge translations for the flush that follows (a
// set_pte_at under a stale leaf adds no PTE entry), the frames touched in
// the same order (every leaf frame, PMD by PMD, then the tail) and the same
// `unused` list.  Returns false, having done nothing, in any other case.
bool populate_hvo_from_leaves(Machine &m, unsigned nid, uint64_t start, uint64_t end,
                              FrameId tail, std::vector<FrameId> &unused) {
  const uint64_t pmd_size = m.cfg.pmd_size(), per = m.cfg.ptrs_per_pte();
  if (start >= end || !m.pt.covers(start) || !m.pt.covers(end - 1) ||
      (start - m.pt.start()) % pmd_size != 0 || (end - start) % pmd_size != 0)
    return false;
  for (uint64_t a = start; a < end; a += pmd_size)
    if (!m.pt.pmd_leaf(m.pt.pmd_index(a)))
      return false;
  // pte_table_set's map_ref touches each leaf frame first; the tail's first
  // touch comes after all of them (the first set_pte_at).
  for (uint64_t a = start; a < end; a += pmd_size) {
    const FrameId first = m.pt.pmd(m.pt.pmd_index(a)).value;
    for (uint64_t k = 0; k < per; k++)
      m.phys.touch(static_cast<FrameId>(first + k));
  }
  for (uint64_t a = start; a < end; a += pmd_size) {
    const size_t i = m.pt.pmd_index(a);
    const FrameId first = m.pt.pmd(i).value;
    // pte_table_create, pte_table_set of each entry (vmemmap page 0's
    // frame RW, the tail RO everywhere else) and pmd_populate_kernel in one
    // pass: the tail's map count rises once by the number of its entries.
    m.pt.populate_leaf_with(i, m.phys.memblock_alloc_pagetable(nid), a == start,
                            Pte{tail, true});
    for (uint64_t k = a == start ? 1 : 0; k < per; k++) {
      const FrameId leaf_frame = static_cast<FrameId>(first + k);
      if (leaf_frame != tail)
        unused.push_back(leaf_frame);
    }
  }
  return true;
}

} // namespace

// hugetlb_vmemmap_init_late (v7 09/18 + 12/18) for one page.
BootHvo hugetlb_vmemmap_init_late_page(Machine &m, uint64_t pfn, unsigned order) {
  const uint64_t nr = uint64_t{1} << order;
  // !hugetlb_bootmem_page_zones_valid(): "Oops, the hugetlb page spans
  // multiple zones": list_del, vmemmap_populate() (the normal memmap the
  // model's machine already has) and memblock_phys_free() of the whole page
  // (v7 09/18 dropped vmemmap_undo_hvo: the check now precedes population).
  if (m.phys.zone_of_pfn(pfn) != m.phys.zone_of_pfn(pfn + nr - 1)) {
    m.phys.free_pfn_range(pfn, order);
    return BootHvo::Discarded;
  }
  const TailOwner owner = tail_owner_of_pfn(m, pfn);
  const FrameId tail = boot_get_tail(m, order, owner);
  if (tail == kNoFrame)
    return BootHvo::Normal;  // "Fallback if HVO population fails": vmemmap_populate()
  // vmemmap_populate_hvo(start, end, order, zone, PAGE_SIZE): vmemmap page 0
  // gets a frame of its own (the model keeps the one the boot memmap gave
  // it), every other page maps the tail.  The frames the normal population
  // had given those pages would never have been allocated: they go back to
  // memblock.  The PTEs are read-only from the start here; in v7 they are
  // RW until hugetlb_vmemmap_optimize_bootmem_folios() write-protects them
  // in the same boot sequence (muchun maps them RO directly).
  const uint64_t ps = m.cfg.page_size();
  const uint64_t start = m.page(pfn), end = start + nr * m.cfg.struct_page_size;
  // The frames to free, in the order the kernel would: kept across calls
  // (a 1 GiB page has 4,095; under ASan a vector grown afresh per call is a
  // dozen fresh chunks).  Nothing below re-enters this function.
  static thread_local std::vector<FrameId> unused;
  unused.clear();
  if (hugetlb_boot_hvo_reference_paths ||
      !populate_hvo_from_leaves(m, owner.nid, start, end, tail, unused)) {
    for (uint64_t pmd_addr = start; pmd_addr < end; pmd_addr += m.cfg.pmd_size()) {
      const size_t i = m.pt.pmd_index(pmd_addr);
      if (m.pt.pmd_leaf(i)) {  // 4K: the boot memmap is PMD-mapped; PTE-map it
        const FrameId first = m.pt.pmd(i).value;
        const uint32_t table = m.pt.pte_table_create(m.phys.memblock_alloc_pagetable(owner.nid));
        for (uint64_t k = 0; k < m.cfg.ptrs_per_pte(); k++)
          m.pt.pte_table_set(table, k, Pte{static_cast<FrameId>(first + k), false});
        m.pt.pmd_populate_kernel(i, table);
      }
    }
    for (uint64_t a = start + ps; a < end; a += ps) {
      const Pte old = m.pt.ptep_get(a);
      m.pt.set_pte_at(a, Pte{tail, true});
      if (old.present() && old.frame != tail)
        unused.push_back(old.frame);
    }
  }
  m.pt.flush_tlb_all();
  for (FrameId f : unused) {
    if (std::as_const(m.phys).frame(f).attrs & kFrameReserved)
      m.phys.memmap_boot_pages -= 1;
    else
      m.phys.memmap_pages -= 1;
    m.phys.free_frame(f);
  }
  return BootHvo::Hvo;
}

// hugetlb_vmemmap_init (v7 12/18): init_compound_tail on every allocated,
// not yet initialised zone tail.
void hugetlb_vmemmap_init_tails(Machine &m) {
  SharedTailState &st = m.shared_tails;
  const unsigned min = vmemmap_tail_min_order(vmemmap_geometry(m.cfg));
  for (unsigned key = 0; key < st.tails.size(); key++)
    for (unsigned i = 0; i < st.tails[key].size(); i++) {
      if (st.tails[key][i] == kNoFrame || !st.uninitialized[key][i])
        continue;
      TailOwner owner;
      owner.key = key;
      owner.valid = true;
      if (m.cfg.variant == Variant::KirylV6) {
        owner.nid = key;
      } else if (key < m.phys.zones().size()) {
        owner.nid = m.phys.zones()[key].nid;
        owner.zone = static_cast<unsigned>(m.phys.zones()[key].type);
      }
      init_shared_tail_frame(m, st.tails[key][i], min + i, owner);
      st.uninitialized[key][i] = false;
    }
}

} // namespace hvo
