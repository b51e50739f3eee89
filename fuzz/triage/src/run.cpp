// SPDX-License-Identifier: GPL-2.0-only
//
// Scenario replay and crash signatures (see run.h).
#include "hvo/triage/run.h"

#include <memory>

#include "hvo/concurrency/scenarios.h"
#include "hvo/fuzz/outcome.h"

namespace hvo::triage {

namespace {

// The fuzz harness's digest, so a difference between two replays means the
// same thing as the replay driver's --twice mismatch.
using Digest = fuzz::OutcomeDigest;

}  // namespace

RunOutcome run_scenario(const Scenario &s) {
  RunOutcome out;
  std::unique_ptr<Model> model = Model::create(s.config, &out.model_error);
  if (!model)
    return out;
  Digest d;
  out.results.reserve(s.ops.size());
  for (size_t i = 0; i < s.ops.size(); ++i) {
    out.results.push_back(model->apply(s.ops[i]));
    d.step(out.results.back());
    if (!out.results.back().violations.empty()) {
      out.crashed = true;
      out.failing_op = i;
      out.all = out.results.back().violations;
      out.first = out.all.front();
      out.digest = d.h;
      return out;
    }
  }
  std::vector<Violation> final_check = model->check_all();
  for (const Violation &v : final_check)
    d.str(format_violation(v));
  if (!final_check.empty()) {
    out.crashed = true;
    out.in_final_check = true;
    out.failing_op = s.ops.size();
    out.all = final_check;
    out.first = final_check.front();
  }
  out.digest = d.h;
  return out;
}

RunOutcome run_race(const fuzz::RaceInput &in, const BugSet &bugs) {
  RunOutcome out;
  Config cfg;
  cfg.bugs = bugs;
  concurrency::ScenarioRun run = concurrency::run_scenario(in.kind, fuzz::race_options(in, cfg), in.schedule);
  // The same verdict as fuzz/harness's run_race_input.
  if (run.run.step_limit_hit)
    run.violations.insert(run.violations.begin(),
                          Violation{"R-step-limit", 0, 0, UINT64_MAX, "every thread finishes",
                                    "step limit hit", "a thread spins: livelock in the scenario"});
  Digest d;
  d.str(run.trace);
  for (const Violation &v : run.violations)
    d.str(format_violation(v));
  out.digest = d.h;
  out.race_trace = run.trace;
  if (!run.violations.empty()) {
    out.crashed = true;
    out.all = run.violations;
    out.first = run.violations.front();
  }
  return out;
}

Signature race_signature_of(const fuzz::RaceInput &in, const BugSet &bugs, const RunOutcome &r) {
  Signature sig;
  if (!r.crashed)
    return sig;
  // "race scenario=K [opts] schedule=.." -> op "race K", class "[opts]".
  std::string text = fuzz::print_race_input(in), kind, opts;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t sp = text.find(' ', pos);
    std::string tok = text.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    pos = sp == std::string::npos ? text.size() : sp + 1;
    if (tok.rfind("scenario=", 0) == 0)
      kind = tok.substr(9);
    else if (tok != "race" && tok.rfind("schedule=", 0) != 0)
      opts += (opts.empty() ? "" : " ") + tok;
  }
  sig.invariant = r.first.id;
  sig.op = "race " + kind;
  const bool legacy = in.kind == concurrency::ScenarioKind::SpeculativeReader && in.era == Era::Legacy;
  sig.era = legacy ? "legacy" : "shared-tail";
  sig.config_class = opts;
  const std::string b = bug_names(bugs);
  if (!b.empty())
    sig.config_class += " bugs=" + b;
  return sig;
}

std::string era_name(Era e) { return e == Era::Legacy ? "legacy" : "shared-tail"; }

std::string bug_names(const BugSet &b) {
  std::string s;
  for (unsigned i = 0; i < kMaxBugSwitches; ++i)
    if (b.test(i)) {
      std::string_view name = bug_switch_name(i);
      s += (s.empty() ? "" : ",") + (name.empty() ? "bit" + std::to_string(i) : std::string(name));
    }
  return s;
}

std::string config_class(const Config &c) {
  // 72- and 80-byte struct pages are one class: HVO is gated off for both.
  std::string s = format_size(c.page_size()) +
                  (c.struct_page_pow2() ? " sp" + std::to_string(c.struct_page_size) : " sp-not-pow2");
  // The variant's name as the config line spells it (one printer for it).
  const std::string line = print_config(c);
  if (size_t at = line.find(" variant="); at != std::string::npos)
    s += " " + line.substr(at + 9, line.find(' ', at + 9) - (at + 9));
  s += c.hvo_enabled ? " hvo=on" : " hvo=off";
  // Another architecture's population is another path: its own class
  // (x86-64, the default, stays unnamed so existing signatures hold).
  if (c.arch != Arch::X86_64)
    s += " " + std::string(arch_name(c.arch));
  const std::string bugs = bug_names(c.bugs);
  if (!bugs.empty())
    s += " bugs=" + bugs;
  return s;
}

Signature coarsen(const Signature &s, unsigned parts) {
  Signature c = s;
  if (!(parts & kPartInvariant))
    c.invariant = "*";
  if (!(parts & kPartOp))
    c.op = "*";
  if (!(parts & kPartEra))
    c.era = "*";
  if (!(parts & kPartConfig))
    c.config_class = "*";
  return c;
}

std::string parse_signature_parts(std::string_view text, unsigned &parts) {
  parts = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (name == "invariant")
      parts |= kPartInvariant;
    else if (name == "op")
      parts |= kPartOp;
    else if (name == "era")
      parts |= kPartEra;
    else if (name == "config")
      parts |= kPartConfig;
    else
      return "unknown signature part '" + std::string(name) + "' (invariant, op, era, config)";
  }
  return parts ? "" : "no signature part given (invariant, op, era, config)";
}

Signature signature_of(const Scenario &s, const RunOutcome &r) {
  Signature sig;
  if (!r.crashed)
    return sig;
  sig.invariant = r.first.id;
  if (r.in_final_check) {
    sig.op = "check_all";
  } else {
    const auto table = op_table();
    const Op &op = s.ops[r.failing_op];
    sig.op = op.kind < table.size() ? std::string(table[op.kind].name) : "invalid_op";
  }
  sig.era = era_name(s.config.era);
  sig.config_class = config_class(s.config);
  return sig;
}

}  // namespace hvo::triage
