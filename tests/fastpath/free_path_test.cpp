// SPDX-License-Identifier: GPL-2.0-only
//
// free_compound_page_prepare's tail checks a vmemmap page at a time against
// the per-struct-page loop they replace (free_tail_checks_per_struct_page):
// random fuzz-decoded inputs of every target that frees folios, and planted
// bad states, each run both ways.  Same bad_page() list in the same order
// (with the max_reports cap), same faults in the same order, same frames
// touched and the same machine afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hvo/compound.h"
#include "hvo/compound_info.h"
#include "hvo/differential.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/trace.h"
#include "hvo/model.h"
#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"
#include "harness_trace.h"
#include "target_param_name.h"
#include "machine_state.h"

namespace hvo {
namespace {

// Sets the switch for the lifetime of the object (tests must not leak it).
struct PerStructPage : test::ScopedSwitch {
  explicit PerStructPage(bool on) : ScopedSwitch(free_tail_checks_per_struct_page, on) {}
};

// ---------------------------------------------------------------------------
// Random inputs through the whole model (the oracle, the reports, the state).
// ---------------------------------------------------------------------------

bool is_free_op(const Op &op) {
  const std::string_view name = op_table()[op.kind].name;
  return name == "free_folio" || name == "free_folios" || name == "put_folio";
}

std::string run_ops(Model &md, const Scenario &s, unsigned *frees) {
  return test::harness_trace(md, s, [frees](const Op &op, const StepResult &r) {
    *frees += is_free_op(op) && r.result.ret == 0;
  });
}

// `s` run on `fast` with the vmemmap-page fast path and on `slow` per
// struct page: the two traces (harness_trace.h); `frees` counts the
// successful frees of both.
std::pair<std::string, std::string> both_ways(Model &fast, Model &slow, const Scenario &s,
                                              unsigned *frees) {
  std::string a, b;
  {
    PerStructPage mode(false);
    a = run_ops(fast, s, frees);
  }
  {
    PerStructPage mode(true);
    b = run_ops(slow, s, frees);
  }
  return {a, b};
}

Scenario random_scenario(const fuzz::TargetProfile &p, std::mt19937 &rng) {
  return test::random_fuzz_scenario(p, rng, 8, 64);
}

class FreePathRandom : public testing::TestWithParam<const char *> {};

TEST_P(FreePathRandom, SameResultsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam());
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(1121);
  unsigned frees = 0, bad_pages = 0, i = 0;
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
  for (unsigned k = 0; k < 10; k++)
    inputs.push_back(random_scenario(*p, rng));
  for (const Scenario &s : inputs) {
    Model fast(s.config), slow(s.config);
    unsigned both_frees = 0;
    const auto [a, b] = both_ways(fast, slow, s, &both_frees);
    const unsigned fast_frees = both_frees / 2;  // the same ops succeed both ways (a == b)
    ASSERT_EQ(a, b) << GetParam() << " input " << i;
    EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << "input " << i;
    frees += fast_frees;
    bad_pages += a.find("K-bad-page") != std::string::npos;
    i++;
  }
  RecordProperty("frees", static_cast<int>(frees));
  RecordProperty("inputs_with_bad_page", static_cast<int>(bad_pages));
  EXPECT_GT(frees, 5u) << "the inputs hardly reached the free path: the comparison is vacuous";
}

INSTANTIATE_TEST_SUITE_P(Targets, FreePathRandom,
                         testing::Values("hvo_fuzz_hugetlb", "hvo_fuzz_boot"),
                         test::TargetParamName());

// The differential target runs each input on both eras at once.
TEST(FreePathRandom, DifferentialSameResultsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_differential");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(77);
  unsigned frees = 0, i = 0;
  for (const Scenario &s : test::corpus_and_mutants(*p, 3, rng)) {
    Differential fast(s.config), slow(s.config);
    std::string a, b;
    for (const Op &op : s.ops) {
      {
        PerStructPage mode(false);
        fast.step(op);
        a += fuzz::format_result(fast.last_legacy_step()) + "\n";
      }
      {
        PerStructPage mode(true);
        slow.step(op);
        b += fuzz::format_result(slow.last_legacy_step()) + "\n";
      }
      frees += is_free_op(op) && fast.last_legacy_step().result.ret == 0;
    }
    a += fast.result().format();
    b += slow.result().format();
    ASSERT_EQ(a, b) << "input " << i;
    EXPECT_EQ(test::machine_state_diff(fast.legacy().machine(), slow.legacy().machine()), "");
    EXPECT_EQ(test::machine_state_diff(fast.shared().machine(), slow.shared().machine()), "");
    i++;
  }
  EXPECT_GE(frees, 4u) << "the inputs hardly reached the free path: the comparison is vacuous";
}

// The dax target never frees a HugeTLB folio (no op of its family reaches
// free_compound_page_prepare): its inputs must simply come out the same.
TEST(FreePathRandom, DaxUnaffected) {
  const fuzz::TargetProfile *p = fuzz::find_profile("hvo_fuzz_dax");
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(5);
  for (unsigned i = 0; i < 10; i++) {
    const Scenario s = random_scenario(*p, rng);
    Model fast(s.config), slow(s.config);
    unsigned n = 0;
    const auto [a, b] = both_ways(fast, slow, s, &n);
    EXPECT_EQ(a, b) << "input " << i;
  }
}

// ---------------------------------------------------------------------------
// Planted states: the same machine twice, broken the same way, then
// free_compound_page_prepare on each with the switch off and on.
// ---------------------------------------------------------------------------

struct Planted {
  Model md;
  uint64_t head = 0;
  unsigned order = 0;
  explicit Planted(const Config &c) : md(c) {}
};

using Plant = std::function<void(Machine &, uint64_t head, unsigned order)>;

std::unique_ptr<Planted> build(const std::string &scenario, FolioId folio, const Plant &plant) {
  Scenario s;
  std::string error;
  EXPECT_TRUE(parse_scenario(scenario, "planted", s, error)) << error;
  auto p = std::make_unique<Planted>(s.config);
  for (const Op &op : s.ops)
    p->md.apply(op);
  Machine &m = p->md.machine();
  EXPECT_LT(folio, m.folios.size());
  p->head = m.page(m.folios[folio].pfn);
  p->order = m.folios[folio].order;
  plant(m, p->head, p->order);
  m.mmu.faults.clear();
  m.phys.take_touched();
  return p;
}

struct FreeOutcome {
  std::string bad, faults;
  std::vector<FrameId> touched;
};

FreeOutcome free_once(Planted &p, size_t max_reports, bool per_struct_page) {
  PerStructPage mode(per_struct_page);
  Machine &m = p.md.machine();
  FreeOutcome o;
  for (const BadPage &b : free_compound_page_prepare(m, p.head, p.order, max_reports))
    o.bad += std::to_string(m.page_to_pfn(b.page)) + " " + b.reason + "\n";
  o.faults = test::faults_text(m.mmu.faults);
  o.touched = m.phys.take_touched();
  return o;
}

// Both ways; returns the (common) bad_page list.
std::string same_both_ways(const std::string &scenario, FolioId folio, const Plant &plant,
                           size_t max_reports = 8, std::string *faults = nullptr) {
  auto fast = build(scenario, folio, plant), slow = build(scenario, folio, plant);
  const FreeOutcome a = free_once(*fast, max_reports, false);
  const FreeOutcome b = free_once(*slow, max_reports, true);
  EXPECT_EQ(a.bad, b.bad);
  EXPECT_EQ(a.faults, b.faults);
  EXPECT_EQ(a.touched, b.touched);
  EXPECT_EQ(test::machine_state_diff(fast->md.machine(), slow->md.machine()), "");
  if (faults)
    *faults = a.faults;
  return a.bad;
}

uint64_t tail(const Machine &m, uint64_t head, uint64_t i) {
  return head + i * m.cfg.struct_page_size;
}

// A restored (not optimized) order-9 folio: every tail mapped read-write.
std::string restored_folio(const std::string &config) {
  return "config " + config + "\nalloc_folio order=9 node=0\nrestore folio=0\n";
}

// An order-9 folio never optimized (HVO off): the frames of its tails hold
// pure images made for where they are mapped.
std::string fresh_folio(const std::string &config) {
  return "config " + config + " hvo=off\nalloc_folio order=9 node=0\n";
}

const std::string k4K64 = "page-size=4K struct-page=64 mem=0:Normal:1G era=legacy variant=v6.12.0";

TEST(FreePathPlanted, CleanFolioHasNoReports) {
  EXPECT_EQ(same_both_ways(restored_folio(k4K64), 0, [](Machine &, uint64_t, unsigned) {}), "");
  EXPECT_EQ(same_both_ways(fresh_folio(k4K64), 0, [](Machine &, uint64_t, unsigned) {}), "");
}

TEST(FreePathPlanted, CorruptedMappingMidPage) {
  for (const std::string &folio : {restored_folio(k4K64), fresh_folio(k4K64)}) {
    const std::string bad = same_both_ways(folio, 0, [](Machine &m, uint64_t h, unsigned) {
      m.mmu.write(Machine::field(tail(m, h, 3 * 64 + 17), sp::kMapping), 0x1234, "plant");
    });
    EXPECT_NE(bad.find("corrupted mapping in tail page"), std::string::npos) << bad;
    EXPECT_EQ(std::count(bad.begin(), bad.end(), '\n'), 1) << bad;
  }
}

TEST(FreePathPlanted, CompoundHeadPointsElsewhere) {
  const std::string bad = same_both_ways(restored_folio(k4K64), 0, [](Machine &m, uint64_t h, unsigned) {
    const uint64_t other = h + 1024 * m.cfg.struct_page_size;
    m.mmu.write(Machine::field(tail(m, h, 5 * 64 + 9), sp::kCompoundHead), other + 1, "plant");
    // Bit 0 clear, not a fake head (not at the start of a vmemmap page).
    m.mmu.write(Machine::field(tail(m, h, 6 * 64 + 30), sp::kCompoundHead), other, "plant");
  });
  EXPECT_NE(bad.find("compound_head not consistent"), std::string::npos) << bad;
  EXPECT_NE(bad.find("PageTail not set"), std::string::npos) << bad;
}

// A whole vmemmap page whose image says something else for every struct
// page: the run decision must see it (mapping spec, compound_head spec of
// another order, and one of the folio's order that points at another head).
TEST(FreePathPlanted, WholePageSpecs) {
  auto frame_of = [](Machine &m, uint64_t vaddr) { return m.mmu.translate(vaddr).pte.frame; };
  std::string bad = same_both_ways(fresh_folio(k4K64), 0, [&](Machine &m, uint64_t h, unsigned) {
    m.phys.store_field_all(frame_of(m, tail(m, h, 2 * 64)), sp::kMapping, ~uint64_t{0},
                           FieldSpec{0});
  });
  EXPECT_NE(bad.find("corrupted mapping"), std::string::npos) << bad;
  bad = same_both_ways(fresh_folio(k4K64), 0, [&](Machine &m, uint64_t h, unsigned) {
    m.phys.store_field_all(frame_of(m, tail(m, h, 3 * 64)), sp::kCompoundHead, ~uint64_t{0},
                           FieldSpec{1, FieldRel::FolioHead, 3});
  });
  EXPECT_NE(bad.find("compound_head not consistent"), std::string::npos) << bad;
  bad = same_both_ways(fresh_folio(k4K64), 0, [&](Machine &m, uint64_t h, unsigned) {
    m.phys.store_field_all(frame_of(m, tail(m, h, 4 * 64)), sp::kCompoundHead, ~uint64_t{0},
                           FieldSpec{1, FieldRel::FolioHead, 6});
  });
  EXPECT_NE(bad.find("compound_head not consistent"), std::string::npos) << bad;
  bad = same_both_ways(fresh_folio(k4K64), 0, [&](Machine &m, uint64_t h, unsigned) {
    m.phys.store_field_all(frame_of(m, tail(m, h, 5 * 64)), sp::kCompoundHead, ~uint64_t{0},
                           FieldSpec{h + 64 * m.cfg.struct_page_size + 1});
  });
  EXPECT_NE(bad.find("compound_head not consistent"), std::string::npos) << bad;
  // The head's own vmemmap page: the run of tails 4-63 starts in the head's
  // order-3 group (its first word is right) and leaves it.
  bad = same_both_ways(fresh_folio(k4K64), 0, [&](Machine &m, uint64_t h, unsigned) {
    m.phys.store_field_all(frame_of(m, h), sp::kCompoundHead, ~uint64_t{0},
                           FieldSpec{1, FieldRel::FolioHead, 3});
  });
  EXPECT_NE(bad.find("compound_head not consistent"), std::string::npos) << bad;
}

TEST(FreePathPlanted, MoreThanMaxReports) {
  auto plant = [](Machine &m, uint64_t h, unsigned) {
    for (uint64_t i = 4; i < 512; i += 13)
      m.mmu.write(Machine::field(tail(m, h, i), sp::kMapping), i, "plant");
  };
  for (size_t cap : {size_t{1}, size_t{3}, size_t{8}}) {
    const std::string bad = same_both_ways(restored_folio(k4K64), 0, plant, cap);
    EXPECT_EQ(static_cast<size_t>(std::count(bad.begin(), bad.end(), '\n')), cap) << bad;
  }
}

// Legacy fake heads, built by hand: a tail at the start of a vmemmap page
// with PG_head and an even compound_head word; the static key decides
// whether page_fixed_fake_head looks at the next struct page.
TEST(FreePathPlanted, LegacyFakeHead) {
  for (bool key : {false, true})
    for (bool next_points_home : {false, true}) {
      const std::string bad = same_both_ways(restored_folio(k4K64), 0, [&](Machine &m, uint64_t h, unsigned) {
        const uint64_t page = tail(m, h, 2 * 64);
        set_page_flag(m, page, sp::PG_head, "plant");
        m.mmu.write(Machine::field(page, sp::kCompoundHead), Machine::field(page, 1), "plant");
        if (!next_points_home)
          m.mmu.write(Machine::field(page + m.cfg.struct_page_size, sp::kCompoundHead),
                      h + 4096 * m.cfg.struct_page_size + 1, "plant");
        m.hugetlb_optimize_vmemmap_key = key ? 1 : 0;
      });
      // Without the key the tail is not a tail; with it, a fake head whose
      // next struct page decides.
      if (!key)
        EXPECT_NE(bad.find("PageTail not set"), std::string::npos) << bad;
      else if (next_points_home)
        EXPECT_EQ(bad, "");
      else
        EXPECT_NE(bad.find("compound_head not consistent"), std::string::npos) << bad;
    }
}

// The Debian walk's restore copies the head vmemmap page into every
// restored page (tests/triage/reproducers/d612_free_folio_bad_page.hvo):
// every restored page starts with a copy of the head, a fake head with the
// head's mapping.  Through the whole free path, as the fuzz targets run it.
TEST(FreePathPlanted, D612RestoreCopiesHead) {
  Scenario s;
  std::string error;
  ASSERT_TRUE(parse_scenario("config page-size=4K struct-page=64 mem=0:Normal:4G era=legacy variant=D612\n"
                             "alloc_folio order=9 node=0\nalloc_folio order=12 node=0\n"
                             "free_folio folio=1\nfree_folio folio=0\n",
                             "d612", s, error))
      << error;
  Model fast(s.config), slow(s.config);
  unsigned n = 0;
  const auto [a, b] = both_ways(fast, slow, s, &n);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("K-bad-page"), std::string::npos) << a;
  EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "");
}

// An unmapped vmemmap page in the middle of the folio: the reads fault, in
// the same order, and read 0 (corrupted mapping).
TEST(FreePathPlanted, UnmappedVmemmapPage) {
  std::string faults;
  const std::string bad = same_both_ways(
      restored_folio(k4K64), 0,
      [](Machine &m, uint64_t h, unsigned) {
        const uint64_t p = tail(m, h, 3 * 64);
        m.pt.set_pte_at(p, Pte{});
        m.pt.flush_tlb_all();
      },
      8, &faults);
  EXPECT_FALSE(faults.empty());
  EXPECT_NE(bad.find("corrupted mapping"), std::string::npos) << bad;
}

// Shared-tail era, mask encoding: a tail with a mask of another order, one
// with bit 0 clear, a pointer-form word.
TEST(FreePathPlanted, SharedTailMask) {
  const std::string cfg = "page-size=4K struct-page=64 mem=0:Normal:1G era=shared-tail variant=kiryl-v7";
  EXPECT_EQ(same_both_ways(restored_folio(cfg), 0, [](Machine &, uint64_t, unsigned) {}), "");
  const std::string bad = same_both_ways(restored_folio(cfg), 0, [](Machine &m, uint64_t h, unsigned order) {
    const VmemmapGeometry g = vmemmap_geometry(m.cfg);
    ASSERT_TRUE(mask_encoding(m.cfg));
    m.mmu.write(Machine::field(tail(m, h, 2 * 64 + 5), sp::kCompoundHead),
                compound_info_mask(g, order - 3), "plant");
    m.mmu.write(Machine::field(tail(m, h, 3 * 64 + 6), sp::kCompoundHead), 0, "plant");
    m.mmu.write(Machine::field(tail(m, h, 4 * 64 + 7), sp::kCompoundHead), h + 1, "plant");
    // The folio's mask with a hole where the head's address has a bit.
    uint64_t hole = h & compound_info_mask(g, order) & ~uint64_t{1};
    hole &= ~hole + 1;
    m.mmu.write(Machine::field(tail(m, h, 5 * 64 + 8), sp::kCompoundHead),
                compound_info_mask(g, order) & ~hole, "plant");
  });
  EXPECT_NE(bad.find("compound_head not consistent"), std::string::npos) << bad;
  EXPECT_NE(bad.find("PageTail not set"), std::string::npos) << bad;
}

// 72- and 80-byte struct pages: struct pages straddle vmemmap pages and the
// frame's fields do not sit at the same word in every page.
TEST(FreePathPlanted, OddStructPageSizes) {
  for (const char *sp : {"72", "80"})
    for (const char *era : {"legacy variant=v6.12.0", "shared-tail variant=kiryl-v7"}) {
      const std::string cfg = std::string("page-size=4K struct-page=") + sp +
                              " mem=0:Normal:1G era=" + era;
      EXPECT_EQ(same_both_ways(restored_folio(cfg), 0, [](Machine &, uint64_t, unsigned) {}), "")
          << cfg;
      const std::string bad = same_both_ways(restored_folio(cfg), 0, [](Machine &m, uint64_t h, unsigned) {
        const uint64_t S = m.cfg.struct_page_size, ps = m.cfg.page_size();
        // The first struct page that straddles a vmemmap page boundary past
        // tail 4, and one wholly inside the next page.
        uint64_t i = 4;
        while (((tail(m, h, i) & (ps - 1)) + S) <= ps)
          i++;
        m.mmu.write(Machine::field(tail(m, h, i), sp::kMapping), 7, "plant");
        m.mmu.write(Machine::field(tail(m, h, i + 20), sp::kCompoundHead), h + 8 * S + 1, "plant");
        (void)S;
      });
      EXPECT_EQ(std::count(bad.begin(), bad.end(), '\n'), 2) << cfg << "\n" << bad;
      // A pure image made for another vmemmap page whose words hold other
      // fields at the same offsets (copy_page of the previous page).
      // Every field but mapping of the source reads like compound_head, so
      // only the word offsets tell the copy's fields apart.
      const std::string moved = same_both_ways(fresh_folio(cfg), 0, [](Machine &m, uint64_t h, unsigned order) {
        const uint64_t p = (tail(m, h, 200) & ~(m.cfg.page_size() - 1));
        const FrameId src = m.mmu.translate(p - m.cfg.page_size()).pte.frame;
        for (unsigned f = 0; f < m.cfg.words_per_struct_page(); f++)
          if (f != sp::kMapping)
            m.phys.store_field_all(src, f, ~uint64_t{0},
                                   FieldSpec{1, FieldRel::FolioHead, static_cast<uint8_t>(order)});
        m.phys.copy_frame(m.mmu.translate(p).pte.frame, src);
      });
      EXPECT_NE(moved, "") << cfg;
    }
}

}  // namespace
}  // namespace hvo
