// SPDX-License-Identifier: GPL-2.0-only
//
// Section and subsection-map bookkeeping (Debian 6.12 mm/sparse-vmemmap.c
// l.482-515 and l.600-647, which carry the SPARSEMEM_VMEMMAP copies of
// mm/sparse.c's hotplug helpers).
#include "hvo/sparse.h"

#include <algorithm>
#include <cerrno>

namespace hvo {

void SubsectionMap::set_range(unsigned idx, unsigned n) {
  for (unsigned i = idx; i < idx + n && i < nbits_; ++i)
    words_[i / 64] |= std::uint64_t{1} << (i % 64);
}

bool SubsectionMap::empty() const {
  for (std::uint64_t w : words_)
    if (w)
      return false;
  return true;
}

bool SubsectionMap::intersects(const SubsectionMap &o) const {
  for (std::size_t i = 0; i < words_.size() && i < o.words_.size(); ++i)
    if (words_[i] & o.words_[i])
      return true;
  return false;
}

bool SubsectionMap::contains(const SubsectionMap &o) const {
  for (std::size_t i = 0; i < o.words_.size(); ++i) {
    const std::uint64_t mine = i < words_.size() ? words_[i] : 0;
    if ((mine & o.words_[i]) != o.words_[i])
      return false;
  }
  return true;
}

void SubsectionMap::or_with(const SubsectionMap &o) {
  for (std::size_t i = 0; i < words_.size() && i < o.words_.size(); ++i)
    words_[i] |= o.words_[i];
}

void SubsectionMap::xor_with(const SubsectionMap &o) {
  for (std::size_t i = 0; i < words_.size() && i < o.words_.size(); ++i)
    words_[i] ^= o.words_[i];
}

SectionTable::SectionTable(SectionGeometry g, std::uint64_t nr_sections)
    : geo(g), sections(nr_sections) {
  for (MemSection &ms : sections)
    ms.subsection_map = SubsectionMap(geo.subsections_per_section());
}

void SectionTable::ensure_section(std::uint64_t nr) {
  while (sections.size() <= nr) {
    sections.emplace_back();
    sections.back().subsection_map = SubsectionMap(geo.subsections_per_section());
  }
}

// subsection_mask_set(): bits idx..end of the section containing pfn.
SubsectionMap SectionTable::subsection_mask(std::uint64_t pfn, std::uint64_t nr_pages) const {
  SubsectionMap map(geo.subsections_per_section());
  const unsigned idx = geo.subsection_map_index(pfn);
  const unsigned end = geo.subsection_map_index(pfn + nr_pages - 1);
  map.set_range(idx, end - idx + 1);
  return map;
}

// fill_subsection_map(): the caller has ensured ms->usage exists.
int SectionTable::fill_subsection_map(std::uint64_t pfn, std::uint64_t nr_pages) {
  MemSection &ms = pfn_to_section(pfn);
  const SubsectionMap map = subsection_mask(pfn, nr_pages);
  if (map.empty())
    return -EINVAL;
  if (map.intersects(ms.subsection_map))
    return -EEXIST;
  ms.subsection_map.or_with(map);
  return 0;
}

// clear_subsection_map(): WARN + -EINVAL when the range is not fully present.
int SectionTable::clear_subsection_map(std::uint64_t pfn, std::uint64_t nr_pages) {
  MemSection &ms = pfn_to_section(pfn);
  const SubsectionMap map = subsection_mask(pfn, nr_pages);
  if (!ms.has_usage || !ms.subsection_map.contains(map))
    return -EINVAL;
  ms.subsection_map.xor_with(map);
  return 0;
}

bool SectionTable::is_subsection_map_empty(std::uint64_t pfn) const {
  return pfn_to_section(pfn).subsection_map.empty();
}

void SectionTable::init_early_range(std::uint64_t pfn, std::uint64_t nr_pages) {
  const std::uint64_t end = pfn + nr_pages;
  while (pfn < end) {
    const std::uint64_t next = std::min(end, geo.section_align_down(pfn) + geo.pages_per_section());
    MemSection &ms = pfn_to_section(pfn);
    ms.present = ms.has_mem_map = ms.online = ms.early = true;
    ms.has_usage = ms.usage_from_boot = true;
    ms.subsection_map.or_with(subsection_mask(pfn, next - pfn));
    pfn = next;
  }
}

// section_set_compound_order_range(): misaligned ranges record nothing.
void SectionTable::set_compound_order_range(std::uint64_t pfn, std::uint64_t nr_pages,
                                            unsigned order) {
  const std::uint64_t pps = geo.pages_per_section();
  if ((pfn | nr_pages) & (pps - 1))
    return;
  for (std::uint64_t i = 0; i < nr_pages / pps; ++i)
    sections[geo.pfn_to_section_nr(pfn) + i].compound_order = order;
}

} // namespace hvo
