// SPDX-License-Identifier: GPL-2.0-only
//
// The list of frames an operation touched (PhysMem::touch, take_touched,
// forget_touched), which the oracle checks after every op, against a plain
// reference: a vector of first touches since the last take.  The fast
// paths under test are the two that keep storage across takes (the
// oracle's buffer swapped with PhysMem's) and the membership bitmap
// cleared a word at a time when the list is long (a PMD split lists
// PTRS_PER_PTE frames).  Random touch / take / forget sequences mix short
// lists with dense ones, on a frame table that grows between takes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "hvo/config.h"
#include "hvo/phys_mem.h"

namespace hvo {
namespace {

// The reference: first touch first, each frame once until taken; a take
// forgets each listed frame, one by one.
struct TouchedReference {
  std::vector<FrameId> list;
  std::vector<char> listed;
  void touch(FrameId f) {
    if (f >= listed.size())
      listed.resize(f + 1, 0);
    if (!listed[f]) {
      listed[f] = 1;
      list.push_back(f);
    }
  }
  std::vector<FrameId> take() {
    for (FrameId f : list)
      listed[f] = 0;
    std::vector<FrameId> out;
    out.swap(list);
    return out;
  }
};

std::string text(const std::vector<FrameId> &v) {
  std::string s;
  for (FrameId f : v)
    s += std::to_string(f) + ' ';
  return s;
}

TEST(OracleTouchedList, SameListsAsAPlainReference) {
  Config c;
  ASSERT_EQ(parse_config_args("page-size=4K mem=0:Normal:256M", c), "");
  PhysMem p(c);
  TouchedReference ref;
  std::mt19937 rng(1122);
  std::vector<FrameId> kept;  // the caller-kept buffer, as the oracle keeps one
  p.memblock_alloc_frames(0, 64);
  unsigned dense = 0, sparse = 0, takes = 0;
  for (unsigned round = 0; round < 300; round++) {
    if (rng() % 8 == 0)  // the table grows: new frames past the bitmap's end
      p.memblock_alloc_frames(0, 1 + rng() % 200);
    const FrameId frames = static_cast<FrameId>(p.frame_table_size());
    // Few touches, or a run over most of the table (with repeats).
    const bool many = rng() % 3 == 0;
    const unsigned n = many ? frames + rng() % frames : rng() % 6;
    for (unsigned i = 0; i < n; i++) {
      const FrameId f = many && rng() % 4 != 0 ? static_cast<FrameId>(i % frames)
                                               : static_cast<FrameId>(rng() % frames);
      p.touch(f);
      ref.touch(f);
    }
    const unsigned size = static_cast<unsigned>(ref.list.size());
    (size * 64 >= frames ? dense : sparse)++;
    switch (rng() % 3) {
    case 0:
      p.take_touched(kept);
      EXPECT_EQ(text(kept), text(ref.take())) << "round " << round;
      takes++;
      break;
    case 1:
      EXPECT_EQ(text(p.take_touched()), text(ref.take())) << "round " << round;
      takes++;
      break;
    default:
      p.forget_touched();
      ref.take();
      break;
    }
  }
  // Not vacuous: both ways of clearing the bitmap ran, many times.
  EXPECT_GE(dense, 30u);
  EXPECT_GE(sparse, 30u);
  EXPECT_GE(takes, 100u);
}

}  // namespace
}  // namespace hvo
