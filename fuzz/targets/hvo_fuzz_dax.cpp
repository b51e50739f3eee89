// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_dax: device-DAX ranges (memremap_pages / memunmap_pages) with
// random compound geometries (vmemmap_shift), alignments, subsection and
// section boundaries, ranges reaching into boot sections, and altmaps.
//
// The op family and configuration space are this target's profile in
// fuzz/decoder/src/decoder.cpp; the input format is in docs/fuzzing.md.
#include "hvo/fuzz/harness.h"

HVO_FUZZ_TARGET("hvo_fuzz_dax")
