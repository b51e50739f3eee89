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

std::string read_expect_line(std::string_view text) { return read_header(text, "expect"); }

std::string read_header(std::string_view text, std::string_view key) {
  const std::string tag = "# " + std::string(key) + ": ";
  const std::string_view kTag = tag;
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

RegressionVerdict check_regression(std::string_view text, std::string_view name) {
  RegressionVerdict v;
  Scenario s;
  if (!parse_scenario(text, name, s, v.error))
    return v;
  v.expect = read_expect_line(text);
  if (v.expect.empty()) {
    v.error = std::string(name) + ": no '# expect:' line";
    return v;
  }
  v.bugs = bug_names(s.config.bugs);
  RunOutcome as_written = run_scenario(s);
  if (!as_written.model_error.empty()) {
    v.error = std::string(name) + ": the configuration does not boot: " + as_written.model_error;
    return v;
  }
  v.with_bugs = signature_of(s, as_written);
  s.config.bugs.reset();
  v.without_bugs = signature_of(s, run_scenario(s));
  return v;
}

}  // namespace hvo::triage
