// SPDX-License-Identifier: GPL-2.0-only
//
// A simulated CPU whose steps are the interleave points of a kernel path.
//
// The ported kernel functions are ordinary C++ calls that cannot be cut into
// closures without rewriting them.  A Coroutine runs such a call (its body)
// on a stack of its own and suspends it whenever the body reaches an
// interleave point (Machine::interleave_point, or an explicit yield()).  The
// scheduler then sees one step per piece between two points, and may run
// other CPUs' steps in between.
//
// The stack of its own is a ucontext (makecontext / swapcontext) on the
// caller's thread: no second thread, nothing runs concurrently, and control
// moves only at resume() and yield(), so the order of everything is fixed by
// the calls alone.  Under AddressSanitizer every switch is announced
// (__sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber) so that
// ASan tracks the stack in use exactly.
#pragma once

#include <ucontext.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "hvo/concurrency/scheduler.h"

namespace hvo::concurrency {

class Coroutine {
public:
  /// @body runs on the coroutine's stack; its return value labels the last
  /// step (from the last yield to the end).
  using Body = std::function<std::string(Coroutine &)>;

  explicit Coroutine(Body body);
  /// A coroutine destroyed while suspended is unwound (its pending yield()
  /// throws an internal exception that only the coroutine catches): the rest
  /// of the body does not run, so a run stopped early by the scheduler (step
  /// limit, deadlock) leaves the state as the schedule left it.
  ~Coroutine();
  Coroutine(const Coroutine &) = delete;
  Coroutine &operator=(const Coroutine &) = delete;

  /// Runs the body until its next yield point or its end.  Must not be
  /// called again once a step reported done.  An exception that escapes the
  /// body is rethrown here.
  StepResult resume();

  /// From inside the body: ends the current step with @label and suspends
  /// until the next resume().
  void yield(std::string label);

  /// The coroutine whose body is running on this thread, or null (the
  /// scheduler's own thread and plain steps): an interleave point reached
  /// outside a coroutine is not a scheduling point.
  static Coroutine *current();

  /// While set, the coroutine is not runnable until it returns true (a
  /// synchronize_rcu waiting for readers).  Cleared when it is resumed.
  std::function<bool()> wait_until;
  bool runnable() const { return !wait_until || wait_until(); }

private:
  static void entry();
  void run_body();
  void switch_to_body();
  void switch_to_caller(bool for_good);

  Body body_;
  bool started_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
  std::string label_;
  std::exception_ptr error_;
  ucontext_t caller_{};
  ucontext_t context_{};
  void *stack_ = nullptr;  // mmap'ed, lowest page a guard
  Coroutine *outer_ = nullptr;  // current() of the caller, restored on return
  // AddressSanitizer's view of the caller's stack, learnt at the first switch.
  [[maybe_unused]] const void *caller_stack_ = nullptr;
  [[maybe_unused]] std::size_t caller_stack_size_ = 0;
};

/// A scheduler thread whose steps are @co's steps.
Thread coroutine_thread(std::string name, std::shared_ptr<Coroutine> co);
/// The same over a coroutine the caller keeps alive while the thread runs:
/// the thread's closures hold only its address (no allocation for them).
Thread coroutine_thread(std::string name, Coroutine &co);

} // namespace hvo::concurrency
