// SPDX-License-Identifier: GPL-2.0-only
//
// Strict hand-over between a caller and a body on its own stack (see
// coroutine.h).  body_turn_ is the baton: whoever does not hold it waits.
#include "hvo/concurrency/coroutine.h"

namespace hvo::concurrency {

namespace {

thread_local Coroutine *g_current = nullptr;

// Thrown from a pending yield() when the coroutine is destroyed; caught only
// in run_body, so it unwinds exactly the body's frames.
struct Cancelled {};

} // namespace

Coroutine::Coroutine(Body body) : body_(std::move(body)) {}

Coroutine::~Coroutine() {
  if (!thread_.joinable())
    return;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!finished_) {
      cancelled_ = true;
      body_turn_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !body_turn_; });
    }
  }
  thread_.join();
}

Coroutine *Coroutine::current() { return g_current; }

void Coroutine::run_body() {
  g_current = this;
  std::string last;
  try {
    last = body_(*this);
  } catch (const Cancelled &) {
  } catch (...) {
    error_ = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mu_);
  label_ = std::move(last);
  finished_ = true;
  body_turn_ = false;
  cv_.notify_all();
}

StepResult Coroutine::resume() {
  wait_until = nullptr;
  std::unique_lock<std::mutex> lock(mu_);
  body_turn_ = true;
  if (!started_) {
    started_ = true;
    thread_ = std::thread([this] {
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [this] { return body_turn_; });
      }
      run_body();
    });
  }
  cv_.notify_all();
  cv_.wait(lock, [this] { return !body_turn_; });
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
  return StepResult{label_, finished_};
}

void Coroutine::yield(std::string label) {
  std::unique_lock<std::mutex> lock(mu_);
  label_ = std::move(label);
  body_turn_ = false;
  cv_.notify_all();
  cv_.wait(lock, [this] { return body_turn_; });
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

} // namespace hvo::concurrency
