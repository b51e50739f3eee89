// SPDX-License-Identifier: GPL-2.0-only
//
// ImagePool::same_page (the word-for-word comparison that guards
// Mmu::rebase's shifted copies and DAX's reused first pages) decides equal
// pages from their field descriptions first (same_page_words) and compares
// the materialised words only where that cannot say.  Pinned against the
// rule it replaces, same_page_materialized_reference (always the words):
//   * random image pairs -- copies shifted as Mmu::rebase shifts them, the
//     same copies shifted wrongly (a FolioHead field moved like a Self one,
//     or one folio too far: the mistakes the guard is there to catch),
//     unrelated partners, overrides on either side, dense copies of the
//     same words (which the descriptions cannot show) -- the same answer as
//     the reference and as the words themselves;
//   * whole runs of the corpus, mutants, random inputs and the libFuzzer
//     inputs of demote_mutant_inputs.txt, both ways: the same harness trace,
//     faults and changed frames in order, the same number of shifted
//     rebases, and the same machine down to its image bookkeeping.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hvo/frame_image.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/mmu.h"
#include "hvo/model.h"
#include "harness_trace.h"
#include "image_pool_geometries.h"
#include "machine_state.h"

namespace hvo {
namespace {

struct Materialized : test::ScopedSwitch {
  explicit Materialized(bool on) : ScopedSwitch(ImagePool::same_page_materialized_reference, on) {}
};

using test::ImageGeo;

FieldSpec random_field(std::mt19937_64 &rng, unsigned max_order) {
  FieldSpec f;
  const uint64_t literals[] = {0, 1, 0x400, 0xffffffff00000000ull};
  f.literal = rng() % 4 ? literals[rng() % 4] : rng();
  f.rel = static_cast<FieldRel>(rng() % 3);
  f.order = f.rel == FieldRel::FolioHead ? static_cast<uint8_t>(rng() % max_order) : 0;
  return f;
}

// How the partner of a page is made from it.
enum class Partner { RebaseShift, FolioHeadAsSelf, OneFolioTooFar, Mutated, Unrelated };

// `a`'s description made for vmemmap page `o` rewritten for page `v` the
// way Mmu::rebase does (mmu.cpp), or with one of two wrong FolioHead shifts.
ImagePool::Fields shift_for(const ImagePool::Fields &a, uint64_t o, uint64_t v, uint64_t spp,
                            uint64_t S, Partner how) {
  ImagePool::Fields b = a;
  for (FieldSpec &fs : b) {
    if (fs.rel == FieldRel::Self || (fs.rel == FieldRel::FolioHead && how == Partner::FolioHeadAsSelf)) {
      fs.literal += (o - v) * spp * S;
    } else if (fs.rel == FieldRel::FolioHead) {
      const uint64_t keep = ~((uint64_t{1} << fs.order) - 1);
      fs.literal += (((o * spp) & keep) - ((v * spp) & keep)) * S;
      if (how == Partner::OneFolioTooFar)
        fs.literal += (uint64_t{1} << fs.order) * S;
    }
  }
  return b;
}

class ImageSamePage : public testing::TestWithParam<ImageGeo> {};

TEST_P(ImageSamePage, AnswersAsTheWordsDo) {
  ImagePool pool = test::make_image_pool(GetParam());
  const ImageGeometry &g = pool.geometry();
  const unsigned W = g.words_per_struct_page;
  const uint64_t spp = g.words_per_page / W;  // exact for the power-of-two sizes rebase shifts
  std::mt19937_64 rng(GetParam().page_shift * 7 + GetParam().struct_page);
  std::vector<uint64_t> scratch, pa(g.words_per_page), pb(g.words_per_page);
  unsigned decided_by_fields = 0, equal = 0, dense_equal = 0, wrong_shift_rejected = 0, rebase_shift_equal = 0;
  for (unsigned i = 0; i < 4000; i++) {
    ImagePool::Fields fa{};
    for (unsigned f = 0; f < W; f++)
      fa[f] = random_field(rng, 14);
    // Pages of one 1 GiB folio's vmemmap, often the first of a folio.
    const uint64_t oa = 4096 + rng() % 96, ob = rng() % 5 ? 4096 + rng() % 96 : oa;
    const Partner how = static_cast<Partner>(rng() % 5);
    ImagePool::Fields fb = fa;
    if (how == Partner::Unrelated) {
      for (unsigned f = 0; f < W; f++)
        fb[f] = random_field(rng, 14);
    } else if (how != Partner::Mutated) {
      fb = shift_for(fa, oa, ob, spp, g.struct_page_size, how);
    }
    if (how == Partner::Mutated || rng() % 8 == 0)
      fb[rng() % W] = random_field(rng, 14);
    uint32_t a = pool.intern(fa), b = pool.intern(fb);
    // Overrides as a restore leaves them (the first struct pages rewritten),
    // carried to the partner as Mmu::rebase carries them, or made apart.
    if (rng() % 2) {
      a = pool.unshare(a);
      for (unsigned k = 0, n = 1 + rng() % 12; k < n; k++) {
        const uint64_t w = rng() % 2 ? rng() % (4 * W) : rng() % g.words_per_page;
        pool.store_word(a, oa, w, rng() % 3 ? pool.word(a, oa, w) + 8 * (rng() % 3) : rng());
      }
      if (!pool.at(a).overrides.empty() && rng() % 4) {
        b = pool.unshare(b);
        for (const auto &[w, v] : std::vector(pool.at(a).overrides))
          pool.store_word(b, ob, w, rng() % 16 ? v : v + 1);
      }
    }
    // The partner as a dense copy of its words (a frame written word by word
    // past the override limit): same words, which the field descriptions
    // cannot show.
    const bool dense = rng() % 6 == 0;
    if (dense) {
      b = pool.unshare(b);
      pool.make_dense(b, ob);
    }
    pool.read_page(a, oa, pa.data());
    pool.read_page(b, ob, pb.data());
    const bool words_equal = pa == pb;
    bool fast, ref;
    {
      Materialized mode(false);
      fast = pool.same_page(a, oa, b, ob, scratch);
    }
    {
      Materialized mode(true);
      ref = pool.same_page(a, oa, b, ob, scratch);
    }
    ASSERT_EQ(fast, words_equal) << "case " << i << " oa " << oa << " ob " << ob;
    ASSERT_EQ(ref, words_equal) << "case " << i;
    decided_by_fields += pool.same_page_words(a, oa, b, ob);
    equal += words_equal;
    dense_equal += dense && words_equal;
    if (!words_equal && (how == Partner::FolioHeadAsSelf || how == Partner::OneFolioTooFar))
      wrong_shift_rejected++;
    if (how == Partner::RebaseShift && words_equal && pool.at(a).pure() && pool.at(b).pure())
      rebase_shift_equal++;
    pool.put(a);
    pool.put(b);
  }
  // Both answers occur, the field shortcut decides many of the equal pairs,
  // and wrongly shifted copies do reach the comparison and are refused.
  // (72/80-byte struct pages: rebase does not shift there, and a page's
  // copy at another origin rarely puts its fields at the same words.)
  const bool pow2 = g.words_per_page % W == 0;
  EXPECT_GT(equal, pow2 ? 400u : 150u);
  EXPECT_GT(decided_by_fields, pow2 ? 300u : 150u);
  EXPECT_GT(wrong_shift_rejected, 100u);
  EXPECT_GT(dense_equal, 30u);
  if (pow2)
    EXPECT_GT(rebase_shift_equal, 100u);
}

INSTANTIATE_TEST_SUITE_P(Geometries, ImageSamePage, test::image_geometries(),
                         test::image_geometry_name);

// The fuzz inputs of demote_mutant_inputs.txt for `target`, decoded.
std::vector<Scenario> mutant_inputs(const fuzz::TargetProfile &p) {
  std::vector<Scenario> out;
  std::ifstream in(std::string(HVO_FASTPATH_DIR) + "/demote_mutant_inputs.txt");
  EXPECT_TRUE(in) << "cannot open demote_mutant_inputs.txt";
  std::string line;
  unsigned lineno = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream ls(line);
    std::string target, hex;
    ls >> target >> hex;
    EXPECT_TRUE(!target.empty() && hex.size() % 2 == 0) << "demote_mutant_inputs.txt:" << lineno;
    if (target != p.name)
      continue;
    std::vector<uint8_t> bytes;
    for (size_t k = 0; k + 1 < hex.size(); k += 2)
      bytes.push_back(static_cast<uint8_t>(std::stoul(hex.substr(k, 2), nullptr, 16)));
    out.push_back(fuzz::decode_input(p, bytes));
  }
  return out;
}

// What the harness sees of `s` on `md`, then the faults and changed frames
// in order and the number of shifted rebases it made.
std::string run_text(Model &md, const Scenario &s, bool reference) {
  Materialized mode(reference);
  const uint64_t rebases_before = Mmu::pure_rebases;
  std::string out = test::harness_trace(md, s);
  out += test::faults_and_changed_text(md);
  return out + "shifted rebases: " + std::to_string(Mmu::pure_rebases - rebases_before) + "\n";
}

struct Target {
  const char *name;
  uint64_t min_rebases;  // shifted rebases the inputs must make, or the pin is vacuous
};

class ImageSamePageRuns : public testing::TestWithParam<Target> {};

TEST_P(ImageSamePageRuns, SameResultsAndMachineBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam().name);
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(6061);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
  for (unsigned k = 0; k < 16; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 64));
  for (Scenario &s : mutant_inputs(*p))
    inputs.push_back(std::move(s));
  const uint64_t rebases_before = Mmu::pure_rebases;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    Model fast(s.config), slow(s.config);
    const std::string a = run_text(fast, s, false);
    const std::string b = run_text(slow, s, true);
    ASSERT_EQ(a, b) << GetParam().name << " input " << i;
    // The same decisions: the same images, not only the same words.
    EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << "input " << i;
    i++;
  }
  EXPECT_GE(Mmu::pure_rebases - rebases_before, GetParam().min_rebases)
      << "the inputs hardly shifted a restored copy: the comparison is vacuous";
}

INSTANTIATE_TEST_SUITE_P(Targets, ImageSamePageRuns,
                         testing::Values(Target{"hvo_fuzz_boot", 1000}, Target{"hvo_fuzz_hugetlb", 50},
                                         Target{"hvo_fuzz_compound_head", 1000},
                                         Target{"hvo_fuzz_differential", 0}, Target{"hvo_fuzz_dax", 0}),
                         [](const testing::TestParamInfo<Target> &i) {
                           return std::string(i.param.name).substr(9);  // drop "hvo_fuzz_"
                         });

}  // namespace
}  // namespace hvo
