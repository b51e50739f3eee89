// SPDX-License-Identifier: GPL-2.0-only
//
// The annotated trace printer (see trace.h).
#include "hvo/fuzz/trace.h"

namespace hvo::fuzz {

std::string format_result(const StepResult &r) {
  std::string s = "-> " + format_ret(r.result.ret);
  if (!r.result.note.empty())
    s += " " + r.result.note;
  if (!r.violations.empty())
    s += " [" + std::to_string(r.violations.size()) + " violation" +
         (r.violations.size() == 1 ? "" : "s") + "]";
  return s;
}

std::string format_trace(const Scenario &s, const std::vector<StepResult> &results) {
  std::string out = print_config(s.config) + "\n";
  for (size_t i = 0; i < s.ops.size(); ++i) {
    out += print_op(s.ops[i]);
    if (i >= results.size()) {
      out += "  # (not run)\n";
      continue;
    }
    out += "  # " + format_result(results[i]) + "\n";
    for (const Violation &v : results[i].violations)
      out += "#   VIOLATION " + format_violation(v) + "\n";
  }
  return out;
}

} // namespace hvo::fuzz
