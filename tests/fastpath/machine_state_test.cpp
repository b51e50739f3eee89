// SPDX-License-Identifier: GPL-2.0-only
//
// machine_state_diff is what every fast-path pin rests on, so it has pins of
// its own: in Contents mode a folio's restore-fidelity snapshot
// (HugetlbFolio::pre_optimize, (image, origin) pairs) is compared by the
// words it describes, so a shifted copy and a dense one agree; in Same mode
// the description itself must match.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "hvo/model.h"
#include "hvo/ops.h"
#include "machine_state.h"

namespace hvo {
namespace {

using test::machine_state_diff;
using test::Representation;

// A 2 MiB folio, optimized: its snapshot holds one pair per vmemmap page.
constexpr const char *kOptimized = R"(config page-size=4K struct-page=64 mem=0:Normal:1G
alloc_folio order=9 node=0
optimize folio=0
)";

Scenario parsed(const char *text) {
  Scenario s;
  std::string error;
  EXPECT_TRUE(parse_scenario(text, "machine_state_test", s, error)) << error;
  return s;
}

void run(Model &md, const Scenario &s) {
  for (const Op &op : s.ops)
    md.apply(op);
}

class MachineStateDiffSnapshot : public testing::Test {
protected:
  void SetUp() override {
    const Scenario s = parsed(kOptimized);
    a_ = std::make_unique<Model>(s.config);
    b_ = std::make_unique<Model>(s.config);
    run(*a_, s);
    run(*b_, s);
    ASSERT_EQ(a_->machine().folios.size(), 1u);
    ASSERT_GE(a_->machine().folios[0].pre_optimize.size(), 2u);
  }
  Machine &a() { return a_->machine(); }
  Machine &b() { return b_->machine(); }

private:
  std::unique_ptr<Model> a_, b_;
};

TEST_F(MachineStateDiffSnapshot, SameRunSameStateBothModes) {
  EXPECT_EQ(machine_state_diff(a(), b(), Representation::Same), "");
  EXPECT_EQ(machine_state_diff(a(), b(), Representation::Contents), "");
}

// The same words under another description: a private dense copy of the
// head page's image.  Contents mode accepts it; Same mode does not.
TEST_F(MachineStateDiffSnapshot, DenseCopyOfTheSameWordsIsTheSameContents) {
  auto &[img, origin] = b().folios[0].pre_optimize[0];
  ImagePool &pool = b().phys.images();
  pool.get(img);  // a second reference, so that unshare clones
  const uint32_t copy = pool.unshare(img);
  pool.make_dense(copy, origin);
  ASSERT_NE(copy, img);
  img = copy;  // the machine is not used after the comparison
  EXPECT_EQ(machine_state_diff(a(), b(), Representation::Contents), "");
  EXPECT_NE(machine_state_diff(a(), b(), Representation::Same), "");
}

// Different words (the head page's snapshot and the first tail page's
// swapped) are a difference in both modes, named as the snapshot.
TEST_F(MachineStateDiffSnapshot, DifferentWordsDifferInBothModes) {
  auto &snap = b().folios[0].pre_optimize;
  std::swap(snap[0], snap[1]);
  EXPECT_EQ(machine_state_diff(a(), b(), Representation::Contents),
            "folio 0 pre-optimize contents");
  EXPECT_EQ(machine_state_diff(a(), b(), Representation::Same), "folio 0 pre-optimize contents");
}

}  // namespace
}  // namespace hvo
