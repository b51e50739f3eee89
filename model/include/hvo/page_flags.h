// SPDX-License-Identifier: GPL-2.0-only
//
// Port of the struct page accessors HVO depends on: include/linux/page-flags.h,
// include/linux/page_ref.h and include/linux/mm.h (Debian 6.12.117).  A "page"
// is the vmemmap address of a struct page; every access goes through the MMU.
//
// ERA SWITCH POINT: compound_head(), page_is_fake_head(), PageHead(),
// PageTail(), set_compound_head() and page_ref_add_unless() are the
// functions whose body depends on Config::era (docs/model.md).
#pragma once

#include <cstdint>

#include "hvo/machine.h"

namespace hvo {

// page-flags.h 6.12 l.203-231 (CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP).
uint64_t page_fixed_fake_head(Machine &m, uint64_t page);
// page-flags.h 6.12 l.233-236.
bool page_is_fake_head(Machine &m, uint64_t page);
// _compound_head, page-flags.h 6.12 l.238-247.
uint64_t compound_head(Machine &m, uint64_t page);
// page-flags.h 6.12 l.277-287.
bool PageTail(Machine &m, uint64_t page);
bool PageCompound(Machine &m, uint64_t page);
// page-flags.h 6.12 l.832-836.
bool PageHead(Machine &m, uint64_t page);
// page-flags.h 6.12 l.853-861.
// Shared-tail era: linux-mm page-flags.h @03e0599d set_compound_head(tail,
// head, order), the mask encoding; @order is unused in the legacy era.
void set_compound_head(Machine &m, uint64_t page, uint64_t head, unsigned order);
void clear_compound_head(Machine &m, uint64_t page);

// test_bit / __set_bit / __clear_bit on page->flags.
bool test_page_flag(Machine &m, uint64_t page, unsigned bit);
void set_page_flag(Machine &m, uint64_t page, unsigned bit, const char *who);
void clear_page_flag(Machine &m, uint64_t page, unsigned bit, const char *who);
// page_zonenum / page_to_nid (mm.h), from page->flags.
unsigned page_zonenum(Machine &m, uint64_t page);
unsigned page_to_nid(Machine &m, uint64_t page);

// page_ref.h 6.12: page_ref_count (l.65), set_page_count (l.94),
// page_ref_freeze (l.306), page_ref_unfreeze (l.317).
uint32_t page_ref_count(Machine &m, uint64_t page);
void set_page_count(Machine &m, uint64_t page, uint32_t v, const char *who);
bool page_ref_freeze(Machine &m, uint64_t page, uint32_t count);
void page_ref_unfreeze(Machine &m, uint64_t page, uint32_t count);
// page_ref.h 6.12 l.231-244.  D612 order: fake-head test first, refcount
// second (the order Yu Zhao's fix later reversed, kernel-reference 2.2).
bool page_ref_add_unless(Machine &m, uint64_t page, int nr, uint32_t u);

// Folio flags HugeTLB uses (include/linux/hugetlb.h, page-flags.h).
bool folio_test_hugetlb(Machine &m, uint64_t folio);
void __folio_set_hugetlb(Machine &m, uint64_t folio);
void __folio_clear_hugetlb(Machine &m, uint64_t folio);
bool folio_test_hpg(Machine &m, uint64_t folio, unsigned hpg_bit);
void folio_set_hpg(Machine &m, uint64_t folio, unsigned hpg_bit);
void folio_clear_hpg(Machine &m, uint64_t folio, unsigned hpg_bit);
inline bool folio_test_hugetlb_vmemmap_optimized(Machine &m, uint64_t folio) {
  return folio_test_hpg(m, folio, 4 /* HPG_vmemmap_optimized */);
}

}  // namespace hvo
