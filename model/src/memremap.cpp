// SPDX-License-Identifier: GPL-2.0-only
//
// Device memory setup and teardown: Debian 6.12.117 mm/memremap.c
// (memremap_pages, pagemap_range, memunmap_pages, pageunmap_range), reduced
// to one range per pgmap, and the boot state of the section table.
#include "hvo/memremap.h"

#include "hvo/hugetlb_vmemmap.h"
#include "hvo/machine.h"
#include "hvo/mm_init.h"
#include "hvo/sparse_vmemmap.h"

namespace hvo {

namespace {

constexpr int ENXIO_ = 6;

// get_dev_pagemap(pfn) (memremap.c 6.12 l.396-420): the live pgmap whose
// range holds @pfn.
const DevPagemap *get_dev_pagemap(const HotplugState &hp, uint64_t pfn) {
  for (const DevPagemap &p : hp.pgmaps)
    if (p.live && pfn >= p.range_start_pfn && pfn < p.range_start_pfn + p.range_nr_pages)
      return &p;
  return nullptr;
}

} // namespace

void hotplug_state_init(const Machine &m, HotplugState &hp) {
  if (hp.initialized)
    return;
  hp.initialized = true;
  SectionGeometry g;
  g.pfn_section_shift = m.cfg.section_size_bits - m.cfg.page_shift;
  g.pfn_subsection_shift = m.cfg.subsection_size_bits - m.cfg.page_shift;
  const uint64_t boot_pages = m.cfg.total_pages();
  hp.sections = SectionTable(g, (boot_pages + g.pages_per_section() - 1) >> g.pfn_section_shift);
  if (boot_pages)
    hp.sections.init_early_range(0, boot_pages);
}

// memremap.c l.292-352 + pagemap_range l.170-284, one range, type
// MEMORY_DEVICE_FS_DAX (or GENERIC: the same path).
int memremap_pages(Machine &m, HotplugState &hp, const DevPagemap &request, uint32_t &id) {
  hotplug_state_init(m, hp);
  const uint64_t start = request.range_start_pfn, nr = request.range_nr_pages;
  if (nr == 0)
    return -EINVAL_;  // WARN_ONCE(!nr_range): an empty range is no range
  // Conflicting mapping in the same section (get_dev_pagemap on both ends).
  if (get_dev_pagemap(hp, start) || get_dev_pagemap(hp, start + nr - 1)) {
    m.report("K-WARN_ON", m.page(start), start, "no pgmap at the range ends", "conflict",
             "pagemap_range: Conflicting mapping in same section");
    return -ENOMEM_;
  }
  // region_intersects(System RAM) must be REGION_DISJOINT.
  if (start < m.cfg.total_pages())
    return -ENXIO_;
  // mhp_range_allowed (mm/memory_hotplug.c 6.12 l.1725-1736): the range must
  // lie below 1 << MAX_PHYSMEM_BITS (x86-64 4-level paging: 46).
  // powerpc radix with SPARSEMEM_VMEMMAP and SPARSEMEM_EXTREME: 51
  // (asm/book3s/64/radix.h 6.12 l.110-114).
  const unsigned kMaxPhysmemBits = m.cfg.arch == Arch::Ppc64Radix ? 51 : 46;
  const uint64_t max_pfn = uint64_t{1} << (kMaxPhysmemBits - m.cfg.page_shift);
  if (start >= max_pfn || nr > max_pfn - start)
    return -EINVAL_;
  if (request.nid >= m.cfg.nodes.size())
    return -EINVAL_;  // NODE_DATA(nid) would not exist
  DevPagemap pgmap = request;
  pgmap.id = static_cast<uint32_t>(hp.pgmaps.size());
  pgmap.live = true;  // xa_store_range(&pgmap_array, ...)
  pgmap.nr_range = 0; // the range being onlined
  hp.pgmaps.push_back(pgmap);
  DevPagemap &p = hp.pgmaps.back();

  // arch_add_memory -> add_pages -> __add_pages.  On failure the sections
  // already added stay added: pagemap_range's error path does not remove
  // them (docs/findings-model.md, "memremap_pages partial failure").
  int error = __add_pages(m, hp, p.nid, start, nr, &p);
  if (error) {
    p.live = false;  // pgmap_array_delete
    return error;
  }
  // move_pfn_range_to_zone -> memmap_init_range (ZONE_DEVICE, MEMINIT_HOTPLUG).
  memmap_init_range_zone_device(m, start, nr, p.nid, p);
  memmap_init_zone_device(m, hp, p.nid, start, nr, p);
  p.nr_range = 1;
  id = p.id;
  return 0;
}

// memremap.c l.137-155 and pageunmap_range l.111-135: arch_remove_memory ->
// __remove_pages over the whole range.
int memunmap_pages(Machine &m, HotplugState &hp, uint32_t id) {
  hotplug_state_init(m, hp);
  if (id >= hp.pgmaps.size() || !hp.pgmaps[id].live)
    return -EINVAL_;
  DevPagemap &p = hp.pgmaps[id];
  __remove_pages(m, hp, p.range_start_pfn, p.range_nr_pages, &p);
  p.live = false;
  return 0;
}

} // namespace hvo
