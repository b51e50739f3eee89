// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_differential: one HugeTLB op sequence run on both eras through
// the differential oracle (model/include/hvo/differential.h): legacy
// v6.12.0 against shared-tail kiryl-v7.  Any observable difference outside
// the documented allowances (docs/model.md, "Differential rules") is a
// crash named D-diverge, with the first diverging op and struct page.
#include "hvo/fuzz/harness.h"

HVO_FUZZ_TARGET("hvo_fuzz_differential")
