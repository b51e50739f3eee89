// SPDX-License-Identifier: GPL-2.0-only
//
// Mmu::rebase (a frame whose pure image was made for another vmemmap page,
// a restored copy, moved by shifting its address-relative fields) against
// the reference it replaces, PhysMem::rebase (a dense copy of the words;
// Mmu::rebase_reference).  Every ops target's corpus, mutants of each and
// random inputs, plus planted restores and demotes of the orders where the
// FolioHead shift changes shape (folios inside a vmemmap page and larger),
// each run both ways: the same step results and violations, the same
// faults in the same order, the same frames touched in the same order, and
// the same words in every frame afterwards.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/mmu.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "harness_trace.h"
#include "target_param_name.h"
#include "machine_state.h"

namespace hvo {
namespace {

struct Reference : test::ScopedSwitch {
  explicit Reference(bool on) : ScopedSwitch(Mmu::rebase_reference, on) {}
};

// A shifted pure image and a dense copy say the same words differently.
constexpr test::Representation kContents = test::Representation::Contents;

// The restore-fidelity snapshots (HugetlbFolio::pre_optimize) hold (image,
// origin) pairs, a description of the words: compared here word for word,
// then left out of machine_state_diff (which compares the pairs as they
// are).  The machines are not used afterwards.
std::string snapshots_diff(Machine &a, Machine &b) {
  if (a.folios.size() != b.folios.size())
    return "folio count";
  const uint64_t n = a.cfg.words_per_page();
  std::vector<uint64_t> x(n), y(n);
  for (size_t i = 0; i < a.folios.size(); i++) {
    auto &p = a.folios[i].pre_optimize, &q = b.folios[i].pre_optimize;
    if (p.size() != q.size())
      return "folio " + std::to_string(i) + " snapshot size";
    for (size_t k = 0; k < p.size(); k++) {
      a.phys.images().read_page(p[k].first, p[k].second, x.data());
      b.phys.images().read_page(q[k].first, q[k].second, y.data());
      if (x != y)
        return "folio " + std::to_string(i) + " snapshot of vmemmap page " + std::to_string(k);
    }
    p.clear();
    q.clear();
  }
  return "";
}

// What differs between `s` run with the shifting rebase and with the
// reference ("" when nothing does).
std::string both_ways(const Scenario &s) {
  std::string diff;
  auto compare = [&](const std::string &what, const std::string &a, const std::string &b) {
    if (a != b && diff.empty())
      diff = what + " differ:\n--- shifted\n" + a + "--- reference\n" + b;
  };
  for (bool with_oracle : {true, false}) {
    Model fast(s.config), slow(s.config);
    std::string a, b;
    {
      Reference mode(false);
      a = with_oracle ? test::harness_trace(fast, s) : test::raw_op_trace(fast, s);
    }
    {
      Reference mode(true);
      b = with_oracle ? test::harness_trace(slow, s) : test::raw_op_trace(slow, s);
    }
    compare(with_oracle ? "step results and violations" : "faults and touched frames", a, b);
    compare("snapshots", snapshots_diff(fast.machine(), slow.machine()), "");
    compare("machine states", test::machine_state_diff(fast.machine(), slow.machine(), kContents),
            "");
  }
  return diff;
}

class MmuRebase : public testing::TestWithParam<const char *> {};

TEST_P(MmuRebase, CorpusMutantsAndRandomInputsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr) << GetParam();
  std::mt19937 rng(5150);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
  for (unsigned k = 0; k < 20; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 48));
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    EXPECT_EQ(both_ways(s), "") << GetParam() << " input " << i;
    i++;
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, MmuRebase,
                         testing::Values("hvo_fuzz_boot", "hvo_fuzz_dax", "hvo_fuzz_hugetlb",
                                         "hvo_fuzz_compound_head", "hvo_fuzz_differential"),
                         test::TargetParamName());

// Restores and demotes that store address-relative values into restored
// copies: legacy 2 MiB and 1 GiB folios (FolioHead of an order above and
// below SPP after the demote), and the shared-tail era for contrast.
TEST(MmuRebase, PlantedRestoresAndDemotesBothWays) {
  const char *const scenarios[] = {
      "config page-size=4K struct-page=64 mem=0:DMA32:1G,0:Normal:1G variant=v6.12.0\n"
      "boot_gigantic order=18 node=0 count=1\nboot_gigantic order=9 node=0 count=4\n"
      "optimize_batch first=1 count=4\ndemote folio=0 order=9\n",
      "config page-size=4K struct-page=64 mem=0:Normal:2G variant=v6.12.0\n"
      "boot_gigantic order=18 node=0 count=1\ndemote folio=0 order=4\n",
      "config page-size=4K struct-page=64 mem=0:Normal:1G variant=v6.12.0\n"
      "alloc_folio order=9 node=0\nalloc_folio order=9 node=0\noptimize folio=0\nrestore folio=0\n"
      "optimize folio=1\nfree_folio folio=1\n",
      "config page-size=16K struct-page=64 mem=0:Normal:1G variant=v6.12.0\n"
      "alloc_folio order=11 node=0\noptimize folio=0\nrestore folio=0\n",
      "config mem=0:DMA32:1G,0:Normal:1G era=shared-tail variant=kiryl-v7\n"
      "boot_gigantic order=18 node=0 count=1\nboot_gigantic order=9 node=0 count=4\n"
      "restore folio=1\nfree_folio folio=1\n",
  };
  const uint64_t before = Mmu::pure_rebases;
  unsigned i = 0;
  for (const char *text : scenarios) {
    Scenario s;
    std::string error;
    ASSERT_TRUE(parse_scenario(text, "planted " + std::to_string(i), s, error)) << error;
    EXPECT_EQ(both_ways(s), "") << text;
    i++;
  }
  // The legacy demotes and restores above move restored copies: the
  // shifting rebase must have run, or the comparison says nothing.
  EXPECT_GE(Mmu::pure_rebases - before, 1000u);
}

}  // namespace
}  // namespace hvo
