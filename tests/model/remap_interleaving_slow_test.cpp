// SPDX-License-Identifier: GPL-2.0-only
//
// The remap_steps scenarios without the default tests' preemption bound:
// the reader against optimize / restore under every schedule, optimize vs
// restore of order-9 folios within two preemptions and of order-7 folios
// under every schedule (120120).  Minutes, not seconds (most of it the
// coroutines' thread hand-over), so this executable carries the label slow
// (ctest -L slow; the default run excludes it).
#include "hvo/concurrency/scenarios.h"

#include <gtest/gtest.h>

#include "reader_remap_cases.h"

namespace hvo::concurrency {
namespace {

using reader_cases::expect_reader_case;
using reader_cases::first_message;
using reader_cases::reader_options;
using reader_cases::ReaderCase;

class ReaderInsideTheRemapEverySchedule : public ::testing::TestWithParam<ReaderCase> {};

TEST_P(ReaderInsideTheRemapEverySchedule, OnlyThe612ReadOrderWritesTheReadOnlyAlias) {
  expect_reader_case(GetParam(), reader_options(GetParam(), 9));
}

INSTANTIATE_TEST_SUITE_P(
    Orders, ReaderInsideTheRemapEverySchedule,
    ::testing::Values(ReaderCase{"FakeHeadFirst612_WithRcu", false, true, false, 65800, 78},
                      ReaderCase{"FakeHeadFirst612_NoRcu", false, false, false, 80730, 91},
                      ReaderCase{"RefcountFirst_WithRcu", true, true, false, 65800, 0},
                      ReaderCase{"RefcountFirst_NoRcu", true, false, false, 80730, 0},
                      ReaderCase{"Restore_FakeHeadFirst612", false, true, true, 20369, 0},
                      ReaderCase{"Restore_RefcountFirst", true, true, true, 20369, 0}),
    [](const auto &i) { return std::string(i.param.name); });

TEST(OptimizeVsRestoreInStepsTwoPreemptions, FoliosSharingATailStayConsistent) {
  for (Variant v : {Variant::KirylV7, Variant::Muchun}) {
    ScenarioOptions opt;
    opt.remap_steps = true;
    opt.shared_variant = v;
    const Exploration e = explore_scenario(ScenarioKind::OptimizeVsRestore, opt, 2);
    EXPECT_EQ(e.schedules, 4766u) << variant_name(v);
    EXPECT_EQ(e.bad, 0u) << first_message(e);
  }
}

TEST(OptimizeVsRestoreInStepsEverySchedule, Order7FoliosSharingATailStayConsistent) {
  for (Variant v : {Variant::KirylV7, Variant::Muchun}) {
    ScenarioOptions opt;
    opt.remap_steps = true;
    opt.order = 7;
    opt.shared_variant = v;
    const Exploration e = explore_scenario(ScenarioKind::OptimizeVsRestore, opt);
    EXPECT_EQ(e.schedules, 120120u) << variant_name(v);
    EXPECT_EQ(e.bad, 0u) << first_message(e);
  }
}

} // namespace
} // namespace hvo::concurrency
