// SPDX-License-Identifier: GPL-2.0-only
//
// memmap_init_zone_device's composed stores (one range store for the tails
// of an aligned compound page, one for a whole order-0 range, made only
// where no vmemmap page can fault) against the reference that makes every
// kernel helper's stores in a pass of its own (zone_device_init_reference).
// Every hvo_fuzz_dax corpus scenario, mutants of each, random inputs and
// planted read-only / unmapped pages, each run both ways: the same step
// results and violations, the same faults in the same order, the same
// frames touched in the same order, and the same machine afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/mm_init.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "harness_trace.h"
#include "machine_state.h"

namespace hvo {
namespace {

// Sets the switch for the lifetime of the object (tests must not leak it).
struct Reference : test::ScopedSwitch {
  explicit Reference(bool on) : ScopedSwitch(zone_device_init_reference, on) {}
};

// The composed stores describe a vmemmap page by field where the reference's
// struct-page-by-struct-page passes leave per-word overrides (an order-0
// range, a page shared by small compound pages): the words are compared,
// not how the frame images say them (StructPageRange does the same).
constexpr test::Representation kContents = test::Representation::Contents;

// What differs between `s` run with the composed stores and with the
// reference ("" when nothing does).
std::string both_ways(const Scenario &s) {
  std::string diff;
  auto compare = [&](const std::string &what, const std::string &a, const std::string &b) {
    if (a != b && diff.empty())
      diff = what + " differ:\n--- composed\n" + a + "--- reference\n" + b;
  };
  {
    Model fast(s.config), slow(s.config);
    std::string a, b;
    {
      Reference mode(false);
      a = test::harness_trace(fast, s);
    }
    {
      Reference mode(true);
      b = test::harness_trace(slow, s);
    }
    compare("step results and violations", a, b);
    compare("machine states", test::machine_state_diff(fast.machine(), slow.machine(), kContents), "");
  }
  {
    Model fast(s.config), slow(s.config);
    std::string a, b;
    {
      Reference mode(false);
      a = test::raw_op_trace(fast, s);
    }
    {
      Reference mode(true);
      b = test::raw_op_trace(slow, s);
    }
    compare("faults and touched frames", a, b);
    compare("machine states without the oracle",
            test::machine_state_diff(fast.machine(), slow.machine(), kContents), "");
  }
  return diff;
}

TEST(DaxInit, CorpusMutantsAndRandomInputsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_dax");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(1122);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
  for (unsigned k = 0; k < 30; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 48));
  const uint64_t before = zone_device_composed_stores;
  const uint64_t reuses_before = zone_device_first_page_reuses;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    EXPECT_EQ(both_ways(s), "") << "input " << i;
    i++;
  }
  const uint64_t composed = zone_device_composed_stores - before;
  const uint64_t reuses = zone_device_first_page_reuses - reuses_before;
  RecordProperty("composed_stores", static_cast<int>(std::min<uint64_t>(composed, INT32_MAX)));
  RecordProperty("first_page_reuses", static_cast<int>(std::min<uint64_t>(reuses, INT32_MAX)));
  EXPECT_GE(composed, 1000u) << "the composed path hardly ran: the comparison is nearly vacuous";
  EXPECT_GE(reuses, 100u) << "the first-page image was hardly reused: its comparison is vacuous";
}

// Hand-made scenarios that reach what random inputs rarely do.
TEST(DaxInit, PlantedCasesBothWays) {
  const char *const scenarios[] = {
      // Muchun with the historic bug: memmap_init writes the second vmemmap
      // page of every compound page, the zone's read-only shared tail (the
      // composed store must not run there: three passes, three faults each).
      "config era=shared-tail variant=muchun bugs=memmap-init-shared-tail\n"
      "dax_add pfn=262144 pages=32768 shift=9 node=0\n",
      // The same without the bug, and the optimized 6.12 and kiryl layouts
      // (memmap_init stops at 2 * SPP: tails 2.. of the head's page and the
      // reused tail page).
      "config era=shared-tail variant=muchun\ndax_add pfn=262144 pages=32768 shift=9 node=0\n",
      "config variant=v6.12.0\ndax_add pfn=262144 pages=32768 shift=9 node=0\ndax_remove pgmap=0\n",
      "config era=shared-tail variant=kiryl-v7\ndax_add pfn=262144 pages=65536 shift=10 node=0\n",
      // An altmap whose size is not a multiple of the compound size: heads
      // that are not naturally aligned keep the tail-by-tail prep.
      "config variant=v6.12.0\ndax_add_altmap pfn=262144 pages=32768 shift=9 free=1000\n",
      // Order-0 pgmaps (one range store over everything) and small orders
      // whose compound pages share vmemmap pages.
      "config variant=v6.12.0\ndax_add pfn=262144 pages=4096 shift=0 node=0\n",
      "config variant=v6.12.0\ndax_add pfn=262144 pages=4096 shift=1 node=0\n"
      "dax_add pfn=266240 pages=4096 shift=3 node=0\n",
      // A range that ends inside its last compound page: initialised past
      // its end, into vmemmap that was never populated (unmapped faults).
      "config page-size=4K struct-page=64 mem=0:Normal:1G section-bits=27 subsection-bits=21 "
      "vmemmap-base=0xffffea0000000000 era=legacy variant=v6.12.0 hvo=on hotplug=on\n"
      "dax_add_altmap pfn=263680 pages=3072 shift=8 free=7\n",
      // Struct pages that straddle vmemmap pages (no HVO, plain ranges).
      "config struct-page=72 variant=v6.12.0 hvo=off\ndax_add pfn=262144 pages=8192 shift=9 node=0\n",
      "config struct-page=80 variant=v6.12.0 hvo=off\ndax_add pfn=262144 pages=8192 shift=4 node=0\n",
      // ppc64 radix: PMD-leaf vmemmap and base pages with an altmap.
      "config arch=ppc64-radix variant=v6.12.0 mem=0:Normal:128M\n"
      "dax_add pfn=65536 pages=32768 shift=9 node=0\n"
      "dax_add_altmap pfn=98304 pages=32768 shift=9 free=16\n",
  };
  unsigned i = 0;
  for (const char *text : scenarios) {
    Scenario s;
    std::string error;
    ASSERT_TRUE(parse_scenario(text, "planted " + std::to_string(i), s, error)) << error;
    const uint64_t before = zone_device_composed_stores;
    EXPECT_EQ(both_ways(s), "") << text;
    // Every planted hot-add reaches memmap_init_zone_device; all but the
    // bug's (every compound page faults there) take the composed path.
    EXPECT_EQ(zone_device_composed_stores > before, i != 0) << text;
    i++;
  }
}

}  // namespace
}  // namespace hvo
