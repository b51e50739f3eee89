// SPDX-License-Identifier: GPL-2.0-only
//
// The speculative reader against a stepped remap, as a table row: one row
// per read order, RCU wait and direction, with the schedule and failure
// counts the exploration must give.  Shared by the default interleaving
// tests (bounded, or order 7) and the slow ones (order 9, every schedule),
// so both check the same things.
#pragma once

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "hvo/concurrency/scenarios.h"

namespace hvo::concurrency::reader_cases {

inline std::string first_message(const Exploration &e) {
  return e.first_bad_violations.empty() ? "" : format_violation(e.first_bad_violations.front());
}

struct ReaderCase {
  const char *name;
  bool refcount_first;
  bool synchronize_rcu;
  bool restore;
  uint64_t schedules;  // explored
  uint64_t bad;        // of those, with a write through the RO alias (I12)
};

inline ScenarioOptions reader_options(const ReaderCase &c, unsigned order) {
  ScenarioOptions opt;
  opt.remap_steps = true;
  opt.order = order;
  opt.refcount_first = c.refcount_first;
  opt.synchronize_rcu = c.synchronize_rcu;
  opt.restore = c.restore;
  return opt;
}

// Explores the row (within @preemptions; by default every schedule) and
// checks its counts and that the only failure is the write through the RO
// alias.
inline Exploration expect_reader_case(const ReaderCase &c, const ScenarioOptions &opt,
                                      unsigned preemptions = kUnboundedPreemptions) {
  const Exploration e = explore_scenario(ScenarioKind::SpeculativeReader, opt, preemptions);
  EXPECT_EQ(e.schedules, c.schedules);
  EXPECT_EQ(e.bad, c.bad) << first_message(e);
  if (c.bad) {
    EXPECT_EQ(e.bad_by_id.size(), 1u);
    EXPECT_EQ(e.bad_by_id.count("I12-speculative-ref"), 1u) << first_message(e);
  }
  return e;
}

}  // namespace hvo::concurrency::reader_cases
