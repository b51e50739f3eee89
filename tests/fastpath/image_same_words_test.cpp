// SPDX-License-Identifier: GPL-2.0-only
//
// ImagePool::same_page_words' merged walk over the two override lists
// against the rule it replaces (same_page_words_reference: each list
// compared against word() of the other frame).  Random image pairs with
// overrides on either side, on both sides at the same words, with the value
// the word already had, with left-out fields: the same answer every time.
// Then whole runs (corpus, mutants, random inputs) of every target whose
// restores reach the fidelity check, both ways, for that switch and for
// keep_equal_overrides (store_word dropping a store equal to the field):
// the same harness trace, faults and changed frames, and the same machine.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "hvo/differential.h"
#include "hvo/frame_image.h"
#include "image_pool_geometries.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/trace.h"
#include "hvo/model.h"
#include "harness_trace.h"
#include "machine_state.h"

namespace hvo {
namespace {

struct ReferenceWalk : test::ScopedSwitch {
  explicit ReferenceWalk(bool on) : ScopedSwitch(ImagePool::same_page_words_reference, on) {}
};

using test::ImageGeo;

FieldSpec random_field(std::mt19937_64 &rng) {
  FieldSpec f;
  const uint64_t literals[] = {0, 1, 0x400, 0xffffffff00000000ull};
  f.literal = rng() % 4 ? literals[rng() % 4] : rng();
  f.rel = static_cast<FieldRel>(rng() % 4 % 3);  // literals twice as often
  f.order = f.rel == FieldRel::FolioHead ? static_cast<uint8_t>(rng() % 12) : 0;
  return f;
}

// The description of `a`'s page at one origin rewritten for an origin D
// struct pages further (the same words, moved), as far as each field can
// be; a FolioHead field that cannot stays as it is.
void shifted(const ImagePool::Fields &a, int64_t D, uint64_t S, ImagePool::Fields &b) {
  for (size_t f = 0; f < a.size(); f++) {
    b[f] = a[f];
    if (a[f].rel == FieldRel::None ||
        (a[f].rel == FieldRel::FolioHead &&
         (static_cast<uint64_t>(D) & ((uint64_t{1} << a[f].order) - 1))))
      continue;
    b[f].literal = a[f].literal - static_cast<uint64_t>(D) * S;
  }
}

class ImageSameWords : public testing::TestWithParam<ImageGeo> {};

TEST_P(ImageSameWords, MergedWalkAnswersAsTheReference) {
  ImagePool pool = test::make_image_pool(GetParam());
  const ImageGeometry &g = pool.geometry();
  const unsigned W = g.words_per_struct_page;
  std::mt19937_64 rng(GetParam().page_shift * 1000 + GetParam().struct_page);
  unsigned both_overridden_equal = 0, differ = 0;
  for (unsigned i = 0; i < 6000; i++) {
    ImagePool::Fields fa{};
    for (unsigned f = 0; f < W; f++)
      fa[f] = random_field(rng);
    // Same origin or another page (pages of one folio, or of neighbours).
    const uint64_t oa = 100 + rng() % 64;
    const uint64_t ob = rng() % 3 == 0 ? oa : 100 + rng() % 64;
    // The partner: the same fields (a restore's copy), the same words
    // described for the other origin (what equal pages at two addresses
    // look like), and sometimes one field changed.
    ImagePool::Fields fb = fa;
    const int64_t dwords = (static_cast<int64_t>(ob) - static_cast<int64_t>(oa)) *
                           static_cast<int64_t>(g.words_per_page);
    if (rng() % 2 && dwords % W == 0)
      shifted(fa, dwords / static_cast<int64_t>(W), g.struct_page_size, fb);
    if (rng() % 4 == 0)
      fb[rng() % W] = random_field(rng);
    uint32_t a = pool.intern(fa), b = pool.intern(fb);
    // Overrides: none, on one side, or on both, often at the same words
    // (a restore's reset slots) and often with the value already there.
    const unsigned shape = rng() % 4;
    // Half the images keep stores equal to the field as overrides (what a
    // merged walk meets when the two frames override the same words).
    test::ScopedSwitch keep(ImagePool::keep_equal_overrides, rng() % 2);
    std::vector<uint64_t> words;
    for (unsigned k = 0, n = 1 + rng() % 16; k < n; k++)
      words.push_back(rng() % 2 ? rng() % (4 * W) : rng() % g.words_per_page);
    for (int side = 0; side < 2; side++) {
      if (shape == 0 || (shape == 1 && side == 1) || (shape == 2 && side == 0))
        continue;
      uint32_t &id = side == 0 ? a : b;
      const uint64_t origin = side == 0 ? oa : ob;
      const uint32_t other = side == 0 ? b : a;
      const uint64_t other_origin = side == 0 ? ob : oa;
      id = pool.unshare(id);
      for (uint64_t w : words) {
        if (rng() % 4 == 0)
          continue;
        const unsigned pick = rng() % 16;
        const uint64_t v = pick < 6    ? pool.word(id, origin, w)
                           : pick < 15 ? pool.word(other, other_origin, w)
                                       : rng();
        pool.store_word(id, origin, w, v);
      }
    }
    const uint32_t ignored = rng() % 2 ? 1u << (rng() % W) : 0;
    bool fast, ref;
    {
      ReferenceWalk mode(false);
      fast = pool.same_page_words(a, oa, b, ob, ignored);
    }
    {
      ReferenceWalk mode(true);
      ref = pool.same_page_words(a, oa, b, ob, ignored);
    }
    ASSERT_EQ(fast, ref) << "case " << i << " oa " << oa << " ob " << ob << " shape " << shape;
    both_overridden_equal += fast && !pool.at(a).overrides.empty() && !pool.at(b).overrides.empty();
    differ += !fast && pool.at(a).pure() == false;
    pool.put(a);
    pool.put(b);
  }
  // Both answers occur with overrides in play: the comparison is not vacuous.
  EXPECT_GT(both_overridden_equal, 50u);
  EXPECT_GT(differ, 50u);
}

INSTANTIATE_TEST_SUITE_P(Geometries, ImageSameWords,
                         test::image_geometries(), test::image_geometry_name);

// Whole runs both ways: what the harness sees, the faults in order, the
// frames changed in order, the machine.  `restores` counts the successful
// restores and frees (a free restores an optimized folio first): the ops
// that reach the fidelity check.
std::string run_text(Model &md, const Scenario &s, bool &flag, bool reference,
                     unsigned *restores) {
  test::ScopedSwitch mode(flag, reference);
  std::string out = test::harness_trace(md, s, [restores](const Op &op, const StepResult &r) {
    const std::string_view name = op_table()[op.kind].name;
    *restores += r.result.ret == 0 && (name.starts_with("restore") || name.starts_with("free"));
  });
  return out + test::faults_and_changed_text(md);
}

// Each switch with the targets whose restores reach what it selects.
// The DAX target never restores a folio: min_restores 0 there.
struct Case {
  const char *name;
  bool *flag;
  const char *target;
  unsigned min_restores = 4;
};

class ImageRandom : public testing::TestWithParam<Case> {};

TEST_P(ImageRandom, SameResultsBothWays) {
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam().target);
  ASSERT_NE(p, nullptr);
  std::mt19937 rng(4242);
  std::vector<Scenario> inputs = test::corpus_and_mutants(*p, 2, rng);
  for (unsigned k = 0; k < 16; k++)
    inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 64));
  unsigned restores = 0, i = 0;
  for (const Scenario &s : inputs) {
    Model fast(s.config), slow(s.config);
    unsigned unused = 0;
    const std::string a = run_text(fast, s, *GetParam().flag, false, &restores);
    const std::string b = run_text(slow, s, *GetParam().flag, true, &unused);
    ASSERT_EQ(a, b) << GetParam().target << " input " << i;
    EXPECT_EQ(test::machine_state_diff(fast.machine(), slow.machine()), "") << "input " << i;
    i++;
  }
  EXPECT_GE(restores, GetParam().min_restores)
      << "the inputs hardly restored a folio: the comparison is vacuous";
}

INSTANTIATE_TEST_SUITE_P(
    Switches, ImageRandom,
    testing::Values(Case{"words_hugetlb", &ImagePool::same_page_words_reference, "hvo_fuzz_hugetlb"},
                    Case{"words_compound_head", &ImagePool::same_page_words_reference,
                         "hvo_fuzz_compound_head"},
                    Case{"words_boot", &ImagePool::same_page_words_reference, "hvo_fuzz_boot"},
                    Case{"overrides_hugetlb", &ImagePool::keep_equal_overrides, "hvo_fuzz_hugetlb"},
                    Case{"overrides_compound_head", &ImagePool::keep_equal_overrides,
                         "hvo_fuzz_compound_head"},
                    Case{"overrides_boot", &ImagePool::keep_equal_overrides, "hvo_fuzz_boot"},
                    Case{"overrides_dax", &ImagePool::keep_equal_overrides, "hvo_fuzz_dax", 0}),
    [](const testing::TestParamInfo<Case> &i) { return std::string(i.param.name); });

}  // namespace
}  // namespace hvo
