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
// an altmap's offset start, a pgmap across a section boundary.
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
  const uint64_t before = check_dax_clean_blocks;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    EXPECT_EQ(both_ways(s), "") << "input " << i;
    i++;
  }
  const uint64_t blocks = check_dax_clean_blocks - before;
  RecordProperty("clean_blocks", static_cast<int>(std::min<uint64_t>(blocks, INT32_MAX)));
  EXPECT_GE(blocks, 100u) << "the fast path hardly ran: the comparison is nearly vacuous";
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

TEST(DaxCheck, PlantedOrder0PgmapsBothWays) {
  for (const Plant &pl : plants()) {
    Model md(test::planted_scenario(pl.scenario).config);
    for (const Op &op : test::planted_scenario(pl.scenario).ops)
      md.apply(op);
    ASSERT_FALSE(md.machine().hotplug.pgmaps.empty()) << pl.name;
    ASSERT_TRUE(md.machine().hotplug.pgmaps[0].live) << pl.name;
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

}  // namespace
}  // namespace hvo
