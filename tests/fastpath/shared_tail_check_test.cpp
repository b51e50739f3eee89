// SPDX-License-Identifier: GPL-2.0-only
//
// check_folio_shared_tail a vmemmap page at a time (one translation per
// page, a frame already found clean accepted again after the mask decode of
// the page's own addresses) against the reference that reads every word
// through translate() (Oracle::reference_paths): planted-bad states that
// must make both report, the same violations in the same order, for every
// sampled-slot position the fast path treats differently (the head's page,
// a private page in a run of shared-tail pages, the shared tail itself, a
// writable or missing mapping, a stale TLB entry, a compound_info whose mask
// holds for some pages of the folio only, 72/80-byte struct pages).  Also
// counts how many of whole_check_test's random inputs reach the shared-tail
// folio check at all, so that test cannot silently stop covering it.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "hvo/compound_info.h"
#include "hvo/frame_image.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"

#include "harness_trace.h"

namespace hvo {
namespace {

// Both ways, for every live folio, flagged or not, with a tight and the
// default cap: check_folio_shared_tail directly; then the whole oracle.
// Returns the reference's output of the direct calls (for "non-empty").
std::string compare_both_ways(Model &md) {
  Machine &m = md.machine();
  std::string all;
  for (const HugetlbFolio &f : m.folios) {
    if (f.state == FolioState::Gone)
      continue;
    for (bool flagged : {false, true})
      for (size_t cap : {size_t{1}, size_t{8}}) {
        std::vector<Violation> fast, slow;
        check_folio_shared_tail(m, f, flagged, cap, fast, false);
        check_folio_shared_tail(m, f, flagged, cap, slow, true);
        const std::string a = test::violations_text(fast), b = test::violations_text(slow);
        EXPECT_EQ(a, b) << "folio " << f.id << (flagged ? " flagged" : " not flagged") << " cap "
                        << cap;
        all += b;
      }
  }
  return all;
}

struct Plant {
  const char *name;
  const char *scenario;
  // Breaks the state of `md` after the scenario's ops (folio 0 is the one).
  std::function<void(Model &md)> plant;
};

uint64_t head_of(Model &md) { return md.machine().page(md.machine().folios.at(0).pfn); }
uint64_t vpages_of(Model &md) {
  const Config &c = md.config();
  return ((uint64_t{1} << md.machine().folios.at(0).order) * c.struct_page_size) / c.page_size();
}
FrameId tail_of(Model &md) {
  Machine &m = md.machine();
  const HugetlbFolio &f = m.folios.at(0);
  return shared_tail_lookup(m, f.order, tail_owner_of_pfn(m, f.pfn));
}
// Maps vmemmap page k of folio 0 to `pte` and flushes (no stale entry).
void remap(Model &md, uint64_t k, Pte pte) {
  Machine &m = md.machine();
  m.pt.set_pte_at(head_of(md) + k * md.config().page_size(), pte);
  m.pt.flush_tlb_all();
}
// A fresh frame holding a copy of `src`.
FrameId copy_of(Model &md, FrameId src) {
  Machine &m = md.machine();
  const FrameId f = *m.phys.alloc_frame(0, AllocPurpose::Memmap);
  m.phys.copy_frame(f, src);
  return f;
}

enum class PlantedInfo { MaskHalf, NoTailBit, WrongNode, OtherZoneSameNode, SmallerFolioHead, SelfPlusOne };

// Gives the frame behind vmemmap page `k` of folio 0's memmap (counted from
// the head's page) a fresh pure image: the fields the frame's image has,
// compound_info and flags replaced as `what` says.
void plant_pure_page(Model &md, uint64_t k, PlantedInfo what) {
  Machine &m = md.machine();
  const Config &c = md.config();
  const HugetlbFolio &f = m.folios.at(0);
  const uint64_t ps = c.page_size(), a = (head_of(md) & ~(ps - 1)) + k * ps;
  const FrameId frame = m.pt.ptep_get(a).frame;
  ASSERT_NE(frame, kNoFrame);
  ImagePool::Fields fields = m.phys.images().at(m.phys.frame(frame).image).fields;
  const uint64_t mask = compound_info_mask(vmemmap_geometry(c), f.order);
  switch (what) {
  case PlantedInfo::MaskHalf:  // the bit that splits the folio's memmap in two
    fields[sp::kCompoundHead] =
        FieldSpec{mask | (uint64_t{1} << (f.order + std::countr_zero(c.struct_page_size) - 1))};
    break;
  case PlantedInfo::NoTailBit:
    fields[sp::kCompoundHead] = FieldSpec{mask & ~uint64_t{1}};
    break;
  case PlantedInfo::WrongNode:
    fields[sp::kCompoundHead] = FieldSpec{mask};
    fields[sp::kFlags] = FieldSpec{sp::page_links(static_cast<unsigned>(ZoneType::Normal), 0)};
    break;
  case PlantedInfo::OtherZoneSameNode:
    fields[sp::kCompoundHead] = FieldSpec{mask};
    fields[sp::kFlags] = FieldSpec{sp::page_links(static_cast<unsigned>(ZoneType::DMA32), f.nid)};
    break;
  case PlantedInfo::SelfPlusOne:  // a tail bit over each slot's own address
    fields[sp::kCompoundHead] = FieldSpec{1, FieldRel::Self};
    break;
  case PlantedInfo::SmallerFolioHead:
    fields[sp::kCompoundHead] = FieldSpec{1, FieldRel::FolioHead, 3};
    break;
  }
  // The folio's first four struct pages keep their words (overrides now):
  // the head's flags are what the tails are compared with.
  std::vector<std::pair<uint64_t, uint64_t>> head_words;
  const uint64_t h = head_of(md);
  for (uint64_t a = h; a < h + 4 * c.struct_page_size; a += 8)
    if (a >= (h & ~(ps - 1)) + k * ps && a < (h & ~(ps - 1)) + (k + 1) * ps)
      head_words.push_back({a, m.phys.read_word(frame, (a & (ps - 1)) / 8)});
  const uint32_t id = m.phys.images().intern(fields);
  m.phys.set_image(frame, id, m.phys.frame(frame).origin_vpn);
  for (const auto &[a, v] : head_words)
    md.poke(a, v);
}
void plant_pure_head_page(Model &md, PlantedInfo what) { plant_pure_page(md, 0, what); }

const char *kKirylBoot =
    "config mem=0:DMA32:1G,0:Normal:2G era=shared-tail variant=kiryl-v7\n"
    "boot_gigantic order=18 node=0 count=1\n";
const char *kMuchunAlloc =
    "config mem=0:Normal:1G,1:Normal:1G era=shared-tail variant=muchun\n"
    "alloc_folio order=12 node=1\n";

std::vector<Plant> plants() {
  constexpr uint64_t S = 64;  // struct page size of the plants' configs
  return {
      {"wrong_info_mid_head_page", kKirylBoot,
       [](Model &md) { md.poke(Machine::field(head_of(md) + 29 * S, sp::kCompoundHead), 0x1235); }},
      {"wrong_info_in_shared_tail", kKirylBoot,
       [](Model &md) { md.poke(Machine::field(head_of(md) + 4096 * 5 + S, sp::kCompoundHead), 3); }},
      {"wrong_node_in_shared_tail_last_slot", kMuchunAlloc,
       [](Model &md) {
         const uint64_t a = head_of(md) + 3 * md.config().page_size() - md.config().struct_page_size;
         md.poke(Machine::field(a, sp::kFlags), sp::page_links(0, 0));
       }},
      {"private_copy_with_bad_tail_mid_run", kKirylBoot,
       [](Model &md) {
         const FrameId copy = copy_of(md, tail_of(md));
         md.machine().phys.write_word(copy, S / 8 + sp::kCompoundHead, 0x41);
         remap(md, vpages_of(md) / 2, Pte{copy, true});
       }},
      {"identical_copy_mid_run", kKirylBoot,
       [](Model &md) { remap(md, vpages_of(md) / 2 + 1, Pte{copy_of(md, tail_of(md)), true}); }},
      {"writable_shared_tail", kKirylBoot,
       [](Model &md) { remap(md, vpages_of(md) - 1, Pte{tail_of(md), false}); }},
      {"writable_shared_tail_muchun", kMuchunAlloc,
       [](Model &md) { remap(md, 2, Pte{tail_of(md), false}); }},
      {"unmapped_page", kKirylBoot, [](Model &md) { remap(md, 700, Pte{}); }},
      {"stale_tlb_entry", kKirylBoot,
       [](Model &md) {
         const uint64_t a = head_of(md) + 9 * md.config().page_size();
         md.poke_pte(a, copy_of(md, md.machine().pt.ptep_get(head_of(md)).frame), true);
       }},
      // Bit order+log2(S)-1 set as well: p & info == h holds for the pages of
      // the folio's first half and fails for the second half, through the
      // same frame: the fast path must recompute it per page.
      {"mask_holds_for_half_the_folio", kKirylBoot,
       [](Model &md) {
         Machine &m = md.machine();
         const unsigned shift = 18 + 6 - 1;
         const uint64_t info = compound_info_mask(vmemmap_geometry(m.cfg), 18) | (uint64_t{1} << shift);
         for (uint64_t j = 0; j < m.cfg.spp(); j++)
           m.phys.write_word(tail_of(md), j * (S / 8) + sp::kCompoundHead, info);
       }},
      {"restored_private_pages_bad_second_slot", kKirylBoot,
       [](Model &md) {
         const OpDescriptor *d = find_op("restore");
         Op op;
         op.kind = static_cast<uint16_t>(d - op_table().data());
         op.args[0] = 0;
         md.apply(op);
         md.poke(Machine::field(head_of(md) + 100 * 4096 + S, sp::kCompoundHead), 0x9);
         md.poke(Machine::field(head_of(md) + 101 * 4096 + 63 * S, sp::kFlags), 0);
       }},
      // 72-byte struct page: pointer encoding, every slot read; slot 455 of
      // a page-aligned head has word 0 in vmemmap page 7 and word 1 in page 8.
      {"struct_page_72_straddling_slot",
       "config mem=0:Normal:1G era=shared-tail variant=kiryl-v7 struct-page=72\n"
       "alloc_folio order=11 node=0\n",
       [](Model &md) {
         md.poke(Machine::field(head_of(md) + 455 * 72, sp::kCompoundHead), 0x77);
         md.poke(Machine::field(head_of(md) + 1500 * 72, sp::kFlags), 0);
       }},
      {"struct_page_80",
       "config mem=0:Normal:1G era=shared-tail variant=muchun struct-page=80\n"
       "alloc_folio order=10 node=0\n",
       [](Model &md) { md.poke(Machine::field(head_of(md) + 1000 * 80, sp::kCompoundHead), 0x81); }},
      // The runs check_slots takes a vmemmap page at a time from a pure
      // image.  A 72-byte struct page does not divide the page, so a copy
      // of another vmemmap page's contents (copy_page: the same image made
      // for that page) puts other fields at the words read.
      {"struct_page_72_page_mapping_another_pages_copy",
       "config mem=0:Normal:1G era=shared-tail variant=kiryl-v7 struct-page=72\n"
       "alloc_folio order=11 node=0\n",
       [](Model &md) {
         Machine &m = md.machine();
         const uint64_t ps = md.config().page_size(), a = (head_of(md) & ~(ps - 1)) + 3 * ps;
         m.phys.copy_frame(m.pt.ptep_get(a + 2 * ps).frame, m.pt.ptep_get(a).frame);
       }},
      // The same page image (a pure frame whose compound_info and flags
      // are literals) with the tail bit missing, a wrong node, and a mask
      // decode that holds for the first half of a 64K vmemmap page's slots
      // only: the run is uniform and not clean, so every slot is decided
      // from the run's words, in order, with the caps.
      {"page_64k_pure_image_mask_holds_for_half_the_page",
       "config page-size=64K mem=0:Normal:4G era=shared-tail variant=kiryl-v7\n"
       "alloc_folio order=9 node=0\n",
       [](Model &md) { plant_pure_head_page(md, PlantedInfo::MaskHalf); }},
      {"page_64k_pure_image_no_tail_bit",
       "config page-size=64K mem=0:Normal:4G era=shared-tail variant=kiryl-v7\n"
       "alloc_folio order=9 node=0\n",
       [](Model &md) { plant_pure_head_page(md, PlantedInfo::NoTailBit); }},
      // Overrides cut the head page's runs: one at a word the check does not
      // read (slot 300's mapping), a bad compound_info right after it, a bad
      // node further on, then clean slots to the end of the page.
      {"page_64k_overrides_split_the_head_page",
       "config page-size=64K mem=0:Normal:4G era=shared-tail variant=kiryl-v7\n"
       "alloc_folio order=10 node=0\n",
       [](Model &md) {
         md.poke(Machine::field(head_of(md) + 300 * S, sp::kMapping), 0x1234);
         md.poke(Machine::field(head_of(md) + 301 * S, sp::kCompoundHead), 0x2);
         md.poke(Machine::field(head_of(md) + 700 * S, sp::kFlags), 0);
       }},
      {"page_16k_pure_image_wrong_node",
       "config page-size=16K mem=0:Normal:1G,1:Normal:1G era=shared-tail variant=muchun\n"
       "alloc_folio order=8 node=1\n",
       [](Model &md) { plant_pure_head_page(md, PlantedInfo::WrongNode); }},
      {"page_16k_kiryl_v6_pure_image_zone_read_through_the_head",
       "config page-size=16K mem=0:DMA32:1G,1:Normal:1G era=shared-tail variant=kiryl-v6\n"
       "alloc_folio order=8 node=1\n",
       [](Model &md) {
         plant_pure_head_page(md, PlantedInfo::WrongNode);
         md.poke(Machine::field(head_of(md) + 77 * 64, sp::kFlags), 0);
       }},
      // kiryl-v6 reads the zone through the head: tails of another zone on
      // the head's node are fine there; one slot on another node is not.
      {"page_16k_kiryl_v6_tails_of_another_zone",
       "config page-size=16K mem=0:Normal:1G,1:DMA32:1G,1:Normal:1G era=shared-tail variant=kiryl-v6\n"
       "alloc_folio order=8 node=1\n",
       [](Model &md) {
         plant_pure_head_page(md, PlantedInfo::OtherZoneSameNode);
         md.poke(Machine::field(head_of(md) + 99 * 64, sp::kFlags), 0);
       }},
      // Each slot's compound_info is its own address + 1 (a Self field): the
      // words differ from slot to slot, the run is not uniform.
      {"page_64k_self_relative_compound_info",
       "config page-size=64K mem=0:Normal:4G era=shared-tail variant=kiryl-v7\n"
       "alloc_folio order=9 node=0\n",
       [](Model &md) { plant_pure_head_page(md, PlantedInfo::SelfPlusOne); }},
      // 80-byte struct pages, pointer encoding: a folio-head field of a
      // smaller order than the folio gives each aligned group its own head.
      {"struct_page_80_folio_head_of_a_smaller_order",
       "config mem=0:Normal:1G era=shared-tail variant=muchun struct-page=80\n"
       "alloc_folio order=10 node=0\n",
       [](Model &md) { plant_pure_page(md, 4, PlantedInfo::SmallerFolioHead); }},
  };
}

class PlantedBad : public testing::TestWithParam<Plant> {};

TEST_P(PlantedBad, SameViolationsBothWays) {
  const Plant &p = GetParam();
  const Scenario s = test::planted_scenario(p.scenario);
  Model fast(s.config), slow(s.config);
  slow.oracle().reference_paths = true;
  for (Model *md : {&fast, &slow}) {
    for (const Op &op : s.ops)
      md->apply(op);
    ASSERT_FALSE(md->machine().folios.empty());
    p.plant(*md);
  }
  const std::string direct = compare_both_ways(fast);
  EXPECT_NE(direct, "") << "the planted state made no report: the comparison is vacuous";
  const std::string a = test::violations_text(fast.check_all());
  const std::string b = test::violations_text(slow.check_all());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, "");
  RecordProperty("reports", static_cast<int>(std::count(direct.begin(), direct.end(), '\n')));
}

INSTANTIATE_TEST_SUITE_P(Plants, PlantedBad, testing::ValuesIn(plants()),
                         [](const testing::TestParamInfo<Plant> &i) { return std::string(i.param.name); });

// Every live folio after every op of the corpus, mutants and random inputs
// of the targets whose configs reach the shared-tail era, checked directly
// both ways (flagged and not, caps 1 and 8); the runs taken a page at a
// time must have been reached, or the comparison says little.
TEST(SharedTailCheckInputs, CorpusMutantsAndRandomInputsBothWays) {
  const uint64_t runs_before = check_folio_shared_tail_uniform_runs;
  unsigned checked = 0;
  for (const char *target : {"hvo_fuzz_compound_head", "hvo_fuzz_hugetlb", "hvo_fuzz_boot",
                             "hvo_fuzz_dax"}) {
    const fuzz::TargetProfile *p = fuzz::find_profile(target);
    ASSERT_NE(p, nullptr);
    std::mt19937 rng(2207);
    std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
    for (unsigned k = 0; k < 48; k++)
      inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 48));
    unsigned i = 0;
    for (const Scenario &s : inputs) {
      i++;
      if (s.config.era != Era::SharedTail)
        continue;
      Model md(s.config);
      for (const Op &op : s.ops) {
        md.apply(op);
        SCOPED_TRACE(std::string(target) + " input " + std::to_string(i - 1) + " after " +
                     print_op(op));
        checked++;
        compare_both_ways(md);
      }
    }
  }
  const uint64_t runs = check_folio_shared_tail_uniform_runs - runs_before;
  RecordProperty("ops_checked", static_cast<int>(checked));
  RecordProperty("uniform_runs", static_cast<int>(std::min<uint64_t>(runs, INT32_MAX)));
  EXPECT_GE(runs, 1000u) << "the page-at-a-time runs hardly ran: the comparison is nearly vacuous";
}

// The random inputs of whole_check_test (same generator, same seed): how many
// reach check_folio_shared_tail (a shared-tail config with a live folio the
// oracle checks).  Below the floor, FastOracle would no longer pin this fast
// path, and this fails.
TEST(SharedTailCheckCoverage, FastOracleInputsReachTheSharedTailCheck) {
  unsigned reached = 0, with_hvo_pages = 0;
  for (const char *target : {"hvo_fuzz_hugetlb", "hvo_fuzz_compound_head", "hvo_fuzz_dax",
                             "hvo_fuzz_boot"}) {
    const fuzz::TargetProfile *p = fuzz::find_profile(target);
    ASSERT_NE(p, nullptr);
    std::mt19937 rng(1121);
    for (unsigned i = 0; i < 40; i++) {
      const Scenario s = test::random_fuzz_scenario(*p, rng, 8, 48);
      if (s.config.era != Era::SharedTail)
        continue;
      Model md(s.config);
      bool live = false, shared = false;
      for (const Op &op : s.ops) {
        md.apply(op);
        for (const HugetlbFolio &f : md.machine().folios) {
          if (f.state == FolioState::Gone)
            continue;
          live = true;
          const FrameId t = shared_tail_lookup(md.machine(), f.order, tail_owner_of_pfn(md.machine(), f.pfn));
          const uint64_t h = md.machine().page(f.pfn), ps = s.config.page_size();
          shared |= t != kNoFrame &&
                    md.machine().pt.ptep_get((h & ~(ps - 1)) + ps).frame == t;
        }
      }
      reached += live;
      with_hvo_pages += shared;
    }
  }
  RecordProperty("inputs_reaching_check_folio_shared_tail", static_cast<int>(reached));
  RecordProperty("inputs_with_pages_mapping_a_shared_tail", static_cast<int>(with_hvo_pages));
  std::printf("FastOracle inputs reaching check_folio_shared_tail: %u, with shared-tail pages: %u\n",
              reached, with_hvo_pages);
  EXPECT_GE(reached, 10u);
  EXPECT_GE(with_hvo_pages, 5u);
}

}  // namespace
}  // namespace hvo
