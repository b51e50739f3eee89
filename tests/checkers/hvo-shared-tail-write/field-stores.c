// SPDX-License-Identifier: GPL-2.0-only
// Direct stores and atomics on struct page fields of possible tail slots,
// through folio_page(), page + i, &page[i] and a local pointer.
#include <linux/hugetlb.h>

void clear_mappings(struct folio *folio)
{
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++)
		folio_page(folio, i)->mapping = NULL;
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: store to 'mapping' writes a struct page that may be a tail slot
}

void poke_through_head(struct folio *folio, struct hstate *h)
{
	struct page *head = &folio->page;
	unsigned long i;

	for (i = 1; i < pages_per_huge_page(h); i++) {
		head[i].flags &= ~1UL;
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: store to 'flags' writes a struct page
		(head + i)->private++;
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: store to 'private' writes a struct page
		atomic_set(&head[i]._mapcount, -1);
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: atomic_set() on '_mapcount' writes a struct page
	}
}

void through_a_local(struct folio *folio)
{
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++) {
		struct page *p = folio_page(folio, i);

		atomic_inc(&p->_refcount);
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: atomic_inc() on '_refcount' writes a struct page
		// CHECK-NOTES: :[[@LINE-4]]:16: note: the pointer reaches the access through 'p'
		// CHECK-NOTES: :[[@LINE-5]]:20: note: struct page indexed into the folio formed here
	}
}

/* A loop over the folio size on any page pointer is a loop over tails. */
void loop_over_huge_page(struct page *page, struct hstate *h)
{
	unsigned long i, nr = pages_per_huge_page(h);

	for (i = 0; i < nr; i++)
		__SetPageReserved(page + i);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: __SetPageReserved() writes a struct page
	// CHECK-NOTES: :[[@LINE-2]]:21: note: struct page offset within a loop over the folio formed here
}

/* Reading atomics is fine. */
int read_only(struct folio *folio, long i)
{
	return atomic_read(&folio_page(folio, i)->_mapcount);
}
