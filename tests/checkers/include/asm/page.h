// SPDX-License-Identifier: GPL-2.0-only
/* Page geometry the way x86-64 spells it: PAGE_SIZE through _AC(). */
#ifndef FIXTURE_ASM_PAGE_H
#define FIXTURE_ASM_PAGE_H

#define __AC(X, Y) (X##Y)
#define _AC(X, Y) __AC(X, Y)
#ifndef FIXTURE_PAGE_SHIFT
#define FIXTURE_PAGE_SHIFT 12
#endif
#define PAGE_SHIFT FIXTURE_PAGE_SHIFT
#define PAGE_SIZE (_AC(1, UL) << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

extern unsigned long vmemmap_base;
#define VMEMMAP_START vmemmap_base
#define vmemmap ((struct page *)VMEMMAP_START)

#endif
