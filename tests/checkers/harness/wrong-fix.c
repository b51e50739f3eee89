// SPDX-License-Identifier: GPL-2.0-only
// Harness self-test: an expected fixed line the fixed file does not contain
// (this check offers no fix-it here).
#include <linux/hugetlb.h>

void f(struct folio *folio)
{
	set_page_count(folio_page(folio, 100), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
	// CHECK-FIXES: set_folio_count(folio, 0);
}
