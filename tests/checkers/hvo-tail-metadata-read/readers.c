// SPDX-License-Identifier: GPL-2.0-only
// Per-page metadata read from possible tail slots; zone and node reads of
// folio_page(folio, i) get the folio accessor as a fix-it.
#include <linux/hugetlb.h>

int zones_differ(struct folio *folio, long i)
{
	return page_zone(folio_page(folio, i)) != folio_zone(folio);
	// CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'page_zone' reads per-page metadata from a struct page that may be a tail slot of a vmemmap-optimized folio, which carries only the shared tail's contents; read it through folio_zone() [hvo-tail-metadata-read]
	// CHECK-FIXES: return folio_zone(folio) != folio_zone(folio);
}

int node_of_tail(struct folio *folio, long i)
{
	return page_to_nid(folio_page(folio, i));
	// CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'page_to_nid' reads per-page metadata {{.*}}
	// CHECK-FIXES: return folio_nid(folio);
}

/* folio_zonenum() is not declared in this unit: no fix-it. */
int zonenum_of_tail(struct folio *folio, long i)
{
	return page_zonenum(folio_page(folio, i));
	// CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'page_zonenum' reads per-page metadata
	// CHECK-FIXES: return page_zonenum(folio_page(folio, i));
}

int reserved_tails(struct folio *folio)
{
	long i;
	int n = 0;

	for (i = 1; i < folio_nr_pages(folio); i++) {
		struct page *p = folio_page(folio, i);

		n += PageReserved(p);
		// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'PageReserved' reads per-page metadata from a struct page that may be a tail slot of a vmemmap-optimized folio, which carries only the shared tail's contents; read it through the head page or the folio
		n += page_mapcount(p);
		// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'page_mapcount' reads per-page metadata
		n += page_private(p) != 0;
		// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'page_private' reads per-page metadata
	}
	return n;
}

int poisoned_pfn(struct folio *folio, unsigned long offset)
{
	return PageHWPoison(pfn_to_page(folio_pfn(folio) + offset));
	// CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'PageHWPoison' reads per-page metadata
}
