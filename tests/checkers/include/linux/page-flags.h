// SPDX-License-Identifier: GPL-2.0-only
/* Page flags, fake-head helpers (legacy era) and compound_head(). */
#ifndef FIXTURE_LINUX_PAGE_FLAGS_H
#define FIXTURE_LINUX_PAGE_FLAGS_H

#include <asm/page.h>
#include <linux/mm_types.h>

enum pageflags { PG_locked, PG_reserved, PG_dirty, PG_private, PG_head = 6, PG_hwpoison };

static inline int test_bit(int nr, const unsigned long *addr) { return (*addr >> nr) & 1; }
static inline void set_bit(int nr, unsigned long *addr) { *addr |= 1UL << nr; }
static inline void clear_bit(int nr, unsigned long *addr) { *addr &= ~(1UL << nr); }

struct static_key_false { int enabled; };
extern struct static_key_false hugetlb_optimize_vmemmap_key;
#define static_branch_unlikely(key) unlikely((key)->enabled)
#define static_branch_inc(key) ((key)->enabled++)
#define static_branch_dec(key) ((key)->enabled--)

/* Legacy era: a tail slot aliased to the head frame reads as a head. */
static inline const struct page *page_fixed_fake_head(const struct page *page)
{
	if (!static_branch_unlikely(&hugetlb_optimize_vmemmap_key))
		return page;
	if ((((unsigned long)page) & (PAGE_SIZE - 1)) == 0 &&
	    test_bit(PG_head, &page->flags)) {
		unsigned long head = READ_ONCE(page[1].compound_head);

		if (head & 1)
			return (const struct page *)(head - 1);
	}
	return page;
}

static inline int page_is_fake_head(const struct page *page)
{
	return page_fixed_fake_head(page) != page;
}

struct page *compound_head(const struct page *page);
static inline int PageTail(const struct page *page) { return page_is_fake_head(page); }
#define page_folio(p) ((struct folio *)compound_head(p))

#define nth_page(page, n) ((page) + (n))
#define folio_page(folio, n) nth_page(&(folio)->page, n)

/* Flag accessors, one line each instead of the kernel's generators. */
#define FIXTURE_PAGEFLAG(uname, lname)                                              \
	static inline int Page##uname(const struct page *p) { return test_bit(PG_##lname, &p->flags); } \
	static inline void SetPage##uname(struct page *p) { set_bit(PG_##lname, &p->flags); }       \
	static inline void ClearPage##uname(struct page *p) { clear_bit(PG_##lname, &p->flags); }   \
	static inline void __SetPage##uname(struct page *p) { p->flags |= 1UL << PG_##lname; }      \
	static inline void __ClearPage##uname(struct page *p) { p->flags &= ~(1UL << PG_##lname); }
FIXTURE_PAGEFLAG(Reserved, reserved)
FIXTURE_PAGEFLAG(Dirty, dirty)
FIXTURE_PAGEFLAG(HWPoison, hwpoison)
FIXTURE_PAGEFLAG(Private, private)

static inline void set_compound_head(struct page *page, struct page *head)
{
	WRITE_ONCE(page->compound_head, (unsigned long)head + 1);
}

static inline void clear_compound_head(struct page *page)
{
	WRITE_ONCE(page->compound_head, 0);
}

#endif
