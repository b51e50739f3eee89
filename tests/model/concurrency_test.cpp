// SPDX-License-Identifier: GPL-2.0-only
//
// The issue-4 concurrency scenarios under every schedule: the kernel's fixes
// hold in all of them, the unfixed orders (selected explicitly) are caught,
// and a bad schedule replays to the same trace and violations.
#include "hvo/concurrency/scenarios.h"

#include <gtest/gtest.h>

namespace hvo::concurrency {
namespace {

std::string ids(const std::vector<Violation> &v) {
  std::string s;
  for (const Violation &x : v)
    s += x.id + " ";
  return s;
}

std::string first_message(const Exploration &e) {
  return e.first_bad_violations.empty() ? "" : format_violation(e.first_bad_violations.front());
}

class GetTailRace : public ::testing::TestWithParam<Variant> {};

TEST_P(GetTailRace, CmpxchgPublicationNeverLosesAFrame) {
  ScenarioOptions opt;
  opt.shared_variant = GetParam();
  const Exploration e = explore_scenario(ScenarioKind::GetTailRace, opt);
  EXPECT_EQ(e.schedules, 20u) << "two CPUs of three steps: C(6, 3) interleavings";
  EXPECT_EQ(e.bad, 0u) << first_message(e);
}

TEST_P(GetTailRace, ThePlainStoreOfV1LosesAFrameWhenBothCpusMissTheSlot) {
  ScenarioOptions opt;
  opt.shared_variant = GetParam();
  opt.cmpxchg_publish = false;
  const Exploration e = explore_scenario(ScenarioKind::GetTailRace, opt);
  EXPECT_EQ(e.schedules, 20u);
  // Bad exactly when the second CPU reads the slot before the first stores it.
  EXPECT_GT(e.bad, 0u);
  EXPECT_LT(e.bad, e.schedules);
  bool lost = false;
  for (const Violation &v : e.first_bad_violations)
    lost |= v.id == "I6-frame-accounting";
  EXPECT_TRUE(lost) << ids(e.first_bad_violations);
  // The bad schedule replays exactly.
  const ScenarioRun a = run_scenario(ScenarioKind::GetTailRace, opt, e.first_bad);
  const ScenarioRun b = run_scenario(ScenarioKind::GetTailRace, opt, e.first_bad);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(ids(a.violations), ids(e.first_bad_violations));
}

INSTANTIATE_TEST_SUITE_P(Variants, GetTailRace,
                         // kiryl-v6's tails fail I4 whatever the schedule
                         // (pinned in shared_tail_hugetlb_test.cpp).
                         ::testing::Values(Variant::KirylV7, Variant::Muchun),
                         [](const auto &i) {
                           std::string n(variant_name(i.param));
                           for (char &c : n)
                             if (c == '-')
                               c = '_';
                           return n;
                         });

struct ReaderCase {
  bool refcount_first;
  bool synchronize_rcu;
  bool expect_bad;
};

class SpeculativeReaderVsOptimize : public ::testing::TestWithParam<ReaderCase> {};

// kernel-reference 2.2: with freeze -> synchronize_rcu -> remap -> unfreeze on
// the writer, the 6.12 order (fake-head test, then refcount) lets a reader
// that started after the grace period see "not fake" before the remap and a
// non-zero count after the unfreeze, and write the read-only alias.  The
// refcount-first order cannot.
TEST_P(SpeculativeReaderVsOptimize, OnlyThe612ReadOrderWritesTheReadOnlyAlias) {
  const ReaderCase c = GetParam();
  ScenarioOptions opt;
  opt.refcount_first = c.refcount_first;
  opt.synchronize_rcu = c.synchronize_rcu;
  const Exploration e = explore_scenario(ScenarioKind::SpeculativeReader, opt);
  EXPECT_GT(e.schedules, 20u);
  if (!c.expect_bad) {
    EXPECT_EQ(e.bad, 0u) << first_message(e);
    return;
  }
  ASSERT_GT(e.bad, 0u);
  bool ro_write = false;
  for (const Violation &v : e.first_bad_violations)
    ro_write |= v.id == "I12-speculative-ref";
  EXPECT_TRUE(ro_write) << ids(e.first_bad_violations);
  const ScenarioRun r = run_scenario(ScenarioKind::SpeculativeReader, opt, e.first_bad);
  EXPECT_EQ(ids(r.violations), ids(e.first_bad_violations)) << r.trace;
}

INSTANTIATE_TEST_SUITE_P(Orders, SpeculativeReaderVsOptimize,
                         ::testing::Values(ReaderCase{false, true, true},
                                           ReaderCase{false, false, true},
                                           ReaderCase{true, true, false},
                                           ReaderCase{true, false, false}),
                         [](const auto &i) {
                           return std::string(i.param.refcount_first ? "RefcountFirst" : "FakeHeadFirst612") +
                                  (i.param.synchronize_rcu ? "_WithRcu" : "_NoRcu");
                         });

// The hole that survives synchronize_rcu(): the reader enters its read-side
// section only after the grace period began, so nothing waits for it.
TEST(SpeculativeReaderVsOptimize, WithRcuTheBadReaderStartsAfterTheGracePeriod) {
  ScenarioOptions opt;
  const Exploration e = explore_scenario(ScenarioKind::SpeculativeReader, opt);
  ASSERT_GT(e.bad, 0u);
  const ScenarioRun r = run_scenario(ScenarioKind::SpeculativeReader, opt, e.first_bad);
  const size_t lock = r.trace.find("reader: rcu_read_lock");
  const size_t sync = r.trace.find("writer: synchronize_rcu: waits");
  const size_t remap = r.trace.find("writer: optimize (remap)");
  const size_t fake = r.trace.find("reader: page_is_fake_head = false");
  const size_t add = r.trace.find("reader: atomic_add_unless: 1 -> 2");
  ASSERT_NE(lock, std::string::npos);
  ASSERT_NE(add, std::string::npos) << r.trace;
  EXPECT_LT(sync, lock) << r.trace;
  EXPECT_LT(fake, remap) << r.trace;
  EXPECT_LT(remap, add) << r.trace;
}

TEST(SpeculativeReaderVsRestore, NoReadOrderWritesARestoredOrAliasedPage) {
  for (bool refcount_first : {false, true}) {
    ScenarioOptions opt;
    opt.restore = true;
    opt.refcount_first = refcount_first;
    const Exploration e = explore_scenario(ScenarioKind::SpeculativeReader, opt);
    EXPECT_EQ(e.bad, 0u) << first_message(e);
  }
}

TEST(SpeculativeReaderSharedTail, WithoutFakeHeadsNoScheduleWritesTheSharedTail) {
  for (Variant v : {Variant::KirylV7, Variant::Muchun})
    for (bool restore : {false, true}) {
      ScenarioOptions opt;
      opt.era = Era::SharedTail;
      opt.shared_variant = v;
      opt.restore = restore;
      const Exploration e = explore_scenario(ScenarioKind::SpeculativeReader, opt);
      EXPECT_GT(e.schedules, 1u);
      EXPECT_EQ(e.bad, 0u) << first_message(e);
    }
}

TEST(OptimizeVsRestore, FoliosSharingATailStayResolvableUnderEverySchedule) {
  for (Variant v : {Variant::KirylV7, Variant::Muchun}) {
    ScenarioOptions opt;
    opt.shared_variant = v;
    const Exploration e = explore_scenario(ScenarioKind::OptimizeVsRestore, opt);
    EXPECT_EQ(e.schedules, 20u) << "1 + 1 + 3 steps: 5! / 3!";
    EXPECT_EQ(e.bad, 0u) << first_message(e);
  }
}

} // namespace
} // namespace hvo::concurrency
