/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _TEST_LINUX_TYPES_H
#define _TEST_LINUX_TYPES_H
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#endif
