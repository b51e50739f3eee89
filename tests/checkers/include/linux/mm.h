// SPDX-License-Identifier: GPL-2.0-only
#ifndef FIXTURE_LINUX_MM_H
#define FIXTURE_LINUX_MM_H

#include <asm/page.h>
#include <linux/bug.h>
#include <linux/mm_types.h>
#include <linux/page-flags.h>
#include <linux/page_ref.h>

#define pfn_to_page(pfn) (vmemmap + (pfn))
#define page_to_pfn(page) ((unsigned long)((page) - vmemmap))

static inline unsigned long folio_pfn(const struct folio *folio) { return page_to_pfn(&folio->page); }
long folio_nr_pages(const struct folio *folio);
unsigned int folio_order(const struct folio *folio);

struct zone *page_zone(const struct page *page);
int page_zonenum(const struct page *page);
int page_to_nid(const struct page *page);
pg_data_t *page_pgdat(const struct page *page);
struct zone *folio_zone(const struct folio *folio);
int folio_nid(const struct folio *folio);
int page_mapcount(struct page *page);

static inline unsigned long page_private(const struct page *page) { return page->private; }
static inline void set_page_private(struct page *page, unsigned long v) { page->private = v; }

void synchronize_rcu(void);

#endif
