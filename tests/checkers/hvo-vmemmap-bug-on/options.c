// SPDX-License-Identifier: GPL-2.0-only
// Both lists are options: here only BUG_ON counts, and only in functions
// matching ^my_remap.
// FIXTURE-CONFIG: {CheckOptions: {hvo-vmemmap-bug-on.BugOnMacros: 'BUG_ON', hvo-vmemmap-bug-on.VmemmapFunctions: '^my_remap'}}
#include <linux/mm.h>

void my_remap_pages(int n)
{
	BUG_ON(n < 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:2: warning: BUG_ON in vmemmap path 'my_remap_pages'
	VM_BUG_ON(n > 10);
}

void vmemmap_remap_range(int n)
{
	BUG_ON(n < 0);
}
