// SPDX-License-Identifier: GPL-2.0-only
//
// The input of hvo_fuzz_race: one of the model's deterministic concurrency
// scenarios (model/include/hvo/concurrency/scenarios.h), its legitimate
// variations, and the schedule -- the bytes that pick which simulated CPU
// takes the next step.  The scenarios fix the kernel code each CPU runs;
// the fuzzer searches the interleavings.
//
// Byte format: scenario (1 byte, modulo 6: the scenario is the value modulo
// 3; values 3-5 run the remap of speculative-reader and optimize-vs-restore
// as one step per interleave point, remap=steps, which get-tail has no use
// for), its options (1 byte each, see race_schema), then up to
// kMaxScheduleBytes schedule bytes; missing bytes
// read as zero (the scheduler runs the lowest-numbered runnable CPU when the
// schedule is exhausted, so every input is a complete schedule).
//
// Text form, one line (seeds, crash reports, hvo-triage):
//   race scenario=speculative-reader era=legacy restore=0 schedule=00010201
//   race scenario=optimize-vs-restore remap=steps shared-variant=muchun schedule=0101
// (remap=call, the whole optimize or restore as one step, is the default and
// is not printed, so inputs written before remap=steps existed read the same.)
// There is no hvo-sim op for a race: the text form is this module's own and
// round-trips through parse_race_input / print_race_input.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hvo/concurrency/scenarios.h"
#include "hvo/config.h"

namespace hvo::fuzz {

inline constexpr size_t kMaxScheduleBytes = 64;

struct RaceInput {
  concurrency::ScenarioKind kind = concurrency::ScenarioKind::GetTailRace;
  Variant shared_variant = Variant::KirylV7;  // get-tail, optimize-vs-restore; reader in shared-tail era
  Era era = Era::Legacy;                      // speculative-reader
  bool restore = false;                       // speculative-reader: writer restores
  bool remap_steps = false;                   // not get-tail: the remap cut at its interleave points
  std::vector<uint8_t> schedule;
  bool operator==(const RaceInput &) const = default;
};

RaceInput decode_race_input(std::span<const uint8_t> data);
// Empty on success, else what cannot be expressed.
std::string encode_race_input(const RaceInput &in, std::vector<uint8_t> &bytes);

// The scenario options for `in` on a kernel with the given historic bugs:
// the fixed kernel publishes tails with cmpxchg, waits for RCU readers and
// reads the refcount before the fake-head state (Yu Zhao's order); the
// switches get-tail-plain-store, speculative-ref-fake-head-first and
// hvo-no-synchronize-rcu select the scenarios' code for the older kernels.
concurrency::ScenarioOptions race_options(const RaceInput &in, const Config &bugs);

std::string print_race_input(const RaceInput &in);
// Parses the text form (a "race ..." line; '#' comments and blank lines
// around it allowed).  Returns "" or "NAME:LINE: problem".
std::string parse_race_input(std::string_view text, std::string_view name, RaceInput &out);

} // namespace hvo::fuzz
