// SPDX-License-Identifier: GPL-2.0-only
//
// memory_failure on a free HugeTLB folio dissolves it and then takes the
// poisoned page off the free pages (__page_handle_poison ->
// take_page_off_buddy, mm/memory-failure.c l.163-186, Debian 6.12): the page
// is never handed out again.  Before the model did this, a new folio could
// be allocated over the poisoned pfn and carry its PG_hwpoison in a tail
// struct page; in the shared-tail era the restore then lost that flag and
// the oracle reported I7 (found by a random op sweep).
#include "hvo/model.h"
#include "hvo/ops.h"

#include <gtest/gtest.h>

#include <string>

namespace hvo {
namespace {

class HwpoisonDissolve : public ::testing::TestWithParam<const char *> {};

TEST_P(HwpoisonDissolve, ThePoisonedPageIsNotReallocated) {
  Config c;
  ASSERT_EQ(parse_config_args(std::string("page-size=4K mem=0:Normal:2G ") + GetParam(), c), "");
  std::string err;
  auto md = Model::create(c, &err);
  ASSERT_NE(md, nullptr) << err;
  std::string report;
  auto op = [&](const char *line) {
    Op o;
    EXPECT_EQ(parse_op(line, o), "") << line;
    StepResult r = md->apply(o);
    for (const Violation &v : r.violations)
      report += std::string(line) + ": " + format_violation(v) + "\n";
    return r;
  };
  ASSERT_EQ(op("alloc_folio order=10 node=0").result.ret, 0);
  ASSERT_EQ(op("memory_failure folio=0 index=65").result.ret, 0);  // dissolved
  // Probe the free pages with memblock-style placements of 4 pages:
  // pfns 64..67 hold the poisoned pfn 65, pfns 68..71 are free again.
  EXPECT_EQ(op("boot_gigantic_at order=2 slot=16").result.ret, -12) << "pfn 65 was handed out";
  EXPECT_EQ(op("boot_gigantic_at order=2 slot=17").result.ret, 0);
  const StepResult a = op("alloc_folio order=9 node=0");
  ASSERT_EQ(a.result.ret, 0);
  const uint64_t pfn = md->machine().folios[a.result.folios[0]].pfn;
  EXPECT_FALSE(pfn <= 65 && 65 < pfn + 512) << "allocated over the poisoned pfn";
  ASSERT_EQ(op("free_folio folio=2").result.ret, 0);
  EXPECT_EQ(report, "");
}

INSTANTIATE_TEST_SUITE_P(Eras, HwpoisonDissolve,
                         // D612 is left out: its restore copies the head page
                         // (finding F1) and the dissolved folio leaks.
                         ::testing::Values("variant=v6.12.0",
                                           "era=shared-tail variant=kiryl-v7",
                                           "era=shared-tail variant=muchun"),
                         [](const auto &info) {
                           std::string s = info.param;
                           for (char &ch : s)
                             if (!isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace hvo
