// SPDX-License-Identifier: GPL-2.0-only
//
// Device memory (ZONE_DEVICE) as the model sees it: struct dev_pagemap with
// its compound geometry (vmemmap_shift) and optional struct vmem_altmap
// (include/linux/memremap.h, Debian 6.12.117 l.21-28 and l.118-140), and the
// state memory hotplug keeps per machine: the section table, the pgmaps, and
// the reference counts of memmap frames that device-DAX maps more than once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "hvo/phys_mem.h"
#include "hvo/sparse.h"

namespace hvo {

class Machine;

/// struct vmem_altmap (memremap.h 6.12 l.21-28): the memmap of a device range
/// carved from the device's own first pfns.  Counts are in pages.
struct VmemAltmap {
  std::uint64_t base_pfn = 0;
  std::uint64_t end_pfn = 0;
  std::uint64_t reserve = 0;  ///< pages at base_pfn never handed out
  std::uint64_t free = 0;     ///< pages available for the memmap
  std::uint64_t align = 0;    ///< pages skipped for alignment
  std::uint64_t alloc = 0;    ///< pages handed out
};

/// struct dev_pagemap, reduced to one range (MEMORY_DEVICE_FS_DAX /
/// GENERIC: the pgmap types that carry a vmemmap_shift).
struct DevPagemap {
  std::uint32_t id = 0;
  std::uint64_t range_start_pfn = 0;
  std::uint64_t range_nr_pages = 0;
  unsigned vmemmap_shift = 0;            ///< compound order of the device pages
  std::optional<VmemAltmap> altmap;      ///< pgmap_altmap()
  unsigned nid = 0;
  /// memremap_pages() counts ranges as they come online, so while the range
  /// is being added nr_range is 0 (reuse_compound_section reads
  /// ranges[nr_range]); after success it is 1.
  unsigned nr_range = 0;
  bool live = false;
  /// Model-side: the fake kernel address stored in page->pgmap.
  std::uint64_t kernel_address() const { return 0xffff888100000000ull + 0x400ull * id; }
};

/// pgmap_vmemmap_nr() (memremap.h 6.12 l.155-158).
inline std::uint64_t pgmap_vmemmap_nr(const DevPagemap &pgmap) {
  return std::uint64_t{1} << pgmap.vmemmap_shift;
}

/// Per-machine memory hotplug state.
struct HotplugState {
  bool initialized = false;  ///< hotplug_state_init() has run
  SectionTable sections;
  std::vector<DevPagemap> pgmaps;  ///< indexed by pgmap id
  /// page_ref_count() of memmap frames populated by the hotplug path: 1 on
  /// allocation, +1 per extra vmemmap PTE that reuses the frame (get_page in
  /// vmemmap_pte_populate), -1 per free_pagetable (put_page_testzero).
  /// The model core does not keep a refcount for frames (their struct pages
  /// are not modelled, docs/model.md "frames"), so this is kept here.
  std::map<FrameId, std::uint32_t> frame_refcount;
  /// ppc64-radix: memmap frames taken from a device altmap.  The kernel
  /// tells them apart by pfn (free_vmemmap_pages); the model backs altmap
  /// pages with node frames, so it remembers them.
  std::set<FrameId> altmap_frames;
};

/// Boots the hotplug state: every section that holds boot memory is an early
/// section, fully present (sparse_init + sparse_init_subsection_map).  Runs
/// once; the hotplug entry points call it on first use.
void hotplug_state_init(const Machine &m, HotplugState &hp);

/// memremap_pages() (mm/memremap.c 6.12 l.292-352 with pagemap_range
/// l.170-284) for one range: refuses a range that intersects boot RAM
/// (-ENXIO), overlaps another pgmap (-ENOMEM, "Conflicting mapping"), has a
/// misaligned span (-EINVAL, check_pfn_span) or an altmap not at its start
/// (-EINVAL); then __add_pages + memmap_init_zone_device.  Returns 0 and
/// the new pgmap id in @id, or a negative errno.
int memremap_pages(Machine &m, HotplugState &hp, const DevPagemap &request, std::uint32_t &id);

/// memunmap_pages() (mm/memremap.c 6.12 l.137-155, pageunmap_range l.111-135).
int memunmap_pages(Machine &m, HotplugState &hp, std::uint32_t id);

} // namespace hvo
