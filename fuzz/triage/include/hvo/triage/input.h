// SPDX-License-Identifier: GPL-2.0-only
//
// What hvo-triage reads: a crash file of any fuzz target or an hvo-sim
// scenario, turned into the Scenario the crash ran.
//
//   * hvo-sim text scenarios are recognised by content: only printable
//     ASCII and whitespace, and the first line that is not blank or a
//     comment starts with "config" or an operation name.
//   * Anything else is raw fuzz input bytes (libFuzzer crash-*, leak-*,
//     timeout-*, oom-* artifacts and OSS-Fuzz/ClusterFuzz testcases are all
//     exactly the bytes LLVMFuzzerTestOneInput received).  The bytes carry no
//     target name, so the target is, in order: --target; a target name
//     anywhere in the path (ClusterFuzz names testcases
//     "clusterfuzz-testcase-minimized-<fuzzer>-<id>", and people keep
//     artifacts in per-target directories); else every target's decoder is
//     tried and the first, in profile order, whose replay crashes is chosen.
//     If none crashes, the first profile is used and the verdict is "no crash".
//
// Bug switches are not in fuzz bytes (the harness reads HVO_FUZZ_BUGS); for
// bytes they come from LoadOptions::bugs, for scenarios from the config line
// with LoadOptions::bugs added.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hvo/fuzz/outcome.h"
#include "hvo/fuzz/race_input.h"
#include "hvo/ops.h"
#include "hvo/triage/run.h"

namespace hvo::triage {

enum class InputFormat { Scenario, Bytes };

struct LoadOptions {
  std::string target;                 // "" = from the path, else inferred
  std::optional<InputFormat> format;  // forced with --format
  BugSet bugs;                        // --bugs / HVO_FUZZ_BUGS
};

struct TriageInput {
  std::string path;
  std::string kind;            // "crash", "leak", "timeout", "oom", "slow-unit", "testcase", "scenario", "bytes"
  InputFormat format = InputFormat::Bytes;
  size_t size = 0;             // bytes in the file
  std::string target;          // fuzz profile that decodes the bytes ("" for scenarios)
  std::string target_source;   // "--target", "path", "inferred", "default (no target crashes)"
  std::vector<std::string> other_crashing_targets;  // inference: the rest that also crash
  Scenario scenario;            // ops inputs (every target but hvo_fuzz_race)
  bool is_race = false;         // hvo_fuzz_race: a concurrency scenario and a schedule
  fuzz::RaceInput race;
  BugSet race_bugs;             // a race has no config line: "# bugs:" header / --bugs
};

// Replay and signature of whichever kind the input is.
RunOutcome run_input(const TriageInput &in);
Signature signature_of_input(const TriageInput &in, const RunOutcome &r);
// Operations, or schedule bytes for a race (what minimize counts).
size_t input_size_in_steps(const TriageInput &in);
// The bug switches the input runs with.
BugSet input_bugs(const TriageInput &in);

// Largest file hvo-triage reads; libFuzzer inputs are a few KiB.
inline constexpr size_t kMaxInputBytes = 16u << 20;

// Returns "" or a one-line error "PATH: problem" / "PATH:LINE: problem".
std::string load_input(const std::string &path, const LoadOptions &opts, TriageInput &out);
// The same from memory (the triage fuzz target uses it).
std::string load_input_bytes(const std::string &path, std::span<const uint8_t> data,
                             const LoadOptions &opts, TriageInput &out);

// Content test for the text form (see above); a "race" line counts.
bool looks_like_scenario(std::span<const uint8_t> data);
// The first statement of the text is a "race ..." line (hvo_fuzz_race).
bool looks_like_race(std::span<const uint8_t> data);
// "crash" for ".../crash-1a2b", "testcase" for clusterfuzz-testcase-*, else "".
std::string artifact_kind(const std::string &path);
// The fuzz profile named in `path`, or "".
std::string target_from_path(const std::string &path);

// Parses "a,b" into switches; "" or an error naming the unknown switch.
using fuzz::parse_bug_list;

}  // namespace hvo::triage
