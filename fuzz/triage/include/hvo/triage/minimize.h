// SPDX-License-Identifier: GPL-2.0-only
//
// Operation-level test case reduction.  A candidate is kept only when its
// replay crashes with exactly the same Signature (invariant, op kind, era,
// configuration class) as the original, so the minimizer never slides from
// one bug to another.  Passes, repeated until none makes progress:
//
//   1. drop the ops after the failing one (they never ran);
//   2. ddmin over the op list (Zeller & Hildebrandt, "Simplifying and
//      isolating failure-inducing input", TSE 2002): remove chunks of
//      halving size, down to single ops;
//   3. removal of an op together with renumbering the folio ids after it
//      (ids are allocation order, so ddmin alone cannot drop an allocation);
//   4. argument simplification: each argument of each op toward its
//      smallest meaningful value (range minimum, default, halving: smaller
//      orders, node 0, fewer folios, folio 0);
//   5. configuration simplification: default vmemmap base and hotplug,
//      fewer nodes, fewer and smaller zones.
//
// `admissible` narrows the search (e.g. "still encodable as this target's
// fuzz bytes"); it is asked before a candidate is run.
#pragma once

#include <functional>
#include <string>

#include "hvo/ops.h"
#include "hvo/triage/run.h"

namespace hvo::triage {

struct MinimizeResult {
  Scenario scenario;      // the smallest found (the input itself if nothing helped)
  Signature signature;
  size_t ops_before = 0;
  size_t ops_after = 0;
  size_t replays = 0;     // candidates run
  size_t rounds = 0;
};

using Admissible = std::function<bool(const Scenario &)>;

// `s` must crash (signature_of(s, run_scenario(s)) non-empty).
MinimizeResult minimize(const Scenario &s, const Admissible &admissible = nullptr);

// A race keeps its scenario and options; its schedule is what shrinks:
// ddmin over the schedule bytes, then each byte toward 0 (0 picks the
// lowest-numbered runnable CPU, as an exhausted schedule does).
struct RaceMinimizeResult {
  fuzz::RaceInput race;
  Signature signature;
  size_t bytes_before = 0, bytes_after = 0, replays = 0;
};
RaceMinimizeResult minimize_race(const fuzz::RaceInput &in, const BugSet &bugs);

}  // namespace hvo::triage
