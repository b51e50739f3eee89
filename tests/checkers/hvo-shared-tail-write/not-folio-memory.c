// SPDX-License-Identifier: GPL-2.0-only
// Page arithmetic with no folio behind it (buddy pages, page-table pages,
// one page) says nothing about vmemmap-optimized tails: silent.
#include <linux/hugetlb.h>

void buddy_free_prepare(struct page *page, unsigned int order)
{
	unsigned long i;

	for (i = 1; i < (1UL << order); i++) {
		(page + i)->flags &= ~0xffUL;
		set_page_count(&page[i], 0);
	}
}

void one_page(struct page *page)
{
	page->mapping = NULL;
	set_page_count(page, 1);
	SetPageDirty(page);
}

void the_folio_head(struct folio *folio)
{
	folio->page.private = 0;
	set_page_count(&folio->page, 1);
	set_page_count(folio_page(folio, 0), 1);
}

struct not_a_page { unsigned long flags; };

void other_struct(struct not_a_page *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i].flags = 0;
}
