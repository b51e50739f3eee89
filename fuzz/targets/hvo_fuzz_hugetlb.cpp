// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_hugetlb: see docs/fuzzing.md for what it covers; the op family and
// configuration space are its profile in fuzz/decoder/src/decoder.cpp.
#include "hvo/fuzz/harness.h"

HVO_FUZZ_TARGET("hvo_fuzz_hugetlb")
