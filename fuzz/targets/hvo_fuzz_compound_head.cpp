// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_compound_head: tail information (compound_head / compound_info) of folios
// of random order, page size, struct page size and vmemmap alignment, in
// the legacy (pointer + fake head) and shared-tail (mask) encodings, read
// through the oracle's head-resolution check after every operation.
//
// The op family and configuration space are this target's profile in
// fuzz/decoder/src/decoder.cpp; the input format is in docs/fuzzing.md.
#include "hvo/fuzz/harness.h"

HVO_FUZZ_TARGET("hvo_fuzz_compound_head")
