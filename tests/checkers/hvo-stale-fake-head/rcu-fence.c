// SPDX-License-Identifier: GPL-2.0-only
// synchronize_rcu() as the fence between speculative refcount takers and a
// vmemmap remap, and the flag that requests it.
#include <linux/hugetlb.h>

#define VMEMMAP_SYNCHRONIZE_RCU BIT(2)

int vmemmap_remap_free(unsigned long start, unsigned long end, unsigned long flags);

int optimize_one(struct folio *folio, unsigned long flags)
{
	if (flags & VMEMMAP_SYNCHRONIZE_RCU)
	// CHECK-MESSAGES: :[[@LINE-1]]:14: warning: VMEMMAP_SYNCHRONIZE_RCU fences vmemmap remapping against fake-head readers
		synchronize_rcu();
	// CHECK-MESSAGES: :[[@LINE-1]]:3: warning: synchronize_rcu() fences vmemmap remapping against speculative fake-head readers
	// CHECK-NOTES: :[[@LINE-4]]:14: note: the fence is tied to vmemmap remapping here
	return vmemmap_remap_free((unsigned long)folio, (unsigned long)folio + PAGE_SIZE, 0);
}

int restore_one(struct folio *folio)
{
	synchronize_rcu();
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: synchronize_rcu() fences vmemmap remapping
	// CHECK-NOTES: :[[@LINE+1]]:9: note: vmemmap is remapped here
	return vmemmap_remap_free((unsigned long)folio, (unsigned long)folio + PAGE_SIZE, 0);
}

/* RCU for anything else is none of this check's business. */
void free_later(void)
{
	synchronize_rcu();
}
