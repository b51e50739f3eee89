// SPDX-License-Identifier: GPL-2.0-only
//
// Regression scenario text (see regress.h).
#include "hvo/triage/regress.h"

#include "hvo/triage/input.h"

namespace hvo::triage {

namespace {

std::string regression_header(const Signature &sig, std::string_view provenance) {
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
  return out;
}

}  // namespace

std::string format_regression(const Scenario &s, const Signature &sig, std::string_view provenance) {
  return regression_header(sig, provenance) + print_scenario(s);
}

std::string format_race_regression(const fuzz::RaceInput &in, const BugSet &bugs, const Signature &sig,
                                   std::string_view provenance) {
  std::string out = regression_header(sig, provenance);
  if (bugs.any())
    out += "# bugs: " + bug_names(bugs) + "\n";
  return out + fuzz::print_race_input(in) + "\n";
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
  // The same reader as hvo-triage: scenario or race text, by content.
  TriageInput in;
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t *>(text.data()), text.size());
  LoadOptions opts;
  opts.format = InputFormat::Scenario;
  v.error = load_input_bytes(std::string(name), bytes, opts, in);
  if (!v.error.empty())
    return v;
  v.expect = read_expect_line(text);
  if (v.expect.empty()) {
    v.error = std::string(name) + ": no '# expect:' line";
    return v;
  }
  v.bugs = bug_names(input_bugs(in));
  RunOutcome as_written = run_input(in);
  if (!as_written.model_error.empty()) {
    v.error = std::string(name) + ": the configuration does not boot: " + as_written.model_error;
    return v;
  }
  v.with_bugs = signature_of_input(in, as_written);
  in.scenario.config.bugs.reset();
  in.race_bugs.reset();
  v.without_bugs = signature_of_input(in, run_input(in));
  return v;
}

}  // namespace hvo::triage
