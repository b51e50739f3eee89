// SPDX-License-Identifier: GPL-2.0-only
// A page pointer stepped through a loop over the folio size reaches every
// tail slot, as much as folio_page(folio, i) does.
#include <linux/hugetlb.h>

void walk_to_end(struct folio *folio)
{
	struct page *p = &folio->page;
	struct page *end = &folio->page + folio_nr_pages(folio);

	for (p++; p < end; p++)
		p->mapping = NULL;
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: store to 'mapping' writes a struct page that may be a tail slot
	// CHECK-NOTES: :[[@LINE-3]]:7: note: struct page pointer stepped through the folio formed here
}

void walk_with_counter(struct folio *folio)
{
	struct page *p = folio_page(folio, 1);
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++, p = nth_page(p, 1))
		ClearPageDirty(p);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: ClearPageDirty() writes a struct page
}

void walk_guarded(struct hstate *h, struct folio *folio)
{
	struct page *p = &folio->page;
	long i;

	if (hugetlb_vmemmap_restore_folio(h, folio))
		return;
	for (i = 0; i < pages_per_huge_page(h); i++, p++)
		set_page_private(p, 0);
}

/* A walk over a few pages stays inside the kept struct pages. */
void short_walk(struct folio *folio)
{
	struct page *p = &folio->page;
	int i;

	for (i = 0; i < 3; i++, p++)
		set_page_private(p, 0);
}
