// SPDX-License-Identifier: GPL-2.0-only
//
// The page and struct page geometries the ImagePool tests run under, and a
// pool for one of them: shared by the same_page_words pins so each covers
// the same five shapes (4K pages with 64/72/80-byte struct pages, 16K, 64K).
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "hvo/frame_image.h"

namespace hvo::test {

struct ImageGeo {
  unsigned page_shift, struct_page;
};

inline ImagePool make_image_pool(ImageGeo g) {
  ImageGeometry geo;
  geo.vmemmap_base = 0xffffea0000000000ull;
  geo.struct_page_size = g.struct_page;
  geo.words_per_page = (uint64_t{1} << g.page_shift) / 8;
  geo.words_per_struct_page = g.struct_page / 8;
  return ImagePool(geo);
}

inline auto image_geometries() {
  return testing::Values(ImageGeo{12, 64}, ImageGeo{12, 72}, ImageGeo{12, 80}, ImageGeo{14, 64},
                         ImageGeo{16, 64});
}

// "4K_sp64": the test name suffix of a geometry.
inline std::string image_geometry_name(const testing::TestParamInfo<ImageGeo> &i) {
  return std::to_string(1u << (i.param.page_shift - 10)) + "K_sp" +
         std::to_string(i.param.struct_page);
}

}  // namespace hvo::test
