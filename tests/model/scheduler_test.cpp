// SPDX-License-Identifier: GPL-2.0-only
//
// The deterministic scheduler itself: exhaustive enumeration visits every
// interleaving exactly once, and a schedule replays to the same trace.
#include "hvo/concurrency/scheduler.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>

namespace hvo::concurrency {
namespace {

// A thread of @n labelled no-op steps.
Thread counting_thread(const std::string &name, unsigned n) {
  auto pc = std::make_shared<unsigned>(0);
  return {name, [pc, n, name] {
            const unsigned i = (*pc)++;
            return StepResult{name + "." + std::to_string(i), *pc == n};
          },
          {}};
}

std::uint64_t binomial(unsigned n, unsigned k) {
  std::uint64_t r = 1;
  for (unsigned i = 1; i <= k; ++i)
    r = r * (n - k + i) / i;
  return r;
}

class Interleavings : public ::testing::TestWithParam<std::tuple<unsigned, unsigned, unsigned>> {};

TEST_P(Interleavings, ExhaustiveEnumerationVisitsEachInterleavingOnce) {
  const auto [a, b, c] = GetParam();
  std::set<std::string> seen;
  const std::uint64_t n = for_each_schedule(
      [&] {
        std::vector<Thread> t{counting_thread("A", a), counting_thread("B", b)};
        if (c)
          t.push_back(counting_thread("C", c));
        return t;
      },
      [&](const RunResult &r) {
        EXPECT_EQ(r.trace.size(), a + b + c);
        EXPECT_TRUE(seen.insert(format_trace(r, {})).second) << "interleaving visited twice";
        return true;
      });
  // Multinomial (a+b+c)! / (a! b! c!).
  EXPECT_EQ(n, binomial(a + b + c, a) * binomial(b + c, b));
  EXPECT_EQ(seen.size(), n);
}

INSTANTIATE_TEST_SUITE_P(SmallBounds, Interleavings,
                         ::testing::Values(std::make_tuple(1u, 1u, 0u), std::make_tuple(3u, 2u, 0u),
                                           std::make_tuple(4u, 4u, 0u), std::make_tuple(2u, 2u, 2u),
                                           std::make_tuple(5u, 1u, 3u)));

TEST(Schedule, ReplayingTheTakenChoicesReproducesTheTrace) {
  const std::vector<std::uint8_t> bytes{7, 200, 3, 3, 0, 255, 1};
  const RunResult first = run_schedule({counting_thread("A", 4), counting_thread("B", 3)}, bytes);
  const RunResult replay = run_schedule({counting_thread("A", 4), counting_thread("B", 3)}, first.choices);
  EXPECT_EQ(format_trace(first, {"A", "B"}), format_trace(replay, {"A", "B"}));
  EXPECT_EQ(first.choices, replay.choices);
}

TEST(Schedule, EmptyScheduleRunsThreadsInCreationOrder) {
  const RunResult r = run_schedule({counting_thread("A", 2), counting_thread("B", 2)}, {});
  EXPECT_EQ(format_trace(r, {"A", "B"}), "A: A.0\nA: A.1\nB: B.0\nB: B.1\n");
  EXPECT_EQ(format_schedule({0x00, 0xab}), "00ab");
}

TEST(Schedule, StepLimitReportsALivelockInsteadOfHanging) {
  Thread spinner{"spin", [] { return StepResult{"spin", false}; }, {}};
  const RunResult r = run_schedule({spinner}, {}, 50);
  EXPECT_TRUE(r.step_limit_hit);
  EXPECT_EQ(r.trace.size(), 50u);
}

// The textbook lost update: load and store as separate steps lose an
// increment under some schedule; one atomic step never does.  This is the
// shape every scenario of docs/model.md "Deterministic concurrency" has.
TEST(Schedule, ExhaustiveSearchFindsALostUpdateAndNotAnAtomicOne) {
  for (bool atomic : {false, true}) {
    unsigned lost = 0;
    std::shared_ptr<int> last_counter;
    for_each_schedule(
        [&] {
          auto counter = std::make_shared<int>(0);
          std::vector<Thread> t;
          for (int i = 0; i < 2; ++i) {
            auto pc = std::make_shared<int>(0);
            auto local = std::make_shared<int>(0);
            t.push_back({"inc", [=] {
                           if (atomic) {
                             ++*counter;
                             return StepResult{"atomic_inc", true};
                           }
                           if ((*pc)++ == 0) {
                             *local = *counter;
                             return StepResult{"load", false};
                           }
                           *counter = *local + 1;
                           return StepResult{"store", true};
                         },
                         {}});
          }
          last_counter = counter; // inspected once the run has finished

          return t;
        },
        [&](const RunResult &) {
          if (*last_counter != 2)
            ++lost;
          return true;
        });
    EXPECT_EQ(lost > 0, !atomic);
  }
}

} // namespace
} // namespace hvo::concurrency
