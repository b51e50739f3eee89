// SPDX-License-Identifier: GPL-2.0-only
//
// Coroutine threads (a kernel call cut at its interleave points) and the
// preemption bound of the exhaustive enumeration.
#include "hvo/concurrency/coroutine.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <stdexcept>

namespace hvo::concurrency {
namespace {

// A coroutine that yields @n - 1 times: n steps labelled name.0 .. name.(n-1).
std::shared_ptr<Coroutine> counting_coroutine(const std::string &name, unsigned n,
                                              std::shared_ptr<unsigned> progress = nullptr) {
  return std::make_shared<Coroutine>([name, n, progress](Coroutine &self) {
    for (unsigned i = 0; i + 1 < n; ++i) {
      if (progress)
        *progress = i + 1;
      self.yield(name + "." + std::to_string(i));
    }
    if (progress)
      *progress = n;
    return name + "." + std::to_string(n - 1);
  });
}

std::uint64_t binomial(unsigned n, unsigned k) {
  std::uint64_t r = 1;
  for (unsigned i = 1; i <= k; ++i)
    r = r * (n - k + i) / i;
  return r;
}

TEST(Coroutine, EachYieldEndsAStep) {
  const RunResult r = run_schedule({coroutine_thread("A", counting_coroutine("A", 3))}, {});
  EXPECT_EQ(format_trace(r, {"A"}), "A: A.0\nA: A.1\nA: A.2\n");
}

TEST(Coroutine, TwoCoroutinesInterleaveInEveryOrderExactlyOnce) {
  std::set<std::string> seen;
  const std::uint64_t n = for_each_schedule(
      [] {
        return std::vector<Thread>{coroutine_thread("A", counting_coroutine("A", 4)),
                                   coroutine_thread("B", counting_coroutine("B", 3))};
      },
      [&](const RunResult &r) {
        EXPECT_TRUE(seen.insert(format_trace(r, {"A", "B"})).second);
        return true;
      });
  EXPECT_EQ(n, binomial(7, 3));
}

TEST(Coroutine, ADestroyedSuspendedCoroutineDoesNotRunTheRestOfItsBody) {
  auto progress = std::make_shared<unsigned>(0);
  {
    auto co = counting_coroutine("A", 5, progress);
    co->resume();
    co->resume();
    EXPECT_EQ(*progress, 2u);
  }
  EXPECT_EQ(*progress, 2u);
}

// Recurses @depth frames, each with a local array, and yields at the bottom.
int deep_then_yield(Coroutine &self, int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) {
    self.yield("bottom");
    return frame[0];
  }
  return deep_then_yield(self, depth - 1) + frame[0];
}

// Stacks are reused (coroutine.cpp keeps those of ended coroutines): a
// coroutine that runs after one was destroyed deep in its body, and after
// one that finished, runs on such a stack with every byte of it usable.
// Under ASan a redzone left poisoned by the destroyed body's frames would
// be reported here.
TEST(Coroutine, ACoroutineAfterEndedOnesHasItsWholeStack) {
  for (int round = 0; round < 6; ++round) {
    {
      Coroutine cancelled([](Coroutine &self) { return std::to_string(deep_then_yield(self, 100)); });
      EXPECT_EQ(cancelled.resume().label, "bottom");
    }  // destroyed while suspended 100 frames deep
    Coroutine finished([](Coroutine &self) {
      self.yield("once");
      return std::string("done");
    });
    EXPECT_EQ(finished.resume().label, "once");
    EXPECT_TRUE(finished.resume().done);
    Coroutine next([](Coroutine &) {
      volatile char big[128 * 1024];
      for (size_t i = 0; i < sizeof big; i += 512)
        big[i] = 1;
      return "ran " + std::to_string(big[0] + big[sizeof big - 512]);
    });
    const StepResult r = next.resume();
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.label, "ran 2");
  }
}

TEST(Coroutine, AnExceptionInTheBodyReachesTheCaller) {
  Coroutine co([](Coroutine &self) -> std::string {
    self.yield("first");
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(co.resume().label, "first");
  EXPECT_THROW(co.resume(), std::runtime_error);
}

TEST(Coroutine, OnlyCodeRunningInsideACoroutineSeesItAsCurrent) {
  EXPECT_EQ(Coroutine::current(), nullptr);
  Coroutine *inside = nullptr;
  Coroutine co([&](Coroutine &) {
    inside = Coroutine::current();
    return std::string("done");
  });
  EXPECT_TRUE(co.resume().done);
  EXPECT_EQ(inside, &co);
  EXPECT_EQ(Coroutine::current(), nullptr);
}

TEST(Coroutine, AWaitingCoroutineIsNotOfferedToTheSchedule) {
  auto open = std::make_shared<bool>(false);
  auto co = std::make_shared<Coroutine>([open](Coroutine &self) {
    self.wait_until = [open] { return *open; };
    self.yield("waits");
    return std::string("runs after the gate opened");
  });
  Thread opener{"opener", [open] {
                  *open = true;
                  return concurrency::StepResult{"opens", true};
                },
                {}};
  // Bytes ask for the coroutine every time; while it waits only the opener runs.
  const RunResult r = run_schedule({coroutine_thread("co", co), opener}, {0, 0, 0});
  EXPECT_EQ(format_trace(r, {"co", "opener"}),
            "co: waits\nopener: opens\nco: runs after the gate opened\n");
}

// Preemption bounding: with bound 0 every thread runs to completion once
// started (n! orders of n threads); with bound 1 and two threads of a and b
// steps, 2 + (a - 1) + (b - 1); unbounded, the multinomial.
class PreemptionBound : public ::testing::TestWithParam<std::tuple<unsigned, unsigned>> {};

TEST_P(PreemptionBound, VisitsExactlyTheSchedulesWithinTheBound) {
  const auto [a, b] = GetParam();
  auto make = [a, b] {
    return std::vector<Thread>{coroutine_thread("A", counting_coroutine("A", a)),
                               coroutine_thread("B", counting_coroutine("B", b))};
  };
  for (unsigned bound : {0u, 1u, 2u, kUnboundedPreemptions}) {
    std::set<std::string> seen;
    const std::uint64_t n = for_each_schedule(
        make,
        [&](const RunResult &r) {
          EXPECT_LE(count_preemptions(r), bound);
          EXPECT_TRUE(seen.insert(format_trace(r, {"A", "B"})).second);
          // The recorded choices replay the run under the byte format's policy.
          EXPECT_EQ(format_trace(run_schedule(make(), r.choices), {"A", "B"}),
                    format_trace(r, {"A", "B"}));
          return true;
        },
        1'000'000, bound);
    if (bound == 0)
      EXPECT_EQ(n, 2u);
    else if (bound == 1)
      EXPECT_EQ(n, 2u + (a - 1) + (b - 1));
    else if (bound == kUnboundedPreemptions)
      EXPECT_EQ(n, binomial(a + b, a));
    else
      EXPECT_LE(n, binomial(a + b, a));
  }
}

INSTANTIATE_TEST_SUITE_P(SmallBounds, PreemptionBound,
                         ::testing::Values(std::make_tuple(1u, 1u), std::make_tuple(3u, 2u),
                                           std::make_tuple(5u, 4u)));

// With bound 2 and two threads the count is known in closed form too:
// schedules with exactly two preemptions are A..B..A..B-shaped cuts.
TEST(PreemptionBound, TwoPreemptionsOfTwoThreadsMatchTheCountOfTheirCuts) {
  const unsigned a = 4, b = 3;
  std::uint64_t within = 0;
  // Brute force over every interleaving, counting preemptions by hand.
  for_each_schedule(
      [&] {
        return std::vector<Thread>{coroutine_thread("A", counting_coroutine("A", a)),
                                   coroutine_thread("B", counting_coroutine("B", b))};
      },
      [&](const RunResult &r) {
        unsigned pre = 0;
        for (size_t i = 1; i < r.trace.size(); ++i) {
          const unsigned prev = r.trace[i - 1].thread;
          const bool prev_done = r.trace[i - 1].label == (prev ? "B.2" : "A.3");
          pre += r.trace[i].thread != prev && !prev_done;
        }
        within += pre <= 2;
        return true;
      });
  const std::uint64_t bounded = for_each_schedule(
      [&] {
        return std::vector<Thread>{coroutine_thread("A", counting_coroutine("A", a)),
                                   coroutine_thread("B", counting_coroutine("B", b))};
      },
      [](const RunResult &) { return true; }, 1'000'000, 2);
  EXPECT_EQ(bounded, within);
  EXPECT_LT(bounded, binomial(a + b, a));
}

} // namespace
} // namespace hvo::concurrency
