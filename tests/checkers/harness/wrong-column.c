// SPDX-License-Identifier: GPL-2.0-only
// Harness self-test: the expectation names the wrong column, so the
// comparison must fail.
#include <linux/hugetlb.h>

void f(struct folio *folio)
{
	set_page_count(folio_page(folio, 100), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: set_page_count() writes a struct page
}
