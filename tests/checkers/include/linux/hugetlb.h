// SPDX-License-Identifier: GPL-2.0-only
#ifndef FIXTURE_LINUX_HUGETLB_H
#define FIXTURE_LINUX_HUGETLB_H

#include <linux/mm.h>

struct hstate { unsigned int order; };

static inline unsigned long pages_per_huge_page(const struct hstate *h) { return 1UL << h->order; }

int folio_test_hugetlb_vmemmap_optimized(const struct folio *folio);
void folio_clear_hugetlb_vmemmap_optimized(struct folio *folio);
int HPageVmemmapOptimized(const struct page *page);

int hugetlb_vmemmap_restore_folio(const struct hstate *h, struct folio *folio);
void hugetlb_vmemmap_optimize_folio(const struct hstate *h, struct folio *folio);

#endif
