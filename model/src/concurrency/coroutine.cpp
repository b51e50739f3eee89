// SPDX-License-Identifier: GPL-2.0-only
//
// Coroutines on ucontexts (see coroutine.h).  Every transfer of control is
// one swapcontext between caller_ (the scheduler's side) and context_ (the
// body's side); AddressSanitizer is told about each one.
#include "hvo/concurrency/coroutine.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HVO_ASAN_FIBERS 1
#endif
#endif
#if !defined(HVO_ASAN_FIBERS) && defined(__SANITIZE_ADDRESS__)
#define HVO_ASAN_FIBERS 1
#endif
#ifdef HVO_ASAN_FIBERS
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace hvo::concurrency {

namespace {

// The kernel paths the scenarios run are shallow, but ASan's redzones and
// the oracle's hooks need room: 1 MiB, committed lazily by the kernel.
constexpr std::size_t kStackSize = std::size_t{1} << 20;
constexpr std::size_t kGuardSize = 4096;

thread_local Coroutine *g_current = nullptr;
// makecontext passes int arguments only: the coroutine being started.
thread_local Coroutine *g_starting = nullptr;

// Thrown from a pending yield() when the coroutine is destroyed; caught only
// in run_body, so it unwinds exactly the body's frames.
struct Cancelled {};

// Stacks of ended coroutines, kept for the next ones.  A scenario run
// starts one or two coroutines; a fresh mmap, its guard mprotect and the
// munmap cost more than the run's remap steps under ASan, which intercepts
// each of them and maps or releases shadow memory.  A stack's contents do
// not matter to the next coroutine (makecontext starts it afresh).  A plain
// array, so nothing is destroyed at thread exit: the few stacks left then
// go with the process.
constexpr std::size_t kPooledStacks = 4;
thread_local void *g_stack_pool[kPooledStacks];
thread_local std::size_t g_stack_pool_size = 0;

#ifdef HVO_ASAN_FIBERS
// AddressSanitizer's fake stacks (detect_stack_use_after_return, on by
// default) of ended coroutines, kept for the next ones.  ASan gives every
// fiber a fake stack of its own, mapped at the fiber's first instrumented
// frame and unmapped when the fiber ends (__sanitizer_start_switch_fiber
// with no save location): per coroutine an mmap of some megabytes, its
// page faults and a munmap, a sixth of a remap=steps run.  Handing an ended
// fiber's fake stack to the next fiber (__sanitizer_finish_switch_fiber
// installs it) is what a thread does with its own over its lifetime: frames
// that returned are free for reuse and poisoned until then; frames left by
// a cancelled body (unwound by Cancelled, whose throw ASan sees as a
// no-return) are collected by the fake stack's own GC, and were one never
// collected, that size class would use the real stack, not break.  A plain
// array, like the stacks: the few left at thread exit go with the process.
constexpr std::size_t kPooledFakeStacks = kPooledStacks;
thread_local void *g_fake_stack_pool[kPooledFakeStacks];
thread_local std::size_t g_fake_stack_pool_size = 0;
#endif

// A stack with its lowest page a guard, or nullptr.
void *acquire_stack() {
  if (g_stack_pool_size > 0)
    return g_stack_pool[--g_stack_pool_size];
  void *s = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED)
    return nullptr;
  mprotect(s, kGuardSize, PROT_NONE);  // an overflow faults, not corrupts
  return s;
}

void release_stack(void *s) {
  if (g_stack_pool_size == kPooledStacks) {
    munmap(s, kStackSize);
    return;
  }
#ifdef HVO_ASAN_FIBERS
  // The ended body's frames may leave redzones poisoned (an unwind by
  // Cancelled does not run their epilogues): the next body starts clean.
  ASAN_UNPOISON_MEMORY_REGION(static_cast<char *>(s) + kGuardSize, kStackSize - kGuardSize);
#endif
  g_stack_pool[g_stack_pool_size++] = s;
}

} // namespace

Coroutine::Coroutine(Body body) : body_(std::move(body)) {}

Coroutine::~Coroutine() {
  if (started_ && !finished_) {
    cancelled_ = true;
    switch_to_body();
  }
  if (stack_)
    release_stack(stack_);
}

Coroutine *Coroutine::current() { return g_current; }

void Coroutine::entry() {
  Coroutine *self = g_starting;
  g_starting = nullptr;
#ifdef HVO_ASAN_FIBERS
  // An ended coroutine's fake stack if one is kept, else ASan maps a new one
  // when the body first needs it.
  void *fake_stack =
      g_fake_stack_pool_size > 0 ? g_fake_stack_pool[--g_fake_stack_pool_size] : nullptr;
  __sanitizer_finish_switch_fiber(fake_stack, &self->caller_stack_, &self->caller_stack_size_);
#endif
  self->run_body();
  self->switch_to_caller(true);
  std::abort();  // a finished body is never resumed
}

void Coroutine::run_body() {
  std::string last;
  try {
    last = body_(*this);
  } catch (const Cancelled &) {
  } catch (...) {
    error_ = std::current_exception();
  }
  label_ = std::move(last);
  finished_ = true;
}

void Coroutine::switch_to_body() {
  outer_ = g_current;
  g_current = this;
#ifdef HVO_ASAN_FIBERS
  void *fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, static_cast<char *>(stack_) + kGuardSize,
                                 kStackSize - kGuardSize);
#endif
  swapcontext(&caller_, &context_);
#ifdef HVO_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  g_current = outer_;
}

void Coroutine::switch_to_caller(bool for_good) {
#ifdef HVO_ASAN_FIBERS
  // Leaving for good: the body's fake stack is kept for the next coroutine
  // while there is room, else ASan destroys it (no save location).
  void *fake_stack = nullptr;
  const bool keep = !for_good || g_fake_stack_pool_size < kPooledFakeStacks;
  __sanitizer_start_switch_fiber(keep ? &fake_stack : nullptr, caller_stack_,
                                 caller_stack_size_);
  if (for_good && fake_stack)
    g_fake_stack_pool[g_fake_stack_pool_size++] = fake_stack;
#endif
  swapcontext(&context_, &caller_);
#ifdef HVO_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fake_stack, &caller_stack_, &caller_stack_size_);
#else
  (void)for_good;
#endif
}

StepResult Coroutine::resume() {
  wait_until = nullptr;
  if (!started_) {
    started_ = true;
    stack_ = acquire_stack();
    if (!stack_)
      throw std::bad_alloc();
    getcontext(&context_);
    context_.uc_stack.ss_sp = static_cast<char *>(stack_) + kGuardSize;
    context_.uc_stack.ss_size = kStackSize - kGuardSize;
    context_.uc_link = nullptr;
    makecontext(&context_, &Coroutine::entry, 0);
    // makecontext has put the stack into the saved registers; swapcontext
    // does not read uc_stack again.  ASan's swapcontext interceptor does:
    // for a context with a known stack it zeroes that stack's shadow before
    // and after every switch, which for 1 MiB means remapping 128 KiB of
    // shadow twice per step (most of a remap=steps run's time) and forgets
    // the redzones of the body's live frames.  The switches are announced
    // to ASan instead (switch_to_body / switch_to_caller), so the
    // interceptor is told no stack.
    context_.uc_stack.ss_sp = nullptr;
    context_.uc_stack.ss_size = 0;
    g_starting = this;
  }
  switch_to_body();
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
  return StepResult{label_, finished_};
}

void Coroutine::yield(std::string label) {
  label_ = std::move(label);
  switch_to_caller(false);
  if (cancelled_)
    throw Cancelled{};
}

Thread coroutine_thread(std::string name, std::shared_ptr<Coroutine> co) {
  Thread t;
  t.name = std::move(name);
  t.step = [co] { return co->resume(); };
  t.runnable = [co] { return co->runnable(); };
  return t;
}

Thread coroutine_thread(std::string name, Coroutine &co) {
  Coroutine *const c = &co;
  Thread t;
  t.name = std::move(name);
  t.step = [c] { return c->resume(); };
  t.runnable = [c] { return c->runnable(); };
  return t;
}

} // namespace hvo::concurrency
