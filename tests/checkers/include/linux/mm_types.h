// SPDX-License-Identifier: GPL-2.0-only
/* A 64-byte struct page with the fields the checks care about. */
#ifndef FIXTURE_LINUX_MM_TYPES_H
#define FIXTURE_LINUX_MM_TYPES_H

#include <linux/types.h>

struct address_space;

struct page {
	unsigned long flags;
	union {
		struct {
			struct list_head lru;
			struct address_space *mapping;
			unsigned long index;
			unsigned long private;
		};
		struct {
			/* Bit 0 set: tail page; the rest encodes the head. */
			unsigned long compound_head;
		};
	};
	atomic_t _mapcount;
	atomic_t _refcount;
#ifdef FIXTURE_FAT_STRUCT_PAGE
	void *virtual;
#endif
	unsigned long memcg_data;
};

struct folio {
	union {
		struct {
			unsigned long flags;
			struct list_head lru;
		};
		struct page page;
	};
	struct page __tail_1;
};

struct zone { int id; };
typedef struct pglist_data { int node_id; } pg_data_t;

#endif
