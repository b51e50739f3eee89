// SPDX-License-Identifier: GPL-2.0-only
// Harness self-test: an expectation the check does not produce.
#include <linux/hugetlb.h>

void f(struct folio *folio)
{
	set_page_count(folio_page(folio, 1), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
}
