// SPDX-License-Identifier: GPL-2.0-only
//
// Invariants of device-DAX compound pagemaps (kernel-reference section 5,
// invariants 1, 6, 10 and 13 as they apply to ZONE_DEVICE memory), checked
// over every live pgmap and every hot-added section.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "hvo/memremap.h"
#include "hvo/oracle.h"
#include "hvo/violation.h"

namespace hvo {

class Machine;

/// The ids this file reports, with one line each (merged into
/// docs/model.md's invariant list).
const std::vector<InvariantInfo> &dax_invariant_catalog();

/// Tests (tests/fastpath/dax_check_test.cpp) set this: check_dax then
/// checks an order-0 pgmap struct page by struct page, the reference for
/// the fast path that decides a clean vmemmap page at once.  Process-wide;
/// off by default.
inline bool check_dax_reference = false;
/// How many order-0 blocks (the struct pages of one vmemmap page) that fast
/// path accepted at once: tests require it to have run.
inline uint64_t check_dax_clean_blocks = 0;
/// check_dax_reference also turns off the fast path for compound pgmaps
/// (vmemmap_shift > 0): a compound page whose check provably reports
/// nothing is accepted after its PTEs are read by runs and its sampled
/// struct pages through one PTE read per vmemmap page, instead of being
/// checked sample by sample.  How many it accepted:
inline uint64_t check_dax_clean_compounds = 0;

/// Checks every live pgmap's memmap and every hot-added section.  At most
/// @max_per_id violations of one id are returned.
std::vector<Violation> check_dax(Machine &m, const HotplugState &hp, std::size_t max_per_id = 8);

} // namespace hvo
