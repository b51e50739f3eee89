/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A header function with a finding, included by two units of mm/: hvo-scan
 * must report it once.  Lines marked "expect:" are the findings the test
 * wants, per module (hvo-... with the hvo module, linuxkernel-... without).
 */
#ifndef _TEST_LINUX_PAGE_FLAGS_H
#define _TEST_LINUX_PAGE_FLAGS_H
#include <linux/err.h>
#include <linux/mm_types.h>

/* The legacy helper itself: defining it is not a finding, calling it is. */
static inline const struct page *page_fixed_fake_head(const struct page *page)
{
	return page;
}

static inline unsigned long page_flags_of(const struct page *page)
{
	IS_ERR(page); /* expect: linuxkernel-must-check-errs */
	return page_fixed_fake_head(page)->flags; /* expect: hvo-stale-fake-head */
}
#endif
