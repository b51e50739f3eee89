// SPDX-License-Identifier: GPL-2.0-only
/* Kernel-like basics for the checker fixtures; written for the tests. */
#ifndef FIXTURE_LINUX_TYPES_H
#define FIXTURE_LINUX_TYPES_H

typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
typedef unsigned long size_t;
typedef long long s64;
typedef unsigned long long u64;

#define __always_inline inline __attribute__((__always_inline__))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define BIT(nr) (1UL << (nr))

/* Statement-expression READ_ONCE, shaped like the kernel's. */
#define READ_ONCE(x) ({ typeof(x) __v = *(const volatile typeof(x) *)&(x); __v; })
#define WRITE_ONCE(x, val) do { *(volatile typeof(x) *)&(x) = (val); } while (0)

typedef struct { int counter; } atomic_t;
struct list_head { struct list_head *next, *prev; };

#define ENOMEM 12
#define EINVAL 22

#endif
