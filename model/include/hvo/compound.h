// SPDX-License-Identifier: GPL-2.0-only
//
// Compound page preparation and teardown: mm/internal.h (prep_compound_head,
// prep_compound_tail), mm/page_alloc.c (prep_compound_page,
// free_tail_page_prepare) and mm/mm_init.c (__init_single_page), Debian
// 6.12.117.  Loops over struct pages are done a vmemmap page at a time where
// every struct page of that vmemmap page receives the same stores
// (store_struct_pages, struct_page_range.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hvo/machine.h"

namespace hvo {

// mm/internal.h 6.12 l.709-720.
void prep_compound_head(Machine &m, uint64_t head, unsigned order);
// mm/internal.h 6.12 l.722-729.
// @order is the folio's (set_compound_head needs it in the shared-tail era).
void prep_compound_tail(Machine &m, uint64_t head, uint64_t tail_idx, unsigned order);
// mm/page_alloc.c 6.12 l.593-603; tails [first_tail, 2^order).
void prep_compound_page(Machine &m, uint64_t head, unsigned order);
void prep_compound_tails(Machine &m, uint64_t head, unsigned order, uint64_t first_tail,
                         uint64_t end_tail);
// What prep_compound_tail stores into every tail of an aligned order-@order
// folio (mapping, compound_head / compound_info, private), for callers that
// compose it with other per-page stores (mm_init.cpp's ZONE_DEVICE init).
std::vector<Mmu::FieldStore> prep_compound_tail_stores(const Machine &m, unsigned order);
// mm/mm_init.c 6.12 l.566-582 for pfns [start, end) (no WANT_PAGE_VIRTUAL).
// init_single_page_stores is what it stores into each struct page, in order.
std::vector<Mmu::FieldStore> init_single_page_stores(unsigned zone, unsigned nid);
void init_single_pages(Machine &m, uint64_t start_pfn, uint64_t end_pfn, unsigned zone,
                       unsigned nid);
// set_page_count(page, v) on every struct page of pfns [start, end).
void set_page_count_range(Machine &m, uint64_t start_pfn, uint64_t end_pfn, uint32_t v,
                          const char *who);
// page_init_poison (mm/debug.c): fill struct pages with PAGE_POISON_PATTERN,
// the model's stand-in for memmap memblock never initialised (noinit).
void poison_struct_pages(Machine &m, uint64_t start_pfn, uint64_t end_pfn);

// One bad_page() report of the kernel's own free-path checks.
struct BadPage {
  uint64_t page;
  std::string reason;
};
// mm/page_alloc.c 6.12 l.969-1031 for every tail, then the head's teardown
// (free_pages_prepare's compound part).  Returns the bad_page reports; stops
// collecting after `max_reports`.  The tails are checked a vmemmap page at a
// time where that decides exactly what the per-struct-page loop decides.
std::vector<BadPage> free_compound_page_prepare(Machine &m, uint64_t head, unsigned order,
                                                size_t max_reports = 8);
// tests/fastpath/free_path_test.cpp turns this on: free_compound_page_prepare
// then checks every tail with the kernel's per-struct-page loop (the
// reference the vmemmap-page-at-a-time checks are pinned to).  Process-wide;
// off by default.
inline bool free_tail_checks_per_struct_page = false;

}  // namespace hvo
