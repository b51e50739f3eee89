// SPDX-License-Identifier: GPL-2.0-only
#ifndef FIXTURE_LINUX_BUG_H
#define FIXTURE_LINUX_BUG_H

#include <linux/types.h>

void fixture_die(void) __attribute__((noreturn));
#define BUG() fixture_die()
#define BUG_ON(cond) do { if (unlikely(cond)) BUG(); } while (0)
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)
#ifdef FIXTURE_DEBUG_VM
#define VM_BUG_ON(cond) BUG_ON(cond)
#else
#define VM_BUG_ON(cond) ((void)sizeof((long)(cond)))
#endif
int fixture_warn(void);
#define WARN_ON_ONCE(cond) ({ int __c = !!(cond); if (unlikely(__c)) fixture_warn(); unlikely(__c); })

#endif
