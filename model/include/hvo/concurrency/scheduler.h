// SPDX-License-Identifier: GPL-2.0-only
//
// Deterministic interleaving of simulated CPUs.
//
// A simulated CPU ("thread") is a kernel path cut into small steps at every
// access to shared state that another CPU may observe (a READ_ONCE, a
// cmpxchg, a set_pte, a synchronize_rcu).  Each step runs atomically.  A
// schedule -- a byte string -- says which runnable thread takes the next step:
// at each point the byte modulo the number of runnable threads indexes them in
// creation order.  When the bytes run out the lowest-numbered runnable thread
// goes next, so every byte string (including the empty one) is a complete,
// replayable schedule.  Nothing here reads a clock or a random source.
//
// A thread may also be a coroutine (coroutine.h): a whole kernel call whose
// steps end at the interleave points it reaches, so a remap walk is many
// steps rather than one.  Exhaustive exploration can then be bounded by the
// number of preemptions (switches away from a thread that could have gone
// on), which keeps a schedule space of several long threads finite in
// practice while still covering every placement of a few context switches
// (CHESS, Musuvathi and Qadeer, PLDI 2007).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hvo::concurrency {

/// What one step reports: a label for the trace and whether the thread has
/// finished (no more steps after this one).
struct StepResult {
  std::string label;
  bool done = false;
};

/// A simulated CPU.  @step runs the next step; it keeps its own program
/// counter and locals in its closure.
struct Thread {
  std::string name;
  std::function<StepResult()> step;
  /// Optional: false while the thread is blocked (e.g. in synchronize_rcu()
  /// waiting for readers); a blocked thread is not offered to the schedule.
  std::function<bool()> runnable;
};

/// One executed step, for traces and replays.
struct TraceEntry {
  unsigned thread = 0;
  std::string label;
};

/// What runs when the schedule bytes are exhausted.
enum class TailPolicy : std::uint8_t {
  LowestRunnable,   ///< the byte format's rule (replays, fuzz inputs)
  ContinueCurrent,  ///< the thread that ran last, if runnable: no preemption
};

/// "The previous thread is not runnable here" in RunResult::continuing.
inline constexpr std::uint8_t kNoContinuation = 0xff;

/// The outcome of running threads under a schedule.
struct RunResult {
  std::vector<TraceEntry> trace;
  /// The choice actually taken at each scheduling point (a canonical
  /// schedule: replaying it gives the same trace).
  std::vector<std::uint8_t> choices;
  /// Number of runnable threads at each scheduling point.
  std::vector<std::uint8_t> branching;
  /// At each point, the index among the runnable threads of the thread that
  /// took the previous step, or kNoContinuation (first step, or it finished
  /// or blocked).  Choosing another index there is a preemption.
  std::vector<std::uint8_t> continuing;
  /// The choice the tail policy makes at each point.
  std::vector<std::uint8_t> defaults;
  /// True if a thread exceeded the step limit (a livelock in the scenario).
  bool step_limit_hit = false;
  /// True if unfinished threads were all blocked (a deadlock in the scenario).
  bool deadlock = false;
};

/// Runs @threads to completion under @schedule.  @max_steps bounds the total
/// number of steps so that a scenario that spins forever is reported, not hung.
RunResult run_schedule(std::vector<Thread> threads, const std::vector<std::uint8_t> &schedule,
                       unsigned max_steps = 10000,
                       TailPolicy tail = TailPolicy::LowestRunnable);
/// The same run into @r, whose records are cleared first and whose storage
/// is reused: a caller that keeps @r across runs (the race fuzz target, one
/// run per input) does not grow five vectors afresh for each.
void run_schedule_into(RunResult &r, std::vector<Thread> threads,
                       const std::vector<std::uint8_t> &schedule, unsigned max_steps = 10000,
                       TailPolicy tail = TailPolicy::LowestRunnable);

/// Number of preemptions in a run.
unsigned count_preemptions(const RunResult &r);

/// Prints a trace as "cpuN: label" lines.
std::string format_trace(const RunResult &r, const std::vector<std::string> &thread_names);
/// The same text into @out (replacing its contents, reusing its storage).
void format_trace_into(std::string &out, const RunResult &r,
                       const std::vector<std::string> &thread_names);

/// Prints a schedule as lowercase hex bytes ("" for the empty schedule).
std::string format_schedule(const std::vector<std::uint8_t> &schedule);

/// No bound on preemptions: every interleaving.
inline constexpr unsigned kUnboundedPreemptions = ~0u;

/// Enumerates every interleaving: @make_threads builds fresh threads over
/// fresh state for each run, @check inspects the finished run (return false to
/// stop early).  Returns the number of schedules explored.  Distinct
/// schedules give distinct step orders; each is visited once.  With
/// @max_preemptions bounded, exactly the schedules with at most that many
/// preemptions are visited (the tail policy is then ContinueCurrent; the
/// choices of every run still replay it under either policy).
std::uint64_t for_each_schedule(const std::function<std::vector<Thread>()> &make_threads,
                                const std::function<bool(const RunResult &)> &check,
                                std::uint64_t max_schedules = 1'000'000,
                                unsigned max_preemptions = kUnboundedPreemptions);

} // namespace hvo::concurrency
