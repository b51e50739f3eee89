// SPDX-License-Identifier: GPL-2.0-only
//
// The layout of struct page / struct folio the model stores in memmap frames
// (64-bit, include/linux/mm_types.h 6.12 lines 73-220 and 327-420), the page
// flag bits (include/linux/page-flags.h 6.12 lines 93-130) and the constants
// HugeTLB puts into struct pages.  Fields are 8-byte words; a 72/80-byte struct
// page appends words 8/9 (page->virtual, _last_cpupid or KMSAN shadows).
#pragma once

#include <cstdint>

namespace hvo::sp {

// Word index of each field inside a struct page.
inline constexpr unsigned kFlags = 0;         // page->flags
inline constexpr unsigned kCompoundHead = 1;  // lru.next / compound_head (bit 0: tail)
inline constexpr unsigned kLruPrev = 2;       // lru.prev
inline constexpr unsigned kMapping = 3;       // mapping (TAIL_MAPPING on tails)
inline constexpr unsigned kIndex = 4;         // index
inline constexpr unsigned kPrivate = 5;       // private (hugetlb: HPG_* flags on the head)
inline constexpr unsigned kCounts = 6;        // low 32: _mapcount/page_type, high 32: _refcount
inline constexpr unsigned kMemcg = 7;         // memcg_data

// struct folio overlay on the first tails (mm_types.h 6.12 l.372-410).
// Tail 1: _flags_1 (order in the low byte), _head_1, then
inline constexpr unsigned kFolioMapcounts = 2;  // _large_mapcount | _entire_mapcount << 32
inline constexpr unsigned kFolioPinned = 3;     // _nr_pages_mapped | _pincount << 32
inline constexpr unsigned kFolioNrPages = 4;    // _folio_nr_pages (low 32)
// Tail 2: _deferred_list at words 2..3.  Tail 3: _hugetlb_subpool (2),
// _hugetlb_cgroup (3), _hugetlb_cgroup_rsvd (4), _hugetlb_hwpoison (5).
inline constexpr unsigned kHugetlbHwpoison = 5;

// enum pageflags (page-flags.h 6.12 l.93-117, CONFIG_MMU + CONFIG_MEMORY_FAILURE).
inline constexpr unsigned PG_locked = 0;
inline constexpr unsigned PG_lru = 5;
inline constexpr unsigned PG_head = 6;
inline constexpr unsigned PG_reserved = 13;
inline constexpr unsigned PG_hwpoison = 20;

// Node and zone in the top bits of page->flags (the model's packing; the
// kernel's exact shifts depend on the configuration, their meaning does not).
inline constexpr unsigned kZonesPgShift = 61;  // 3 bits
inline constexpr unsigned kNodesPgShift = 51;  // 10 bits
inline constexpr uint64_t page_links(unsigned zone, unsigned nid) {
  return (uint64_t{zone} << kZonesPgShift) | (uint64_t{nid} << kNodesPgShift);
}
inline constexpr unsigned flags_zone(uint64_t flags) { return flags >> kZonesPgShift; }
inline constexpr unsigned flags_nid(uint64_t flags) { return (flags >> kNodesPgShift) & 0x3ff; }

// include/linux/poison.h: TAIL_MAPPING = 0x400 + POISON_POINTER_DELTA (x86-64).
inline constexpr uint64_t TAIL_MAPPING = 0xdead000000000400ull;

// page_type values (page-flags.h 6.12 l.941-951), kept in the low 32 bits of kCounts.
inline constexpr uint32_t PGTY_hugetlb = 0xf4;
inline constexpr uint32_t kMapcountNone = 0xffffffffu;  // _mapcount == -1

// enum hugetlb_page_flags (include/linux/hugetlb.h 6.12 l.592-600), in head->private.
inline constexpr unsigned HPG_freed = 3;
inline constexpr unsigned HPG_vmemmap_optimized = 4;
inline constexpr unsigned HPG_raw_hwp_unreliable = 5;

// include/linux/hugetlb.h:36.
inline constexpr unsigned NR_USED_SUBPAGE = 3;

inline constexpr uint64_t counts(uint32_t refcount, uint32_t mapcount) {
  return (uint64_t{refcount} << 32) | mapcount;
}
inline constexpr uint32_t refcount_of(uint64_t w) { return static_cast<uint32_t>(w >> 32); }
inline constexpr uint32_t mapcount_of(uint64_t w) { return static_cast<uint32_t>(w); }

}  // namespace hvo::sp
