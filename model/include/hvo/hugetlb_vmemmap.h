// SPDX-License-Identifier: GPL-2.0-only
//
// Port of mm/hugetlb_vmemmap.c and mm/hugetlb_vmemmap.h (Debian 6.12.117),
// in its two legacy shapes (Config::variant):
//   D612     vmemmap_head / vmemmap_tail walk, head copy allocated by the
//            caller, restore by plain copy of the PTE's current frame;
//   V6_12_0  reuse_page / reuse_addr walk (as in v6.12.0 mainline, read from
//            linux-mm 9fda9e6b5502), copy allocated inside vmemmap_remap_free
//            with a fallback to the old head, restore by copy of the reuse
//            page followed by reset_struct_pages.
// The kernel's lists of struct page (page->lru) are FrameLists.
#pragma once

#include <cstdint>
#include <vector>

#include "hvo/machine.h"

namespace hvo {

// A list_head of vmemmap pages: back() is the list head's first entry, so
// list_add is push_back and list_first_entry is back().
using FrameList = std::vector<FrameId>;

// struct hstate, as far as HVO reads it.
struct Hstate {
  unsigned order = 0;
  uint64_t pages_per_huge_page() const { return uint64_t{1} << order; }
};

// VMEMMAP_* walk flags (mm/hugetlb_vmemmap.c 6.12 l.44-49).
inline constexpr unsigned VMEMMAP_SPLIT_NO_TLB_FLUSH = 1u << 0;
inline constexpr unsigned VMEMMAP_REMAP_NO_TLB_FLUSH = 1u << 1;
inline constexpr unsigned VMEMMAP_SYNCHRONIZE_RCU = 1u << 2;

// Kernel errnos the port returns (negated, as the kernel does).
inline constexpr int EINVAL_ = 22;
inline constexpr int ENOMEM_ = 12;
inline constexpr int EBUSY_ = 16;
inline constexpr int ENOTSUPP_ = 524;
inline constexpr int EHWPOISON_ = 133;
inline constexpr int EAGAIN_ = 11;

// VMEMMAP_REMAP_INCOMPLETE (linux-mm 0454b15e mm/hugetlb_vmemmap.c l.364,
// variant muchun only): __hugetlb_vmemmap_optimize_folio's positive return
// when the rollback of a failed remap itself failed.  The folio keeps
// HPG_vmemmap_optimized: some tail vmemmap pages map the shared tail, the
// others their restored private pages (partial HVO); a later restore
// restores only the PTEs that map the shared tail.
inline constexpr int VMEMMAP_REMAP_INCOMPLETE = 1;

// mm/hugetlb_vmemmap.h 6.12 l.28-44, l.73-76.
uint64_t hugetlb_vmemmap_size(const Machine &m, const Hstate &h);
uint64_t hugetlb_vmemmap_optimizable_size(const Machine &m, const Hstate &h);
inline bool hugetlb_vmemmap_optimizable(const Machine &m, const Hstate &h) {
  return hugetlb_vmemmap_optimizable_size(m, h) != 0;
}

// mm/hugetlb_vmemmap.c 6.12 l.439-442 / l.394-427.
int hugetlb_vmemmap_restore_folio(Machine &m, const Hstate &h, HugetlbFolio &folio);
// l.457-486.  Folios are restored in list order; the return value is the
// number restored or the first error; `non_hvo` receives the folios whose
// vmemmap now exists (in order), the rest stay in `folios`.
long hugetlb_vmemmap_restore_folios(Machine &m, const Hstate &h,
                                    std::vector<HugetlbFolio *> &folios,
                                    std::vector<HugetlbFolio *> &non_hvo);
// l.577-583.
void hugetlb_vmemmap_optimize_folio(Machine &m, const Hstate &h, HugetlbFolio &folio);
// l.602-648.
void hugetlb_vmemmap_optimize_folios(Machine &m, const Hstate &h,
                                     std::vector<HugetlbFolio *> &folios);

// tests/fastpath/remap_walk_test.cpp turns this on: the remap walks then
// take the kernel's step-by-step path everywhere (vmemmap_split_pmd's
// per-PTE table build, a fresh translation of the reuse address for every
// restored PTE), the reference each fast path beside it is pinned to.
// Process-wide; off by default.
inline bool hugetlb_vmemmap_reference_walks = false;
// How many PTEs the walks' run fast path (vmemmap_pte_run) has handled in
// this process: tests read it to show that a comparison reached the fast
// path.  A statistic only; nothing reads it to decide anything.
inline uint64_t hugetlb_vmemmap_run_ptes = 0;

// The internals, exposed for tests that drive one step at a time.
int __hugetlb_vmemmap_optimize_folio(Machine &m, const Hstate &h, HugetlbFolio &folio,
                                     FrameList &vmemmap_pages, unsigned flags);
int __hugetlb_vmemmap_restore_folio(Machine &m, const Hstate &h, HugetlbFolio &folio,
                                    unsigned flags);
int hugetlb_vmemmap_split_folio(Machine &m, const Hstate &h, HugetlbFolio &folio);
void free_vmemmap_page_list(Machine &m, FrameList &list);
// Models synchronize_rcu(): no reader is in flight in a single-threaded run,
// so it only counts (issue 4 adds readers that it waits for).
void synchronize_rcu(Machine &m);

}  // namespace hvo
