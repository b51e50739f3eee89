// SPDX-License-Identifier: GPL-2.0-only
// clang-tidy's own suppressions work: NOLINT, NOLINTNEXTLINE, and NOLINT
// for another check does not hide this one.
#include <linux/hugetlb.h>

void suppressed(struct folio *folio)
{
	set_page_count(folio_page(folio, 100), 0); // NOLINT(hvo-shared-tail-write)
	// NOLINTNEXTLINE(hvo-*)
	set_page_count(folio_page(folio, 101), 0);
	set_page_count(folio_page(folio, 102), 0); // NOLINT(hvo-stale-fake-head)
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: set_page_count() writes a struct page
}
