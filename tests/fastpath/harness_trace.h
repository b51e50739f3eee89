// SPDX-License-Identifier: GPL-2.0-only
//
// What a fuzz harness sees of a run, as text: the fast-path tests run a
// scenario both ways and compare these byte for byte.  Also the random
// inputs they run.
#pragma once

#include <cstddef>
#include <functional>
#include <random>
#include <string>

#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"

namespace hvo::test {

// Runs `s`'s ops on `md` and returns every step's result and violations,
// then the final full check's.  `after_op` (optional) sees each op and its
// step, e.g. to count frees.
std::string harness_trace(Model &md, const Scenario &s,
                          const std::function<void(const Op &, const StepResult &)> &after_op = {});

// A random fuzz input for `p`: min_len + rng() % spread random bytes,
// decoded as the target decodes them.
Scenario random_fuzz_scenario(const fuzz::TargetProfile &p, std::mt19937 &rng, size_t min_len,
                              size_t spread);

}  // namespace hvo::test
