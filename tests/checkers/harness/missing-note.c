// SPDX-License-Identifier: GPL-2.0-only
// Harness self-test: the warning matches but the expected note does not.
#include <linux/hugetlb.h>

void f(struct folio *folio)
{
	set_page_count(folio_page(folio, 100), 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
	// CHECK-NOTES: :[[@LINE-2]]:17: note: only the first 65 struct pages
}
