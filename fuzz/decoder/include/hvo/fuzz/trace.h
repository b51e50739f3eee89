// SPDX-License-Identifier: GPL-2.0-only
//
// The decoded operation trace, printed in hvo-sim's scenario text form: the
// config line, then one op per line, each followed by a comment with what
// the op returned and which invariants it broke.  Comments are ignored by
// the scenario parser, so a printed trace is itself a scenario: save it to
// a file and `hvo-sim` replays it.  Used by the fuzz targets' crash reports,
// by the replay drivers and by hvo-triage.
#pragma once

#include <string>
#include <vector>

#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo::fuzz {

// `results` may be shorter than `s.ops` (a run that stopped early); ops
// without a result are printed with "# (not run)".
std::string format_trace(const Scenario &s, const std::vector<StepResult> &results);

// One op's result comment, without the leading "# ": "-> 0 optimized".
std::string format_result(const StepResult &r);

} // namespace hvo::fuzz
