// SPDX-License-Identifier: GPL-2.0-only
//
// Regression scenarios: the text hvo-triage writes for `regress` and
// `minimize`, and the header the regression test reads back.
//
//   # SPDX-License-Identifier: GPL-2.0-only
//   # <provenance lines>
//   # expect: I7-restore-fidelity | free_folio | legacy | 4K sp64 D612 hvo=on
//   config ...
//   <ops>
//
// tests/triage/regression_test.cpp replays every such file under
// tests/triage/regressions/ twice: with the config line's bug switches off,
// every invariant must hold (the bug stays fixed); with them on, the crash
// in "# expect:" must reproduce (the test can still see the bug).
#pragma once

#include <string>
#include <string_view>

#include "hvo/ops.h"
#include "hvo/fuzz/race_input.h"
#include "hvo/triage/run.h"

namespace hvo::triage {

// The scenario text with a header; `provenance` lines are written as comments.
std::string format_regression(const Scenario &s, const Signature &sig, std::string_view provenance);
// The same for a race: its text form, with the bug switches in "# bugs:".
std::string format_race_regression(const fuzz::RaceInput &in, const BugSet &bugs, const Signature &sig,
                                   std::string_view provenance);

// The signature key of the "# expect:" line, or "" if there is none.
std::string read_expect_line(std::string_view text);
// The value of a "# KEY: value" header line, or "".
std::string read_header(std::string_view text, std::string_view key);

// What the regression test decides for one file.
struct RegressionVerdict {
  std::string error;             // parse error, missing "# expect:" (one line)
  std::string expect;            // the "# expect:" signature key
  std::string bugs;              // the config line's bug switches ("" if none)
  Signature without_bugs;        // empty invariant: every invariant held
  Signature with_bugs;           // the run as written
  bool holds() const { return error.empty() && without_bugs.invariant.empty(); }
  bool reproduces() const { return error.empty() && with_bugs.key() == expect; }
};
RegressionVerdict check_regression(std::string_view text, std::string_view name);

}  // namespace hvo::triage
