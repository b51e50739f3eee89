// SPDX-License-Identifier: GPL-2.0-only
// With CONFIG_DEBUG_VM, VM_BUG_ON expands to BUG_ON: still one finding.
// FIXTURE-ARGS: -DFIXTURE_DEBUG_VM
#include <linux/mm.h>

void vmemmap_split_pmd(unsigned long start)
{
	VM_BUG_ON(start & (PAGE_SIZE - 1));
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: VM_BUG_ON in vmemmap path 'vmemmap_split_pmd'
}
