// SPDX-License-Identifier: GPL-2.0-only
// Callers of the legacy fake-head helpers.
#include <linux/mm.h>

const struct page *real_head(const struct page *page)
{
	return page_fixed_fake_head(page);
	// CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'page_fixed_fake_head' relies on fake head pages, which shared read-only tails remove; use compound_head() or page_folio() [hvo-stale-fake-head]
}

int is_tail(const struct page *page)
{
	return (page->compound_head & 1) || page_is_fake_head(page);
	// CHECK-MESSAGES: :[[@LINE-1]]:16: warning: read of 'compound_head', renamed 'compound_info'
	// CHECK-MESSAGES: :[[@LINE-2]]:38: warning: 'page_is_fake_head' relies on fake head pages, which shared read-only tails remove; use PageTail()
}

/* The era-independent accessors are what callers should use. */
int is_tail_today(const struct page *page)
{
	return PageTail(page) && compound_head(page) != page;
}
