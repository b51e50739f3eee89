// SPDX-License-Identifier: GPL-2.0-only
//
// Port of the memmap population / removal paths: Debian 6.12.117
// mm/sparse-vmemmap.c (cited "l.N"), arch/x86/mm/init_64.c ("x86 l.N"),
// include/linux/mm.h ("mm.h l.N") and mm/memory_hotplug.c ("hotplug l.N").
// Device-DAX compound pagemaps deduplicate tail struct pages here.
#include "hvo/sparse_vmemmap.h"

#include <algorithm>
#include <utility>

#include "hvo/hugetlb_vmemmap.h"
#include "hvo/machine.h"
#include "hvo/ppc_radix_vmemmap.h"
#include "hvo/struct_page_range.h"

namespace hvo {

namespace {

constexpr int EOPNOTSUPP_ = 95;

// Muchun's section-based generic HVO (linux-mm mm/sparse-vmemmap.c
// @028871b8, "MS"): device DAX takes the shared-tail path.
bool muchun(const Machine &m) {
  return m.cfg.era == Era::SharedTail && m.cfg.variant == Variant::Muchun;
}

// section_vmemmap_optimizable (MS mm/sparse.h).
bool section_vmemmap_optimizable(const Machine &m, const MemSection &ms) {
  return vmemmap_optimizable_order(vmemmap_geometry(m.cfg), ms.compound_order);
}

// vmemmap_optimizable_pfn (MS include/linux/vmemmap-optimization.h): the
// pfn's struct page lies past its folio's first vmemmap page, so its vmemmap
// page is a shared tail.
bool vmemmap_optimizable_pfn(const Machine &m, const HotplugState &hp, uint64_t pfn) {
  if (!muchun(m) || !m.cfg.struct_page_pow2() || !hp.sections.in_range(pfn))
    return false;
  const uint64_t nr = uint64_t{1} << hp.sections.pfn_to_section(pfn).compound_order;
  return (pfn & (nr - 1)) >= m.cfg.spp();
}

// A memmap frame populated by this path starts with page_ref_count 1
// (alloc_pages / memblock hand out pages with a reference).
void frame_ref_init(HotplugState &hp, FrameId f) { hp.frame_refcount[f] = 1; }

} // namespace

// get_page() on a memmap frame (l.169).
void frame_get(HotplugState &hp, FrameId f) { hp.frame_refcount[f]++; }

// put_page_testzero(): true when the last reference went away.
bool frame_put_testzero(Machine &m, HotplugState &hp, FrameId f) {
  auto it = hp.frame_refcount.find(f);
  if (it == hp.frame_refcount.end() || it->second == 0) {
    m.report("K-VM_BUG_ON", 0, UINT64_MAX, "refcount > 0", "0",
             "put_page_testzero on memmap frame " + std::to_string(f) + " without a reference");
    return false;
  }
  if (--it->second != 0)
    return false;
  hp.frame_refcount.erase(it);
  return true;
}

void set_frame_origin(Machine &m, FrameId f, uint64_t vaddr) {
  m.phys.frame(f).origin_vpn = static_cast<uint32_t>(m.vpn(vaddr));
}

// altmap_alloc_block_buf (l.108-133): pages are taken from the device's own
// reserved pfns.  The model backs them with ordinary frames of the node
// (see docs/model.md, "device DAX"); an injected allocation failure on
// them stands for an exhausted altmap.
static std::optional<FrameId> altmap_alloc_block_buf(Machine &m, VmemAltmap &altmap, uint64_t nr_pfns,
                                              unsigned nid) {
  const uint64_t pfn = altmap.base_pfn + altmap.reserve + altmap.alloc + altmap.align;
  const uint64_t allocated = altmap.alloc + altmap.align;
  const uint64_t nr_free = altmap.free > allocated ? altmap.free - allocated : 0;
  uint64_t nr_align = nr_pfns & (~nr_pfns + 1);  // 1UL << find_first_bit(&nr_pfns)
  nr_align = ((pfn + nr_align - 1) & ~(nr_align - 1)) - pfn;
  if (nr_pfns + nr_align > nr_free)
    return std::nullopt;
  std::optional<FrameId> f = nr_pfns == 1 ? m.phys.alloc_frame(nid, AllocPurpose::Memmap)
                                          : m.phys.alloc_frames_contig(nid, nr_pfns, AllocPurpose::Memmap);
  if (!f)
    return std::nullopt;
  altmap.alloc += nr_pfns;
  altmap.align += nr_align;
  return f;
}

// vmemmap_alloc_block_buf (l.79-91) for @nr_pages pages (1 or PTRS_PER_PTE).
std::optional<FrameId> vmemmap_alloc_block_buf(Machine &m, HotplugState &hp, uint64_t nr_pages,
                                               unsigned node, DevPagemap *altmap_owner) {
  std::optional<FrameId> f;
  if (altmap_owner && altmap_owner->altmap)
    f = altmap_alloc_block_buf(m, *altmap_owner->altmap, nr_pages, node);
  else if (nr_pages == 1)
    f = m.phys.alloc_frame(node, AllocPurpose::Memmap);  // vmemmap_alloc_block, order 0
  else
    f = m.phys.alloc_frames_contig(node, nr_pages, AllocPurpose::Memmap);
  if (f)
    frame_ref_init(hp, *f);  // a higher-order block's refcount lives on its first page
  return f;
}

namespace {

// vmemmap_pmd_populate (l.191-202): a zeroed page for the PTE table when the
// PMD is none.  The PGD/P4D/PUD levels above are not modelled: the model's
// vmemmap page table starts at the PMD level (docs/model.md, "page table").
bool vmemmap_pmd_populate(Machine &m, uint64_t addr, unsigned node) {
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

// vmemmap_pte_populate (l.146-176).  @reuse == kNoFrame: allocate.
bool vmemmap_pte_populate(Machine &m, HotplugState &hp, uint64_t addr, unsigned node,
                          DevPagemap *altmap_owner, FrameId reuse) {
  if (m.pt.ptep_get(addr).present()) {
    // MS: an optimizable pfn must find its PTE empty (WARN_ON_ONCE, NULL).
    if (vmemmap_optimizable_pfn(m, hp, m.page_to_pfn(addr))) {
      m.report("K-WARN_ON", addr, m.page_to_pfn(addr), "no PTE", "present",
               "vmemmap_pte_populate: WARN_ON_ONCE(vmemmap_optimizable_pfn(pfn))");
      return false;
    }
    return true;
  }
  FrameId f;
  if (reuse == kNoFrame) {
    std::optional<FrameId> p = vmemmap_alloc_block_buf(m, hp, 1, node, altmap_owner);
    if (!p)
      return false;
    f = *p;
    set_frame_origin(m, f, addr);
  } else {
    // Paired with put_page_testzero() on the freeing path.
    frame_get(hp, reuse);
    f = reuse;
  }
  // PAGE_KERNEL: DAX tails are RW in 6.12; Muchun v2 46/69 maps the shared
  // tail read-only.
  const bool ro = muchun(m) && (std::as_const(m.phys).frame(f).attrs & kFrameSharedTail);
  m.pt.set_pte_at(addr, Pte{f, ro});
  return true;
}

// vmemmap_pte_populate (l.146-176) when the PMD is a leaf: with a 72/80-byte
// struct page a section's memmap is not a whole number of PMDs, so a boot
// PMD leaf from vmemmap_populate_hugepages() reaches into the next section's
// memmap, and a later sub-section hot-add (vmemmap_populate_basepages, x86
// init_64.c l.1568-1569) walks down to it.  vmemmap_pmd_populate (l.192-203)
// only checks pmd_none, and x86's pte_offset_kernel on a PSE pmd yields the
// leaf block's first page (pmd_page_vaddr, asm/pgtable.h l.1072-1075, masks
// with PHYSICAL_PMD_PAGE_MASK, asm/pgtable_types.h l.455-458):
// the "PTE" is word pte_index(addr) of the struct pages stored there.  The
// CPU keeps translating through the leaf, so the memmap is mapped either
// way; a word that is not pte_none (x86 pte_none ignores Accessed/Dirty)
// leaves everything as it is (vmemmap_verify only warns), a pte_none word is
// overwritten with the new page's PTE: a boot struct page is corrupted and
// the page is never mapped nor freed.
bool vmemmap_pte_populate_under_leaf(Machine &m, HotplugState &hp, uint64_t addr, unsigned node,
                                     DevPagemap *altmap_owner) {
  const FrameId block = static_cast<FrameId>(m.pt.pmd(m.pt.pmd_index(addr)).value);
  const uint64_t pte_index = (addr >> m.cfg.page_shift) & (m.cfg.ptrs_per_pte() - 1);
  constexpr uint64_t kAccessedDirty = 0x60;  // _PAGE_KNL_ERRATUM_MASK, pgtable.h l.993
  if (m.phys.read_word(block, pte_index) & ~kAccessedDirty)
    return true;
  std::optional<FrameId> p = vmemmap_alloc_block_buf(m, hp, 1, node, altmap_owner);
  if (!p)
    return false;
  set_frame_origin(m, *p, addr);
  // pfn_pte(pfn, PAGE_KERNEL): present, RW, accessed, dirty, global, NX.
  // The model's frame id stands for the pfn.
  constexpr uint64_t kPageKernel = (uint64_t{1} << 63) | 0x163;
  m.phys.write_word(block, pte_index, (static_cast<uint64_t>(*p) << m.cfg.page_shift) | kPageKernel);
  return true;
}

// vmemmap_populate_address (l.252-280).
bool vmemmap_populate_address(Machine &m, HotplugState &hp, uint64_t addr, unsigned node,
                              DevPagemap *altmap_owner, FrameId reuse) {
  if (!vmemmap_pmd_populate(m, addr, node))
    return false;
  if (m.pt.pmd_leaf(m.pt.pmd_index(addr)) && reuse == kNoFrame)
    return vmemmap_pte_populate_under_leaf(m, hp, addr, node, altmap_owner);
  if (m.pt.pmd_leaf(m.pt.pmd_index(addr))) {
    // A compound-page reuse under a leaf needs vmemmap_can_optimize, i.e. a
    // power-of-two struct page, whose section memmaps are whole PMDs.
    m.report("K-model-limit", addr, m.page_to_pfn(addr), "a PTE table", "a PMD leaf",
             "vmemmap_pte_populate (reuse) under a PMD leaf");
    return true;
  }
  return vmemmap_pte_populate(m, hp, addr, node, altmap_owner, reuse);
}

// vmemmap_populate_range (l.282-297).
int vmemmap_populate_range(Machine &m, HotplugState &hp, uint64_t start, uint64_t end,
                           unsigned node, DevPagemap *altmap_owner, FrameId reuse) {
  for (uint64_t addr = start; addr < end; addr += m.cfg.page_size())
    if (!vmemmap_populate_address(m, hp, addr, node, altmap_owner, reuse))
      return -ENOMEM_;
  return 0;
}

// vmemmap_populate_hugepages (l.316-366) with x86's vmemmap_set_pmd /
// vmemmap_check_pmd (x86 l.1519-1557): a PMD leaf of freshly allocated
// frames where the PMD is empty, basepages where the block cannot be had.
int vmemmap_populate_hugepages(Machine &m, HotplugState &hp, uint64_t start, uint64_t end,
                               unsigned node, DevPagemap *altmap_owner) {
  const uint64_t pmd_size = m.cfg.pmd_size();
  for (uint64_t addr = start, next; addr < end; addr = next) {
    next = std::min(end, (addr & ~(pmd_size - 1)) + pmd_size);  // pmd_addr_end
    m.pt.ensure_covers(next);
    const size_t i = m.pt.pmd_index(addr);
    if (m.pt.pmd(i).kind == PmdKind::None) {
      std::optional<FrameId> p =
          vmemmap_alloc_block_buf(m, hp, m.cfg.ptrs_per_pte(), node, altmap_owner);
      if (p) {
        m.pt.pmd_set_leaf(i, *p);
        for (uint64_t k = 0; k < m.cfg.ptrs_per_pte(); k++)
          m.phys.frame(*p + static_cast<FrameId>(k)).origin_vpn =
              static_cast<uint32_t>(m.vpn(m.pt.pmd_addr(i)) + k);
        continue;
      }
      if (altmap_owner && altmap_owner->altmap)
        return -ENOMEM_;  // no fallback with an altmap
    } else if (m.pt.pmd_leaf(i)) {
      continue;  // vmemmap_check_pmd: already mapped
    }
    if (vmemmap_populate_range(m, hp, addr, next, node, nullptr, kNoFrame))
      return -ENOMEM_;
  }
  return 0;
}

// The arch's vmemmap_populate.  4K pages: x86-64 (init_64.c l.1559-1581), a
// request smaller than a section's memmap gets base pages and no altmap,
// a larger one PMD leaves.  16K / 64K pages: arm64 (arch/arm64/mm/mmu.c
// 6.12 l.1204-1216), base pages with the altmap; x86-64 has no such pages.
int vmemmap_populate(Machine &m, HotplugState &hp, uint64_t start, uint64_t end, unsigned node,
                     DevPagemap *altmap_owner) {
  if (m.cfg.arch == Arch::Ppc64Radix)
    return radix__vmemmap_populate(m, hp, start, end, node, altmap_owner);
  const bool small = end - start < m.cfg.pages_per_section() * m.cfg.struct_page_size;
  if (m.cfg.page_shift != 12)
    return vmemmap_populate_range(m, hp, start, end, node, altmap_owner, kNoFrame);
  if (small)
    return vmemmap_populate_range(m, hp, start, end, node, nullptr, kNoFrame);
  return vmemmap_populate_hugepages(m, hp, start, end, node, altmap_owner);  // X86_FEATURE_PSE
}

// reuse_compound_section (l.379-387): a compound page larger than a
// subsection whose first pfn lies in an earlier section.
bool reuse_compound_section(uint64_t start_pfn, const DevPagemap &pgmap, const Machine &m) {
  const uint64_t nr_pages = pgmap_vmemmap_nr(pgmap);
  // ranges[nr_range].start: the range being onlined (nr_range counts the
  // ranges already online, 0 for the only one).
  const uint64_t offset = start_pfn - pgmap.range_start_pfn;
  return (offset & (nr_pages - 1)) != 0 && nr_pages > m.cfg.pages_per_subsection();
}

// compound_section_tail_page (l.389-404): the PTE just below @addr, which
// "assuming sections are populated sequentially" maps the previous
// section's page of tail struct pages.
FrameId compound_section_tail_page(Machine &m, uint64_t addr) {
  return m.pt.ptep_get(addr - m.cfg.page_size()).frame;
}

// vmemmap_populate_compound_pages (l.406-455).
// MS vmemmap_populate_compound_pages: the head vmemmap page is fresh, every
// other one maps the device zone's shared tail for the section's order
// (taking a reference each), including in later sections of a compound page
// larger than a section.
int vmemmap_populate_compound_pages_ms(Machine &m, HotplugState &hp, uint64_t start_pfn,
                                       uint64_t start, uint64_t end, unsigned node,
                                       DevPagemap &pgmap) {
  const uint64_t ps = m.cfg.page_size();
  const unsigned order = hp.sections.pfn_to_section(start_pfn).compound_order;
  const FrameId tail = vmemmap_get_tail(m, order, tail_owner_device(m, node));
  if (tail == kNoFrame)
    return -ENOMEM_;
  hp.frame_refcount.emplace(tail, 1);  // the allocation's own reference, never dropped
  if (reuse_compound_section(start_pfn, pgmap, m))
    return vmemmap_populate_range(m, hp, start, end, node, nullptr, tail);
  const uint64_t size = std::min(end - start, (uint64_t{1} << order) * m.cfg.struct_page_size);
  for (uint64_t addr = start; addr < end; addr += size) {
    const uint64_t last = addr + size;
    if (!vmemmap_populate_address(m, hp, addr, node, nullptr, kNoFrame))
      return -ENOMEM_;
    if (vmemmap_populate_range(m, hp, addr + ps, last, node, nullptr, tail))
      return -ENOMEM_;
  }
  return 0;
}

int vmemmap_populate_compound_pages(Machine &m, HotplugState &hp, uint64_t start_pfn,
                                    uint64_t start, uint64_t end, unsigned node,
                                    DevPagemap &pgmap) {
  if (muchun(m))
    return vmemmap_populate_compound_pages_ms(m, hp, start_pfn, start, end, node, pgmap);
  // powerpc radix selects ARCH_WANT_OPTIMIZE_DAX_VMEMMAP with its own
  // vmemmap_populate_compound_pages (asm/book3s/64/radix.h 6.12 l.365-374).
  if (m.cfg.arch == Arch::Ppc64Radix)
    return radix_vmemmap_populate_compound_pages(m, hp, start_pfn, start, end, node, pgmap);
  const uint64_t ps = m.cfg.page_size();
  if (reuse_compound_section(start_pfn, pgmap, m)) {
    FrameId tail = compound_section_tail_page(m, start);
    if (tail == kNoFrame) {
      // pte_page() of an empty PTE: the kernel would take a reference on
      // pfn 0's struct page.  Reported, and treated as the -ENOMEM the
      // kernel returns for a missing PTE.
      m.report("K-BUG_ON", start - ps, m.page_to_pfn(start - ps), "previous section populated",
               "no PTE", "compound_section_tail_page: sections not populated in order");
      return -ENOMEM_;
    }
    // Reuse the page that was populated in the prior iteration with just
    // tail struct pages.
    return vmemmap_populate_range(m, hp, start, end, node, nullptr, tail);
  }
  const uint64_t size = std::min(end - start, pgmap_vmemmap_nr(pgmap) * m.cfg.struct_page_size);
  for (uint64_t addr = start; addr < end; addr += size) {
    const uint64_t last = addr + size;
    // The head page's vmemmap page.
    if (!vmemmap_populate_address(m, hp, addr, node, nullptr, kNoFrame))
      return -ENOMEM_;
    // The page of tail struct pages that the rest will reuse.
    const uint64_t next = addr + ps;
    if (!vmemmap_populate_address(m, hp, next, node, nullptr, kNoFrame))
      return -ENOMEM_;
    const FrameId tail = m.pt.ptep_get(next).frame;
    if (vmemmap_populate_range(m, hp, next + ps, last, node, nullptr, tail))
      return -ENOMEM_;
  }
  return 0;
}

} // namespace

// free_pagetable (x86 l.1015-1031) for one memmap frame.  Reserved
// (memblock) frames go back with free_reserved_page; buddy frames with
// free_pages(), i.e. only when their last reference is dropped.
void free_pagetable_frame(Machine &m, HotplugState &hp, FrameId f) {
  if (std::as_const(m.phys).frame(f).attrs & kFrameReserved) {
    hp.frame_refcount.erase(f);
    m.phys.free_frame(f);
    return;
  }
  if (frame_put_testzero(m, hp, f))
    m.phys.free_frame(f);
}

namespace {

// A PMD leaf's block (free_hugepage_table, x86 l.1033-1040, or
// vmem_altmap_free for an altmap block): reserved blocks page by page,
// buddy blocks when the first page's reference goes.
void free_pmd_leaf_block(Machine &m, HotplugState &hp, FrameId first, DevPagemap *altmap_owner) {
  const uint64_t n = m.cfg.ptrs_per_pte();
  if (altmap_owner && altmap_owner->altmap) {
    altmap_owner->altmap->alloc -= n;  // vmem_altmap_free (mm.h l.3923-3927)
    hp.frame_refcount.erase(first);
    for (uint64_t k = 0; k < n; k++)
      m.phys.free_frame(first + static_cast<FrameId>(k));
    return;
  }
  if (std::as_const(m.phys).frame(first).attrs & kFrameReserved) {
    for (uint64_t k = 0; k < n; k++)
      m.phys.free_frame(first + static_cast<FrameId>(k));
    return;
  }
  if (frame_put_testzero(m, hp, first))
    for (uint64_t k = 0; k < n; k++)
      m.phys.free_frame(first + static_cast<FrameId>(k));
}

} // namespace

// MS section_nr_vmemmap_pages: the order comes from the section, one vmemmap
// page (VMEMMAP_OPTIMIZATION_PAGES) is kept per compound page.
static int64_t section_nr_vmemmap_pages_ms(const Machine &m, uint64_t pfn, uint64_t nr_pages) {
  const HotplugState &hp = m.hotplug;
  const MemSection &ms = hp.sections.pfn_to_section(pfn);
  const unsigned order = ms.compound_order;
  const uint64_t pages_per_compound = uint64_t{1} << order;
  if (!section_vmemmap_optimizable(m, ms))
    return static_cast<int64_t>((nr_pages * m.cfg.struct_page_size + m.cfg.page_size() - 1) >>
                                m.cfg.page_shift);
  if (order < m.cfg.section_size_bits - m.cfg.page_shift)
    return static_cast<int64_t>(nr_pages / pages_per_compound);
  return (pfn & (pages_per_compound - 1)) == 0 ? 1 : 0;
}

// mm.h l.3942-3958.
bool vmemmap_can_optimize(const Machine &m, const DevPagemap *pgmap) {
  if (!pgmap || !m.cfg.struct_page_pow2())
    return false;
  // MS: the generic order test (vmemmap_optimizable_order), no reserved
  // second page any more, so V >= 2 suffices (MS section_activate).
  if (muchun(m))
    return !pgmap->altmap && vmemmap_optimizable_order(vmemmap_geometry(m.cfg), pgmap->vmemmap_shift);
  const uint64_t nr_vmemmap_pages =
      (pgmap_vmemmap_nr(*pgmap) * m.cfg.struct_page_size) >> m.cfg.page_shift;
  return !pgmap->altmap && nr_vmemmap_pages > VMEMMAP_RESERVE_NR;
}

// l.542-565.
int64_t section_nr_vmemmap_pages(const Machine &m, uint64_t pfn, uint64_t nr_pages,
                                 const DevPagemap *pgmap) {
  if (muchun(m))
    return section_nr_vmemmap_pages_ms(m, pfn, nr_pages);
  const unsigned order = pgmap ? pgmap->vmemmap_shift : 0;
  const uint64_t pages_per_compound = uint64_t{1} << order;
  const unsigned pfn_section_shift = m.cfg.section_size_bits - m.cfg.page_shift;
  if (!vmemmap_can_optimize(m, pgmap))
    return static_cast<int64_t>((nr_pages * m.cfg.struct_page_size + m.cfg.page_size() - 1) >>
                                m.cfg.page_shift);
  if (order < pfn_section_shift)
    return static_cast<int64_t>(VMEMMAP_RESERVE_NR * nr_pages / pages_per_compound);
  if ((pfn & (pages_per_compound - 1)) == 0)
    return VMEMMAP_RESERVE_NR;
  return 0;
}

// l.459-480.
bool __populate_section_memmap(Machine &m, HotplugState &hp, uint64_t pfn, uint64_t nr_pages,
                               unsigned nid, DevPagemap *pgmap) {
  const uint64_t start = m.page(pfn);
  const uint64_t end = start + nr_pages * m.cfg.struct_page_size;
  const uint64_t subsec = m.cfg.pages_per_subsection();
  if ((pfn & (subsec - 1)) || (nr_pages & (subsec - 1))) {
    m.report("K-WARN_ON", start, pfn, "subsection aligned", std::to_string(nr_pages) + " pages",
             "__populate_section_memmap: WARN_ON_ONCE(!IS_ALIGNED(pfn | nr_pages, PAGES_PER_SUBSECTION))");
    return false;
  }
  if ((start | end) & (m.cfg.page_size() - 1)) {
    m.report("K-BUG_ON", start, pfn, "page aligned memmap", "unaligned",
             "vmemmap_populate: VM_BUG_ON(!PAGE_ALIGNED(start | end))");
    return false;
  }
  int r;
  const bool compound = muchun(m) ? pgmap && section_vmemmap_optimizable(m, hp.sections.pfn_to_section(pfn))
                                  : vmemmap_can_optimize(m, pgmap);
  if (compound)
    r = vmemmap_populate_compound_pages(m, hp, pfn, start, end, nid, *pgmap);
  else
    r = vmemmap_populate(m, hp, start, end, nid, pgmap);
  return r >= 0;
}

namespace {

// PAGE_UNUSED (arch/x86/mm/init_64.c 6.12 l.857) in every byte of a word.
constexpr uint64_t kPageUnusedWord = 0xfdfdfdfdfdfdfdfdull;

// Whether the memmap of @pfn is in use: its subsection is active.
bool memmap_in_use(const HotplugState &hp, uint64_t pfn) {
  if (!hp.sections.in_range(pfn))
    return false;
  const MemSection &ms = hp.sections.pfn_to_section(pfn);
  return ms.subsection_map.test(hp.sections.geo.subsection_map_index(pfn));
}

// vmemmap_pmd_is_unused, x86 arch/x86/mm/init_64.c 6.12 l.879-891: the
// removed part [addr, end) of a PMD leaf is memset to PAGE_UNUSED, and the
// leaf may go when its whole PMD is PAGE_UNUSED.  The kernel keeps every
// part of a vmemmap PMD leaf that holds no active subsection's memmap
// PAGE_UNUSED (vmemmap_use_new_sub_pmd / vmemmap_use_sub_pmd at populate,
// l.893-965); the model does not store those bytes, so it decides the scan
// from the subsections instead: the PMD is unused when no struct page under
// it outside [addr, end) belongs to an active subsection.
bool vmemmap_pmd_is_unused(Machine &m, const HotplugState &hp, uint64_t addr, uint64_t end) {
  const uint64_t S = m.cfg.struct_page_size, base = m.cfg.vmemmap_base;
  const uint64_t whole_lo = (addr - base + S - 1) / S, whole_hi = (end - base) / S;
  const char *who = "vmemmap_pmd_is_unused";
  // memset((void *)addr, PAGE_UNUSED, end - addr): whole struct pages in
  // bulk, the words of a struct page cut by the PMD boundary one by one.
  for (uint64_t w = addr; w < std::min(end, m.page(whole_lo)); w += 8)
    m.mmu.write(w, kPageUnusedWord, who);
  fill_struct_pages(m, whole_lo, std::max(whole_lo, whole_hi), kPageUnusedWord, who);
  for (uint64_t w = std::max(addr, m.page(whole_hi)); w < end; w += 8)
    m.mmu.write(w, kPageUnusedWord, who);
  // !memchr_inv(ALIGN_DOWN(addr, PMD_SIZE), PAGE_UNUSED, PMD_SIZE).
  const uint64_t pmd_start = addr & ~(m.cfg.pmd_size() - 1);
  const uint64_t first = m.page_to_pfn(pmd_start);
  const uint64_t last = m.page_to_pfn(pmd_start + m.cfg.pmd_size() - 1);
  for (uint64_t pfn = first; pfn <= last; pfn++) {
    if (pfn >= whole_lo && pfn < whole_hi)
      continue;  // just memset
    if (memmap_in_use(hp, pfn))
      return false;
  }
  return true;
}

}  // namespace

// remove_pagetable(start, end, direct = false, altmap), x86 l.1097-1276,
// reduced to the PMD and PTE levels the model has.
void vmemmap_free(Machine &m, HotplugState &hp, uint64_t start, uint64_t end, DevPagemap *pgmap) {
  if (m.cfg.arch == Arch::Ppc64Radix)
    return radix__vmemmap_free(m, hp, start, end, pgmap);
  const uint64_t ps = m.cfg.page_size(), pmd_size = m.cfg.pmd_size();
  for (uint64_t addr = start, next; addr < end; addr = next) {
    next = std::min(end, (addr & ~(pmd_size - 1)) + pmd_size);
    if (!m.pt.covers(addr))
      continue;
    const size_t i = m.pt.pmd_index(addr);
    const Pmd pmd = m.pt.pmd(i);
    if (pmd.kind == PmdKind::None)
      continue;
    if (pmd.kind == PmdKind::Leaf) {
      // remove_pmd_table (l.1154-1176): a whole leaf is freed; a partial
      // one only once vmemmap_pmd_is_unused finds nothing under it in use.
      if (((addr & (pmd_size - 1)) == 0 && (next & (pmd_size - 1)) == 0) ||
          vmemmap_pmd_is_unused(m, hp, addr, next)) {
        free_pmd_leaf_block(m, hp, pmd.value, pgmap);
        m.pt.pmd_clear(i);
      }
      continue;
    }
    // remove_pte_table (x86 l.1097-1131): free, then clear; one flush at the
    // end.  arm64 (16K/64K here) gives altmap pages back with
    // vmem_altmap_free (arch/arm64/mm/mmu.c free_hotplug_page_range).
    const bool altmap_ptes = m.cfg.page_shift != 12 && pgmap && pgmap->altmap;
    for (uint64_t a = addr; a < next; a += ps) {
      Pte pte = m.pt.ptep_get(a);
      if (!pte.present())
        continue;
      if (altmap_ptes) {
        pgmap->altmap->alloc -= 1;
        hp.frame_refcount.erase(pte.frame);
        m.phys.free_frame(pte.frame);
      } else {
        free_pagetable_frame(m, hp, pte.frame);
      }
      m.pt.set_pte_at(a, Pte{});
    }
    m.pt.flush_tlb_all();
    // free_pte_table (x86 l.1042-1060): the table goes when all its PTEs are none.
    if (m.pt.pte_table_empty(i))
      m.phys.free_frame(m.pt.pmd_clear(i));
  }
  m.pt.flush_tlb_all();
}

namespace {

// populate_section_memmap (l.567-577): the accounting is added whether or
// not the population succeeded; section_deactivate takes it back.
bool populate_section_memmap(Machine &m, HotplugState &hp, uint64_t pfn, uint64_t nr_pages,
                             unsigned nid, DevPagemap *pgmap) {
  bool ok = __populate_section_memmap(m, hp, pfn, nr_pages, nid, pgmap);
  m.phys.memmap_pages += section_nr_vmemmap_pages(m, pfn, nr_pages, pgmap);
  return ok;
}

// depopulate_section_memmap (l.579-587).
void depopulate_section_memmap(Machine &m, HotplugState &hp, uint64_t pfn, uint64_t nr_pages,
                               DevPagemap *pgmap) {
  const uint64_t start = m.page(pfn);
  const uint64_t end = start + nr_pages * m.cfg.struct_page_size;
  m.phys.memmap_pages -= section_nr_vmemmap_pages(m, pfn, nr_pages, pgmap);
  vmemmap_free(m, hp, start, end, pgmap);
}

// free_map_bootmem (l.589-598).
void free_map_bootmem(Machine &m, HotplugState &hp, uint64_t memmap_pfn) {
  const uint64_t start = m.page(memmap_pfn);
  const uint64_t end = m.page(memmap_pfn + m.cfg.pages_per_section());
  m.phys.memmap_boot_pages -=
      section_nr_vmemmap_pages(m, memmap_pfn, m.cfg.pages_per_section(), nullptr);
  vmemmap_free(m, hp, start, end, nullptr);
}

// section_deactivate (l.661-706).
void section_deactivate(Machine &m, HotplugState &hp, uint64_t pfn, uint64_t nr_pages,
                        DevPagemap *pgmap) {
  MemSection &ms = hp.sections.pfn_to_section(pfn);
  const bool section_is_early = ms.early;
  if (hp.sections.clear_subsection_map(pfn, nr_pages)) {
    m.report("K-WARN_ON", m.page(pfn), pfn, "subsections present", "already deactivated",
             "clear_subsection_map: section already deactivated");
    return;
  }
  const bool empty = ms.subsection_map.empty();
  bool free_bootmem = false;
  if (empty) {
    ms.has_mem_map = false;  // valid_section() is false from here on
    if (!ms.usage_from_boot)
      ms.has_usage = false;  // kfree_rcu(ms->usage)
    free_bootmem = true;
  }
  // The memmap of early sections is always fully populated.
  if (!section_is_early)
    depopulate_section_memmap(m, hp, pfn, nr_pages, pgmap);
  else if (free_bootmem)
    free_map_bootmem(m, hp, hp.sections.geo.section_align_down(pfn));
  if (empty) {
    // ms->section_mem_map = NULL: present, online and early all go.
    ms.present = ms.online = ms.early = false;
    ms.compound_order = 0;  // section_set_compound_order(ms, 0), shared-tail era
  }
}

// section_activate (l.708-748).
int section_activate(Machine &m, HotplugState &hp, unsigned nid, uint64_t pfn, uint64_t nr_pages,
                     DevPagemap *pgmap) {
  MemSection &ms = hp.sections.pfn_to_section(pfn);
  // MS: the compound order is recorded per section, and a sub-section
  // hot-add into an optimized section is refused.
  const unsigned order = muchun(m) && vmemmap_can_optimize(m, pgmap) ? pgmap->vmemmap_shift : 0;
  if (muchun(m) && nr_pages < m.cfg.pages_per_section() && ms.compound_order)
    return -EOPNOTSUPP_;
  bool allocated_usage = false;
  if (!ms.has_usage) {
    if (!m.phys.kmalloc_attempt(nid))  // kzalloc(mem_section_usage_size(), GFP_KERNEL)
      return -ENOMEM_;
    ms.has_usage = true;
    ms.usage_from_boot = false;
    allocated_usage = true;
  }
  if (int rc = hp.sections.fill_subsection_map(pfn, nr_pages)) {
    if (allocated_usage)
      ms.has_usage = false;
    return rc;
  }
  // Hot-add into a partially populated early section reuses the boot memmap.
  if (nr_pages < m.cfg.pages_per_section() && ms.early)
    return 0;
  if (muchun(m))
    hp.sections.set_compound_order_range(pfn, nr_pages, order);
  if (!populate_section_memmap(m, hp, pfn, nr_pages, nid, pgmap)) {
    section_deactivate(m, hp, pfn, nr_pages, pgmap);
    return -ENOMEM_;
  }
  return 0;
}

} // namespace

// hotplug l.318-337.
int check_pfn_span(const Machine &m, uint64_t pfn, uint64_t nr_pages) {
  const uint64_t min_align = m.cfg.pages_per_subsection();
  if ((pfn | nr_pages) & (min_align - 1))
    return -EINVAL_;
  return 0;
}

// l.770-802.  sparse_index_init allocates the section root: the model grows
// its section table and the vmemmap page table's span instead.
int sparse_add_section(Machine &m, HotplugState &hp, unsigned nid, uint64_t start_pfn,
                       uint64_t nr_pages, DevPagemap *pgmap) {
  const uint64_t section_nr = hp.sections.geo.pfn_to_section_nr(start_pfn);
  hp.sections.ensure_section(section_nr);
  m.pt.ensure_covers(m.page(hp.sections.geo.section_nr_to_pfn(section_nr + 1)));
  if (int rc = section_activate(m, hp, nid, start_pfn, nr_pages, pgmap))
    return rc;
  // page_init_poison() is CONFIG_DEBUG_VM only; Debian builds without it.
  MemSection &ms = hp.sections.sections[section_nr];
  ms.present = true;      // __section_mark_present
  ms.has_mem_map = true;  // sparse_init_one_section
  return 0;
}

// l.804-813.
void sparse_remove_section(Machine &m, HotplugState &hp, uint64_t pfn, uint64_t nr_pages,
                           DevPagemap *pgmap) {
  if (!hp.sections.in_range(pfn) || !hp.sections.pfn_to_section(pfn).has_mem_map) {
    m.report("K-WARN_ON", m.page(pfn), pfn, "valid section", "invalid",
             "sparse_remove_section: WARN_ON_ONCE(!valid_section(ms))");
    return;
  }
  section_deactivate(m, hp, pfn, nr_pages, pgmap);
}

// hotplug l.388-428.
int __add_pages(Machine &m, HotplugState &hp, unsigned nid, uint64_t pfn, uint64_t nr_pages,
                DevPagemap *pgmap) {
  hotplug_state_init(m, hp);
  const uint64_t end_pfn = pfn + nr_pages;
  if (pgmap && pgmap->altmap) {
    VmemAltmap &a = *pgmap->altmap;
    if (a.base_pfn != pfn || a.reserve + a.free > nr_pages)
      return -EINVAL_;  // "memory add fail, invalid altmap"
    a.alloc = 0;
  }
  if (check_pfn_span(m, pfn, nr_pages)) {
    m.report("K-WARN_ON", m.page(pfn), pfn, "subsection aligned span", "misaligned",
             "__add_pages: Misaligned start/end");
    return -EINVAL_;
  }
  int err = 0;
  for (uint64_t cur; pfn < end_pfn; pfn += cur) {
    // Select all remaining pages up to the next section boundary.
    cur = std::min(end_pfn - pfn, hp.sections.geo.section_align_down(pfn) +
                                      hp.sections.geo.pages_per_section() - pfn);
    err = sparse_add_section(m, hp, nid, pfn, cur, pgmap);
    if (err)
      break;
  }
  return err;
}

// hotplug l.593-610.
void __remove_pages(Machine &m, HotplugState &hp, uint64_t pfn, uint64_t nr_pages,
                    DevPagemap *pgmap) {
  hotplug_state_init(m, hp);
  const uint64_t end_pfn = pfn + nr_pages;
  if (check_pfn_span(m, pfn, nr_pages)) {
    m.report("K-WARN_ON", m.page(pfn), pfn, "subsection aligned span", "misaligned",
             "__remove_pages: Misaligned start/end");
    return;
  }
  for (uint64_t cur; pfn < end_pfn; pfn += cur) {
    cur = std::min(end_pfn - pfn, hp.sections.geo.section_align_down(pfn) +
                                      hp.sections.geo.pages_per_section() - pfn);
    sparse_remove_section(m, hp, pfn, cur, pgmap);
  }
}

} // namespace hvo
