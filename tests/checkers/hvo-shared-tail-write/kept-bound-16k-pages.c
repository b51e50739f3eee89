// SPDX-License-Identifier: GPL-2.0-only
// With 16K pages one vmemmap page holds 256 struct pages: the bound comes
// from the unit's own PAGE_SIZE, not from a built-in 4K assumption.
// FIXTURE-ARGS: -DFIXTURE_PAGE_SHIFT=14
#include <linux/hugetlb.h>

void sixteen_k(struct folio *folio)
{
	set_page_count(folio_page(folio, 100), 0);
	set_page_count(folio_page(folio, 255), 0);
	set_page_count(folio_page(folio, 256), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
	// CHECK-NOTES: :[[@LINE-2]]:17: note: struct page indexed into the folio formed here; only the first 256 struct pages of an optimized folio (PAGE_SIZE 16384 / sizeof(struct page) 64) keep a vmemmap page of their own
}
