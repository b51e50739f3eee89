// SPDX-License-Identifier: GPL-2.0-only
// Writes before the folio can have been optimized (its preparation, in a
// function that optimizes it afterwards) are fine; after the optimize call
// they are not.
#include <linux/hugetlb.h>

void prep_and_optimize(struct hstate *h, struct folio *folio)
{
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++) {
		set_page_count(folio_page(folio, i), 0);
		set_compound_head(folio_page(folio, i), &folio->page);
	}
	hugetlb_vmemmap_optimize_folio(h, folio);
	for (i = 1; i < folio_nr_pages(folio); i++)
		set_page_private(folio_page(folio, i), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_private() writes a struct page
}
