/* SPDX-License-Identifier: GPL-2.0-only */
/* Error pointers: the names clang-tidy's linuxkernel-must-check-errs knows. */
#ifndef _TEST_LINUX_ERR_H
#define _TEST_LINUX_ERR_H
#include <linux/types.h>
#define MAX_ERRNO 4095
static inline bool IS_ERR(const void *ptr)
{
	return (unsigned long)ptr >= (unsigned long)-MAX_ERRNO;
}
#endif
