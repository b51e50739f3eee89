// SPDX-License-Identifier: GPL-2.0-only
/* Sees the header's finding too; has none of its own. */
#include <linux/page-flags.h>

unsigned long beta_flags(struct page *page)
{
	return page_flags_of(page) & 1;
}
