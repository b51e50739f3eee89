// SPDX-License-Identifier: GPL-2.0-only
// Code dominated by "this folio is not vmemmap-optimized" or by a
// successful restore may write tails; every other path may not.
#include <linux/hugetlb.h>

void early_return(struct folio *folio)
{
	long i;

	if (folio_test_hugetlb_vmemmap_optimized(folio))
		return;
	for (i = 1; i < folio_nr_pages(folio); i++)
		folio_page(folio, i)->mapping = NULL;
}

void then_branch(struct folio *folio)
{
	long i;

	if (!HPageVmemmapOptimized(&folio->page)) {
		for (i = 1; i < folio_nr_pages(folio); i++)
			set_page_count(folio_page(folio, i), 0);
	} else {
		for (i = 1; i < folio_nr_pages(folio); i++)
			set_page_count(folio_page(folio, i), 0);
		// CHECK-MESSAGES: :[[@LINE-1]]:4: warning: set_page_count() writes a struct page
	}
}

void likely_wrapped(struct folio *folio)
{
	if (unlikely(folio_test_hugetlb_vmemmap_optimized(folio)))
		return;
	set_page_count(folio_page(folio, 100), 0);
}

int restore_in_condition(struct hstate *h, struct folio *folio)
{
	long i;

	if (hugetlb_vmemmap_restore_folio(h, folio)) {
		set_page_count(folio_page(folio, 100), 0);
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_count() writes a struct page
		return -ENOMEM;
	}
	for (i = 1; i < folio_nr_pages(folio); i++)
		set_page_count(folio_page(folio, i), 0);
	return 0;
}

int restore_through_variable(struct hstate *h, struct folio *folio)
{
	long i;
	int ret;

	ret = hugetlb_vmemmap_restore_folio(h, folio);
	if (ret < 0)
		goto out;
	for (i = 1; i < folio_nr_pages(folio); i++)
		clear_compound_head(folio_page(folio, i));
out:
	clear_compound_head(folio_page(folio, 100));
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: clear_compound_head() writes a struct page
	return ret;
}

int restore_result_compared(struct hstate *h, struct folio *folio)
{
	int ret = hugetlb_vmemmap_restore_folio(h, folio);

	if (ret == 0)
		set_page_private(folio_page(folio, 100), 0);
	return ret;
}

/* The guard is about another folio. */
void wrong_folio(struct folio *checked, struct folio *written)
{
	if (folio_test_hugetlb_vmemmap_optimized(checked))
		return;
	set_page_count(folio_page(written, 100), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
}

/* The guard holds on only one path into the write. */
void one_path_only(struct folio *folio, int flag)
{
	if (flag && folio_test_hugetlb_vmemmap_optimized(folio))
		return;
	set_page_count(folio_page(folio, 100), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
}

/* Both conditions of an || must be false to fall through. */
void either_condition(struct folio *folio, int flag)
{
	if (flag || folio_test_hugetlb_vmemmap_optimized(folio))
		return;
	set_page_count(folio_page(folio, 100), 0);
}

struct folio *next_folio(struct folio *folio);

/* demote-style loop: skip optimized folios, then rewrite the rest. */
void skip_optimized(struct folio *folio, int n)
{
	unsigned long i;

	for (; n > 0; n--, folio = next_folio(folio)) {
		if (folio_test_hugetlb_vmemmap_optimized(folio))
			continue;
		for (i = 0; i < folio_nr_pages(folio); i += 8) {
			struct page *page = folio_page(folio, i);

			page->mapping = NULL;
			clear_compound_head(page);
		}
	}
}

/* The folio variable is reassigned after the guard: the fact dies. */
void reassigned(struct folio *folio)
{
	if (folio_test_hugetlb_vmemmap_optimized(folio))
		return;
	folio = next_folio(folio);
	set_page_count(folio_page(folio, 100), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
}

/* Only hugetlb folios are vmemmap-optimized: an assertion that this one is
 * not hugetlb (folio_add_new_anon_rmap() style) rules tails out. */
#define VM_WARN_ON_FOLIO(cond, folio) VM_BUG_ON(cond)
int folio_test_hugetlb(const struct folio *folio);

void new_anon_folio(struct folio *folio)
{
	long i;

	VM_WARN_ON_FOLIO(folio_test_hugetlb(folio), folio);
	for (i = 0; i < folio_nr_pages(folio); i++)
		atomic_set(&folio_page(folio, i)->_mapcount, 0);
}

/* Asserting the opposite proves nothing. */
void asserted_hugetlb(struct folio *folio)
{
	long i;

	VM_WARN_ON_FOLIO(!folio_test_hugetlb(folio), folio);
	for (i = 0; i < folio_nr_pages(folio); i++)
		atomic_set(&folio_page(folio, i)->_mapcount, 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: atomic_set() on '_mapcount' writes a struct page
}
