// SPDX-License-Identifier: GPL-2.0-only
// With CONFIG_DEBUG_VM the "not hugetlb" assertion is a real branch
// (BUG_ON); without it, a sizeof().  Both forms prove the folio is never
// vmemmap-optimized; guards.c covers the second.
// FIXTURE-ARGS: -DFIXTURE_DEBUG_VM
#include <linux/hugetlb.h>

#define VM_WARN_ON_FOLIO(cond, folio) VM_BUG_ON(cond)
int folio_test_hugetlb(const struct folio *folio);

void new_anon_folio(struct folio *folio)
{
	long i;

	VM_WARN_ON_FOLIO(folio_test_hugetlb(folio), folio);
	for (i = 0; i < folio_nr_pages(folio); i++)
		atomic_set(&folio_page(folio, i)->_mapcount, 0);
}

void asserted_hugetlb(struct folio *folio)
{
	long i;

	VM_WARN_ON_FOLIO(!folio_test_hugetlb(folio), folio);
	for (i = 0; i < folio_nr_pages(folio); i++)
		atomic_set(&folio_page(folio, i)->_mapcount, 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: atomic_set() on '_mapcount' writes a struct page
}

/* A plain if on the test is not an assertion: the write sits on the
 * hugetlb side. */
void branch_not_assertion(struct folio *folio)
{
	if (folio_test_hugetlb(folio))
		set_page_count(folio_page(folio, 100), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_count() writes a struct page
}
