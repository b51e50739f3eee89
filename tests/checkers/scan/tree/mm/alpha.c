// SPDX-License-Identifier: GPL-2.0-only
/* A unit with a finding of its own and the header's. */
#include <linux/page-flags.h>

unsigned long alpha_flags(struct page *page)
{
	const struct page *head = page_fixed_fake_head(page); /* expect: hvo-stale-fake-head */

	IS_ERR(head); /* expect: linuxkernel-must-check-errs */
	return page_flags_of(head);
}
