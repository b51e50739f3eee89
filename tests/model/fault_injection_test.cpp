// SPDX-License-Identifier: GPL-2.0-only
//
// An allocation failure injected at every possible point of optimize,
// restore and the batch paths: no leaked frame (I6), no half-remapped folio
// (I9, I10, I1), no unflushed PTE (I8).  The one place where the D612 port
// does not hold is pinned here and explained in docs/findings-model.md (F2).
#include <gtest/gtest.h>

#include <set>

#include "hvo/hugetlb_vmemmap.h"
#include "hvo/page_flags.h"
#include "model_test_util.h"

namespace hvo {
namespace {

using test::dump;
using test::make_op;
using test::run;

struct Path {
  const char *name;
  unsigned order;
  unsigned folios;       // allocated with HVO off before the failure is armed
  bool optimized_first;  // optimize them before arming (restore paths)
  std::vector<Op> ops;   // what runs with the failure armed
};

std::vector<Path> paths() {
  return {
      {"optimize_1G", 18, 1, false, {make_op("optimize", {0})}},
      {"optimize_2M", 9, 1, false, {make_op("optimize", {0})}},
      {"optimize_batch_1G", 18, 2, false, {make_op("optimize_batch", {0, 2})}},
      {"optimize_batch_2M", 9, 3, false, {make_op("optimize_batch", {0, 3})}},
      {"restore_1G", 18, 1, true, {make_op("restore", {0})}},
      {"restore_batch_2M", 9, 3, true, {make_op("restore_batch", {0, 3})}},
      {"free_1G", 18, 1, true, {make_op("free_folio", {0})}},
      {"free_bulk_2M", 9, 3, true, {make_op("free_folios", {0, 3})}},
      {"alloc_pool_2M", 9, 0, false, {make_op("alloc_folios", {9, 0, 3})}},
      {"demote_1G_to_2M", 18, 1, true, {make_op("demote", {0, 9})}},
  };
}

struct Outcome {
  bool injected = false;  // the armed failure was consumed
  std::vector<Violation> violations;
  std::vector<Violation> full;
};

Outcome run_with_failure(Variant variant, const Path &p, uint64_t nth) {
  Outcome out;
  Model md(test::machine_config(12, 4ull << 30, 1, variant));
  Machine &m = md.machine();
  run(md, "sysctl_hvo", {0});
  if (p.folios)
    EXPECT_EQ(run(md, "alloc_folios", {p.order, 0, p.folios}).result.ret, 0);
  run(md, "sysctl_hvo", {1});
  if (p.optimized_first && p.folios)
    EXPECT_TRUE(run(md, "optimize_batch", {0, p.folios}).violations.empty() ||
                variant == Variant::D612);
  run(md, "fail_nth", {nth});
  for (const Op &op : p.ops) {
    StepResult r = md.apply(op);
    out.violations.insert(out.violations.end(), r.violations.begin(), r.violations.end());
  }
  out.injected = nth != 0 && m.phys.fault.fail_nth == 0;
  run(md, "fail_nth", {0});
  out.full = md.check_all();
  return out;
}

// Violations the injected failure added: ids the same operations do not
// report without a failure.  (Without failures v6.12.0 reports nothing; D612
// reports findings F1/F3 on the paths that restore, which are not failure
// handling.)
size_t damage(const std::vector<Violation> &v, const std::set<std::string> &baseline) {
  size_t n = 0;
  for (const Violation &x : v)
    if (!baseline.count(x.id))
      n++;
  return n;
}

std::set<std::string> ids_of(const Outcome &o) {
  std::set<std::string> s;
  for (const Violation &v : o.violations)
    s.insert(v.id);
  for (const Violation &v : o.full)
    s.insert(v.id);
  return s;
}

class FailureEverywhere : public testing::TestWithParam<std::tuple<Variant, size_t>> {};

TEST_P(FailureEverywhere, LeavesNoLeakNoHalfRemapNoStaleTlb) {
  const Variant variant = std::get<0>(GetParam());
  const Path p = paths()[std::get<1>(GetParam())];
  unsigned points = 0;
  std::vector<uint64_t> damaged;
  const Outcome base = run_with_failure(variant, p, 0);
  const std::set<std::string> baseline = ids_of(base);
  if (variant == Variant::V6_12_0)
    EXPECT_TRUE(baseline.empty()) << p.name << "\n" << dump(base.violations) << dump(base.full);
  for (uint64_t nth = 1; nth < 10000; nth++) {
    Outcome o = run_with_failure(variant, p, nth);
    if (!o.injected)
      break;  // the path makes fewer than nth allocations: every point covered
    points++;
    size_t d = damage(o.violations, baseline) + damage(o.full, baseline);
    if (d != 0)
      damaged.push_back(nth);
    // I8 never: whatever failed, nothing stays unflushed.
    EXPECT_EQ(test::count_id(o.violations, "I8"), 0u) << p.name << " nth=" << nth << "\n"
                                                      << dump(o.violations);
  }
  EXPECT_GT(points, 0u) << p.name;
  if (variant == Variant::V6_12_0) {
    EXPECT_TRUE(damaged.empty()) << p.name << ": first damaged point nth=" << damaged.front();
    return;
  }
  // D612: findings F2: a PTE-table allocation failing after the walk has
  // remapped whole PMDs (a 1 GiB folio spans 8) rolls back wrongly.  Points:
  // 1 = head copy, 2 = first PMD's table, 3..9 = PMDs 2..8 of the single path.
  std::vector<uint64_t> expected;
  if (std::string(p.name) == "optimize_1G")
    expected = {3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(damaged, expected) << p.name << " (" << points << " failure points)";
}

INSTANTIATE_TEST_SUITE_P(
    Model, FailureEverywhere,
    testing::Combine(testing::Values(Variant::D612, Variant::V6_12_0),
                     testing::Range<size_t>(0, paths().size())),
    [](const testing::TestParamInfo<std::tuple<Variant, size_t>> &i) {
      return std::string(std::get<0>(i.param) == Variant::D612 ? "D612_" : "v6120_") +
             paths()[std::get<1>(i.param)].name;
    });

// A failed restore leaves the folio flagged and fully optimized, the pages
// it allocated returned (I9 + I6), for every allocation of the restore.
TEST(FailureEverywhere, FailedRestoreKeepsTheFolioFullyOptimized) {
  for (Variant v : {Variant::D612, Variant::V6_12_0})
    for (uint64_t nth : {1u, 2u, 100u, 4095u}) {
      Model md(test::machine_config(12, 4ull << 30, 1, v));
      Machine &m = md.machine();
      ASSERT_EQ(run(md, "alloc_folio", {18, 0}).result.ret, 0);
      int64_t pages = m.phys.memmap_pages;
      run(md, "fail_nth", {nth});
      StepResult r = run(md, "restore", {0});
      EXPECT_EQ(r.result.ret, -12);
      EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
      EXPECT_TRUE(folio_test_hugetlb_vmemmap_optimized(m, m.page(m.folios[0].pfn)));
      EXPECT_EQ(m.phys.memmap_pages, pages);
      EXPECT_EQ(m.hugetlb_optimize_vmemmap_key, 1);
    }
}

}  // namespace
}  // namespace hvo
