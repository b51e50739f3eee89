// SPDX-License-Identifier: GPL-2.0-only
//
// A run as a harness sees it (see harness_trace.h).
#include "harness_trace.h"

#include "hvo/fuzz/trace.h"

namespace hvo::test {

std::string harness_trace(Model &md, const Scenario &s,
                          const std::function<void(const Op &, const StepResult &)> &after_op) {
  std::string out;
  for (const Op &op : s.ops) {
    StepResult r = md.apply(op);
    out += fuzz::format_result(r) + "\n";
    for (const Violation &v : r.violations)
      out += "  " + format_violation(v) + "\n";
    if (after_op)
      after_op(op, r);
  }
  for (const Violation &v : md.check_all())
    out += "final " + format_violation(v) + "\n";
  return out;
}

}  // namespace hvo::test
