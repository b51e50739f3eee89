// SPDX-License-Identifier: GPL-2.0-only
// Reads that are fine: the head, the kept struct pages, folios known not
// to be optimized, pages with no folio behind them.
#include <linux/hugetlb.h>

int head_reads(struct folio *folio)
{
	return page_to_nid(&folio->page) + page_to_nid(folio_page(folio, 0)) +
	       PageReserved(folio_page(folio, 1)) + page_zonenum(folio_page(folio, 63));
}

int not_optimized(struct folio *folio, long i)
{
	if (folio_test_hugetlb_vmemmap_optimized(folio))
		return -EINVAL;
	return page_to_nid(folio_page(folio, i));
}

int plain_page(struct page *page)
{
	return page_to_nid(page) + PageReserved(page);
}

int buddy_loop(struct page *page, unsigned int order)
{
	unsigned long i;
	int n = 0;

	for (i = 0; i < (1UL << order); i++)
		n += PageReserved(page + i);
	return n;
}
