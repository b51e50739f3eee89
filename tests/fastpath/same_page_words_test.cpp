// SPDX-License-Identifier: GPL-2.0-only
//
// ImagePool::same_page_words (the per-field page comparison restore
// fidelity uses first) against materialised pages: whenever it says "equal"
// every word is equal (soundness), and for pages that are equal by
// construction -- one page's description shifted to another origin, as a
// restore's copy is -- it says so (the case it exists for).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hvo/frame_image.h"
#include "image_pool_geometries.h"

namespace hvo {
namespace {

using test::ImageGeo;

FieldSpec random_field(std::mt19937_64 &rng) {
  FieldSpec f;
  const uint64_t literals[] = {0, 1, 0x400, 0xffffffff00000000ull, 0x8000000000000000ull};
  f.literal = rng() % 4 ? literals[rng() % 5] : rng();
  f.rel = static_cast<FieldRel>(rng() % 3);
  f.order = f.rel == FieldRel::FolioHead ? static_cast<uint8_t>(rng() % 12) : 0;
  return f;
}

// The description of `a`'s page at origin `oa` rewritten for origin `ob`
// (slot delta D), when every field can be: the same words, moved.
bool shifted(const ImagePool::Fields &a, int64_t D, uint64_t S, ImagePool::Fields &b) {
  for (size_t f = 0; f < a.size(); f++) {
    b[f] = a[f];
    if (a[f].rel == FieldRel::None)
      continue;
    if (a[f].rel == FieldRel::FolioHead && (static_cast<uint64_t>(D) & ((uint64_t{1} << a[f].order) - 1)))
      return false;
    b[f].literal = a[f].literal - static_cast<uint64_t>(D) * S;
  }
  return true;
}

class SamePageWords : public testing::TestWithParam<ImageGeo> {};

TEST_P(SamePageWords, NeverClaimsEqualityOfDifferentPagesAndFindsShiftedCopies) {
  ImagePool pool = test::make_image_pool(GetParam());
  const ImageGeometry &g = pool.geometry();
  const unsigned W = g.words_per_struct_page;
  std::mt19937_64 rng(GetParam().page_shift * 100 + GetParam().struct_page);
  std::vector<uint64_t> pa(g.words_per_page), pb(g.words_per_page);
  unsigned claimed = 0, shifted_found = 0, shifted_total = 0;
  for (unsigned i = 0; i < 3000; i++) {
    ImagePool::Fields fa{};
    for (unsigned f = 0; f < W; f++)
      fa[f] = random_field(rng);
    const uint64_t oa = 1000 + rng() % 64;
    // A partner: shifted copy (equal words), a mutated one, or unrelated.
    const uint64_t ob = rng() % 4 ? 1000 + rng() % 64 : oa;  // often inside one folio
    const int64_t dwords = (static_cast<int64_t>(ob) - static_cast<int64_t>(oa)) *
                           static_cast<int64_t>(g.words_per_page);
    ImagePool::Fields fb{};
    bool equal_by_construction = dwords % W == 0 &&
                                 shifted(fa, dwords / static_cast<int64_t>(W), g.struct_page_size, fb);
    if (!equal_by_construction || rng() % 3 == 0) {
      equal_by_construction = false;
      for (unsigned f = 0; f < W; f++)
        fb[f] = rng() % 2 ? fa[f] : random_field(rng);
    }
    uint32_t a = pool.intern(fa), b = pool.intern(fb);
    // Overrides on either side, sometimes with the value the word had.
    for (uint32_t *id : {&a, &b}) {
      if (rng() % 3)
        continue;
      const uint64_t origin = id == &a ? oa : ob;
      *id = pool.unshare(*id);
      for (unsigned k = 0, n = 1 + rng() % 4; k < n; k++) {
        const uint64_t w = rng() % g.words_per_page;
        const uint64_t v = rng() % 2 ? pool.word(*id, origin, w) : rng();
        pool.store_word(*id, origin, w, v);
      }
    }
    pool.read_page(a, oa, pa.data());
    pool.read_page(b, ob, pb.data());
    // Sometimes one field is left out (the oracle leaves out tails' lru.prev).
    const uint32_t ignored = rng() % 3 == 0 ? 1u << (rng() % W) : 0;
    if (ignored && dwords % W == 0)
      for (uint64_t w = 0; w < g.words_per_page; w++)
        if ((ignored >> ((oa * g.words_per_page + w) % W)) & 1)
          pa[w] = pb[w] = 0;
    const bool words_equal = pa == pb;
    const bool claim = pool.same_page_words(a, oa, b, ob, ignored);
    ASSERT_TRUE(!claim || words_equal) << "claimed equal pages that differ, case " << i;
    EXPECT_EQ(claim, pool.same_page_words(b, ob, a, oa, ignored)) << "not symmetric, case " << i;
    claimed += claim;
    // Two pure pages (no overrides) are decided exactly: the per-field
    // forms cover every way their words can agree.
    if (pool.at(a).pure() && pool.at(b).pure())
      EXPECT_EQ(claim, words_equal) << "pure pages, case " << i;
    if (equal_by_construction && pool.at(a).pure() && pool.at(b).pure()) {
      shifted_total++;
      shifted_found += claim;
      EXPECT_TRUE(words_equal);
    }
    pool.put(a);
    pool.put(b);
  }
  EXPECT_GT(claimed, 100u);
  EXPECT_GT(shifted_total, 50u);
  EXPECT_EQ(shifted_found, shifted_total) << "a shifted copy was not recognised";
}

INSTANTIATE_TEST_SUITE_P(Geometries, SamePageWords,
                         test::image_geometries(), test::image_geometry_name);

}  // namespace
}  // namespace hvo
