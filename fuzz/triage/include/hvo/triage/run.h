// SPDX-License-Identifier: GPL-2.0-only
//
// Replaying a decoded scenario exactly as a fuzz target does (fuzz/harness:
// ops in order on a fresh Model, stop at the first op that reports a
// violation, otherwise one full oracle pass at the end), and the crash
// signature hvo-triage groups and minimizes by.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hvo/fuzz/race_input.h"
#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo::triage {

struct RunOutcome {
  std::string model_error;         // Model::create refused the config (no ops ran)
  std::vector<StepResult> results; // one per op run; the last is the failing op on a crash
  bool crashed = false;
  bool in_final_check = false;     // found by the closing check_all, not by an op
  size_t failing_op = 0;           // index into Scenario::ops (== ops.size() for the final check)
  Violation first;                 // the violation a fuzz target would abort on
  std::vector<Violation> all;      // every violation of the failing step, in report order
  uint64_t digest = 0;             // FNV-1a over everything observed (determinism check)
  std::string race_trace;          // hvo_fuzz_race: the interleaving, one step a line
};

RunOutcome run_scenario(const Scenario &s);
// hvo_fuzz_race inputs: one concurrency scenario under its schedule, as the
// race target runs it (a step-limit hit is the violation R-step-limit).
RunOutcome run_race(const fuzz::RaceInput &in, const BugSet &bugs);

// What makes two crashes "the same bug" (issue 6): the invariant, the kind
// of operation it broke in, the era and the configuration class.
struct Signature {
  std::string invariant;     // "I7-restore-fidelity", "K-bad-page", ...
  std::string op;            // op name, or "check_all" for the closing full check
  std::string era;           // "legacy" / "shared-tail"
  std::string config_class;  // "4K sp64 D612 hvo=on" (+ " bugs=a,b")

  std::string key() const { return invariant + " | " + op + " | " + era + " | " + config_class; }
  bool operator==(const Signature &) const = default;
};

// The parts of a signature dedup can group by (--group-by); the ones left
// out are replaced by "*".
enum SignaturePart : unsigned {
  kPartInvariant = 1, kPartOp = 2, kPartEra = 4, kPartConfig = 8,
  kPartAll = kPartInvariant | kPartOp | kPartEra | kPartConfig,
};
Signature coarsen(const Signature &s, unsigned parts);
// "invariant,op,era,config" (any subset, any order) -> parts; "" on error.
std::string parse_signature_parts(std::string_view text, unsigned &parts);

// Empty invariant when the run did not crash.
Signature signature_of(const Scenario &s, const RunOutcome &r);
// For a race: op "race <scenario>", the era the scenario runs in, and as
// configuration class its options (shared variant / era, restore) and bugs.
Signature race_signature_of(const fuzz::RaceInput &in, const BugSet &bugs, const RunOutcome &r);

// The configuration class: page size, struct page size class (a power of two
// or not: HVO is off for the latter), walk variant for the legacy era, the
// HVO boot switch, and the bug switches the run had on.
std::string config_class(const Config &c);
std::string era_name(Era e);
std::string bug_names(const BugSet &b);  // "a,b" or ""

}  // namespace hvo::triage
