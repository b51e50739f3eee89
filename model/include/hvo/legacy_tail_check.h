// SPDX-License-Identifier: GPL-2.0-only
//
// The legacy era's tail checks of one HugeTLB folio (invariants I1, I2, I5
// of kernel-reference section 5): what the fake-head compound_head() and
// PageTail() of Debian 6.12 (include/linux/page-flags.h l.195-290,
// page_fixed_fake_head / _compound_head) make of every tail slot.  Split
// from the oracle so the reference reading and its fast path sit side by
// side.
#pragma once

#include <cstdint>
#include <vector>

#include "hvo/violation.h"

namespace hvo {

class Machine;
struct HugetlbFolio;

/// What the legacy compound_head() / PageTail() make of one struct page
/// slot, computed from its raw words (kernel-reference 2.1).
struct SlotView {
  enum Kind : uint8_t { Self, Tail, Fake } kind = Self;
  uint64_t head = 0;  ///< for Tail / Fake
  uint64_t flags = 0;
};

/// The slot at vmemmap address @p as the kernel reads it now, every word
/// through translate() (@key: the HVO static key is on, so a page-aligned
/// PG_head slot may be a fake head).
SlotView legacy_slot_view(Machine &m, uint64_t p, bool key);

/// I1 / I2 / I5 over tail slots 1 .. 2^order - 1 of legacy folio @f, whose
/// head reads @head_flags; @opt: the folio is flagged optimized.  At most
/// @max_per_id reports per id, then one "N more" each.  A vmemmap page
/// wholly inside the folio that is unmapped gives one I0 instead of its
/// slots' reports.  @reference_paths: every slot through legacy_slot_view
/// (the reference); else a vmemmap page at a time (same output,
/// tests/fastpath/legacy_folio_check_test.cpp).
void check_legacy_tails(Machine &m, const HugetlbFolio &f, bool opt, uint64_t head_flags,
                        size_t max_per_id, std::vector<Violation> &out, bool reference_paths);

}  // namespace hvo
