// SPDX-License-Identifier: GPL-2.0-only
//
// Vmemmap savings per folio order, measured by running the model: boot a
// machine, allocate one folio of the order (which HVO optimizes), and count
// the frames its vmemmap had, keeps, frees, allocates and shares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hvo/config.h"

namespace hvo {

struct HugetlbSavings {
  unsigned order = 0;
  uint64_t folio_bytes = 0;
  // vmemmap pages of the folio before HVO, as a fraction num/den (V may be < 1).
  uint64_t vmemmap_num = 0, vmemmap_den = 1;
  bool optimized = false;
  uint64_t keeps = 0;      // distinct frames mapping the folio's vmemmap after HVO
  uint64_t frees = 0;      // frames returned to the allocator
  uint64_t allocates = 0;  // memmap frames HVO allocated (the head copy)
  uint64_t shares = 0;     // vmemmap pages mapping a frame that another page also maps
  int64_t saved = 0;       // frees - allocates (shared tails not included)
  uint64_t shared_tails = 0;  // shared-tail era: tail frames allocated for this order (lifetime, per zone)
  uint64_t pte_tables = 0; // PTE tables the PMD split allocated (not shared)
};

// Device DAX (M2): one device range of compound pages of the order, added with
// memremap_pages (the dax_add op); per compound page unless noted.
struct DaxSavings {
  unsigned order = 0;
  uint64_t folio_bytes = 0;
  uint64_t vmemmap_pages = 0;   // V (the rows start at V >= 1)
  bool optimized = false;       // vmemmap_can_optimize
  uint64_t range_pages = 0;     // the measured range (at least a subsection)
  uint64_t compound_pages = 0;  // compound pages in the range
  uint64_t keeps = 0;           // distinct frames mapping one compound page's vmemmap
  uint64_t shares = 0;          // vmemmap pages mapping a frame another page also maps
  int64_t saved = 0;            // V - keeps
  uint64_t shared_tails = 0;    // shared-tail era (muchun): device zone's tail frames for this order
  int64_t memmap_pages_delta = 0;  // memmap_pages change for the whole range
  uint64_t pte_tables = 0;      // PTE tables populated for the whole range
};

// era SharedTail measures Muchun's section-based path (variant muchun): the
// shape of the shared-tail era that changed device DAX.
std::vector<DaxSavings> compute_dax_savings(unsigned page_shift, unsigned struct_page_size,
                                            std::string &err, Era era = Era::Legacy);

struct SavingsReport {
  unsigned page_shift = 12;
  Era era = Era::Legacy;
  std::vector<HugetlbSavings> hugetlb;
  std::vector<DaxSavings> dax;
  std::string error;  // non-empty: the model could not be run
};

// Orders from the first with V >= 1/8 up to MAX_FOLIO_ORDER (16 GiB folios).
// era SharedTail: variant muchun (Kiryl's shared tails, Muchun's DAX path).
SavingsReport compute_savings(unsigned page_shift, unsigned struct_page_size = 64,
                              Era era = Era::Legacy);
std::string format_savings_table(const SavingsReport &r);
std::string format_savings_json(const SavingsReport &r);

}  // namespace hvo
