// SPDX-License-Identifier: GPL-2.0-only
//
// Memory sections and their subsection maps (the bookkeeping half of
// mm/sparse.c and mm/sparse-vmemmap.c's hotplug code).  This holds no
// vmemmap: populating and freeing the memmap is sparse_vmemmap.cpp's job.
#pragma once

#include <cstdint>
#include <vector>

namespace hvo {

/// Section and subsection sizes in pages (x86-64: 2^15 and 2^9).
struct SectionGeometry {
  unsigned pfn_section_shift = 15;    ///< PFN_SECTION_SHIFT
  unsigned pfn_subsection_shift = 9;  ///< PFN_SUBSECTION_SHIFT

  std::uint64_t pages_per_section() const { return std::uint64_t{1} << pfn_section_shift; }
  std::uint64_t pages_per_subsection() const { return std::uint64_t{1} << pfn_subsection_shift; }
  unsigned subsections_per_section() const { return 1u << (pfn_section_shift - pfn_subsection_shift); }
  std::uint64_t pfn_to_section_nr(std::uint64_t pfn) const { return pfn >> pfn_section_shift; }
  std::uint64_t section_nr_to_pfn(std::uint64_t nr) const { return nr << pfn_section_shift; }
  std::uint64_t section_align_down(std::uint64_t pfn) const { return pfn & ~(pages_per_section() - 1); }
  std::uint64_t section_align_up(std::uint64_t pfn) const {
    return (pfn + pages_per_section() - 1) & ~(pages_per_section() - 1);
  }
  /// subsection_map_index() (include/linux/mmzone.h, 6.12 l.1960-1963).
  unsigned subsection_map_index(std::uint64_t pfn) const {
    return static_cast<unsigned>((pfn & (pages_per_section() - 1)) >> pfn_subsection_shift);
  }
};

/// A subsection bitmap (SUBSECTIONS_PER_SECTION bits).
class SubsectionMap {
public:
  explicit SubsectionMap(unsigned nbits = 0) : words_((nbits + 63) / 64, 0), nbits_(nbits) {}
  /// bitmap_set(map, idx, n)
  void set_range(unsigned idx, unsigned n);
  bool empty() const;
  bool intersects(const SubsectionMap &o) const;
  /// (this & o) == o
  bool contains(const SubsectionMap &o) const;
  void or_with(const SubsectionMap &o);
  void xor_with(const SubsectionMap &o);
  bool test(unsigned idx) const { return (words_[idx / 64] >> (idx % 64)) & 1; }
  unsigned size() const { return nbits_; }

private:
  std::vector<std::uint64_t> words_;
  unsigned nbits_;
};

/// struct mem_section, reduced to what hotplug and HVO read.
struct MemSection {
  bool present = false;      ///< SECTION_MARKED_PRESENT
  bool has_mem_map = false;  ///< SECTION_HAS_MEM_MAP (valid_section())
  bool online = false;       ///< SECTION_IS_ONLINE
  bool early = false;        ///< SECTION_IS_EARLY (boot memory; memmap never deduplicated)
  bool has_usage = false;    ///< ms->usage != NULL
  bool usage_from_boot = false; ///< usage allocated by memblock (PageReserved): kept on removal
  SubsectionMap subsection_map;
  /// Shared-tail era (Muchun): compound order of the folios the section's
  /// memmap is optimized for, 0 when not optimized
  /// (mem_section.compound_page_order / section_order()).
  unsigned compound_order = 0;
};

/// The section array (mem_section[] in SPARSEMEM_EXTREME terms, flattened).
struct SectionTable {
  SectionGeometry geo;
  std::vector<MemSection> sections;

  SectionTable() = default;
  SectionTable(SectionGeometry g, std::uint64_t nr_sections);

  /// sparse_index_init(): makes section @nr addressable (the table grows;
  /// new sections are absent).
  void ensure_section(std::uint64_t nr);

  bool in_range(std::uint64_t pfn) const { return geo.pfn_to_section_nr(pfn) < sections.size(); }
  MemSection &pfn_to_section(std::uint64_t pfn) { return sections[geo.pfn_to_section_nr(pfn)]; }
  const MemSection &pfn_to_section(std::uint64_t pfn) const { return sections[geo.pfn_to_section_nr(pfn)]; }

  /// subsection_mask_set() (mm/sparse-vmemmap.c, 6.12 l.482-489).
  SubsectionMap subsection_mask(std::uint64_t pfn, std::uint64_t nr_pages) const;

  /// fill_subsection_map() (6.12 mm/sparse-vmemmap.c l.627-647): -EINVAL for
  /// an empty request, -EEXIST if any subsection is already present.
  int fill_subsection_map(std::uint64_t pfn, std::uint64_t nr_pages);

  /// clear_subsection_map() (l.600-619): -EINVAL (the kernel WARNs) if a
  /// subsection being cleared is not present.
  int clear_subsection_map(std::uint64_t pfn, std::uint64_t nr_pages);

  /// is_subsection_map_empty() (l.621-625).
  bool is_subsection_map_empty(std::uint64_t pfn) const;

  /// Boot: mark [pfn, pfn + nr) present and early with a boot-allocated usage
  /// map (memory_present() + sparse_init_one_section() + the subsection map
  /// set by sparse_init_subsection_map(), 6.12 l.491-515).
  void init_early_range(std::uint64_t pfn, std::uint64_t nr_pages);

  /// section_set_compound_order_range() (Muchun, include/linux/
  /// vmemmap-optimization.h): only whole sections get an order.
  void set_compound_order_range(std::uint64_t pfn, std::uint64_t nr_pages, unsigned order);
};

} // namespace hvo
