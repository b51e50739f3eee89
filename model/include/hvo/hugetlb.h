// SPDX-License-Identifier: GPL-2.0-only
//
// The HugeTLB callers of HVO that matter for the model: mm/hugetlb.c and
// mm/memory-failure.c (Debian 6.12.117).  Each returns 0 or a negative errno
// and never asserts: an impossible request (unknown folio, wrong state, bad
// order) is refused the way the kernel's interfaces refuse it.
#pragma once

#include <cstdint>
#include <vector>

#include "hvo/hugetlb_vmemmap.h"
#include "hvo/machine.h"

namespace hvo {

// Orders the model accepts for a HugeTLB folio: at least 1 (the folio has a
// tail) and small enough that its vmemmap fits the model's PTE tables.
inline constexpr unsigned kMaxHugetlbOrder = 24;
// The smallest hstate order: a HugeTLB folio keeps folio data in struct
// pages 1 and 2 (__NR_USED_SUBPAGE = 3, include/linux/hugetlb.h:36), so
// hugetlb_add_hstate refuses orders below order_base_2(3) = 2
// (mm/hugetlb.c:4547, Debian 6.12).
inline constexpr unsigned kMinHugetlbOrder = 2;

inline Hstate hstate_of(const HugetlbFolio &f) { return Hstate{f.order}; }

// alloc_fresh_hugetlb_folio (l.2095-2109) + enqueue: allocates, preps,
// optimizes one folio and puts it in the pool.
int alloc_fresh_hugetlb_folio(Machine &m, unsigned order, unsigned nid, FolioId *out);
// alloc_pool_huge_folios -> only_alloc_fresh_hugetlb_folio (l.2073-2093) per
// folio, then prep_and_add_allocated_folios (l.2111-2125): batch optimize.
int alloc_pool_huge_folios(Machine &m, unsigned order, unsigned nid, unsigned count,
                           std::vector<FolioId> *out);
// gather_bootmem_prealloc_node (l.3264-3300) for `count` gigantic pages of
// `order` from memblock on `nid`: only the first HUGETLB_VMEMMAP_RESERVE_PAGES
// struct pages are initialised (hugetlb_folio_init_vmemmap, l.3215-3229),
// then prep_and_add_bootmem_folios (l.3231-3262).
int gather_bootmem_prealloc(Machine &m, unsigned order, unsigned nid, unsigned count,
                            std::vector<FolioId> *out);
// The same for one page that memblock placed at `pfn` (memblock allocates
// per node and ignores zones, so a gigantic page may straddle a zone
// boundary; the model's first-fit placement never does).  -EINVAL if `pfn`
// is not aligned to the order or not memory; -ENOMEM if the range is not
// free.  In the shared-tail era a page that spans zones is not used: it is
// given back and no folio is created (the op then returns -ENOMEM).
int gather_bootmem_prealloc_at(Machine &m, uint64_t pfn, unsigned order,
                               std::vector<FolioId> *out);
// dequeue_hugetlb_folio_node_exact + folio_ref_unfreeze: take a free folio.
int hugetlb_get_folio(Machine &m, FolioId id);
// free_huge_folio (l.1776-1835): refcount to 0, back to the pool, or freed
// when it was surplus.
int free_huge_folio(Machine &m, FolioId id);
// Shrinking the pool by one folio: update_and_free_hugetlb_folio ->
// __update_and_free_hugetlb_folio (l.1665-1719).
int update_and_free_hugetlb_folio(Machine &m, FolioId id);
// update_and_free_pages_bulk (l.1837-1871) with bulk_vmemmap_restore_error.
int update_and_free_pages_bulk(Machine &m, const std::vector<FolioId> &ids);
// demote_free_hugetlb_folios (l.3803-3848) for one free folio.
int demote_free_hugetlb_folio(Machine &m, FolioId id, unsigned dst_order,
                              std::vector<FolioId> *out);
// memory_failure on subpage `index` of a hugetlb folio:
// hugetlb_update_hwpoison (mm/memory-failure.c l.1951-1990).
int memory_failure_hugetlb(Machine &m, FolioId id, uint64_t index);

}  // namespace hvo
