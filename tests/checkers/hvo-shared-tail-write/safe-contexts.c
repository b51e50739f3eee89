// SPDX-License-Identifier: GPL-2.0-only
// Functions listed in SafeContexts only see folios that cannot be
// optimized (preparation, shared-tail initialisation).  The option replaces
// the default list.
// FIXTURE-CONFIG: {CheckOptions: {hvo-shared-tail-write.SafeContexts: 'my_prep_tails;hugetlb_folio_init_tail_vmemmap'}}
#include <linux/hugetlb.h>

void my_prep_tails(struct folio *folio)
{
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++)
		set_page_count(folio_page(folio, i), 0);
}

void hugetlb_folio_init_tail_vmemmap(struct folio *folio, unsigned long start, unsigned long end)
{
	unsigned long i;

	for (i = start; i < end; i++)
		__ClearPageReserved(folio_page(folio, i));
}

/* Default safe context, but the configured list replaced the defaults. */
void prep_compound_page(struct folio *folio)
{
	long i;

	for (i = 1; i < folio_nr_pages(folio); i++)
		set_page_count(folio_page(folio, i), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_count() writes a struct page
}
