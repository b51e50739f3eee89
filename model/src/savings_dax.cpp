// SPDX-License-Identifier: GPL-2.0-only
//
// Device-DAX savings per compound order, measured by running the model: boot
// a machine, memremap one device range of the order (dax_add) and count the
// frames its memmap maps.
#include <set>
#include <utility>

#include "hvo/model.h"
#include "hvo/savings.h"
#include "hvo/shared_tail.h"
#include "hvo/sparse_vmemmap.h"

namespace hvo {

namespace {

DaxSavings measure_dax(unsigned page_shift, unsigned S, unsigned order, std::string &err,
                       Era era) {
  DaxSavings s;
  s.order = order;
  s.folio_bytes = uint64_t{1} << (order + page_shift);
  s.vmemmap_pages = ((uint64_t{1} << order) * S) >> page_shift;
  Config c;
  c.page_shift = page_shift;
  c.struct_page_size = S;
  c.era = era;
  c.variant = era == Era::SharedTail ? Variant::Muchun : default_variant(era);
  auto model = Model::create(c, &err);
  if (!model)
    return s;
  Machine &m = model->machine();
  const uint64_t compound = uint64_t{1} << order;
  // Muchun records the order per whole section only: measure a section at
  // least (a sub-section range is not optimized there).
  const uint64_t range =
      std::max(compound, era == Era::SharedTail ? c.pages_per_section() : c.pages_per_subsection());
  // Above boot RAM, aligned to the range, a section and one PMD of memmap.
  uint64_t align = std::max({range, c.pages_per_section(), c.pmd_size() / S});
  const uint64_t pfn = (c.total_pages() + align - 1) / align * align;
  const uint64_t tables_before = m.phys.live_pagetable_frames();
  const int64_t memmap_before = m.phys.memmap_pages;
  StepResult r = model->apply(Op{static_cast<uint16_t>(find_op("dax_add") - op_table().data()),
                                 {pfn, range, order, 0}});
  if (r.result.ret != 0 || !r.violations.empty()) {
    err = "dax_add of an order-" + std::to_string(order) + " range failed: " +
          format_ret(r.result.ret) +
          (r.violations.empty() ? "" : " (" + format_violation(r.violations.front()) + ")");
    return s;
  }
  s.compound_pages = range / compound;
  s.optimized = era == Era::SharedTail
                    ? vmemmap_optimizable_order(vmemmap_geometry(c),
                                                m.hotplug.sections.pfn_to_section(pfn).compound_order)
                    : vmemmap_can_optimize(m, &m.hotplug.pgmaps.back());
  const uint64_t ps = c.page_size();
  std::set<FrameId> frames;
  uint64_t shares = 0;
  for (uint64_t a = m.page(pfn); a < m.page(pfn + range); a += ps) {
    const Pte p = m.pt.ptep_get(a);
    shares += std::as_const(m.phys).frame(p.frame).map_count > 1;
    if (std::as_const(m.phys).frame(p.frame).attrs & kFrameSharedTail)
      continue;  // the zone's shared tail: counted apart
    frames.insert(p.frame);
  }
  s.keeps = frames.size() / s.compound_pages;
  s.shares = shares / s.compound_pages;
  s.saved = static_cast<int64_t>(s.vmemmap_pages) - static_cast<int64_t>(s.keeps);
  s.memmap_pages_delta = m.phys.memmap_pages - memmap_before;
  s.pte_tables = m.phys.live_pagetable_frames() - tables_before;
  s.range_pages = range;
  s.shared_tails = m.shared_tails.frames;
  return s;
}

} // namespace

std::vector<DaxSavings> compute_dax_savings(unsigned page_shift, unsigned struct_page_size,
                                            std::string &err, Era era) {
  std::vector<DaxSavings> out;
  // A struct page that is not a power of two disables the optimization
  // (vmemmap_can_optimize); nothing to measure.
  if (struct_page_size & (struct_page_size - 1))
    return out;
  const unsigned max_order = 34 - page_shift;  // MAX_FOLIO_ORDER
  for (unsigned o = 1; o <= max_order; o++) {
    if ((uint64_t{1} << o) * struct_page_size < (uint64_t{1} << page_shift))
      continue;  // less than one vmemmap page per compound page
    out.push_back(measure_dax(page_shift, struct_page_size, o, err, era));
    if (!err.empty())
      break;
  }
  return out;
}

} // namespace hvo
