// SPDX-License-Identifier: GPL-2.0-only
//
// The oracle's construction-time scan (Oracle::scan_frames_at_mark, one pass
// over the frame table) against the per-frame frame_may_report loop it
// replaces (Oracle::mark_scan_reference): the same frames, in the same
// order, on freshly booted machines, on machines after the ops of corpus,
// mutant and random inputs (shared tails, pending lists, freed frames), and
// with frame records and shared-tail lists planted on purpose.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"
#include "harness_trace.h"
#include "target_param_name.h"

namespace hvo {
namespace {

std::string frames_text(const std::vector<FrameId> &v) {
  std::string t;
  for (FrameId f : v)
    t += " " + std::to_string(f);
  return t;
}

// The scan both ways over `m` as it is now.  Each Oracle marks the machine
// (PhysMem::mark_unchanged), which neither scan reads.
void expect_same_scan(Machine &m, const std::string &what, unsigned &nonempty) {
  std::vector<FrameId> ref, fast;
  {
    test::ScopedSwitch sw(Oracle::mark_scan_reference, true);
    Oracle o(m);
    ref = o.reporting_at_mark();
  }
  {
    test::ScopedSwitch sw(Oracle::mark_scan_reference, false);
    Oracle o(m);
    fast = o.reporting_at_mark();
  }
  EXPECT_EQ(frames_text(ref), frames_text(fast)) << what;
  nonempty += !ref.empty();
}

class OracleMarkScan : public testing::TestWithParam<const char *> {};

TEST_P(OracleMarkScan, SameFramesAsPerFrameLoop) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(20261122);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 1, rng);
  for (unsigned i = 0; i < 8; i++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 40));
  unsigned nonempty = 0, planted = 0, with_tails = 0;
  for (size_t i = 0; i < inputs.size(); i++) {
    const Scenario &s = inputs[i];
    Model md(s.config);
    EXPECT_TRUE(md.oracle().reporting_at_mark().empty()) << "a fresh boot reports already";
    test::harness_trace(md, s);
    Machine &m = md.machine();
    expect_same_scan(m, "after the ops of input " + std::to_string(i), nonempty);
    for (const std::vector<FrameId> &per_owner : m.shared_tails.tails)
      for (FrameId f : per_owner)
        with_tails += f != kNoFrame;
    // Planted records: every case of the record test, on random frames.
    const size_t n = m.phys.frame_table_size();
    for (unsigned k = 0; k < 6 && n > 0; k++) {
      FrameRec &r = m.phys.frame(static_cast<FrameId>(rng() % n));
      switch (k % 3) {
      case 0: r.map_count = 0; break;                      // allocated memmap, unmapped
      case 1: r.attrs |= kFrameOnList; break;              // on a pending list
      case 2: r.attrs ^= kFrameSharedTail; break;          // marked a tail (or unmarked)
      }
    }
    // A shared-tail list naming frames whose record does not say so, an
    // unallocated slot, a duplicate and frames out of order.
    if (n > 2) {
      m.shared_tails.tails.push_back({static_cast<FrameId>(n - 1), kNoFrame,
                                      static_cast<FrameId>(rng() % n), static_cast<FrameId>(n - 1)});
      m.shared_tails.tails.push_back({static_cast<FrameId>(rng() % n)});
    }
    expect_same_scan(m, "planted, input " + std::to_string(i), planted);
  }
  EXPECT_GT(planted, inputs.size() / 2) << "the plants should make frames report";
  std::printf("OracleMarkScan %s: %zu inputs, %u reporting after ops, %u tails seen\n",
              std::string(p->name).c_str(), inputs.size(), nonempty, with_tails);
}

INSTANTIATE_TEST_SUITE_P(Targets, OracleMarkScan,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head",
                                         "hvo_fuzz_dax", "hvo_fuzz_boot"),
                         test::TargetParamName());

}  // namespace
}  // namespace hvo
