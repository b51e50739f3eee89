// SPDX-License-Identifier: GPL-2.0-only
// HVO keeps PAGE_SIZE / sizeof(struct page) = 64 struct pages writable per
// folio here; indexes provably below that are fine, anything else is not.
#include <linux/hugetlb.h>

void constants(struct folio *folio)
{
	set_page_private(folio_page(folio, 0), 0);
	set_page_private(folio_page(folio, 1), 0);
	set_page_private(folio_page(folio, 63), 0);
	set_page_private(folio_page(folio, 64), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_private() writes a struct page
	set_page_private(&folio->page + 200, 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_private() writes a struct page
}

void bounded_loops(struct folio *folio)
{
	unsigned long i;

	for (i = 1; i < PAGE_SIZE / sizeof(struct page); i++)
		clear_compound_head(folio_page(folio, i));
	for (i = 1; i <= 63; i++)
		clear_compound_head(folio_page(folio, i));
	for (i = 1; 64 > i; i++)
		clear_compound_head(folio_page(folio, i));
}

void loops_past_the_bound(struct folio *folio)
{
	unsigned long i;

	for (i = 1; i <= 64; i++)
		clear_compound_head(folio_page(folio, i));
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: clear_compound_head() writes a struct page
	for (i = 1; i < 2 * PAGE_SIZE / sizeof(struct page); i++)
		clear_compound_head(folio_page(folio, i));
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: clear_compound_head() writes a struct page
}
