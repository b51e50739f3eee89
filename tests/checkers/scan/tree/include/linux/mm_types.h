/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _TEST_LINUX_MM_TYPES_H
#define _TEST_LINUX_MM_TYPES_H
struct page {
	unsigned long flags;
	unsigned long private;
};
#endif
