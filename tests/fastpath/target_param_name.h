// SPDX-License-Identifier: GPL-2.0-only
//
// The test-name generator of the fast-path suites parameterised by fuzz
// target: "hvo_fuzz_hugetlb" runs as .../hugetlb.
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace hvo::test {

struct TargetParamName {
  std::string operator()(const testing::TestParamInfo<const char *> &info) const {
    return std::string(info.param).substr(sizeof("hvo_fuzz_") - 1);
  }
};

} // namespace hvo::test
