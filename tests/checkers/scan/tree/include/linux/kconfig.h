/* SPDX-License-Identifier: GPL-2.0-only */
/* Forced into every unit with -include, as the kernel's build does. */
#ifndef _TEST_LINUX_KCONFIG_H
#define _TEST_LINUX_KCONFIG_H
#define CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP 1
#endif
