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
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"
#include "hvo/mmu.h"
#include "hvo/violation.h"

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

// The target's corpus (fuzz/corpus/<target>/*.hvo) in name order, each
// encoded and decoded as the target decodes it and followed by `mutants`
// variants with one to three bytes of its encoding changed.
std::vector<Scenario> corpus_and_mutants(const fuzz::TargetProfile &p, unsigned mutants,
                                         std::mt19937 &rng);

// Sets one of the model's process-wide reference switches (e.g.
// hugetlb_vmemmap_reference_walks) for the lifetime of the object and puts
// the old value back, so no test leaks it into the next.
class ScopedSwitch {
public:
  ScopedSwitch(bool &flag, bool on) : flag_(flag), saved_(flag) { flag_ = on; }
  ~ScopedSwitch() { flag_ = saved_; }
  ScopedSwitch(const ScopedSwitch &) = delete;
  ScopedSwitch &operator=(const ScopedSwitch &) = delete;

private:
  bool &flag_;
  bool saved_;
};

// A scenario the test writes itself (a planted state's ops); a parse error
// fails the test and leaves the scenario as far as it parsed.
Scenario planted_scenario(const std::string &text);

// Violations as the tools print them, one line each, in order.
std::string violations_text(const std::vector<Violation> &vs);

// The faults an Mmu recorded, one line each, in order.
std::string faults_text(const std::vector<Fault> &fs);

// What a run left in `md` besides its state: "faults:" and the faults in
// order (faults_text), then "changed:" and the frames noted changed, in
// order, on one line.  Two ways of running the same input must agree on it.
std::string faults_and_changed_text(Model &md);

// The ops of `s` run on `md` without the oracle (which would drain the
// faults and the touched frames): each op's result, every fault it took in
// order, and every frame it touched in order.
std::string raw_op_trace(Model &md, const Scenario &s);

}  // namespace hvo::test
