// SPDX-License-Identifier: GPL-2.0-only
//
// The device-DAX op family: memremap_pages / memunmap_pages of one range
// with a compound geometry (vmemmap_shift), with or without an altmap.
#include <algorithm>

#include "hvo/hugetlb_vmemmap.h"
#include "hvo/memremap.h"
#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo {

namespace {

constexpr uint64_t kMaxShift = 30;  // above MAX_FOLIO_ORDER of every page size

// devm_request_mem_region (kernel/resource.c 6.12 l.1248-1330, __request_region): the
// range must not overlap a busy iomem resource.  Every live pgmap's range
// is one, requested by the probe that mapped it and held until its remove.
bool request_mem_region(const HotplugState &hp, uint64_t pfn, uint64_t pages) {
  for (const DevPagemap &p : hp.pgmaps)
    if (p.live && pfn < p.range_start_pfn + p.range_nr_pages && p.range_start_pfn < pfn + pages)
      return false;
  return true;
}

OpResult dax_add(Model &md, uint64_t pfn, uint64_t pages, uint64_t shift, uint64_t node,
                 const VmemAltmap *altmap) {
  if (shift > kMaxShift || node >= md.config().nodes.size())
    return OpResult{-EINVAL_, {}, "bad shift or node"};
  // alloc_dax_region (drivers/dax/bus.c 6.12 l.649-651) refuses a region
  // whose start or length is not a multiple of its align, and
  // dev_dax_validate_align (l.1209-1225, alloc_is_aligned l.946-953) keeps
  // every range's length a multiple of dev_dax->align, which becomes
  // vmemmap_shift (device.c 6.12 l.445-447): device-DAX compound pages are
  // naturally aligned.  With pmem the region starts after the altmap
  // (__dax_pmem_probe, drivers/dax/pmem.c 6.12 l.40-56, adds the data offset).
  // memremap_pages itself does not check, and two paths rely on it: the
  // mask-encoded compound_info of the shared-tail era (compound_head masks
  // the tail's address, so a misaligned head resolves to the struct page
  // below it) and the powerpc radix population (finds compound pages by
  // absolute pfn, radix_pgtable.c l.1357).
  const uint64_t data_pfn = altmap ? altmap->base_pfn + altmap->free : pfn;
  if ((data_pfn | (pfn + pages)) & ((uint64_t{1} << shift) - 1))
    return OpResult{-EINVAL_, {}, "range not aligned to its compound page size"};
  DevPagemap req;
  req.range_start_pfn = pfn;
  req.range_nr_pages = pages;
  req.vmemmap_shift = static_cast<unsigned>(shift);
  req.nid = static_cast<unsigned>(node);
  if (altmap)
    req.altmap = *altmap;
  uint32_t id = 0;
  Machine &m = md.machine();
  // dev_dax_probe (drivers/dax/device.c 6.12 l.433-441) reserves the range
  // before devm_memremap_pages: an overlap is -EBUSY there, so the
  // "Conflicting mapping in same section" WARN in pagemap_range is never
  // reached from device-dax.
  if (!request_mem_region(m.hotplug, pfn, pages))
    return OpResult{-EBUSY_, {}, "could not reserve range"};
  const int ret = memremap_pages(m, m.hotplug, req, id);
  if (ret)
    return OpResult{ret, {}, {}};
  return OpResult{0, {}, "pgmap " + std::to_string(id)};
}

OpResult op_dax_add(Model &md, const Op &op) {
  return dax_add(md, op.args[0], op.args[1], op.args[2], op.args[3], nullptr);
}

// The altmap starts at the range's first pfn with no reserve (the info
// block and label area are modelled as 0), and is sized as the only in-tree
// producer of a device altmap sizes it: nd_pfn_init (drivers/nvdimm/
// pfn_devs.c 6.12 l.770-815) puts the data at ALIGN(start + pad +
// MAX_STRUCT_PAGE_SIZE * npfns, align), align = max(dax align,
// memremap_compat_align()), and __nvdimm_setup_pfn (l.683-720) makes
// everything below that the altmap's free pages.  The fuzzed `free` is
// the pad (the kernel's SZ_8K info block, larger for other layouts).  So
// the altmap always holds the memmap, and the first device page is aligned
// to the compound size that memmap_init_zone_device steps by.
OpResult op_dax_add_altmap(Model &md, const Op &op) {
  const Config &cfg = md.config();
  const uint64_t pfn = op.args[0], pages = op.args[1], shift = op.args[2], pad = op.args[3];
  if (shift > kMaxShift)
    return OpResult{-EINVAL_, {}, "bad shift"};
  // MAX_STRUCT_PAGE_SIZE (drivers/nvdimm/nd.h l.660); nd_pfn_init refuses
  // a larger struct page unless page_struct_override is set (not modelled).
  constexpr uint64_t kMaxStructPageSize = 64;
  if (cfg.struct_page_size > kMaxStructPageSize)
    return OpResult{-EINVAL_, {}, "Memory debug options prevent using pmem for the page map"};
  const uint64_t page_map_pages =
      (kMaxStructPageSize * pages + cfg.page_size() - 1) >> cfg.page_shift;
  const uint64_t align = std::max(uint64_t{1} << shift, cfg.pages_per_subsection());
  const uint64_t data_pfn = (pfn + pad + page_map_pages + align - 1) & ~(align - 1);
  VmemAltmap a;
  a.base_pfn = pfn;
  a.end_pfn = pfn + pages;
  a.free = data_pfn - pfn;
  return dax_add(md, pfn, pages, shift, 0, &a);
}

OpResult op_dax_remove(Model &md, const Op &op) {
  if (op.args[0] > UINT32_MAX)
    return OpResult{-EINVAL_, {}, "no such pgmap"};
  Machine &m = md.machine();
  return OpResult{memunmap_pages(m, m.hotplug, static_cast<uint32_t>(op.args[0])), {}, {}};
}

} // namespace

std::vector<OpDescriptor> dax_op_family() {
  const OpArgSpec pfn{"pfn", 0, uint64_t{1} << 24, uint64_t{1} << 18};
  const OpArgSpec pages{"pages", 1, uint64_t{1} << 19, 512};
  const OpArgSpec shift{"shift", 0, 22, 9};
  return {
      {"dax_add", {pfn, pages, shift, {"node", 0, 3, 0}}, op_dax_add,
       "memremap_pages: device-DAX range [pfn, pfn+pages) of 2^shift compound pages"},
      {"dax_add_altmap", {pfn, pages, shift, {"free", 0, uint64_t{1} << 16, 1024}},
       op_dax_add_altmap,
       "memremap_pages with an altmap at the range start (node 0), sized as nd_pfn_init "
       "does: `free` pad pages, then the memmap, aligned up to the compound size"},
      {"dax_remove", {{"pgmap", 0, 16, 0}}, op_dax_remove, "memunmap_pages of a pgmap id"},
  };
}

} // namespace hvo
