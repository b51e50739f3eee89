// SPDX-License-Identifier: GPL-2.0-only
//
// check_dax on an order-0 pgmap a vmemmap page at a time (a page whose
// struct pages provably report nothing is accepted at once) against the
// reference that checks every struct page as its own compound page
// (check_dax_reference).  Every hvo_fuzz_dax corpus scenario, mutants of
// each and random inputs, run both ways through the harness (same step
// results and violations, same machine afterwards); then planted-bad
// order-0 pgmaps checked directly both ways with a tight and the default
// cap: a tail bit in a pure image and in an override, a frame mapped twice,
// an unmapped page, an early section, straddling 72/80-byte struct pages,
// an altmap's offset start, a pgmap across a section boundary.  Then the
// same for compound pgmaps (a compound page accepted at once when it
// provably reports nothing): optimized, altmap, 1 GiB, order 1 and 2,
// Muchun and kiryl-v7, with wrong PTEs, refcounts, map counts, heads and
// tails planted where the check samples them and where it does not.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "hvo/dax_oracle.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/struct_page.h"
#include "harness_trace.h"
#include "machine_state.h"

namespace hvo {
namespace {

struct Reference : test::ScopedSwitch {
  explicit Reference(bool on) : ScopedSwitch(check_dax_reference, on) {}
};

// What differs between `s` run with the fast check and with the reference.
std::string both_ways(const Scenario &s) {
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
  if (a != b)
    return "step results and violations differ:\n--- fast\n" + a + "--- reference\n" + b;
  const std::string d = test::machine_state_diff(fast.machine(), slow.machine());
  return d.empty() ? "" : "machine states differ: " + d;
}

TEST(DaxCheck, CorpusMutantsAndRandomInputsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_dax");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(5151);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
  for (unsigned k = 0; k < 40; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 40));
  const uint64_t before = check_dax_clean_blocks, before_compounds = check_dax_clean_compounds;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    EXPECT_EQ(both_ways(s), "") << "input " << i;
    i++;
  }
  const uint64_t blocks = check_dax_clean_blocks - before;
  const uint64_t compounds = check_dax_clean_compounds - before_compounds;
  RecordProperty("clean_blocks", static_cast<int>(std::min<uint64_t>(blocks, INT32_MAX)));
  RecordProperty("clean_compounds", static_cast<int>(std::min<uint64_t>(compounds, INT32_MAX)));
  EXPECT_GE(blocks, 100u) << "the fast path hardly ran: the comparison is nearly vacuous";
  EXPECT_GE(compounds, 100u) << "the compound fast path hardly ran";
}

struct Plant {
  const char *name;
  const char *scenario;
  std::function<void(Model &md)> plant;  // after the ops; pgmap 0 is the one
  bool must_report;                      // the reference reports something
};

uint64_t first_pfn(Model &md) {
  const DevPagemap &p = md.machine().hotplug.pgmaps.at(0);
  return p.altmap ? p.altmap->base_pfn + p.altmap->reserve + p.altmap->free : p.range_start_pfn;
}
uint64_t page_of(Model &md, uint64_t k) { return md.machine().page(first_pfn(md) + k); }
// Sets bit 0 (PageTail) of the compound_head word of struct page k.
void tail_bit(Model &md, uint64_t k) {
  Machine &m = md.machine();
  const uint64_t a = Machine::field(page_of(md, k), sp::kCompoundHead);
  const Pte pte = m.pt.ptep_get(a);
  m.phys.write_word(pte.frame, (a & (m.cfg.page_size() - 1)) / 8,
                    m.phys.read_word(pte.frame, (a & (m.cfg.page_size() - 1)) / 8) | 1);
}

// The frame holding struct page k counted as mapped once more.
void mapped_twice(Model &md, uint64_t k) {
  Machine &m = md.machine();
  m.phys.frame(m.pt.ptep_get(page_of(md, k)).frame).map_count++;
}

const char *kOrder0 = "config variant=v6.12.0\ndax_add pfn=262144 pages=4096 shift=0 node=0\n";
const char *kOrder0Muchun =
    "config era=shared-tail variant=muchun\ndax_add pfn=262144 pages=4096 shift=0 node=0\n";
const char *kOrder0Altmap =
    "config variant=v6.12.0\ndax_add_altmap pfn=262144 pages=32768 shift=0 free=100\n";
// ppc64 radix with an altmap and 4K pages maps the memmap with base pages.
const char *kOrder0Ppc =
    "config page-size=4K struct-page=64 mem=0:DMA32:128M,0:Normal:1G section-bits=24 "
    "subsection-bits=21 vmemmap-base=0xc00c000000000000 era=legacy variant=v6.12.0 hvo=off "
    "hotplug=on arch=ppc64-radix\n"
    "dax_add_altmap pfn=2981888 pages=16384 shift=0 free=226\n";
const char *kOrder0TwoSections =
    "config variant=v6.12.0\ndax_add pfn=294912 pages=65536 shift=0 node=0\n";
const char *kOrder0Sp72 =
    "config struct-page=72 variant=v6.12.0 hvo=off\ndax_add pfn=262144 pages=8192 shift=0 node=0\n";
const char *kOrder0Sp80 =
    "config struct-page=80 variant=v6.12.0 hvo=off\ndax_add pfn=262144 pages=8192 shift=0 node=0\n";

std::vector<Plant> plants() {
  return {
      {"clean", kOrder0, [](Model &) {}, false},
      {"clean_muchun", kOrder0Muchun, [](Model &) {}, false},
      {"clean_altmap", kOrder0Altmap, [](Model &) {}, false},
      {"clean_ppc", kOrder0Ppc, [](Model &) {}, false},
      {"clean_two_sections", kOrder0TwoSections, [](Model &) {}, false},
      {"clean_sp72", kOrder0Sp72, [](Model &) {}, false},
      {"clean_sp80", kOrder0Sp80, [](Model &) {}, false},
      {"tail_bit_override", kOrder0, [](Model &md) { tail_bit(md, 77); }, true},
      {"tail_bits_many", kOrder0,
       [](Model &md) {
         for (uint64_t k = 3; k < 4000; k += 97)
           tail_bit(md, k);
       },
       true},
      {"tail_bit_last_of_page", kOrder0, [](Model &md) { tail_bit(md, 63); }, true},
      {"tail_bit_altmap", kOrder0Altmap, [](Model &md) { tail_bit(md, 5000); }, true},
      {"tail_bit_ppc", kOrder0Ppc, [](Model &md) { tail_bit(md, 1023); }, true},
      {"tail_bit_sp72", kOrder0Sp72, [](Model &md) { tail_bit(md, 56); }, true},
      {"tail_bit_sp80", kOrder0Sp80, [](Model &md) { tail_bit(md, 51); }, true},
      {"tail_bit_muchun", kOrder0Muchun, [](Model &md) { tail_bit(md, 4095); }, true},
      // Every compound_head word of a vmemmap page odd, the image still pure.
      {"tail_bit_pure_image", kOrder0,
       [](Model &md) {
         Machine &m = md.machine();
         const FrameId f = m.pt.ptep_get(page_of(md, 640)).frame;
         m.phys.store_field_all(f, sp::kCompoundHead, 1, FieldSpec{1});
         EXPECT_TRUE(m.phys.images().at(m.phys.frame(f).image).pure());
       },
       true},
      // A vmemmap page's frame counted as mapped twice (x86-64 maps this
      // memmap with PMD leaves, which poke_pte cannot change).
      {"frame_mapped_twice", kOrder0, [](Model &md) { mapped_twice(md, 130); }, true},
      // ppc64 radix with an altmap maps base pages: a PTE can be cleared.
      {"frame_mapped_twice_ppc", kOrder0Ppc,
       [](Model &md) {
         Machine &m = md.machine();
         ASSERT_EQ(m.pt.pmd(m.pt.pmd_index(page_of(md, 2048))).kind, PmdKind::Table);
         md.poke_pte(page_of(md, 2048), m.pt.ptep_get(page_of(md, 5000)).frame, false);
         m.pt.flush_tlb_all();
       },
       true},
      {"unmapped_page_ppc", kOrder0Ppc,
       [](Model &md) {
         md.poke_pte(page_of(md, 3000), kNoFrame, false);
         md.machine().pt.flush_tlb_all();
         ASSERT_FALSE(md.machine().pt.ptep_get(page_of(md, 3000)).present());
       },
       false},
      {"unmapped_page_and_tail_bit_ppc", kOrder0Ppc,
       [](Model &md) {
         md.poke_pte(page_of(md, 3000), kNoFrame, false);
         md.machine().pt.flush_tlb_all();
         tail_bit(md, 4100);
       },
       true},
      // An early section: no map count check, the head check still runs.
      {"early_section_mapped_twice", kOrder0,
       [](Model &md) {
         md.machine().hotplug.sections.pfn_to_section(first_pfn(md)).early = true;
         mapped_twice(md, 130);
         tail_bit(md, 200);
       },
       true},
      {"early_section_mapped_twice_only", kOrder0,
       [](Model &md) {
         md.machine().hotplug.sections.pfn_to_section(first_pfn(md)).early = true;
         mapped_twice(md, 130);
       },
       false},
      // A section whose recorded order would make muchun check it optimized.
      {"muchun_section_order", kOrder0Muchun,
       [](Model &md) { md.machine().hotplug.sections.pfn_to_section(first_pfn(md)).compound_order = 9; },
       false},
      {"muchun_section_order_tail_bit", kOrder0Muchun,
       [](Model &md) {
         md.machine().hotplug.sections.pfn_to_section(first_pfn(md)).compound_order = 9;
         tail_bit(md, 70);
       },
       true},
      {"tail_bit_across_sections", kOrder0TwoSections,
       [](Model &md) {
         tail_bit(md, 32767);
         tail_bit(md, 32768);
       },
       true},
  };
}

// Each plant's scenario run, planted, and checked directly both ways with
// a tight and the default cap; the reference must report exactly when the
// plant says so.
void check_plants_both_ways(const std::vector<Plant> &list) {
  for (const Plant &pl : list) {
    Model md(test::planted_scenario(pl.scenario).config);
    for (const Op &op : test::planted_scenario(pl.scenario).ops)
      md.apply(op);
    ASSERT_FALSE(md.machine().hotplug.pgmaps.empty()) << pl.name;
    ASSERT_TRUE(md.machine().hotplug.pgmaps[0].live) << pl.name;
    SCOPED_TRACE(pl.name);
    pl.plant(md);
    Machine &m = md.machine();
    std::string all;
    for (size_t cap : {size_t{1}, size_t{8}}) {
      std::string a, b;
      {
        Reference mode(false);
        a = test::violations_text(check_dax(m, m.hotplug, cap));
      }
      {
        Reference mode(true);
        b = test::violations_text(check_dax(m, m.hotplug, cap));
      }
      EXPECT_EQ(a, b) << pl.name << " cap " << cap;
      all += b;
    }
    EXPECT_EQ(!all.empty(), pl.must_report) << pl.name << ":\n" << all;
  }
}

TEST(DaxCheck, PlantedOrder0PgmapsBothWays) { check_plants_both_ways(plants()); }

// Compound pgmaps (compound_clean).  6.12 optimizes a 2 MiB compound page
// (8 vmemmap pages: head, first tail, six PTEs onto the first tail's
// frame); an altmap forbids it (8 private frames); a 1 GiB compound page's
// 4,096 vmemmap pages span 8 PTE tables (the PTE runs stop at each PMD);
// order 1 and 2 pack several compound pages into one vmemmap page; Muchun
// maps every tail page to the device zone's read-only shared tail.
const char *kCompound2m = "config variant=v6.12.0\ndax_add pfn=262144 pages=4096 shift=9 node=0\n";
const char *kCompound1g =
    "config variant=v6.12.0\ndax_add pfn=262144 pages=262144 shift=18 node=0\n";
const char *kCompoundAltmap =
    "config variant=v6.12.0\ndax_add_altmap pfn=262144 pages=32768 shift=9 free=1024\n";
const char *kCompoundOrder1 = "config variant=v6.12.0\ndax_add pfn=262144 pages=4096 shift=1 node=0\n";
const char *kCompoundOrder2Sp80 =
    "config struct-page=80 variant=v6.12.0 hvo=off\ndax_add pfn=262144 pages=8192 shift=2 node=0\n";
const char *kCompoundSp72 =
    "config struct-page=72 variant=v6.12.0 hvo=off\ndax_add pfn=262144 pages=8192 shift=9 node=0\n";
// Muchun records the compound order per section: a whole section.
const char *kCompoundMuchun =
    "config era=shared-tail variant=muchun\ndax_add pfn=262144 pages=32768 shift=9 node=0\n";
const char *kCompoundKiryl =
    "config era=shared-tail variant=kiryl-v7\ndax_add pfn=262144 pages=4096 shift=9 node=0\n";
// ppc64 radix with an altmap maps the memmap with base pages.
const char *kCompoundPpcAltmap =
    "config page-size=4K struct-page=64 mem=0:DMA32:128M,0:Normal:1G section-bits=24 "
    "subsection-bits=21 vmemmap-base=0xc00c000000000000 era=legacy variant=v6.12.0 hvo=off "
    "hotplug=on arch=ppc64-radix\n"
    "dax_add_altmap pfn=2981888 pages=16384 shift=9 free=512\n";

// The vmemmap page k pages after the one holding struct page `pfn_off` of
// the pgmap, as a vmemmap address.
uint64_t vpage(Model &md, uint64_t pfn_off, uint64_t k = 0) {
  const uint64_t ps = md.machine().cfg.page_size();
  return (page_of(md, pfn_off) & ~(ps - 1)) + k * ps;
}
FrameId frame_at(Model &md, uint64_t vaddr) { return md.machine().pt.ptep_get(vaddr).frame; }
// Replaces the compound_head word of struct page k with `v`.
void set_compound_head(Model &md, uint64_t k, uint64_t v) {
  Machine &m = md.machine();
  const uint64_t a = Machine::field(page_of(md, k), sp::kCompoundHead);
  ASSERT_NE(m.pt.ptep_get(a).frame, kNoFrame) << "struct page " << k << " is not mapped";
  m.phys.write_word(m.pt.ptep_get(a).frame, (a & (m.cfg.page_size() - 1)) / 8, v);
}
void clear_tail_bit(Model &md, uint64_t k) {
  Machine &m = md.machine();
  const uint64_t a = Machine::field(page_of(md, k), sp::kCompoundHead);
  const FrameId f = m.pt.ptep_get(a).frame;
  ASSERT_NE(f, kNoFrame) << "struct page " << k << " is not mapped";
  const uint64_t w = (a & (m.cfg.page_size() - 1)) / 8;
  m.phys.write_word(f, w, m.phys.read_word(f, w) & ~uint64_t{1});
}
void repoint(Model &md, uint64_t vaddr, FrameId f, bool ro) {
  md.poke_pte(vaddr, f, ro);
  md.machine().pt.flush_tlb_all();
}

std::vector<Plant> compound_plants() {
  return {
      {"clean_2m", kCompound2m, [](Model &) {}, false},
      {"clean_1g", kCompound1g, [](Model &) {}, false},
      {"clean_altmap", kCompoundAltmap, [](Model &) {}, false},
      {"clean_order1", kCompoundOrder1, [](Model &) {}, false},
      {"clean_order2_sp80", kCompoundOrder2Sp80, [](Model &) {}, false},
      {"clean_sp72", kCompoundSp72, [](Model &) {}, false},
      {"clean_muchun", kCompoundMuchun, [](Model &) {}, false},
      {"clean_kiryl", kCompoundKiryl, [](Model &) {}, false},
      {"clean_ppc_altmap", kCompoundPpcAltmap, [](Model &) {}, false},
      // Optimized 2 MiB pages: a tail page onto another frame, read-only,
      // unmapped, onto the head; the shared frame's first struct page not a
      // tail (every tail page shows it); one tail with a wrong head.
      {"opt_tail_page_elsewhere", kCompound2m,
       [](Model &md) { repoint(md, vpage(md, 512, 5), frame_at(md, vpage(md, 0)), false); }, true},
      {"opt_tail_page_ro", kCompound2m,
       [](Model &md) { repoint(md, vpage(md, 1024, 4), frame_at(md, vpage(md, 1024, 1)), true); },
       true},
      {"opt_tail_page_unmapped", kCompound2m,
       [](Model &md) { repoint(md, vpage(md, 1536, 7), kNoFrame, false); }, true},
      {"opt_first_tail_page_is_head", kCompound2m,
       [](Model &md) { repoint(md, vpage(md, 2048, 1), frame_at(md, vpage(md, 2048)), false); },
       true},
      {"opt_shared_slot0_not_tail", kCompound2m, [](Model &md) { clear_tail_bit(md, 512 + 64); },
       true},
      {"opt_shared_slot0_wrong_head", kCompound2m,
       [](Model &md) { set_compound_head(md, 3 * 512 + 64, page_of(md, 0) + 1); }, true},
      {"opt_head_is_tail", kCompound2m, [](Model &md) { tail_bit(md, 2048); }, true},
      {"opt_tail3_wrong", kCompound2m,
       [](Model &md) { set_compound_head(md, 512 + 3, page_of(md, 0) + 1); }, true},
      {"opt_last_wrong", kCompound2m, [](Model &md) { clear_tail_bit(md, 4095); }, true},
      // A tail struct page the sample does not read (not a page's first,
      // not tails 1-3, not the last): neither path reports it.
      {"opt_unsampled_tail", kCompound2m, [](Model &md) { clear_tail_bit(md, 512 + 64 + 9); },
       false},
      {"opt_head_refcount", kCompound2m,
       [](Model &md) { md.machine().hotplug.frame_refcount[frame_at(md, vpage(md, 0))]++; }, true},
      {"opt_tail_refcount", kCompound2m,
       [](Model &md) { md.machine().hotplug.frame_refcount[frame_at(md, vpage(md, 0, 1))]--; }, true},
      {"opt_head_mapped_twice", kCompound2m, [](Model &md) { mapped_twice(md, 512); }, true},
      // 1 GiB: the runs cross PTE tables; a PTE in the sixth table.
      {"opt_1g_far_pte", kCompound1g,
       [](Model &md) { repoint(md, vpage(md, 0, 2600), frame_at(md, vpage(md, 0)), false); }, true},
      {"opt_1g_last_pte", kCompound1g,
       [](Model &md) { repoint(md, vpage(md, 0, 4095), kNoFrame, false); }, true},
      {"opt_1g_page_first_not_tail", kCompound1g,
       [](Model &md) {
         // Every tail page maps one frame: its slot 0 is every page's first
         // struct page.
         clear_tail_bit(md, 64 * 3000);
       },
       true},
      // An early section: neither the optimization nor the map count.
      // The compound pages stay deduplicated and every sample still
      // resolves: nothing to report.
      {"opt_early_section", kCompound2m,
       [](Model &md) {
         md.machine().hotplug.sections.pfn_to_section(first_pfn(md)).early = true;
       },
       false},
      // Not optimized (altmap): private frames.  dax_add_altmap leaves room
      // for the memmap of an 80-byte struct page: 60 compound pages.
      {"altmap_mapped_twice", kCompoundAltmap, [](Model &md) { mapped_twice(md, 512 * 7 + 64 * 5); },
       true},
      {"altmap_page_first_not_tail", kCompoundAltmap,
       [](Model &md) { clear_tail_bit(md, 512 * 9 + 64 * 6); }, true},
      {"altmap_head_is_tail", kCompoundAltmap, [](Model &md) { tail_bit(md, 512 * 20); }, true},
      {"altmap_tail2_wrong_head", kCompoundAltmap,
       [](Model &md) { set_compound_head(md, 512 * 30 + 2, page_of(md, 512 * 29) + 1); }, true},
      {"altmap_last_not_tail", kCompoundAltmap,
       [](Model &md) { clear_tail_bit(md, 512 * 59 + 511); }, true},
      {"altmap_unsampled", kCompoundAltmap, [](Model &md) { clear_tail_bit(md, 512 * 3 + 100); },
       false},
      {"altmap_early_section_mapped_twice", kCompoundAltmap,
       [](Model &md) {
         md.machine().hotplug.sections.pfn_to_section(first_pfn(md)).early = true;
         mapped_twice(md, 512 * 7 + 64 * 5);
       },
       false},
      {"altmap_early_section_not_tail", kCompoundAltmap,
       [](Model &md) {
         md.machine().hotplug.sections.pfn_to_section(first_pfn(md)).early = true;
         clear_tail_bit(md, 512 * 9 + 64 * 6);
       },
       true},
      {"ppc_altmap_unmapped", kCompoundPpcAltmap,
       [](Model &md) { repoint(md, vpage(md, 512 * 4, 3), kNoFrame, false); }, true},
      {"ppc_altmap_shared_frame", kCompoundPpcAltmap,
       [](Model &md) { repoint(md, vpage(md, 512 * 4, 3), frame_at(md, vpage(md, 512 * 4, 2)), false); },
       true},
      // Small compound pages, several per vmemmap page.
      {"order1_head_is_tail", kCompoundOrder1, [](Model &md) { tail_bit(md, 100); }, true},
      {"order1_tail_not_tail", kCompoundOrder1, [](Model &md) { clear_tail_bit(md, 101); }, true},
      {"order1_mapped_twice", kCompoundOrder1, [](Model &md) { mapped_twice(md, 700); }, true},
      {"order2_sp80_straddling_tail", kCompoundOrder2Sp80,
       [](Model &md) { clear_tail_bit(md, 51); }, true},
      {"order2_sp80_head", kCompoundOrder2Sp80, [](Model &md) { tail_bit(md, 52); }, true},
      // The first struct page of vmemmap page 1 (pfn 56, bytes 4032-4103)
      // starts in page 0, where its compound_head word lies.
      {"sp72_page_first", kCompoundSp72, [](Model &md) { clear_tail_bit(md, 56); }, true},
      {"sp72_page_first_far", kCompoundSp72,
       [](Model &md) {
         // Page 47's first struct page: pfn 2673, a tail of the page at 2560.
         clear_tail_bit(md, md.machine().page_to_pfn(vpage(md, 0, 47)) - first_pfn(md));
       },
       true},
      // Muchun: tails read-only onto the shared tail.
      {"muchun_tail_rw", kCompoundMuchun,
       [](Model &md) { repoint(md, vpage(md, 512, 3), frame_at(md, vpage(md, 512, 3)), false); },
       true},
      {"muchun_tail_private", kCompoundMuchun,
       [](Model &md) { repoint(md, vpage(md, 1024, 2), frame_at(md, vpage(md, 0)), true); }, true},
      {"muchun_last_tail_unmapped", kCompoundMuchun,
       [](Model &md) { repoint(md, vpage(md, 32767), kNoFrame, false); }, true},
      {"muchun_shared_refcount", kCompoundMuchun,
       [](Model &md) { md.machine().hotplug.frame_refcount[frame_at(md, vpage(md, 0, 1))]++; }, true},
      {"muchun_head_refcount", kCompoundMuchun,
       [](Model &md) { md.machine().hotplug.frame_refcount[frame_at(md, vpage(md, 512))]++; }, true},
      {"kiryl_tail3_not_tail", kCompoundKiryl, [](Model &md) { clear_tail_bit(md, 1024 + 3); }, true},
      // The mask decode of a tail word keeps the page's address bits the
      // word sets: 3 keeps none (another head's address + 1 would keep
      // this head's).
      {"kiryl_shared_slot0", kCompoundKiryl, [](Model &md) { set_compound_head(md, 64 * 2, 3); },
       true},
  };
}

TEST(DaxCheck, PlantedCompoundPgmapsBothWays) { check_plants_both_ways(compound_plants()); }

}  // namespace
}  // namespace hvo
