// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_triage: hvo-triage's own input paths under the fuzzer.  The first
// byte picks the file name the input pretends to have (it decides the
// artifact kind and whether the target comes from the path or from
// inference), the rest is the file's content, which goes through content
// detection, the scenario parser or the shared decoder of every target,
// replay, the signature, the vmemmap diagrams and both report printers.
//
// Properties checked (abort = finding):
//   * an input error is one line (no newline inside the message);
//   * replaying the same input twice gives the same outcome digest and
//     signature (hvo-triage replay's promise);
//   * the JSON report has balanced brackets outside strings.
// Model invariant violations are hvo-triage's normal output, not findings.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "hvo/fuzz/decoder.h"
#include "hvo/triage/input.h"
#include "hvo/triage/json.h"
#include "hvo/triage/report.h"
#include "hvo/triage/run.h"

namespace {

constexpr std::array<std::string_view, 8> kNames = {
    "crash-da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "leak-0123",
    "timeout-4567",
    "oom-89ab",
    "clusterfuzz-testcase-minimized-hvo_fuzz_hugetlb-5120",
    "out/hvo_fuzz_dax/crash-1",
    "regression.hvo",
    "artifacts/hvo_fuzz_race/crash-2",
};

// Work bound: the fuzzer explores triage's parsing, not huge machines
// (hvo_fuzz_* targets cover the model).  Scenario text can ask for a TiB.
constexpr uint64_t kMaxReplayBytes = 64ull << 30;

bool balanced_json(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      else if (static_cast<unsigned char>(c) < 0x20)
        return false;  // raw control character inside a string
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      if (--depth < 0)
        return false;
  }
  return depth == 0 && !in_string;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const std::string path(kNames[data[0] % kNames.size()]);
  const std::span<const uint8_t> content(data + 1, size - 1);
  hvo::triage::LoadOptions opts;
  // With bit 7 of the first byte set: detection, parsing and decoding only,
  // under a target picked by bits 3-6 (no inference, no replay), so the
  // fuzzer spends most of its time on triage's own code; replays cost
  // milliseconds to seconds each (docs/triage.md, "hvo_fuzz_triage").
  const bool decode_only = (data[0] & 0x80) != 0;
  if (decode_only) {
    const auto all = hvo::fuzz::profiles();
    opts.target = std::string(all[(data[0] >> 3 & 0xf) % all.size()].name);
  }
  hvo::triage::TriageInput in;
  const std::string err = hvo::triage::load_input_bytes(path, content, opts, in);
  if (!err.empty()) {
    if (err.find('\n') != std::string::npos)
      std::abort();
    return 0;
  }
  if (decode_only) {
    hvo::triage::JsonWriter j;
    j.begin_object();
    hvo::triage::write_input_json(j, in);
    j.end_object();
    if (!balanced_json(j.str()) || hvo::triage::describe_input(in).find('\n') != std::string::npos)
      std::abort();
    return 0;
  }
  const hvo::Config &c = in.scenario.config;
  if (!in.is_race && (c.total_pages() > kMaxReplayBytes / c.page_size() || in.scenario.ops.size() > 64))
    return 0;
  hvo::triage::Analysis a = hvo::triage::analyze(in, true);
  hvo::triage::RunOutcome again = hvo::triage::run_input(in);
  if (again.digest != a.outcome.digest || !(hvo::triage::signature_of_input(in, again) == a.signature))
    std::abort();
  (void)hvo::triage::format_show(a);
  hvo::triage::JsonWriter j;
  hvo::triage::write_show_json(j, a);
  if (!balanced_json(j.str()))
    std::abort();
  return 0;
}
