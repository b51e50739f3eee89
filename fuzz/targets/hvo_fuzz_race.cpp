// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_race: the model's deterministic concurrency scenarios (two CPUs
// in vmemmap_get_tail; a speculative page_ref_add_unless against optimize
// or restore; optimize of one folio against restore of another sharing a
// tail) under schedules taken from the input bytes.  With remap=steps the
// optimize and restore walks are cut at their interleave points (each PTE
// update, the flushes, the copies, the frees), so the bytes also choose
// where inside a remap the other CPUs run.
//
// The input format is in fuzz/decoder/include/hvo/fuzz/race_input.h and
// docs/fuzzing.md.
#include "hvo/fuzz/harness.h"

HVO_FUZZ_TARGET("hvo_fuzz_race")
