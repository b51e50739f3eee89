// SPDX-License-Identifier: GPL-2.0-only
//
// check_legacy_tails a vmemmap page at a time (a per-(image, origin class)
// summary decided from the image's field descriptions, the head's page
// included) against the reference that reads every slot through
// translate() (Oracle::reference_paths): planted-bad legacy folios that
// must make both report the same violations in the same order, with a tight
// and the default cap, flagged or not, static key on or off: a tail
// pointing elsewhere in the middle of a vmemmap page (private, aliased by an
// optimized folio, a whole page of another folio), a wrong zone or node, a
// missing fake head, more than max_per_id bad tails, an unmapped page, and
// 72/80-byte struct pages, a page (and a run of pages) of the next folio
// with the same image prepared for other origins, a run remapped but not
// flushed.  Then the whole oracle both ways; and corpus, mutants and random
// inputs of hugetlb and compound_head both ways after every op.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "hvo/frame_image.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/legacy_tail_check.h"
#include "hvo/model.h"
#include "hvo/struct_page.h"

#include "harness_trace.h"
#include "target_param_name.h"

namespace hvo {
namespace {

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
          const std::string a = test::violations_text(fast), b = test::violations_text(slow);
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
// Splits the PMD mapping `vaddr` if it is still a leaf (a folio that was
// never optimized: 72/80-byte struct pages), so that its PTEs can be remapped.
void ensure_split(Model &md, uint64_t vaddr) {
  Machine &m = md.machine();
  const size_t i = m.pt.pmd_index(vaddr);
  if (m.pt.pmd_leaf(i))
    m.pt.split_leaf(i, *m.phys.alloc_frame(0, AllocPurpose::PageTable), true, m.pt.pmd_addr(i));
}
// Maps the vmemmap page at `vaddr` to `pte` and flushes (no stale entry).
void remap(Model &md, uint64_t vaddr, Pte pte) {
  ensure_split(md, vaddr);
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
const char *kTwoAdjacent =
    "config variant=v6.12.0\nsysctl_hvo value=0\nalloc_folio order=9 node=0\n"
    "alloc_folio order=9 node=0\n";
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
         for (uint64_t k = 5; k <= 7; k++)  // pages 6 and 7: one PTE run
           remap(md, head_of(md) + k * PS, Pte{copy, true});
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
      // Folio 1 lies right after folio 0 on the same node: its tail pages
      // hold the same image as folio 0's, prepared for other origins, so a
      // summary shared by origin class must not carry folio 0's head over.
      {"whole_page_of_the_next_folio_same_image", kTwoAdjacent,
       [](Model &md) { remap(md, head_of(md) + 3 * PS, Pte{frame_at(md, head_of(md, 1) + 3 * PS), false}); }},
      // Pages 2..6 of folio 0 all map one frame of folio 1: one PTE run.
      {"run_of_pages_of_the_next_folio", kTwoAdjacent,
       [](Model &md) {
         const FrameId other = frame_at(md, head_of(md, 1) + 5 * PS);
         ensure_split(md, head_of(md));
         for (uint64_t k = 2; k <= 6; k++)
           md.machine().pt.set_pte_at(head_of(md) + k * PS, Pte{other, true});
         md.machine().pt.flush_tlb_all();
       }},
      // The same, not flushed: the old translations are still cached, so
      // the check must read them (through the TLB), not the page table.
      {"run_of_pages_of_the_next_folio_unflushed", kTwoAdjacent,
       [](Model &md) {
         md.poke(Machine::field(head_of(md) + 4 * PS + 9 * S, sp::kCompoundHead), 0x1235);
         const FrameId other = frame_at(md, head_of(md, 1) + 5 * PS);
         ensure_split(md, head_of(md));
         for (uint64_t k = 2; k <= 6; k++)
           md.machine().pt.set_pte_at(head_of(md) + k * PS, Pte{other, true});
       }},
      // An optimized folio whose aliased tail frame is bad in one slot, seen
      // through a run of 6 pages that each report it.
      {"optimized_alias_bad_slot_many_pages", kOptimized,
       [](Model &md) { md.poke(Machine::field(head_of(md) + 64 * S + 9 * S, sp::kFlags), 0); }},
      // Slot 0 of the optimized folio's alias frame, seen as slot 0 of
      // every tail page (one PTE run) while the other slots stay clean: a
      // tail of another head (I1), or the head's zone lost (I5).
      {"alias_slot0_other_head", kOptimized,
       [](Model &md) { md.poke(Machine::field(head_of(md) + PS, sp::kCompoundHead), 0x1235); }},
      // (The alias is the head's own frame in both legacy forms, so for a
      // zone that only the tails lose, pages 2..7 map a copy of it.)
      // Slot 0 a plain tail of the head instead of a fake head: I2 alone.
      {"alias_copy_slot0_plain_tail", kOptimized,
       [](Model &md) {
         Machine &m = md.machine();
         const FrameId copy = copy_of(md, frame_at(md, head_of(md) + PS));
         m.phys.write_word(copy, sp::kCompoundHead, head_of(md) + 1);
         for (uint64_t k = 2; k <= 7; k++)
           m.pt.set_pte_at(head_of(md) + k * PS, Pte{copy, true});
         m.pt.flush_tlb_all();
       }},
      {"alias_copy_slot0_other_zone", kOptimized,
       [](Model &md) {
         Machine &m = md.machine();
         const FrameId copy = copy_of(md, frame_at(md, head_of(md) + PS));
         const uint64_t flags = m.phys.read_word(copy, sp::kFlags);
         m.phys.write_word(copy, sp::kFlags,
                           (flags & ((uint64_t{1} << sp::kNodesPgShift) - 1)) | sp::page_links(0, 0));
         for (uint64_t k = 2; k <= 7; k++)
           m.pt.set_pte_at(head_of(md) + k * PS, Pte{copy, true});
         m.pt.flush_tlb_all();
       }},
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
      // Non-power-of-two struct pages go through runs of slots per vmemmap
      // page: a bad slot at each end of a page's run (the last slot whose
      // two words fit in page 1, the first wholly in page 2), several
      // overridden slots splitting one page's run, a slot whose flags and
      // compound_head straddle two pages.
      {"struct_page_80_run_ends",
       "config struct-page=80 mem=0:Normal:1G variant=v6.12.0\nalloc_folio order=10 node=0\n",
       [](Model &md) {
         // Page 1 is bytes 4096..8191 of the memmap: slot 102 (8160..8239)
         // has its flags word and compound_head in page 1 (8160, 8168),
         // slot 103 (8240..) lies wholly in page 2.
         md.poke(Machine::field(head_of(md) + 102 * 80, sp::kCompoundHead), 0x99);
         md.poke(Machine::field(head_of(md) + 103 * 80, sp::kFlags), sp::page_links(0, 0));
         md.poke(Machine::field(head_of(md) + 51 * 80, sp::kFlags), sp::page_links(0, 0));
       }},
      {"struct_page_72_overrides_split_a_page",
       "config struct-page=72 mem=0:Normal:1G variant=v6.12.0\nalloc_folio order=11 node=0\n",
       [](Model &md) {
         for (uint64_t i : {300, 305, 306, 330, 340})
           md.poke(Machine::field(head_of(md) + i * 72, sp::kCompoundHead), head_of(md, 0) + 73);
         md.poke(Machine::field(head_of(md) + 320 * 72, sp::kMapping), 0x5);  // not read
         md.poke(Machine::field(head_of(md) + 455 * 72, sp::kFlags), sp::page_links(0, 0));
       }},
      // Folio 1 right after folio 0, same image: a page of it mapped into
      // folio 0 reads as one run of tails of folio 1's head.
      {"struct_page_80_page_of_the_next_folio",
       "config struct-page=80 mem=0:Normal:1G variant=v6.12.0\nalloc_folio order=10 node=0\n"
       "alloc_folio order=10 node=0\n",
       [](Model &md) {
         ensure_split(md, head_of(md) + 5 * PS);
         remap(md, head_of(md) + 5 * PS, Pte{frame_at(md, head_of(md, 1) + 5 * PS), false});
       }},
      // Page 2's frame holds an image whose compound_head is the head of
      // every aligned pair of slots (a FolioHead of order 1): inside one
      // page's run the tails resolve to ever new heads, with no override,
      // so only the run's end values tell it is not one view.
      {"struct_page_80_small_blocks_in_a_page",
       "config struct-page=80 mem=0:Normal:1G variant=v6.12.0\nalloc_folio order=10 node=0\n",
       [](Model &md) {
         Machine &m = md.machine();
         FrameRec &r = m.phys.frame(frame_at(md, head_of(md) + 2 * PS));
         ImagePool::Fields fields = m.phys.images().at(r.image).fields;
         fields[sp::kCompoundHead] = FieldSpec{1, FieldRel::FolioHead, 1};
         const uint32_t id = m.phys.images().intern(fields);
         m.phys.images().put(r.image);
         r.image = id;
       }},
      {"struct_page_72_remapped_unflushed",
       "config struct-page=72 mem=0:Normal:1G variant=v6.12.0\nalloc_folio order=10 node=0\n"
       "alloc_folio order=10 node=0\n",
       [](Model &md) {
         md.poke(Machine::field(head_of(md) + 200 * 72, sp::kCompoundHead), 0x99);
         ensure_split(md, head_of(md) + 3 * PS);
         ensure_split(md, head_of(md) + 4 * PS);
         for (uint64_t k = 3; k <= 4; k++)
           md.machine().pt.set_pte_at(head_of(md) + k * PS, Pte{frame_at(md, head_of(md, 1) + k * PS), true});
       }},
  };
}

// gtest names a failing case by its plant.
void PrintTo(const Plant &p, std::ostream *os) { *os << p.name; }

class LegacyPlantedBad : public testing::TestWithParam<Plant> {};

TEST_P(LegacyPlantedBad, SameViolationsBothWays) {
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
  RecordProperty("reports", static_cast<int>(std::count(direct.begin(), direct.end(), '\n')));
}

INSTANTIATE_TEST_SUITE_P(Plants, LegacyPlantedBad, testing::ValuesIn(plants()),
                         [](const testing::TestParamInfo<Plant> &i) { return std::string(i.param.name); });

// Untouched folios of every shape the summary distinguishes report nothing
// either way (the fast path must not invent reports either).
TEST(LegacyCleanFolios, NoReportsEitherWay) {
  for (const char *text : {kPlain, kOptimized, kTwoNodes, kTwoAdjacent, kRestored}) {
    const Scenario s = test::planted_scenario(text);
    Model md(s.config);
    for (const Op &op : s.ops)
      md.apply(op);
    EXPECT_EQ(test::violations_text(md.check_all()), "") << text;
    Machine &m = md.machine();
    for (const HugetlbFolio &f : m.folios) {
      std::vector<Violation> fast, slow;
      const bool key = m.static_key_enabled();
      const uint64_t head_flags = legacy_slot_view(m, m.page(f.pfn), key).flags;
      const bool opt = (m.phys.read_word(frame_at(md, m.page(f.pfn)), sp::kPrivate) >>
                        sp::HPG_vmemmap_optimized) & 1;
      check_legacy_tails(m, f, opt, head_flags, 8, fast, false);
      check_legacy_tails(m, f, opt, head_flags, 8, slow, true);
      EXPECT_EQ(test::violations_text(fast), test::violations_text(slow)) << text;
      EXPECT_EQ(test::violations_text(fast), "") << text;
    }
  }
}

// Every live folio of `md` both ways as the oracle would check it now (the
// static key as it is, the folio's own flag, the default cap); the number
// of folios compared.
unsigned compare_as_the_oracle_would(Model &md, const std::string &where) {
  Machine &m = md.machine();
  if (m.cfg.era != Era::Legacy)
    return 0;
  unsigned n = 0;
  const bool key = m.static_key_enabled();
  for (const HugetlbFolio &f : m.folios) {
    if (f.state == FolioState::Gone)
      continue;
    const FrameId head = frame_at(md, m.page(f.pfn));
    const bool opt = head != kNoFrame &&
                     ((m.phys.read_word(head, (m.page(f.pfn) & (m.cfg.page_size() - 1)) / 8 +
                                                  sp::kPrivate) >>
                       sp::HPG_vmemmap_optimized) & 1);
    const uint64_t head_flags = legacy_slot_view(m, m.page(f.pfn), key).flags;
    std::vector<Violation> fast, slow;
    check_legacy_tails(m, f, opt, head_flags, 8, fast, false);
    check_legacy_tails(m, f, opt, head_flags, 8, slow, true);
    EXPECT_EQ(test::violations_text(fast), test::violations_text(slow)) << where << " folio " << f.id;
    n++;
  }
  return n;
}

// Corpus, mutants and random inputs of the targets whose ops build legacy
// folios: after every op, every live folio both ways.
class LegacyRandom : public testing::TestWithParam<const char *> {};

TEST_P(LegacyRandom, SameReportsBothWaysAfterEveryOp) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(1207);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
  for (unsigned k = 0; k < 24; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 64));
  unsigned folios = 0, i = 0;
  for (const Scenario &s : inputs) {
    Model md(s.config);
    unsigned n = 0;
    for (const Op &op : s.ops) {
      md.apply(op);
      folios += compare_as_the_oracle_would(
          md, std::string(GetParam()) + " input " + std::to_string(i) + " op " + std::to_string(n++));
      if (HasFailure())
        return;
    }
    i++;
  }
  RecordProperty("folios_compared", static_cast<int>(folios));
  EXPECT_GT(folios, 50u) << "hardly any legacy folio was compared: the test is vacuous";
}

INSTANTIATE_TEST_SUITE_P(Targets, LegacyRandom,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_compound_head"),
                         test::TargetParamName());

}  // namespace
}  // namespace hvo
