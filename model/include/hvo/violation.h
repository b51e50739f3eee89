// SPDX-License-Identifier: GPL-2.0-only
//
// A violation is data: which invariant (a stable short id, listed with one
// line each in docs/model.md), at which operation, where, and what was
// expected versus found.  Ids starting with "K-" are the kernel's own checks
// firing in the ported code (BUG_ON, VM_WARN_ON, bad_page).
#pragma once

#include <cstdint>
#include <string>

namespace hvo {

struct Violation {
  std::string id;          // e.g. "I3-ro-write"
  uint64_t op_index = 0;   // index of the operation in the scenario
  uint64_t vaddr = 0;      // vmemmap address involved (0 if none)
  uint64_t pfn = UINT64_MAX;  // pfn of the struct page involved (UINT64_MAX if none)
  std::string expected;
  std::string found;
  std::string message;
};

// One line, deterministic: "I3-ro-write op=4 vaddr=0x... pfn=... expected=... found=...: message".
std::string format_violation(const Violation &v);

}  // namespace hvo
