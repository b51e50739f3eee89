// SPDX-License-Identifier: GPL-2.0-only
/* Outside mm/: selected only when PATH says so. */
#include <linux/page-flags.h>

unsigned long delta_flags(struct page *page)
{
	return page_fixed_fake_head(page)->private; /* expect: hvo-stale-fake-head */
}
