// SPDX-License-Identifier: GPL-2.0-only
// Kernel idioms must not confuse or crash the check: statement
// expressions, attributes, inline asm, _Generic, designated initialisers,
// computed gotos, nested functions of macros.
#include <linux/hugetlb.h>

#define for_each_tail(folio, i) for ((i) = 1; (i) < folio_nr_pages(folio); (i)++)
#define tail_of(folio, i) ({ struct page *__p = folio_page(folio, i); __p; })

static __attribute__((noinline, unused)) void barrier_asm(void)
{
	asm volatile("" ::: "memory");
}

__attribute__((section(".text.unlikely"))) void with_macros(struct folio *folio)
{
	long i;

	for_each_tail(folio, i) {
		barrier_asm();
		set_page_count(tail_of(folio, i), 0);
		// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_count() writes a struct page
	}
}

#define page_kind(p) _Generic((p), struct page *: 1, const struct page *: 2, default: 0)

int generic_and_labels(struct folio *folio, int n)
{
	static void *targets[] = { &&one, &&two };
	struct page *p = &folio->page;
	int kind = page_kind(p);

	goto *targets[n & 1];
one:
	return kind;
two:
	if (folio_test_hugetlb_vmemmap_optimized(folio))
		return -EINVAL;
	WRITE_ONCE(folio_page(folio, 100)->private, 0);
	return 0;
}

void unguarded_write_once(struct folio *folio)
{
	WRITE_ONCE(folio_page(folio, 100)->private, 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: store to 'private' writes a struct page
}
