// SPDX-License-Identifier: GPL-2.0-only
//
// Text diagrams of a folio's vmemmap in the spirit of
// Documentation/mm/vmemmap_dedup.rst: which vmemmap page maps which frame,
// RW or RO, which frames are shared, and what the struct pages there say.
#pragma once

#include <string>

#include "hvo/machine.h"

namespace hvo {

// Deterministic: frames are named by their model frame id, never by host
// pointers.  Runs of vmemmap pages that map the same frame with the same
// permission are folded into one line.
std::string vmemmap_diagram(Machine &m, FolioId id);

}  // namespace hvo
