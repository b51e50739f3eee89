// SPDX-License-Identifier: GPL-2.0-only
//
// `hvo-triage show` (see report.h).
#include "hvo/triage/report.h"

#include <cstdio>
#include <memory>

#include "hvo/diagram.h"
#include "hvo/fuzz/trace.h"

namespace hvo::triage {

namespace {

// The folio whose struct pages hold `v`.  Best first: a live folio that
// owns the pfn, a live folio whose vmemmap pages hold the address (small
// folios share vmemmap pages), then the same for folios already gone.
std::optional<FolioId> folio_of(const Machine &m, const Violation &v, int *rank_out = nullptr) {
  std::optional<FolioId> best;
  int best_rank = 4;
  const uint64_t S = m.cfg.struct_page_size, ps = m.cfg.page_size();
  for (const HugetlbFolio &f : m.folios) {
    const uint64_t n = uint64_t{1} << f.order;
    const uint64_t head = m.cfg.vmemmap_of_pfn(f.pfn);
    const bool by_pfn = v.pfn != UINT64_MAX && v.pfn >= f.pfn && v.pfn < f.pfn + n;
    const bool by_vaddr = v.vaddr && v.vaddr >= (head & ~(ps - 1)) &&
                          v.vaddr < ((head + n * S + ps - 1) & ~(ps - 1));
    if (!by_pfn && !by_vaddr)
      continue;
    const int rank = (f.state == FolioState::Gone ? 2 : 0) + (by_pfn ? 0 : 1);
    if (rank < best_rank) {
      best_rank = rank;
      best = f.id;
    }
  }
  if (rank_out)
    *rank_out = best_rank;
  return best;
}

std::string locate(const Machine &m, FolioId id, const Violation &v) {
  const HugetlbFolio &f = m.folios[id];
  const uint64_t head = m.cfg.vmemmap_of_pfn(f.pfn), S = m.cfg.struct_page_size;
  const uint64_t ps = m.cfg.page_size(), n = uint64_t{1} << f.order;
  const uint64_t addr = v.vaddr ? v.vaddr : m.cfg.vmemmap_of_pfn(v.pfn);
  const uint64_t first = head & ~(ps - 1), end = (head + n * S + ps - 1) & ~(ps - 1);
  if (addr < first || addr >= end)
    return "outside folio " + std::to_string(id) + "'s vmemmap";
  const std::string page = "vmemmap page " + std::to_string((addr - first) / ps) + " of the folio";
  if (addr < head || addr >= head + n * S)
    return "folio " + std::to_string(id) + "'s " + page + ", not one of its struct pages";
  // Struct pages are S bytes from the head on (vmemmap_base need not be a
  // multiple of a 72- or 80-byte S).
  return "struct page " + std::to_string((addr - head) / S) + " of folio " + std::to_string(id) +
         " (" + page + ", word " + std::to_string((addr - head) % S / 8) + " of the struct page)";
}

std::string op_text(const Scenario &s, const RunOutcome &r) {
  if (r.in_final_check)
    return "check_all (the full oracle pass after the last op)";
  std::string t = "[" + std::to_string(r.failing_op) + "] " + print_op(s.ops[r.failing_op]);
  if (r.failing_op < s.lines.size() && s.lines[r.failing_op])
    t += "  (line " + std::to_string(s.lines[r.failing_op]) + ")";
  return t;
}

}  // namespace

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

Analysis analyze(const TriageInput &input, bool diagrams) {
  Analysis a;
  a.input = input;
  a.outcome = run_input(input);
  a.signature = signature_of_input(input, a.outcome);
  if (!a.outcome.crashed || !diagrams)
    return a;
  if (input.is_race) {
    a.no_diagram_reason = "a race: the interleaving above is the picture";
    return a;
  }

  // Replay up to the failing op to draw "before", then the op for "after".
  const Violation &v = a.outcome.first;
  if (!v.vaddr && v.pfn == UINT64_MAX) {
    a.no_diagram_reason = "the violation names no struct page (a global invariant)";
    return a;
  }
  std::string err;
  std::unique_ptr<Model> model = Model::create(input.scenario.config, &err);
  if (!model) {
    a.no_diagram_reason = "the configuration does not boot: " + err;
    return a;
  }
  const Scenario &s = input.scenario;
  for (size_t i = 0; i < a.outcome.failing_op && i < s.ops.size(); ++i)
    model->apply(s.ops[i]);
  std::vector<DiagramMark> marks;
  if (v.vaddr)
    marks.push_back(DiagramMark{v.vaddr, v.id});
  else
    marks.push_back(DiagramMark{model->machine().page(v.pfn), v.id + " (pfn " + hex(v.pfn) + ")"});
  std::optional<FolioId> before = folio_of(model->machine(), v);
  if (before)
    a.diagram_before = vmemmap_diagram(model->machine(), *before, marks);
  if (!a.outcome.in_final_check)
    model->apply(s.ops[a.outcome.failing_op]);
  // After the op a live folio may own the pfn instead (demote hands the
  // pfns to new folios): prefer it; else stay with the folio from before
  // (drawn even if the op freed it), else whatever holds the address now.
  int rank = 4;
  std::optional<FolioId> after = folio_of(model->machine(), v, &rank);
  if (before && rank != 0)
    after = before;
  if (!after) {
    a.no_diagram_reason = "no HugeTLB folio holds " + (v.vaddr ? "vaddr " + hex(v.vaddr) : "pfn " + hex(v.pfn));
    return a;
  }
  a.folio = after;
  if (!before)
    a.diagram_before = "folio " + std::to_string(*after) + " does not exist yet\n";
  a.diagram_after = vmemmap_diagram(model->machine(), *after, marks);
  a.location = locate(model->machine(), *after, v);
  return a;
}

std::string describe_input(const TriageInput &in) {
  std::string s;
  if (in.is_race && in.format == InputFormat::Scenario) {
    s = "hvo_fuzz_race text, " + std::to_string(in.race.schedule.size()) + " schedule bytes";
  } else if (in.is_race) {
    s = (in.kind == "bytes" ? "raw fuzz input" : "libFuzzer " + in.kind + " artifact") + ", " +
        std::to_string(in.size) + " bytes -> race, " + std::to_string(in.race.schedule.size()) +
        " schedule bytes, target " + in.target + " (" + in.target_source + ")";
  } else if (in.format == InputFormat::Scenario) {
    s = "hvo-sim scenario, " + std::to_string(in.scenario.ops.size()) + " ops";
  } else {
    const std::string kind = in.kind == "testcase" ? "ClusterFuzz testcase"
                             : in.kind == "bytes"  ? "raw fuzz input"
                                                   : "libFuzzer " + in.kind + " artifact";
    s = kind + ", " + std::to_string(in.size) + " bytes -> " +
        std::to_string(in.scenario.ops.size()) + " ops, target " + in.target + " (" +
        in.target_source + ")";
    if (!in.other_crashing_targets.empty()) {
      s += "; also crashes under";
      for (const std::string &t : in.other_crashing_targets)
        s += " " + t;
    }
  }
  return s;
}

std::string format_show(const Analysis &a) {
  const Scenario &s = a.input.scenario;
  const RunOutcome &r = a.outcome;
  std::string out = "== " + a.input.path + "\n";
  out += "input:     " + describe_input(a.input) + "\n";
  const std::string bugs = bug_names(input_bugs(a.input));
  out += "bugs:      " + (bugs.empty() ? std::string("none") : bugs) + "\n";
  if (!r.model_error.empty()) {
    out += "verdict:   no crash: the configuration does not boot: " + r.model_error + "\n";
    return out;
  }
  if (a.input.is_race) {
    out += "verdict:   " + (r.crashed ? "CRASH " + r.first.id + " in race" : std::string("no crash")) + "\n";
    if (r.crashed)
      out += "signature: " + a.signature.key() + "\n";
    out += "\n-- race (the hvo_fuzz_race text form) --\n" + fuzz::print_race_input(a.input.race) + "\n";
    out += "\n-- interleaving --\n" + r.race_trace;
    if (r.crashed) {
      out += "\n-- violation --\n" + format_violation(r.first) + "\n";
      if (r.all.size() > 1)
        out += "in step:   " + std::to_string(r.all.size()) + " violations\n";
    }
    return out;
  }
  if (!r.crashed) {
    out += "verdict:   no crash (" + std::to_string(r.results.size()) +
           " ops replayed, full oracle pass clean)\n";
    out += "\n-- operation trace --\n" + fuzz::format_trace(s, r.results);
    return out;
  }
  out += "verdict:   CRASH " + r.first.id + " at " + op_text(s, r) + "\n";
  out += "signature: " + a.signature.key() + "\n";
  out += "\n-- operation trace (an hvo-sim scenario) --\n" + fuzz::format_trace(s, r.results);
  out += "\n-- violation --\n";
  out += "invariant: " + r.first.id + "\n";
  out += "operation: " + op_text(s, r) + "\n";
  if (r.first.vaddr)
    out += "vaddr:     " + hex(r.first.vaddr) + "\n";
  if (r.first.pfn != UINT64_MAX)
    out += "pfn:       " + hex(r.first.pfn) + "\n";
  if (!a.location.empty())
    out += "where:     " + a.location + "\n";
  if (!r.first.expected.empty() || !r.first.found.empty()) {
    out += "expected:  " + r.first.expected + "\n";
    out += "found:     " + r.first.found + "\n";
  }
  out += "message:   " + r.first.message + "\n";
  if (r.all.size() > 1) {
    // Grouped in first-seen order, so the line is deterministic.
    std::vector<std::pair<std::string, size_t>> counts;
    for (const Violation &v : r.all) {
      bool found = false;
      for (auto &[id, n] : counts)
        if (id == v.id) {
          ++n;
          found = true;
        }
      if (!found)
        counts.emplace_back(v.id, 1);
    }
    out += "in step:   " + std::to_string(r.all.size()) + " violations:";
    for (size_t i = 0; i < counts.size(); ++i)
      out += (i ? ", " : " ") + counts[i].first + " x" + std::to_string(counts[i].second);
    out += "\n";
  }
  if (a.diagram_after.empty()) {
    out += "\n(no vmemmap diagram: " + a.no_diagram_reason + ")\n";
  } else {
    const std::string when = r.in_final_check ? "the final check" : "op " + std::to_string(r.failing_op);
    out += "\n-- vmemmap before " + when + " --\n" + a.diagram_before;
    out += "\n-- vmemmap after " + when + " --\n" + a.diagram_after;
  }
  return out;
}

void write_input_json(JsonWriter &j, const TriageInput &in) {
  j.key("file").value(in.path);
  j.key("kind").value(in.kind);
  j.key("format").value(in.format == InputFormat::Scenario ? "scenario" : "bytes");
  j.key("size").value(static_cast<uint64_t>(in.size));
  j.key("target");
  if (in.target.empty())
    j.null();
  else
    j.value(in.target);
  j.key("target_source").value(in.target_source);
  j.key("other_crashing_targets").begin_array();
  for (const std::string &t : in.other_crashing_targets)
    j.value(t);
  j.end_array();
  j.key("race").value(in.is_race);
  j.key("config").value(in.is_race ? fuzz::print_race_input(in.race) : print_config(in.scenario.config));
  j.key("bugs").value(bug_names(input_bugs(in)));
  j.key("ops").value(static_cast<uint64_t>(input_size_in_steps(in)));
}

void write_signature_json(JsonWriter &j, const Signature &s) {
  j.begin_object();
  j.key("invariant").value(s.invariant);
  j.key("op").value(s.op);
  j.key("era").value(s.era);
  j.key("config_class").value(s.config_class);
  j.key("key").value(s.key());
  j.end_object();
}

void write_violation_json(JsonWriter &j, const Violation &v) {
  j.begin_object();
  j.key("id").value(v.id);
  j.key("op_index").value(v.op_index);
  j.key("vaddr");
  if (v.vaddr)
    j.value(hex(v.vaddr));
  else
    j.null();
  j.key("pfn");
  if (v.pfn != UINT64_MAX)
    j.value(hex(v.pfn));
  else
    j.null();
  j.key("expected").value(v.expected);
  j.key("found").value(v.found);
  j.key("message").value(v.message);
  j.end_object();
}

void write_show_json(JsonWriter &j, const Analysis &a) {
  const RunOutcome &r = a.outcome;
  j.begin_object();
  write_input_json(j, a.input);
  j.key("config_error");
  if (r.model_error.empty())
    j.null();
  else
    j.value(r.model_error);
  j.key("crashed").value(r.crashed);
  j.key("ops_run").value(static_cast<uint64_t>(r.results.size()));
  if (r.crashed) {
    j.key("signature");
    write_signature_json(j, a.signature);
    j.key("failing_op").value(static_cast<uint64_t>(r.failing_op));
    j.key("failing_op_text").value(a.input.is_race      ? a.signature.op
                                   : r.in_final_check ? std::string("check_all")
                                                      : print_op(a.input.scenario.ops[r.failing_op]));
    j.key("violation");
    write_violation_json(j, r.first);
    j.key("violations_in_step").value(static_cast<uint64_t>(r.all.size()));
    j.key("where").value(a.location);
    j.key("folio");
    if (a.folio)
      j.value(static_cast<uint64_t>(*a.folio));
    else
      j.null();
    j.key("diagram_before").value(a.diagram_before);
    j.key("diagram_after").value(a.diagram_after);
    if (a.diagram_after.empty())
      j.key("no_diagram_reason").value(a.no_diagram_reason);
  }
  j.key("trace").value(a.input.is_race ? r.race_trace : fuzz::format_trace(a.input.scenario, r.results));
  j.end_object();
}

}  // namespace hvo::triage
