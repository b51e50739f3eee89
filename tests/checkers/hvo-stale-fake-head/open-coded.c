// SPDX-License-Identifier: GPL-2.0-only
// The fake-head test and the pointer decoding of compound_head written
// out by hand.
#include <linux/mm.h>

#define IS_ALIGNED(x, a) (((x) & ((typeof(x))(a) - 1)) == 0)

int looks_like_fake_head(const struct page *page)
{
	return IS_ALIGNED((unsigned long)page, PAGE_SIZE) && test_bit(PG_head, &page->flags);
	// CHECK-MESSAGES: :[[@LINE-1]]:9: warning: fake-head test: PG_head on a page-aligned struct page identifies a tail slot aliased to the head frame
}

struct page *decode_head(struct page *page)
{
	unsigned long info = READ_ONCE(page->compound_head);
	// CHECK-MESSAGES: :[[@LINE-1]]:39: warning: read of 'compound_head', renamed 'compound_info'

	if (info & 1)
		return (struct page *)(info - 1);
	// CHECK-MESSAGES: :[[@LINE-1]]:31: warning: open-coded decoding of the tail encoding as a pointer; the shared-tail encoding stores a mask
	return page;
}

/* PG_head alone (a real head test) and alignment alone are fine. */
int is_head(const struct page *page)
{
	return test_bit(PG_head, &page->flags) && page->mapping != NULL;
}

int aligned(const struct page *page)
{
	return IS_ALIGNED((unsigned long)page, PAGE_SIZE) && page->private;
}

/* Storing the old encoding is a store, not a read, and says so. */
void store_encoding(struct page *tail, struct page *head)
{
	tail->compound_head = (unsigned long)head + 1;
	// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: store to 'compound_head' manipulates the pointer+1 tail encoding
	WRITE_ONCE(tail->compound_head, 0);
	// CHECK-MESSAGES: :[[@LINE-1]]:19: warning: store to 'compound_head' manipulates the pointer+1 tail encoding
}

/* sizeof/typeof of the field evaluate nothing. */
unsigned long field_size(struct page *page)
{
	typeof(page->compound_head) copy = 0;

	return sizeof(page->compound_head) + copy;
}

/* __dump_page() style: the variable is assigned, not initialised. */
struct page *decode_snapshot(const struct page *page)
{
	struct page copy;
	unsigned long head;
	unsigned long unrelated;

	copy = *page;
	unrelated = copy.private;
	head = copy.compound_head;
	// CHECK-MESSAGES: :[[@LINE-1]]:14: warning: read of 'compound_head'
	if (head & 1)
		return (struct page *)(head - 1);
	// CHECK-MESSAGES: :[[@LINE-1]]:31: warning: open-coded decoding of the tail encoding as a pointer
	copy.compound_head &= ~1UL;
	// CHECK-MESSAGES: :[[@LINE-1]]:7: warning: store to 'compound_head' manipulates the pointer+1 tail encoding
	return (struct page *)(unrelated - 1);
}
