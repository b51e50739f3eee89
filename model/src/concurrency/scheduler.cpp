// SPDX-License-Identifier: GPL-2.0-only
//
// Deterministic scheduler for simulated CPUs: one step at a time, the next
// thread chosen by a schedule byte string.
#include "hvo/concurrency/scheduler.h"

#include <cstdio>

namespace hvo::concurrency {

RunResult run_schedule(std::vector<Thread> threads, const std::vector<std::uint8_t> &schedule,
                       unsigned max_steps) {
  RunResult r;
  std::vector<bool> done(threads.size(), false);
  std::size_t next_byte = 0;
  for (unsigned steps = 0;; ++steps) {
    std::vector<unsigned> runnable;
    bool unfinished = false;
    for (unsigned i = 0; i < threads.size(); ++i) {
      if (done[i])
        continue;
      unfinished = true;
      if (!threads[i].runnable || threads[i].runnable())
        runnable.push_back(i);
    }
    if (runnable.empty()) {
      r.deadlock = unfinished;
      break;
    }
    if (steps == max_steps) {
      r.step_limit_hit = true;
      break;
    }
    unsigned choice = 0;
    if (next_byte < schedule.size())
      choice = schedule[next_byte++] % runnable.size();
    r.branching.push_back(static_cast<std::uint8_t>(runnable.size()));
    r.choices.push_back(static_cast<std::uint8_t>(choice));
    const unsigned t = runnable[choice];
    StepResult s = threads[t].step();
    r.trace.push_back({t, std::move(s.label)});
    done[t] = s.done;
  }
  return r;
}

std::string format_trace(const RunResult &r, const std::vector<std::string> &thread_names) {
  std::string out;
  for (const TraceEntry &e : r.trace) {
    const std::string name =
        e.thread < thread_names.size() ? thread_names[e.thread] : "cpu" + std::to_string(e.thread);
    out += name + ": " + e.label + "\n";
  }
  return out;
}

std::string format_schedule(const std::vector<std::uint8_t> &schedule) {
  std::string out;
  char buf[3];
  for (std::uint8_t b : schedule) {
    std::snprintf(buf, sizeof(buf), "%02x", b);
    out += buf;
  }
  return out;
}

// Depth-first enumeration by replay: run with a prefix of choices (the rest
// default to 0), then advance the deepest choice that still has an untried
// alternative, like an odometer whose digit ranges are the branching factors
// observed in the last run.
std::uint64_t for_each_schedule(const std::function<std::vector<Thread>()> &make_threads,
                                const std::function<bool(const RunResult &)> &check,
                                std::uint64_t max_schedules) {
  std::vector<std::uint8_t> prefix;
  std::uint64_t explored = 0;
  while (explored < max_schedules) {
    RunResult r = run_schedule(make_threads(), prefix);
    ++explored;
    if (!check(r))
      break;
    // Find the deepest point with an untried alternative.
    std::size_t depth = r.choices.size();
    while (depth > 0 && r.choices[depth - 1] + 1 >= r.branching[depth - 1])
      --depth;
    if (depth == 0)
      break;
    prefix.assign(r.choices.begin(), r.choices.begin() + static_cast<std::ptrdiff_t>(depth));
    prefix.back() = static_cast<std::uint8_t>(prefix.back() + 1);
  }
  return explored;
}

} // namespace hvo::concurrency
