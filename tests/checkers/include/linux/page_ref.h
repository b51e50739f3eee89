// SPDX-License-Identifier: GPL-2.0-only
#ifndef FIXTURE_LINUX_PAGE_REF_H
#define FIXTURE_LINUX_PAGE_REF_H

#include <linux/mm_types.h>

static inline int atomic_read(const atomic_t *v) { return v->counter; }
static inline void atomic_set(atomic_t *v, int i) { v->counter = i; }
static inline void atomic_inc(atomic_t *v) { v->counter++; }
static inline void atomic_add(int i, atomic_t *v) { v->counter += i; }

static inline int page_ref_count(const struct page *page) { return atomic_read(&page->_refcount); }
static inline void set_page_count(struct page *page, int v) { atomic_set(&page->_refcount, v); }
static inline void init_page_count(struct page *page) { set_page_count(page, 1); }
static inline void page_ref_inc(struct page *page) { atomic_inc(&page->_refcount); }
static inline void page_ref_add(struct page *page, int nr) { atomic_add(nr, &page->_refcount); }

#endif
