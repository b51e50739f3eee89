// SPDX-License-Identifier: GPL-2.0-only
//
// Booting the simulated machine: the memmap is allocated from memblock and
// PMD-mapped (x86-64 vmemmap_populate_hugepages), then every struct page is
// initialised as __init_single_page leaves it and freed to buddy.
#include "hvo/machine.h"

#include <algorithm>

#include "hvo/struct_page.h"

namespace hvo {

namespace {

// The architecture's vmemmap placement.  Historic bug NoMemmapAlignmentCheck:
// before Kiryl v7 05-06/18 riscv and LoongArch aligned VMEMMAP_START only to
// what their page tables need, not to MAX_FOLIO_VMEMMAP_ALIGN, and before
// 08/18 sparse_init() did not check; modelled as a base one PMD up.
Config arch_vmemmap_layout(Config c) {
  c.vmemmap_base = Machine::laid_out_vmemmap_base(c);
  return c;
}

} // namespace

uint64_t Machine::laid_out_vmemmap_base(const Config &c) {
  if (c.has(Bug::NoMemmapAlignmentCheck) && c.era == Era::SharedTail)
    return c.vmemmap_base + c.pmd_size();
  return c.vmemmap_base;
}

// Field by field rather than through normalised copies: no allocation (the
// fuzz harness asks on every boot-cache miss).  A new Config field must be
// sorted here into what boot reads or not; the size check makes that a
// compile error rather than a silent "alike".
static_assert(sizeof(Config) == 64 + sizeof(BugSet) || sizeof(void *) != 8,
              "Config changed: decide whether Machine::boots_alike must compare the new field");
bool Machine::boots_alike(const Config &a, const Config &b) {
  return a.arch == b.arch && a.page_shift == b.page_shift &&
         a.struct_page_size == b.struct_page_size && a.nodes == b.nodes &&
         a.section_size_bits == b.section_size_bits &&
         a.subsection_size_bits == b.subsection_size_bits && a.bugs == b.bugs &&
         laid_out_vmemmap_base(a) == laid_out_vmemmap_base(b);
}

Machine::Machine(const Config &c)
    : cfg(arch_vmemmap_layout(c)), phys(cfg), pt(cfg, phys), mmu(cfg, phys, pt),
      vmemmap_optimize_enabled(c.hvo_enabled) {
  sparse_init();
  memmap_init();
  phys.take_touched();
}

// cfg is o's as laid out (arch_vmemmap_layout already applied): taking it
// through the layout again would move the base a second time.
Machine::Machine(StateOf o)
    : cfg(o.machine.cfg), phys(cfg), pt(cfg, phys), mmu(cfg, phys, pt) {
  assign_state(o.machine);
  if (o.as) {
    // What differs between two machines that boot alike: the Config they
    // keep (Machine's, PhysMem's copy) and what the constructor derives
    // from it without booting.
    cfg = arch_vmemmap_layout(*o.as);
    phys.retarget(cfg);
    vmemmap_optimize_enabled = o.as->hvo_enabled;
  }
}

void Machine::assign_state(const Machine &o) {
  if (this == &o)
    return;
  cfg = o.cfg;
  phys = o.phys;  // vectors reuse their storage: no fresh pages per input
  pt.assign_state(o.pt);
  mmu.faults = o.mmu.faults;
  events = o.events;
  reports = o.reports;
  hugetlb_optimize_vmemmap_key = o.hugetlb_optimize_vmemmap_key;
  vmemmap_optimize_enabled = o.vmemmap_optimize_enabled;
  hotplug = o.hotplug;
  shared_tails = o.shared_tails;
  folios = o.folios;
}

// sparse_init -> __populate_section_memmap -> vmemmap_populate.  With 4K
// pages (x86-64, arm64 4K) vmemmap_populate_hugepages maps one memblock block
// of PTRS_PER_PTE pages per PMD, on the node of the first section it serves (a
// later section finds the PMD present).  With 16K/64K pages arm64 uses
// vmemmap_populate_basepages: a PTE table per PMD and one frame per vmemmap
// page that holds struct pages.
void Machine::sparse_init() {
  const uint64_t memmap_end = cfg.vmemmap_of_pfn(cfg.total_pages());
  for (size_t i = 0; i < pt.nr_pmds(); i++) {
    uint64_t first_pfn = page_to_pfn(pt.pmd_addr(i));
    const ZoneRange *z = phys.zone_of_pfn(first_pfn);
    unsigned nid = z ? z->nid : 0;
    if (cfg.page_shift == 12) {
      FrameId first = phys.memblock_alloc_frames(nid, cfg.ptrs_per_pte());
      pt.pmd_set_leaf(i, first);
      phys.memmap_boot_pages += static_cast<int64_t>(cfg.ptrs_per_pte());
      for (uint64_t k = 0; k < cfg.ptrs_per_pte(); k++)
        phys.frame(first + k).origin_vpn = static_cast<uint32_t>(i * cfg.ptrs_per_pte() + k);
      continue;
    }
    uint32_t table = pt.pte_table_create(phys.memblock_alloc_pagetable(nid));
    uint64_t used = std::min<uint64_t>(cfg.ptrs_per_pte(),
                                       (memmap_end - pt.pmd_addr(i) + cfg.page_size() - 1) >>
                                           cfg.page_shift);
    FrameId first = phys.memblock_alloc_frames(nid, used);
    phys.memmap_boot_pages += static_cast<int64_t>(used);
    for (uint64_t k = 0; k < used; k++) {
      pt.pte_table_set(table, k, Pte{static_cast<FrameId>(first + k), false});
      phys.frame(first + k).origin_vpn = static_cast<uint32_t>(i * cfg.ptrs_per_pte() + k);
    }
    pt.pmd_populate_kernel(i, table);
  }
}

uint32_t Machine::fresh_struct_page_image(unsigned zone, unsigned nid) {
  std::array<FieldSpec, kMaxStructPageWords> f{};
  f[sp::kFlags] = FieldSpec{sp::page_links(zone, nid)};
  f[sp::kCompoundHead] = FieldSpec{8, FieldRel::Self};  // INIT_LIST_HEAD(&page->lru)
  f[sp::kLruPrev] = FieldSpec{8, FieldRel::Self};
  f[sp::kCounts] = FieldSpec{sp::counts(0, sp::kMapcountNone)};
  return phys.images().intern(f);
}

// memmap_init_range -> __init_single_page for every present pfn.  Zones are
// section aligned, so every vmemmap page holds struct pages of one zone.
void Machine::memmap_init() {
  for (const ZoneRange &z : phys.zones()) {
    uint32_t image = fresh_struct_page_image(static_cast<unsigned>(z.type), z.nid);
    uint64_t first_vpn = vpn(page(z.start_pfn));
    uint64_t end_vpn = vpn(page(z.end_pfn) - 1) + 1;
    for (uint64_t v = first_vpn; v < end_vpn; v++) {
      Pte pte = pt.ptep_get(cfg.vmemmap_base + (v << cfg.page_shift));
      phys.images().get(image);
      phys.set_image(pte.frame, image, v);
    }
    phys.images().put(image);
  }
}

}  // namespace hvo
