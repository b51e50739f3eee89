// SPDX-License-Identifier: GPL-2.0-only
//
// The race target's inputs as the fast-path tests run them: the stored ones
// (seed corpus and regressions) and random byte strings decoded as the
// target decodes them, plus a run described as text, everything a harness
// can see of it.
#pragma once

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hvo/concurrency/scenarios.h"
#include "hvo/config.h"
#include "hvo/fuzz/race_input.h"

namespace hvo::test {

// fuzz/corpus/hvo_fuzz_race/*.hvo and the race inputs of fuzz/regressions,
// in name order.
std::vector<std::pair<std::string, fuzz::RaceInput>> stored_race_inputs();

// @n inputs of 1 to 40 random bytes, decoded by decode_race_input.
std::vector<std::pair<std::string, fuzz::RaceInput>> random_race_inputs(std::mt19937 &rng,
                                                                        unsigned n);

// The fixed kernel and each historic bug the race scenarios put back.
std::vector<Config> race_bug_sets();

// The trace, the schedule taken (choices, branching, preemption points,
// defaults), the step-limit and deadlock flags, every violation.
std::string describe(const concurrency::ScenarioRun &r);

}  // namespace hvo::test
