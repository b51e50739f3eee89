// SPDX-License-Identifier: GPL-2.0-only
// The static key that switches fake-head detection on.
#include <linux/hugetlb.h>

int optimized_anywhere(void)
{
	return static_branch_unlikely(&hugetlb_optimize_vmemmap_key);
	// CHECK-MESSAGES: :[[@LINE-1]]:33: warning: static key 'hugetlb_optimize_vmemmap_key' only exists to switch fake-head detection on
}

void account_optimized(void)
{
	static_branch_inc(&hugetlb_optimize_vmemmap_key);
	// CHECK-MESSAGES: :[[@LINE-1]]:21: warning: static key 'hugetlb_optimize_vmemmap_key'
}

/* Its size is not a use. */
unsigned long key_size(void)
{
	return sizeof(hugetlb_optimize_vmemmap_key);
}
