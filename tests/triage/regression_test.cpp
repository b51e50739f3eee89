// SPDX-License-Identifier: GPL-2.0-only
//
// Every regression scenario hvo-triage wrote into tests/triage/regressions/
// (`hvo-triage regress CRASH -o tests/triage/regressions/`): with the bug
// switches of its config line off, every invariant holds (the bug stays
// fixed); with them on, the crash in its "# expect:" line reproduces (the
// scenario still reaches the code the bug was in).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hvo/triage/regress.h"

namespace hvo::triage {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> regression_files() {
  std::vector<std::string> out;
  if (fs::is_directory(HVO_TRIAGE_REGRESSIONS))
    for (const auto &e : fs::directory_iterator(HVO_TRIAGE_REGRESSIONS))
      if (e.path().extension() == ".hvo")
        out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

class Regression : public testing::TestWithParam<std::string> {};

TEST_P(Regression, InvariantsHoldWithTheBugOffAndTheCrashReproducesWithItOn) {
  std::ifstream in(GetParam(), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  RegressionVerdict v = check_regression(ss.str(), GetParam());
  ASSERT_EQ(v.error, "");
  EXPECT_TRUE(v.holds()) << GetParam() << ": with bug switches off: " << v.without_bugs.key();
  if (!v.bugs.empty())
    EXPECT_TRUE(v.reproduces()) << GetParam() << ": with " << v.bugs << " on expected " << v.expect
                                << ", got '" << v.with_bugs.key() << "'";
}

INSTANTIATE_TEST_SUITE_P(Stored, Regression, testing::ValuesIn(regression_files()),
                         [](const testing::TestParamInfo<std::string> &info) {
                           std::string n = fs::path(info.param).stem().string();
                           for (char &c : n)
                             if (!isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Regression);

}  // namespace
}  // namespace hvo::triage
