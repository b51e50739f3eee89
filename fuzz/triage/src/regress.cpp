// SPDX-License-Identifier: GPL-2.0-only
//
// Regression scenario text (see regress.h).
#include "hvo/triage/regress.h"

namespace hvo::triage {

std::string format_regression(const Scenario &s, const Signature &sig, std::string_view provenance) {
  std::string out = "# SPDX-License-Identifier: GPL-2.0-only\n#\n";
  while (!provenance.empty()) {
    size_t nl = provenance.find('\n');
    std::string_view line = provenance.substr(0, nl);
    provenance = nl == std::string_view::npos ? std::string_view() : provenance.substr(nl + 1);
    out += "# " + std::string(line) + "\n";
  }
  out += "# In tests/triage/regressions/, regression_test.cpp replays this file:\n"
         "# with the config line's bug switches off every invariant must hold;\n"
         "# with them on, the crash named by \"expect\" must reproduce.\n";
  out += "# expect: " + sig.key() + "\n";
  out += print_scenario(s);
  return out;
}

std::string read_expect_line(std::string_view text) {
  constexpr std::string_view kTag = "# expect: ";
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.substr(0, kTag.size()) == kTag)
      return std::string(line.substr(kTag.size()));
  }
  return "";
}

}  // namespace hvo::triage
