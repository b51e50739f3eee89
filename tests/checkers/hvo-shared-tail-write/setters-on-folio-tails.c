// SPDX-License-Identifier: GPL-2.0-only
// The kernel's page setters applied to tail slots of a folio that may be
// vmemmap-optimized, with nothing ruling that out.
#include <linux/hugetlb.h>

void reset_tail_refcounts(struct folio *folio)
{
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++)
		set_page_count(folio_page(folio, i), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_count() writes a struct page that may be a tail slot of a vmemmap-optimized folio, mapped from a shared read-only frame [hvo-shared-tail-write]
	// CHECK-NOTES: :[[@LINE-2]]:18: note: struct page indexed into the folio formed here; only the first 64 struct pages of an optimized folio (PAGE_SIZE 4096 / sizeof(struct page) 64) keep a vmemmap page of their own
}

void mark_tails(struct folio *folio)
{
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++) {
		SetPageDirty(folio_page(folio, i));
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: SetPageDirty() writes a struct page
		__ClearPageReserved(folio_page(folio, i));
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: __ClearPageReserved() writes a struct page
		ClearPagePrivate(folio_page(folio, i));
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: ClearPagePrivate() writes a struct page
		set_page_private(folio_page(folio, i), 0);
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_private() writes a struct page
		set_compound_head(folio_page(folio, i), &folio->page);
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_compound_head() writes a struct page
		clear_compound_head(folio_page(folio, i));
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: clear_compound_head() writes a struct page
		page_ref_inc(folio_page(folio, i));
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: page_ref_inc() writes a struct page
	}
}

/* Reads through the same pointers are not stores. */
int count_tail_refs(struct folio *folio)
{
	long i;
	int sum = 0;

	for (i = 1; i < folio_nr_pages(folio); i++)
		sum += page_ref_count(folio_page(folio, i)) + PageDirty(folio_page(folio, i));
	return sum;
}
