// SPDX-License-Identifier: GPL-2.0-only
//
// `hvo-triage show`: what a crash file does.  The decoded operation trace
// (fuzz/decoder's printer: itself an hvo-sim scenario), the violation the
// fuzz target would abort on, and the vmemmap of the folio involved just
// before and just after the failing operation (model/diagram.h), with the
// struct page the violation names marked.
#pragma once

#include <optional>
#include <string>

#include "hvo/machine.h"
#include "hvo/triage/input.h"
#include "hvo/triage/json.h"
#include "hvo/triage/run.h"

namespace hvo::triage {

struct Analysis {
  TriageInput input;
  RunOutcome outcome;
  Signature signature;
  std::optional<FolioId> folio;  // the folio the violation is about, if any
  std::string location;          // "struct page 64 of folio 0 (vmemmap page 1)"
  std::string diagram_before;    // state before the failing op ("" if no folio)
  std::string diagram_after;     // state after it
  std::string no_diagram_reason; // why there is no diagram
};

// Replays input.scenario; with `diagrams`, replays it once more to draw them.
Analysis analyze(const TriageInput &input, bool diagrams);

std::string format_show(const Analysis &a);
void write_show_json(JsonWriter &j, const Analysis &a);

// Shared by the other subcommands' output.
std::string describe_input(const TriageInput &in);
void write_input_json(JsonWriter &j, const TriageInput &in);
void write_signature_json(JsonWriter &j, const Signature &s);
void write_violation_json(JsonWriter &j, const Violation &v);
std::string hex(uint64_t v);

}  // namespace hvo::triage
