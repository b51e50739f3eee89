// SPDX-License-Identifier: GPL-2.0-only
// BUG_ON and friends in vmemmap remap/populate paths; review asked for a
// warning and an error return instead.
#include <linux/mm.h>

#define VMEMMAP_TAIL_MIN_ORDER 7
#define MAX_FOLIO_ORDER 22

struct page *vmemmap_get_tail(unsigned int order, int node)
{
	BUG_ON(order < VMEMMAP_TAIL_MIN_ORDER);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: BUG_ON in vmemmap path 'vmemmap_get_tail' crashes the machine on a condition the caller can handle; warn (WARN_ON_ONCE) and return an error instead [hvo-vmemmap-bug-on]
	BUG_ON(order > MAX_FOLIO_ORDER);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: BUG_ON in vmemmap path 'vmemmap_get_tail'
	(void)node;
	return NULL;
}

int vmemmap_remap_range(unsigned long start, unsigned long end)
{
	VM_BUG_ON((start | end) & (PAGE_SIZE - 1));
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: VM_BUG_ON in vmemmap path 'vmemmap_remap_range'
	if (end <= start)
		BUG();
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: BUG in vmemmap path 'vmemmap_remap_range'
	return 0;
}

struct page *__populate_section_memmap(unsigned long pfn, unsigned long nr)
{
	BUG_ON(nr == 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: BUG_ON in vmemmap path '__populate_section_memmap'
	return pfn_to_page(pfn);
}

/* The reviewed shape: warn and fail. */
struct page *vmemmap_get_tail_fixed(unsigned int order)
{
	if (WARN_ON_ONCE(order < VMEMMAP_TAIL_MIN_ORDER || order > MAX_FOLIO_ORDER))
		return NULL;
	BUILD_BUG_ON(sizeof(struct page) != 64);
	return NULL;
}

/* BUG_ON outside vmemmap paths is out of scope. */
void free_one_page(struct page *page)
{
	BUG_ON(page == NULL);
}
