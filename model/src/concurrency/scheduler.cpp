// SPDX-License-Identifier: GPL-2.0-only
//
// Deterministic scheduler for simulated CPUs: one step at a time, the next
// thread chosen by a schedule byte string.
#include "hvo/concurrency/scheduler.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace hvo::concurrency {

namespace {
// Steps a scenario run usually takes: the longest seeds (remap=steps over
// an order-9 folio) take about 40.
constexpr std::size_t kExpectedSteps = 64;
} // namespace

RunResult run_schedule(std::vector<Thread> threads, const std::vector<std::uint8_t> &schedule,
                       unsigned max_steps, TailPolicy tail) {
  RunResult r;
  run_schedule_into(r, std::move(threads), schedule, max_steps, tail);
  return r;
}

void run_schedule_into(RunResult &r, std::vector<Thread> threads,
                       const std::vector<std::uint8_t> &schedule, unsigned max_steps,
                       TailPolicy tail) {
  r.trace.clear();
  r.choices.clear();
  r.branching.clear();
  r.continuing.clear();
  r.defaults.clear();
  r.step_limit_hit = false;
  r.deadlock = false;
  // Per thread: finished, and (reused every step) the runnable ones' indices;
  // on the stack for the scenarios' few threads, as a fuzz input is one
  // short run and under ASan every allocation records its stack.
  constexpr std::size_t kInlineThreads = 8;
  std::array<unsigned char, kInlineThreads> done_inline{};
  std::array<unsigned, kInlineThreads> runnable_inline{};
  std::vector<unsigned char> done_heap;
  std::vector<unsigned> runnable_heap;
  if (threads.size() > kInlineThreads) {
    done_heap.assign(threads.size(), 0);
    runnable_heap.resize(threads.size());
  }
  unsigned char *const done = done_heap.empty() ? done_inline.data() : done_heap.data();
  unsigned *const runnable = runnable_heap.empty() ? runnable_inline.data() : runnable_heap.data();
  std::size_t nr_runnable = 0;
  std::size_t next_byte = 0;
  unsigned previous = ~0u;
  // One allocation per record for a run of ordinary length rather than a
  // doubling series each (none when @r is reused).
  const std::size_t expected = std::min<std::size_t>(max_steps, kExpectedSteps);
  r.trace.reserve(expected);
  r.choices.reserve(expected);
  r.branching.reserve(expected);
  r.continuing.reserve(expected);
  r.defaults.reserve(expected);
  for (unsigned steps = 0;; ++steps) {
    nr_runnable = 0;
    bool unfinished = false;
    for (unsigned i = 0; i < threads.size(); ++i) {
      if (done[i])
        continue;
      unfinished = true;
      if (!threads[i].runnable || threads[i].runnable())
        runnable[nr_runnable++] = i;
    }
    if (nr_runnable == 0) {
      r.deadlock = unfinished;
      break;
    }
    if (steps == max_steps) {
      r.step_limit_hit = true;
      break;
    }
    std::uint8_t continuing = kNoContinuation;
    for (unsigned i = 0; i < nr_runnable; ++i)
      if (runnable[i] == previous)
        continuing = static_cast<std::uint8_t>(i);
    const unsigned fallback =
        tail == TailPolicy::ContinueCurrent && continuing != kNoContinuation ? continuing : 0;
    unsigned choice = fallback;
    if (next_byte < schedule.size())
      choice = schedule[next_byte++] % nr_runnable;
    r.branching.push_back(static_cast<std::uint8_t>(nr_runnable));
    r.choices.push_back(static_cast<std::uint8_t>(choice));
    r.continuing.push_back(continuing);
    r.defaults.push_back(static_cast<std::uint8_t>(fallback));
    const unsigned t = runnable[choice];
    previous = t;
    StepResult s = threads[t].step();
    r.trace.push_back({t, std::move(s.label)});
    done[t] = s.done;
  }
}

std::string format_trace(const RunResult &r, const std::vector<std::string> &thread_names) {
  std::string out;
  format_trace_into(out, r, thread_names);
  return out;
}

void format_trace_into(std::string &out, const RunResult &r,
                       const std::vector<std::string> &thread_names) {
  out.clear();
  std::size_t length = 0;  // known names and labels: one allocation for the text
  for (const TraceEntry &e : r.trace)
    length += (e.thread < thread_names.size() ? thread_names[e.thread].size() : 16) +
              e.label.size() + 3;
  out.reserve(length);
  for (const TraceEntry &e : r.trace) {
    if (e.thread < thread_names.size())
      out += thread_names[e.thread];
    else
      out += "cpu" + std::to_string(e.thread);
    out += ": ";
    out += e.label;
    out += '\n';
  }
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

unsigned count_preemptions(const RunResult &r) {
  unsigned n = 0;
  for (std::size_t i = 0; i < r.choices.size(); ++i)
    n += r.continuing[i] != kNoContinuation && r.choices[i] != r.continuing[i];
  return n;
}

// Depth-first enumeration by replay: run with a prefix of choices (the rest
// taken by the tail policy), then advance the deepest choice that still has
// an untried alternative, like an odometer whose digit ranges are the
// branching factors observed in the last run.  A digit counts from the
// policy's own choice (offset 0) round to the one before it, so the first
// run of every subtree is the policy's and each subtree is visited once.
// With a preemption bound, a digit is only advanced where the prefix up to
// it stays within the bound: the policy's tail adds none.
std::uint64_t for_each_schedule(const std::function<std::vector<Thread>()> &make_threads,
                                const std::function<bool(const RunResult &)> &check,
                                std::uint64_t max_schedules, unsigned max_preemptions) {
  const bool bounded = max_preemptions != kUnboundedPreemptions;
  const TailPolicy tail = bounded ? TailPolicy::ContinueCurrent : TailPolicy::LowestRunnable;
  std::vector<std::uint8_t> prefix;
  std::uint64_t explored = 0;
  while (explored < max_schedules) {
    RunResult r = run_schedule(make_threads(), prefix, 10000, tail);
    ++explored;
    if (!check(r))
      break;
    // Preemptions taken before each point.
    std::vector<unsigned> before(r.choices.size() + 1, 0);
    for (std::size_t i = 0; i < r.choices.size(); ++i)
      before[i + 1] = before[i] + (r.continuing[i] != kNoContinuation &&
                                   r.choices[i] != r.continuing[i]);
    auto offset = [&](std::size_t i) {
      return (r.choices[i] + r.branching[i] - r.defaults[i]) % r.branching[i];
    };
    // Find the deepest point with an untried alternative within the bound.
    std::size_t depth = r.choices.size();
    while (depth > 0) {
      const std::size_t i = depth - 1;
      const bool untried = offset(i) + 1u < r.branching[i];
      const bool preempts = r.continuing[i] != kNoContinuation;
      if (untried && (!bounded || before[i] + preempts <= max_preemptions))
        break;
      --depth;
    }
    if (depth == 0)
      break;
    const std::size_t i = depth - 1;
    prefix.assign(r.choices.begin(), r.choices.begin() + static_cast<std::ptrdiff_t>(depth));
    prefix.back() = static_cast<std::uint8_t>((r.choices[i] + 1) % r.branching[i]);
  }
  return explored;
}

} // namespace hvo::concurrency
