// SPDX-License-Identifier: GPL-2.0-only
// pfn_to_page() of a pfn computed inside a folio is a tail slot too.
#include <linux/hugetlb.h>

void poison_subpage(struct folio *folio, unsigned long offset)
{
	SetPageHWPoison(pfn_to_page(folio_pfn(folio) + offset));
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: SetPageHWPoison() writes a struct page that may be a tail slot
	// CHECK-NOTES: :[[@LINE-2]]:18: note: struct page of a pfn inside the folio formed here
}

void poison_through_locals(struct folio *folio, unsigned long offset)
{
	unsigned long pfn = folio_pfn(folio) + offset;
	struct page *p = pfn_to_page(pfn);

	p->flags |= 1UL << PG_hwpoison;
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: store to 'flags' writes a struct page
}

/* A pfn near the folio start stays within the kept struct pages. */
void first_tail(struct folio *folio)
{
	SetPageHWPoison(pfn_to_page(folio_pfn(folio) + 1));
}

/* A pfn with no folio behind it says nothing about tails. */
void any_pfn(unsigned long pfn)
{
	SetPageHWPoison(pfn_to_page(pfn));
}
