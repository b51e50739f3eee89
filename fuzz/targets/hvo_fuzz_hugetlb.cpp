// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_hugetlb: HugeTLB op sequences (allocate on random nodes and
// orders, optimize, restore, both batched, free, demote, memory failure,
// speculative references) with allocation failures injected at random
// points, in every era and walk shape the model has.
//
// The op family and configuration space are this target's profile in
// fuzz/decoder/src/decoder.cpp; the input format is in docs/fuzzing.md.
#include "hvo/fuzz/harness.h"

HVO_FUZZ_TARGET("hvo_fuzz_hugetlb")
