// SPDX-License-Identifier: GPL-2.0-only
// A 72-byte struct page (e.g. WANT_PAGE_VIRTUAL) changes the bound to
// 4096 / 72 = 56; the check takes sizeof(struct page) from the unit.
// FIXTURE-ARGS: -DFIXTURE_FAT_STRUCT_PAGE
#include <linux/hugetlb.h>

void fat_pages(struct folio *folio)
{
	set_page_count(folio_page(folio, 55), 0);
	set_page_count(folio_page(folio, 56), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
	// CHECK-NOTES: :[[@LINE-2]]:17: note: struct page indexed into the folio formed here; only the first 56 struct pages of an optimized folio (PAGE_SIZE 4096 / sizeof(struct page) 72) keep a vmemmap page of their own
}
