// SPDX-License-Identifier: GPL-2.0-only
//
// hugetlb_vmemmap_init_late_page's PTE tables built with their final
// entries (populate_hvo_from_leaves, model/src/hugetlb_boot_hvo.cpp) against
// the port's loops (hugetlb_boot_hvo_reference_paths): one call on twin
// machines must leave the same state, touch the same frames in the same
// order, change the same frames; then whole op sequences (every corpus file
// of hvo_fuzz_boot and random boot-target inputs) must give the same
// results, violations and final state.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/trace.h"
#include "hvo/hugetlb_boot_hvo.h"
#include "hvo/model.h"
#include "hvo/shared_tail.h"
#include "harness_trace.h"
#include "machine_state.h"

namespace hvo {
namespace {

// Selects the reference loops for as long as it lives.
struct ReferenceLoops : test::ScopedSwitch {
  explicit ReferenceLoops(bool on) : ScopedSwitch(hugetlb_boot_hvo_reference_paths, on) {}
};

std::vector<FrameId> sorted(std::vector<FrameId> v) {
  std::sort(v.begin(), v.end());
  return v;
}

struct Geometry {
  const char *config;
  unsigned order;
};

class InitLatePage : public testing::TestWithParam<Geometry> {};

TEST_P(InitLatePage, SameStateTouchesAndChangesAsTheLoops) {
  Scenario s;
  std::string error;
  ASSERT_TRUE(parse_scenario(std::string("config ") + GetParam().config + "\n", "geometry", s, error))
      << error;
  const unsigned order = GetParam().order;
  Model fast(s.config), slow(s.config);
  unsigned hvo_pages = 0;
  // The first aligned slots the boot would pre-HVO, one after the other on
  // the same machines (later pages find the tail already there); four keep
  // the deep comparisons within a few seconds.
  for (uint64_t pfn = 0; pfn + (uint64_t{1} << order) <= s.config.total_pages() && hvo_pages < 4;
       pfn += uint64_t{1} << order) {
    if (!hugetlb_bootmem_page_prehvo(fast.machine(), pfn, order))
      continue;
    if (!fast.machine().phys.reserve_pfn_range(pfn, uint64_t{1} << order))
      continue;
    ASSERT_TRUE(slow.machine().phys.reserve_pfn_range(pfn, uint64_t{1} << order));
    for (Model *md : {&fast, &slow}) {
      md->machine().phys.take_touched();
      md->machine().phys.mark_unchanged();
    }
    BootHvo a, b;
    {
      ReferenceLoops off(false);
      a = hugetlb_vmemmap_init_late_page(fast.machine(), pfn, order);
    }
    {
      ReferenceLoops on(true);
      b = hugetlb_vmemmap_init_late_page(slow.machine(), pfn, order);
    }
    ASSERT_EQ(a, b) << "pfn " << pfn;
    hvo_pages += a == BootHvo::Hvo;
    EXPECT_EQ(fast.machine().phys.take_touched(), slow.machine().phys.take_touched()) << "pfn " << pfn;
    EXPECT_EQ(sorted(fast.machine().phys.changed_frames()), sorted(slow.machine().phys.changed_frames()))
        << "pfn " << pfn;
    ASSERT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << "pfn " << pfn;
    EXPECT_EQ(fast.machine().pt.stale_tlb_entries(), 0u);
  }
  EXPECT_GT(hvo_pages, 0u) << "no page was pre-HVO'd: the comparison is vacuous";
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, InitLatePage,
    // Pre-HVO needs whole PMDs of memmap: order >= 15 with 4K pages and a
    // 64-byte struct page (16K / 64K pages would need order 19 / 23).
    testing::Values(Geometry{"mem=0:DMA32:1G,0:Normal:3G era=shared-tail variant=kiryl-v7", 18},
                    Geometry{"mem=0:Normal:2G,1:Normal:1G era=shared-tail variant=kiryl-v7", 15},
                    Geometry{"mem=0:Normal:2G era=shared-tail variant=muchun", 16},
                    Geometry{"mem=0:Normal:4G era=shared-tail variant=kiryl-v6", 18},
                    Geometry{"mem=0:DMA32:1G,0:Normal:1G era=shared-tail variant=muchun", 17}),
    [](const testing::TestParamInfo<Geometry> &i) { return "g" + std::to_string(i.index); });

std::string run_both(const Scenario &s, unsigned &hvo_boot_folios) {
  Model fast(s.config), slow(s.config);
  std::string diff;
  for (const Op &op : s.ops) {
    StepResult a, b;
    {
      ReferenceLoops off(false);
      a = fast.apply(op);
    }
    {
      ReferenceLoops on(true);
      b = slow.apply(op);
    }
    std::string ta = fuzz::format_result(a), tb = fuzz::format_result(b);
    for (const Violation &v : a.violations)
      ta += "\n  " + format_violation(v);
    for (const Violation &v : b.violations)
      tb += "\n  " + format_violation(v);
    if (ta != tb)
      return "op " + fuzz::format_result(a) + ":\nfast " + ta + "\nslow " + tb;
  }
  std::string fa, fb;
  for (const Violation &v : fast.check_all())
    fa += format_violation(v) + "\n";
  for (const Violation &v : slow.check_all())
    fb += format_violation(v) + "\n";
  if (fa != fb)
    return "final check:\nfast " + fa + "\nslow " + fb;
  const Machine &m = fast.machine();
  for (const HugetlbFolio &f : m.folios)
    if (f.boot && f.state != FolioState::Gone && m.cfg.era == Era::SharedTail) {
      const FrameId t = shared_tail_lookup(m, f.order, tail_owner_of_pfn(m, f.pfn));
      hvo_boot_folios += t != kNoFrame && m.pt.ptep_get(m.page(f.pfn) + m.cfg.page_size()).frame == t;
    }
  return test::machine_state_diff(fast.machine(), slow.machine());
}

TEST(BootHvoSequences, EveryBootCorpusFile) {
  unsigned files = 0, hvo = 0;
  for (const auto &entry : std::filesystem::directory_iterator(HVO_FUZZ_CORPUS_DIR "/hvo_fuzz_boot")) {
    if (entry.path().extension() != ".hvo")
      continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Scenario s;
    std::string error;
    ASSERT_TRUE(parse_scenario(text, entry.path().string(), s, error)) << error;
    EXPECT_EQ(run_both(s, hvo), "") << entry.path();
    files++;
  }
  EXPECT_GE(files, 5u);
  EXPECT_GT(hvo, 0u) << "no corpus file pre-HVO'd a boot page: the comparison is vacuous";
}

TEST(BootHvoSequences, RandomBootTargetInputs) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_boot");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(20261121);
  unsigned hvo = 0;
  for (unsigned i = 0; i < 60; i++) {
    EXPECT_EQ(run_both(test::random_fuzz_scenario(*p, rng, 8, 48), hvo), "") << "input " << i;
  }
  RecordProperty("boot_folios_pre_hvo", static_cast<int>(hvo));
  std::printf("random boot inputs: %u boot folios pre-HVO'd\n", hvo);
  EXPECT_GT(hvo, 0u) << "no input pre-HVO'd a boot page: the comparison is vacuous";
}

// Oracle::check_frames_since_mark after a boot gigantic page changed most
// of the machine's memmap frames (its bitmap walk, not the sort): leaked
// memmap frames planted across the whole frame table must all be reported,
// as the reference (every frame) reports them.
TEST(WholeCheckAfterBootHvo, EveryPlantedLeakIsReportedAsByTheReference) {
  Scenario s;
  std::string error;
  ASSERT_TRUE(parse_scenario("config mem=0:DMA32:1G,0:Normal:1G era=shared-tail variant=kiryl-v7\n"
                             "boot_gigantic order=18 node=0 count=1\n",
                             "leaks", s, error))
      << error;
  Model fast(s.config), slow(s.config);
  slow.oracle().reference_paths = true;
  unsigned planted = 0;
  for (Model *md : {&fast, &slow}) {
    md->oracle().max_per_id = 1u << 20;
    for (const Op &op : s.ops)
      md->apply(op);
    PhysMem &p = md->machine().phys;
    ASSERT_GE(p.changed_frames().size() * 8, p.unchanged_limit()) << "the sort path would run";
    planted = 0;
    for (FrameId f = 3; f < p.frame_table_size(); f += 41) {
      const FrameRec &r = std::as_const(p).frame(f);
      if (r.state != FrameState::Allocated || !(r.attrs & kFrameMemmap) || (r.attrs & kFrameSharedTail) ||
          r.map_count == 0)
        continue;
      p.frame(f).map_count = 0;  // a leaked memmap frame (allocated, unmapped)
      planted++;
    }
  }
  std::string a, b;
  for (const Violation &v : fast.check_all())
    a += format_violation(v) + "\n";
  for (const Violation &v : slow.check_all())
    b += format_violation(v) + "\n";
  EXPECT_EQ(a, b);
  EXPECT_GE(static_cast<size_t>(std::count(a.begin(), a.end(), '\n')), planted);
  EXPECT_GT(planted, 50u);
}

// Oracle::check_fidelity skips a vmemmap page whose pre-optimize contents
// were all poison (a boot gigantic page's tails: nothing to restore).  A
// page that was poison in every word but one is not such a page: planted
// into the record of a boot 1 GiB folio, the restore must report it, as
// the reference does, and the all-poison page next to it must not.
TEST(RestoreFidelityOfPoisonPages, OnlyAWhollyPoisonedPageIsSkipped) {
  Scenario s;
  std::string error;
  ASSERT_TRUE(parse_scenario("config variant=v6.12.0 mem=0:Normal:3G\n"
                             "boot_gigantic order=18 node=0 count=1\n"
                             "restore folio=0\n",
                             "poison", s, error))
      << error;
  Model fast(s.config), slow(s.config);
  slow.oracle().reference_paths = true;
  std::string out[2];
  for (Model *md : {&fast, &slow}) {
    std::string &o = out[md == &slow];
    o += fuzz::format_result(md->apply(s.ops.at(0))) + "\n";
    Machine &m = md->machine();
    ASSERT_EQ(m.folios.size(), 1u);
    std::vector<std::pair<uint32_t, uint32_t>> &pre = m.folios[0].pre_optimize;
    ASSERT_GT(pre.size(), 9u) << "the boot folio was not optimized";
    ImagePool &images = m.phys.images();
    ASSERT_TRUE(images.at(pre[7].first).pure());
    ImagePool::Fields fields = images.at(pre[7].first).fields;
    for (unsigned f = 0; f < m.cfg.words_per_struct_page(); f++)
      ASSERT_EQ(fields[f], FieldSpec{~uint64_t{0}}) << "page 7 was not all poison before optimize";
    fields[1] = FieldSpec{0x5};  // compound_head of every slot: 0x5, not poison
    const uint32_t planted = images.intern(fields);
    images.put(pre[8].first);
    pre[8].first = planted;
    const StepResult r = md->apply(s.ops.at(1));
    o += fuzz::format_result(r) + "\n";
    for (const Violation &v : r.violations)
      o += format_violation(v) + "\n";
  }
  EXPECT_EQ(out[0], out[1]);
  EXPECT_NE(out[0].find("I7-restore-fidelity"), std::string::npos) << out[0];
  EXPECT_NE(out[0].find("word 1 of folio 0 differs from before optimize"), std::string::npos)
      << out[0];
  std::printf("%s", out[0].c_str());
}

}  // namespace
}  // namespace hvo
