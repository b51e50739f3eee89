// SPDX-License-Identifier: GPL-2.0-only
//
// Text diagrams of a folio's vmemmap in the spirit of
// Documentation/mm/vmemmap_dedup.rst: which vmemmap page maps which frame,
// RW or RO, which frames are shared, and what the struct pages there say.
#pragma once

#include <string>
#include <vector>

#include "hvo/machine.h"

namespace hvo {

// Deterministic: frames are named by their model frame id, never by host
// pointers.  Runs of vmemmap pages that map the same frame with the same
// permission are folded into one line.
std::string vmemmap_diagram(Machine &m, FolioId id);

// A vmemmap address to point at (hvo-triage: where a bad write or read
// landed).  The line of the vmemmap page that holds `vaddr` gets
// "  <== label (struct page N)" appended; a mark outside the folio's
// vmemmap gets a closing line of its own.  With marks, a folio that is gone
// (freed, demoted) is still drawn: the vmemmap of the pfns it had.
struct DiagramMark {
  uint64_t vaddr = 0;
  std::string label;
};
std::string vmemmap_diagram(Machine &m, FolioId id, const std::vector<DiagramMark> &marks);

}  // namespace hvo
