// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_boot: boot-time population: bootmem gigantic pages across nodes
// and zones (gather_bootmem_prealloc, only the first struct pages
// initialised), then the runtime paths on them.
//
// The op family and configuration space are this target's profile in
// fuzz/decoder/src/decoder.cpp; the input format is in docs/fuzzing.md.
#include "hvo/fuzz/harness.h"

HVO_FUZZ_TARGET("hvo_fuzz_boot")
