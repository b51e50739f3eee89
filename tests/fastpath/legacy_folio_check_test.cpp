// SPDX-License-Identifier: GPL-2.0-only
//
// check_legacy_tails a vmemmap page at a time (a per-(image, origin)
// summary decided from the image's field descriptions, the head's page
// included) against the reference that reads every slot through
// translate() (Oracle::reference_paths): planted-bad legacy folios that
// must make both report the same violations in the same order, with a tight
// and the default cap, flagged or not, static key on or off: a tail
// pointing elsewhere in the middle of a vmemmap page (private, aliased by an
// optimized folio, a whole page of another folio), a wrong zone or node, a
// missing fake head, more than max_per_id bad tails, an unmapped page, and
// 72/80-byte struct pages.  Then the whole oracle both ways.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "hvo/legacy_tail_check.h"
#include "hvo/model.h"
#include "hvo/struct_page.h"

namespace hvo {
namespace {

Scenario scenario(const std::string &text) {
  Scenario s;
  std::string error;
  EXPECT_TRUE(parse_scenario(text, "plant", s, error)) << error;
  return s;
}

std::string text_of(const std::vector<Violation> &vs) {
  std::string s;
  for (const Violation &v : vs)
    s += format_violation(v) + "\n";
  return s;
}

// Both ways for every live folio, flagged or not, cap 1 and 8, with the
// static key as it is and flipped; returns the reference's reports.
std::string compare_both_ways(Model &md) {
  Machine &m = md.machine();
  std::string all;
  const int64_t key = m.hugetlb_optimize_vmemmap_key;
  for (int64_t k : {key, key > 0 ? int64_t{0} : int64_t{1}}) {
    m.hugetlb_optimize_vmemmap_key = k;
    for (const HugetlbFolio &f : m.folios) {
      if (f.state == FolioState::Gone)
        continue;
      const uint64_t head_flags = legacy_slot_view(m, m.page(f.pfn), k > 0).flags;
      for (bool opt : {false, true})
        for (size_t cap : {size_t{1}, size_t{8}}) {
          std::vector<Violation> fast, slow;
          check_legacy_tails(m, f, opt, head_flags, cap, fast, false);
          check_legacy_tails(m, f, opt, head_flags, cap, slow, true);
          const std::string a = text_of(fast), b = text_of(slow);
          EXPECT_EQ(a, b) << "folio " << f.id << (opt ? " flagged" : " not flagged") << " cap "
                          << cap << " key " << k;
          all += b;
        }
    }
  }
  m.hugetlb_optimize_vmemmap_key = key;
  return all;
}

struct Plant {
  const char *name;
  const char *scenario;
  // Breaks the state after the scenario's ops (folio 0 unless said).
  std::function<void(Model &md)> plant;
};

uint64_t head_of(Model &md, FolioId id = 0) { return md.machine().page(md.machine().folios.at(id).pfn); }
FrameId frame_at(Model &md, uint64_t vaddr) { return md.machine().pt.ptep_get(vaddr).frame; }
// Maps the vmemmap page at `vaddr` to `pte` and flushes (no stale entry).
void remap(Model &md, uint64_t vaddr, Pte pte) {
  md.machine().pt.set_pte_at(vaddr, pte);
  md.machine().pt.flush_tlb_all();
}
// A fresh frame holding a copy of `src`.
FrameId copy_of(Model &md, FrameId src) {
  Machine &m = md.machine();
  const FrameId f = *m.phys.alloc_frame(0, AllocPurpose::Memmap);
  m.phys.copy_frame(f, src);
  return f;
}

const char *kPlain = "config variant=v6.12.0\nalloc_folio order=9 node=0\n";
const char *kOptimized = "config variant=v6.12.0\nalloc_folio order=9 node=0\noptimize folio=0\n";
const char *kTwoNodes =
    "config mem=0:Normal:512M,1:Normal:512M variant=v6.12.0\n"
    "alloc_folio order=9 node=0\nalloc_folio order=9 node=1\n";
const char *kRestored =
    "config variant=v6.12.0\nalloc_folio order=10 node=0\noptimize folio=0\nrestore folio=0\n";

std::vector<Plant> plants() {
  constexpr uint64_t S = 64, PS = 4096;
  return {
      {"tail_elsewhere_mid_head_page", kPlain,
       [](Model &md) { md.poke(Machine::field(head_of(md) + 29 * S, sp::kCompoundHead), 0x1235); }},
      {"tail_elsewhere_mid_page", kPlain,
       [](Model &md) {
         md.poke(Machine::field(head_of(md) + (3 * 64 + 17) * S, sp::kCompoundHead), 0x1235);
       }},
      {"tail_not_tail_mid_page", kPlain,
       [](Model &md) { md.poke(Machine::field(head_of(md) + (5 * 64 + 63) * S, sp::kCompoundHead), 0); }},
      // The optimized folio's tail pages all alias the head's frame: one
      // poke there is seen through every one of them.
      {"tail_elsewhere_through_the_alias", kOptimized,
       [](Model &md) { md.poke(Machine::field(head_of(md) + 40 * S, sp::kCompoundHead), 0x1235); }},
      {"metadata_tails_other_zone", kPlain,
       [](Model &md) {
         md.poke(Machine::field(head_of(md) + 2 * S, sp::kFlags), sp::page_links(0, 1));
         md.poke(Machine::field(head_of(md) + 7 * S, sp::kFlags), sp::page_links(0, 1));
       }},
      {"wrong_zone_mid_page", kPlain,
       [](Model &md) { md.poke(Machine::field(head_of(md) + (2 * 64 + 9) * S, sp::kFlags), sp::page_links(0, 0)); }},
      {"wrong_node_mid_page", kTwoNodes,
       [](Model &md) {
         const uint64_t flags = md.machine().phys.read_word(frame_at(md, head_of(md, 1) + PS), 0);
         md.poke(Machine::field(head_of(md) + (4 * 64 + 30) * S, sp::kFlags), flags);
       }},
      // Page 3 of folio 0 maps a page of folio 1 (another node): a whole
      // page resolves to another head, in another node, far past the cap.
      {"whole_page_of_another_folio", kTwoNodes,
       [](Model &md) { remap(md, head_of(md) + 3 * PS, Pte{frame_at(md, head_of(md, 1) + 3 * PS), false}); }},
      {"whole_page_of_another_folio_ro", kTwoNodes,
       [](Model &md) { remap(md, head_of(md) + 7 * PS, Pte{frame_at(md, head_of(md, 1) + 2 * PS), true}); }},
      {"missing_fake_head", kOptimized,
       [](Model &md) {
         Machine &m = md.machine();
         const FrameId copy = copy_of(md, frame_at(md, head_of(md)));
         const uint64_t flags = m.phys.read_word(copy, sp::kFlags);
         m.phys.write_word(copy, sp::kFlags, flags & ~(uint64_t{1} << sp::PG_head));
         remap(md, head_of(md) + 5 * PS, Pte{copy, true});
       }},
      {"fake_head_of_itself", kOptimized,
       [](Model &md) {
         Machine &m = md.machine();
         const FrameId copy = copy_of(md, frame_at(md, head_of(md)));
         m.phys.write_word(copy, S / 8 + sp::kCompoundHead, head_of(md) + 2 * PS + 1);
         remap(md, head_of(md) + 2 * PS, Pte{copy, true});
       }},
      {"key_off_while_optimized", kOptimized,
       [](Model &md) { md.machine().hugetlb_optimize_vmemmap_key = 0; }},
      {"head_page_unmapped", kPlain, [](Model &md) { remap(md, head_of(md), Pte{}); }},
      {"tail_page_unmapped", kPlain, [](Model &md) { remap(md, head_of(md) + 6 * PS, Pte{}); }},
      {"restored_page_bad_slot", kRestored,
       [](Model &md) {
         md.poke(Machine::field(head_of(md) + 9 * PS + 33 * S, sp::kCompoundHead), 0x9);
         md.poke(Machine::field(head_of(md) + 12 * PS + 63 * S, sp::kFlags), 0);
       }},
      {"struct_page_72",
       "config struct-page=72 mem=0:Normal:1G variant=v6.12.0\nalloc_folio order=11 node=0\n",
       [](Model &md) {
         // Slot 455: word 0 in vmemmap page 7, word 1 in page 8.
         md.poke(Machine::field(head_of(md) + 455 * 72, sp::kCompoundHead), 0x77);
         md.poke(Machine::field(head_of(md) + 1500 * 72, sp::kFlags), 0);
       }},
      {"struct_page_80",
       "config struct-page=80 mem=0:Normal:1G variant=v6.12.0\nalloc_folio order=10 node=0\n",
       [](Model &md) {
         for (uint64_t i = 100; i < 120; i++)
           md.poke(Machine::field(head_of(md) + i * 80, sp::kCompoundHead), 0x81);
       }},
  };
}

// gtest names a failing case by its plant.
void PrintTo(const Plant &p, std::ostream *os) { *os << p.name; }

class LegacyPlantedBad : public testing::TestWithParam<Plant> {};

TEST_P(LegacyPlantedBad, SameViolationsBothWays) {
  const Plant &p = GetParam();
  const Scenario s = scenario(p.scenario);
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
  const std::string a = text_of(fast.check_all()), b = text_of(slow.check_all());
  EXPECT_EQ(a, b);
  RecordProperty("reports", static_cast<int>(std::count(direct.begin(), direct.end(), '\n')));
}

INSTANTIATE_TEST_SUITE_P(Plants, LegacyPlantedBad, testing::ValuesIn(plants()),
                         [](const testing::TestParamInfo<Plant> &i) { return std::string(i.param.name); });

// Untouched folios of every shape the summary distinguishes report nothing
// either way (the fast path must not invent reports either).
TEST(LegacyCleanFolios, NoReportsEitherWay) {
  for (const char *text : {kPlain, kOptimized, kTwoNodes, kRestored}) {
    const Scenario s = scenario(text);
    Model md(s.config);
    for (const Op &op : s.ops)
      md.apply(op);
    EXPECT_EQ(text_of(md.check_all()), "") << text;
    Machine &m = md.machine();
    for (const HugetlbFolio &f : m.folios) {
      std::vector<Violation> fast, slow;
      const bool key = m.static_key_enabled();
      const uint64_t head_flags = legacy_slot_view(m, m.page(f.pfn), key).flags;
      const bool opt = (m.phys.read_word(frame_at(md, m.page(f.pfn)), sp::kPrivate) >>
                        sp::HPG_vmemmap_optimized) & 1;
      check_legacy_tails(m, f, opt, head_flags, 8, fast, false);
      check_legacy_tails(m, f, opt, head_flags, 8, slow, true);
      EXPECT_EQ(text_of(fast), text_of(slow)) << text;
      EXPECT_EQ(text_of(fast), "") << text;
    }
  }
}

}  // namespace
}  // namespace hvo
