// SPDX-License-Identifier: GPL-2.0-only
// Harness self-test: a diagnostic nobody expected.
#include <linux/hugetlb.h>

void f(struct folio *folio)
{
	set_page_count(folio_page(folio, 100), 0);
}
