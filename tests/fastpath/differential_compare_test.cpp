// SPDX-License-Identifier: GPL-2.0-only
//
// Differential::compare_state comparing runs of sampled tail struct pages,
// and skipping folios whose memo shows nothing they read has changed,
// from words decided once per vmemmap page (uniform_struct_page_words)
// against the reference that reads every sampled struct page through the
// page_flags accessors (differential_compare_reference).  Every
// hvo_fuzz_differential corpus scenario, mutants of each and random inputs
// run both ways with the fuzz target's variants (same result line, same
// faults, same machines afterwards), plus inputs of the other targets'
// shapes under 16K/64K pages and 72/80-byte struct pages; then planted
// differences a run must find at the same struct page and observable as
// the reference: a pure image on one side whose refcount, node, tail bit
// or mask differs for every slot or for half of them, and an override
// that cuts a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "hvo/compound_info.h"
#include "hvo/differential.h"
#include "hvo/frame_image.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"
#include "harness_trace.h"
#include "machine_state.h"

namespace hvo {
namespace {

struct Reference : test::ScopedSwitch {
  explicit Reference(bool on) : ScopedSwitch(differential_compare_reference, on) {}
};

DiffOptions fuzz_target_options() {  // fuzz/harness/src/harness.cpp, run_differential_input
  DiffOptions opt;
  opt.legacy_variant = Variant::V6_12_0;
  opt.shared_variant = Variant::KirylV7;
  return opt;
}

// `s` through a Differential, op by op as the fuzz target steps it, with
// `plant` (optional) applied to both models after op `plant_after`: the
// result line, each step's legacy result, and both models' faults.
std::string run(Differential &d, const Scenario &s,
                const std::function<void(Differential &)> &plant = {}, size_t plant_after = 0) {
  std::string out;
  for (size_t i = 0; i < s.ops.size(); i++) {
    const bool more = d.step(s.ops[i]);
    out += print_op(s.ops[i]) + " -> " + format_ret(d.last_legacy_step().result.ret) + "\n";
    if (plant && i == plant_after)
      plant(d);
    if (!more)
      break;
  }
  out += d.result().format() + "\n";
  if (!d.result().diverged || d.result().observable != "config") {
    out += "legacy faults:\n" + test::faults_text(d.legacy().machine().mmu.faults);
    out += "shared faults:\n" + test::faults_text(d.shared().machine().mmu.faults);
  }
  return out;
}

// What differs between `s` compared by runs and by the reference.
std::string both_ways(const Scenario &s, const DiffOptions &opt,
                      const std::function<void(Differential &)> &plant = {},
                      size_t plant_after = 0) {
  Differential fast(s.config, opt), slow(s.config, opt);
  std::string a, b;
  {
    Reference mode(false);
    a = run(fast, s, plant, plant_after);
  }
  {
    Reference mode(true);
    b = run(slow, s, plant, plant_after);
  }
  if (a != b)
    return "results differ:\n--- runs\n" + a + "--- reference\n" + b;
  if (fast.result().diverged && fast.result().observable == "config")
    return "";
  for (bool legacy : {true, false}) {
    const std::string d = test::machine_state_diff(
        legacy ? fast.legacy().machine() : fast.shared().machine(),
        legacy ? slow.legacy().machine() : slow.shared().machine());
    if (!d.empty())
      return std::string(legacy ? "legacy" : "shared") + " machine states differ: " + d;
  }
  return "";
}

TEST(DifferentialCompare, CorpusMutantsAndRandomInputsBothWays) {
  const uint64_t before = differential_uniform_runs, hits_before = differential_memo_hits;
  unsigned n = 0;
  for (const char *target : {"hvo_fuzz_differential", "hvo_fuzz_hugetlb", "hvo_fuzz_compound_head"}) {
    const fuzz::TargetProfile *p = fuzz::find_profile(target);
    ASSERT_NE(p, nullptr);
    std::mt19937 rng(7304);
    std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
    for (unsigned k = 0; k < 40; k++)
      inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 40));
    unsigned i = 0;
    for (const Scenario &s : inputs) {
      EXPECT_EQ(both_ways(s, fuzz_target_options()), "") << target << " input " << i;
      i++;
      n++;
    }
  }
  const uint64_t runs = differential_uniform_runs - before;
  RecordProperty("inputs", static_cast<int>(n));
  RecordProperty("uniform_runs", static_cast<int>(std::min<uint64_t>(runs, INT32_MAX)));
  // 985 since the memo (a folio nothing changed in is not compared again).
  EXPECT_GE(runs, 800u) << "the run comparison hardly ran: the test is nearly vacuous";
  const uint64_t hits = differential_memo_hits - hits_before;
  RecordProperty("memo_hits", static_cast<int>(std::min<uint64_t>(hits, INT32_MAX)));
  EXPECT_GE(hits, 500u) << "the per-folio memo hardly skipped a folio: the test is nearly vacuous";
}

// Planted differences, each made on one side after op `after` of a scenario
// (with 72/80-byte struct pages the head page's image is rebuilt from its
// field list, which also drops the tail bit: a divergence all the same)
// whose two eras agree; the next op (get_folio of a missing folio, which
// changes nothing) makes compare_state look.
struct Plant {
  const char *name;
  const char *config;
  const char *ops;
  std::function<void(Differential &)> plant;
  size_t after = 0;  // the op after which the plant is made
};

uint64_t head_of(Model &md) { return md.machine().page(md.machine().folios.at(0).pfn); }

// Gives the frame behind the vmemmap page holding folio 0's head (on the
// side `md`) a fresh pure image: its fields with `change` applied; the
// folio's first four struct pages keep their words (overrides then).
void plant_pure_head_page(Model &md, const std::function<void(ImagePool::Fields &, const Machine &)> &change) {
  Machine &m = md.machine();
  const uint64_t ps = m.cfg.page_size(), h = head_of(md), va = h & ~(ps - 1);
  const FrameId frame = m.pt.ptep_get(va).frame;
  ASSERT_NE(frame, kNoFrame);
  ImagePool::Fields fields = m.phys.images().at(m.phys.frame(frame).image).fields;
  change(fields, m);
  std::vector<std::pair<uint64_t, uint64_t>> keep;
  for (uint64_t a = h; a < h + 4 * m.cfg.struct_page_size && a < va + ps; a += 8)
    keep.push_back({a, m.phys.read_word(frame, (a - va) / 8)});
  const uint32_t id = m.phys.images().intern(fields);
  m.phys.set_image(frame, id, m.phys.frame(frame).origin_vpn);
  for (const auto &[a, v] : keep)
    md.poke(a, v);
}

std::vector<Plant> plants() {
  const char *k4 = "config mem=0:Normal:1G,1:Normal:1G";
  const char *alloc9 = "alloc_folio order=9 node=0\nget_folio folio=31\n";
  return {
      {"shared_tails_refcount_one", k4, alloc9,
       [](Differential &d) {
         plant_pure_head_page(d.shared(), [](ImagePool::Fields &f, const Machine &) {
           f[sp::kCounts] = FieldSpec{sp::counts(1, sp::kMapcountNone)};
         });
       }},
      {"legacy_tails_on_node_1", k4, alloc9,
       [](Differential &d) {
         plant_pure_head_page(d.legacy(), [](ImagePool::Fields &f, const Machine &) {
           f[sp::kFlags] = FieldSpec{sp::page_links(static_cast<unsigned>(ZoneType::Normal), 1)};
         });
       }},
      {"legacy_tails_without_tail_bit", k4, alloc9,
       [](Differential &d) {
         plant_pure_head_page(d.legacy(), [](ImagePool::Fields &f, const Machine &) {
           f[sp::kCompoundHead] = FieldSpec{0};
         });
       }},
      // A mask with one more bit: the decode gives the head for the first
      // half of the head's 16K vmemmap page and another address for the
      // second half, through one run.
      {"shared_mask_holds_for_half_the_head_page", "config page-size=16K mem=0:Normal:1G", alloc9,
       [](Differential &d) {
         plant_pure_head_page(d.shared(), [](ImagePool::Fields &f, const Machine &m) {
           f[sp::kCompoundHead] =
               FieldSpec{compound_info_mask(vmemmap_geometry(m.cfg), 9) | (uint64_t{1} << 13)};
         });
       }},
      {"legacy_16k_pointer_to_a_smaller_folio", "config page-size=16K mem=0:Normal:1G", alloc9,
       [](Differential &d) {
         plant_pure_head_page(d.legacy(), [](ImagePool::Fields &f, const Machine &) {
           f[sp::kCompoundHead] = FieldSpec{1, FieldRel::FolioHead, 5};
         });
       }},
      // One override in the middle of a run: the run stops before it, the
      // overridden struct page is read by the reference path, the rest
      // continues as a run.
      {"override_cuts_a_run", k4, alloc9,
       [](Differential &d) {
         d.shared().poke(Machine::field(head_of(d.shared()) + 40 * 64, sp::kMapping), 5);
         d.shared().poke(Machine::field(head_of(d.shared()) + 41 * 64, sp::kCounts),
                         sp::counts(3, sp::kMapcountNone));
       }},
      {"struct_page_72_legacy_pure_image", "config mem=0:Normal:1G struct-page=72", alloc9,
       [](Differential &d) {
         plant_pure_head_page(d.legacy(), [](ImagePool::Fields &f, const Machine &) {
           f[sp::kCounts] = FieldSpec{sp::counts(0, 7)};
         });
       }},
      {"struct_page_80_shared_pure_image", "config mem=0:Normal:1G,1:Normal:1G struct-page=80", alloc9,
       [](Differential &d) {
         plant_pure_head_page(d.shared(), [](ImagePool::Fields &f, const Machine &) {
           f[sp::kFlags] = FieldSpec{sp::page_links(static_cast<unsigned>(ZoneType::Normal), 1)};
         });
       }},
      // The per-folio memo: folio 0 was compared (and remembered) after the
      // op before the plant, and the op after it does not touch folio 0.
      // The static key alone changes what legacy compound_head() makes of
      // a fake head: no frame is written.
      {"memo_static_key_off_after_optimize", k4,
       "alloc_folio order=9 node=0\noptimize folio=0\nget_folio folio=31\n",
       [](Differential &d) { d.legacy().machine().hugetlb_optimize_vmemmap_key = 0; }, 1},
      // A word of a sampled tail of folio 0 (129: the second struct page of
      // vmemmap page 2) written after folio 1 is made.
      {"memo_tail_written_beside_another_folio", k4,
       "alloc_folio order=9 node=0\nalloc_folio order=9 node=0\nget_folio folio=31\n",
       [](Differential &d) {
         d.shared().poke(Machine::field(head_of(d.shared()) + 129 * 64, sp::kCounts),
                         sp::counts(2, sp::kMapcountNone));
       },
       1},
      // Folio 0's head vmemmap page remapped to another frame (folio 1's
      // head page, whose optimize split the PMD both share) and flushed:
      // the translation changes (and both frames' map counts, which the
      // journal sees as well).
      {"memo_head_page_remapped", k4,
       "alloc_folio order=9 node=0\nalloc_folio order=9 node=0\noptimize folio=1\n"
       "get_folio folio=31\n",
       [](Differential &d) {
         Machine &m = d.legacy().machine();
         const uint64_t ps = m.cfg.page_size();
         const uint64_t h0 = m.page(m.folios.at(0).pfn) & ~(ps - 1);
         const uint64_t h1 = m.page(m.folios.at(1).pfn) & ~(ps - 1);
         const size_t pmd = m.pt.pmd_index(h0);
         if (m.pt.pmd(pmd).kind != PmdKind::Table)
           return;  // only a split PMD has a PTE to change (the test checks the divergence)
         d.legacy().poke_pte(h0, m.pt.ptep_get(h1).frame, false);
         m.pt.flush_tlb_all();
       },
       2},
  };
}

class DifferentialPlanted : public testing::TestWithParam<Plant> {};

TEST_P(DifferentialPlanted, SameDivergenceBothWays) {
  const Plant &p = GetParam();
  const Scenario s = test::planted_scenario(std::string(p.config) + "\n" + p.ops);
  const uint64_t before = differential_uniform_runs;
  EXPECT_EQ(both_ways(s, fuzz_target_options(), p.plant, p.after), "");
  Reference mode(true);
  Differential ref(s.config, fuzz_target_options());
  run(ref, s, p.plant, p.after);
  EXPECT_TRUE(ref.result().diverged) << "the plant made no divergence: the comparison is vacuous";
  EXPECT_EQ(ref.result().op_index, p.after + 1) << "the plant should show at the op after it";
  RecordProperty("divergence", ref.result().format());
  EXPECT_GT(differential_uniform_runs, before) << "no run was compared";
}

INSTANTIATE_TEST_SUITE_P(Plants, DifferentialPlanted, testing::ValuesIn(plants()),
                         [](const testing::TestParamInfo<Plant> &i) { return std::string(i.param.name); });

}  // namespace
}  // namespace hvo
