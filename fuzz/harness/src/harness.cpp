// SPDX-License-Identifier: GPL-2.0-only
//
// The shared body of every fuzz target (see harness.h).
#include "hvo/fuzz/harness.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hvo/concurrency/scenarios.h"
#include "hvo/concurrency/setup_snapshots.h"
#include "hvo/differential.h"
#include "hvo/fuzz/boot_cache.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/outcome.h"
#include "hvo/fuzz/race_input.h"
#include "hvo/fuzz/trace.h"
#include "hvo/model.h"

namespace hvo::fuzz {

namespace {

// Process-wide settings fixed before the first input (LLVMFuzzerInitialize).
struct KnownFinding {
  std::string target, invariant, op;  // op: the failing op's name, or "*"
  std::string reference;              // where it is documented
};

struct Settings {
  const TargetProfile *profile = nullptr;
  BugSet bugs;
  // A Config carrying only `bugs`, for race_options: built once, as a
  // Config's default machine description allocates.
  Config bug_config;
  std::string bugs_text;
  std::vector<KnownFinding> known;
};
Settings g_settings;
// Booted machines per configuration (boot_cache.h); on unless
// HVO_FUZZ_BOOT_CACHE=0.
BootCache g_boot_cache(true);
// The race scenarios' machines, booted and set up once per configuration
// (setup_snapshots.h); used while the boot cache is on, so that
// HVO_FUZZ_BOOT_CACHE=0 runs every race input on a fresh boot with its
// setup ops applied, the reference the snapshots are compared against.
concurrency::SetupSnapshots g_race_snapshots;
uint64_t g_last_digest = 0;

[[noreturn]] void usage_error(const std::string &msg) {
  std::fprintf(stderr, "hvo-fuzz: error: %s\n", msg.c_str());
  std::exit(2);
}

BugSet parse_bugs(std::string_view text) {
  BugSet bugs;
  if (std::string err = parse_bug_list(text, bugs); !err.empty())
    usage_error("HVO_FUZZ_BUGS: " + err);
  return bugs;
}

using Digest = OutcomeDigest;

// HVO_FUZZ_KNOWN=FILE: documented findings that CI replays and bounded runs
// must not fail on (fuzz/known-findings.txt explains the format and policy).
// Each line: "<target> <invariant-id> <op-name|*> <reference>"; a line whose
// first non-blank character is '#' is a comment.  A malformed line is a usage error, never silently ignored.
std::vector<KnownFinding> load_known_findings(const char *path) {
  std::vector<KnownFinding> known;
  FILE *f = std::fopen(path, "r");
  if (!f)
    usage_error(std::string("HVO_FUZZ_KNOWN: ") + path + ": cannot open file");
  char line[1024];
  unsigned lineno = 0;
  while (std::fgets(line, sizeof line, f)) {
    ++lineno;
    std::string text(line);
    // Whole-line comments only: references carry '#' anchors.
    if (size_t first = text.find_first_not_of(" \t"); first != std::string::npos && text[first] == '#')
      continue;
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t start = text.find_first_not_of(" \t\r\n", pos);
      if (start == std::string::npos)
        break;
      size_t end = text.find_first_of(" \t\r\n", start);
      words.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      pos = end == std::string::npos ? text.size() : end;
    }
    if (words.empty())
      continue;
    if (words.size() != 4) {
      std::fclose(f);
      usage_error(std::string("HVO_FUZZ_KNOWN: ") + path + ":" + std::to_string(lineno) +
                  ": expected '<target> <invariant-id> <op|*> <reference>'");
    }
    known.push_back({words[0], words[1], words[2], words[3]});
  }
  std::fclose(f);
  return known;
}

// The documented finding @v matches, if any: same target, same invariant,
// same failing operation.
const KnownFinding *known_finding(const Violation &v, const Scenario &s) {
  const std::string_view op =
      v.op_index < s.ops.size() && s.ops[v.op_index].kind < op_table().size()
          ? op_table()[s.ops[v.op_index].kind].name
          : std::string_view("*");
  for (const KnownFinding &k : g_settings.known)
    if (k.target == g_settings.profile->name && k.invariant == v.id && (k.op == "*" || k.op == op))
      return &k;
  return nullptr;
}

// A known finding is reported in one line and the input ends without a
// crash; anything else is a crash (report_violation).
bool report_known(const Violation &v, const Scenario &s) {
  const KnownFinding *k = known_finding(v, s);
  if (!k)
    return false;
  std::fprintf(stderr, "==HVO== KNOWN %s (%s %s, %s)\n", format_violation(v).c_str(),
               k->invariant.c_str(), k->op.c_str(), k->reference.c_str());
  return true;
}

[[noreturn]] void report_violation(const Violation &first, const Scenario &s,
                                   const std::vector<StepResult> &results, size_t size) {
  std::fprintf(stderr, "==HVO== VIOLATION %s\n", format_violation(first).c_str());
  std::fprintf(stderr, "==HVO== target %s, input %zu bytes, %zu ops decoded%s%s\n",
               std::string(g_settings.profile->name).c_str(), size, s.ops.size(),
               g_settings.bugs_text.empty() ? "" : ", HVO_FUZZ_BUGS=",
               g_settings.bugs_text.c_str());
  std::fprintf(stderr, "==HVO== decoded operation trace (a scenario hvo-sim can run):\n%s",
               format_trace(s, results).c_str());
  std::fprintf(stderr, "==HVO== end of trace\n");
  std::fflush(stderr);
  std::abort();
}

[[noreturn]] void report_race(const Violation &first, const RaceInput &in,
                              const concurrency::ScenarioRun &run, size_t size) {
  std::fprintf(stderr, "==HVO== VIOLATION %s\n", format_violation(first).c_str());
  std::fprintf(stderr, "==HVO== target %s, input %zu bytes, %zu schedule bytes%s%s\n",
               std::string(g_settings.profile->name).c_str(), size, in.schedule.size(),
               g_settings.bugs_text.empty() ? "" : ", HVO_FUZZ_BUGS=", g_settings.bugs_text.c_str());
  std::fprintf(stderr, "==HVO== decoded race (the text form of hvo_fuzz_race inputs):\n%s\n",
               print_race_input(in).c_str());
  std::fprintf(stderr, "==HVO== interleaving:\n%s", run.trace.c_str());
  for (const Violation &v : run.violations)
    std::fprintf(stderr, "#   VIOLATION %s\n", format_violation(v).c_str());
  std::fprintf(stderr, "==HVO== end of trace\n");
  std::fflush(stderr);
  std::abort();
}

// One concurrency scenario under the input's schedule; the scenario's own
// checks and the whole oracle run after it (scenarios.h).  Its machine, set
// up, comes from the race snapshots (the scenarios' few fixed setups, each
// booted and set up once per process; the bug switches select the
// scenario's code through race_options, not the machine); with the boot
// cache off, from a fresh boot with the setup applied for this input.
int run_race_input(const uint8_t *data, size_t size) {
  const RaceInput in = decode_race_input(std::span<const uint8_t>(data, size));
  // Kept across inputs, its buffers reused (run_scenario's out overloads);
  // every field is replaced by each run.
  static concurrency::ScenarioRun run;
  const concurrency::ScenarioOptions opt = race_options(in, g_settings.bug_config);
  if (g_boot_cache.enabled())
    concurrency::run_scenario(run, in.kind, opt, in.schedule, g_race_snapshots);
  else
    concurrency::run_scenario(run, in.kind, opt, in.schedule);
  if (run.run.step_limit_hit)
    run.violations.insert(run.violations.begin(),
                          Violation{"R-step-limit", 0, 0, UINT64_MAX, "every thread finishes",
                                    "step limit hit", "a thread spins: livelock in the scenario"});
  Digest digest;
  digest.str(run.trace);
  for (const Violation &v : run.violations)
    digest.str(format_violation(v));
  if (!run.violations.empty())
    report_race(run.violations.front(), in, run, size);
  g_last_digest = digest.h;
  return 0;
}

// One op sequence on both eras through the differential oracle
// (hvo/differential.h): legacy v6.12.0 against shared-tail kiryl-v7, the
// final design.  D612 is not the legacy side because its restore (finding F1
// in docs/findings-model.md) diverges on every input that restores; each
// model's own oracle is what the single-era targets fuzz.
int run_differential_input(const uint8_t *data, size_t size) {
  Scenario s = decode_input(*g_settings.profile, std::span<const uint8_t>(data, size));
  s.config.bugs = g_settings.bugs;
  DiffOptions opt;
  opt.legacy_variant = Variant::V6_12_0;
  opt.shared_variant = Variant::KirylV7;
  // Both eras' models from the boot cache when it is on (boot_cache.h).
  std::unique_ptr<Differential> owned =
      g_boot_cache.enabled()
          ? std::make_unique<Differential>(
                s.config, opt,
                [](const Config &c, std::string *e) { return g_boot_cache.model_for(c, e); })
          : std::make_unique<Differential>(s.config, opt);
  Differential &diff = *owned;
  Digest digest;
  std::vector<StepResult> results;
  results.reserve(s.ops.size());
  for (const Op &op : s.ops) {
    const bool more = diff.step(op);
    if (diff.result().diverged && diff.result().observable == "config")
      break;  // no op ran: the trace shows every op as not run
    results.push_back(diff.last_legacy_step());
    digest.step(results.back());
    if (!more)
      break;
  }
  const DiffResult &r = diff.result();
  digest.str(r.format());
  if (r.diverged) {
    Violation v{"D-diverge", r.op_index, 0, r.pfn, "legacy: " + r.legacy, "shared-tail: " + r.shared,
                r.format()};
    if (!report_known(v, s))
      report_violation(v, s, results, size);
  }
  g_last_digest = digest.h;
  return 0;
}

} // namespace

void initialize_target(std::string_view target) {
  g_settings.profile = find_profile(target);
  if (!g_settings.profile)
    usage_error("no fuzz profile named '" + std::string(target) + "'");
  if (g_settings.profile->runner == Runner::Ops && profile_kinds(*g_settings.profile).empty())
    usage_error(std::string(target) + ": the model provides none of this target's operations");
  const char *env = std::getenv("HVO_FUZZ_BUGS");
  g_settings.bugs_text = env ? env : "";
  g_settings.bugs = parse_bugs(g_settings.bugs_text);
  g_settings.bug_config.bugs = g_settings.bugs;
  if (const char *known = std::getenv("HVO_FUZZ_KNOWN"); known && *known)
    g_settings.known = load_known_findings(known);
  const char *cache = std::getenv("HVO_FUZZ_BOOT_CACHE");
  const std::string_view cache_text = cache ? cache : "1";
  if (cache_text != "0" && cache_text != "1")
    usage_error("HVO_FUZZ_BOOT_CACHE: expected 0 or 1, got '" + std::string(cache_text) + "'");
  g_boot_cache = BootCache(cache_text == "1");
}

int run_target_input(std::string_view target, const uint8_t *data, size_t size) {
  // A replay driver built without LLVMFuzzerInitialize support still works.
  if (!g_settings.profile || g_settings.profile->name != target)
    initialize_target(target);
  // Whatever the input allocated is freed before it returns (boot_cache.h).
  struct ReleaseModels {
    ~ReleaseModels() {
      g_boot_cache.release_all();
      g_race_snapshots.release_all();
    }
  } release;
  if (g_settings.profile->runner == Runner::Race)
    return run_race_input(data, size);
  if (g_settings.profile->runner == Runner::Differential)
    return run_differential_input(data, size);
  Scenario s = decode_input(*g_settings.profile, std::span<const uint8_t>(data, size));
  s.config.bugs = g_settings.bugs;

  Digest digest;
  std::vector<StepResult> results;
  results.reserve(s.ops.size());
  std::string error;
  Model *model = g_boot_cache.model_for(s.config, &error);
  if (!model) {
    // The decoder promises valid configurations; breaking that promise is
    // a harness bug and must not be silently skipped.
    std::fprintf(stderr, "==HVO== HARNESS decoder produced an invalid config: %s\n%s",
                 error.c_str(), format_trace(s, results).c_str());
    std::abort();
  }
  for (const Op &op : s.ops) {
    results.push_back(model->apply(op));
    digest.step(results.back());
    if (!results.back().violations.empty()) {
      if (!report_known(results.back().violations.front(), s))
        report_violation(results.back().violations.front(), s, results, size);
      g_last_digest = digest.h;
      return 0;
    }
  }
  // The oracle checks incrementally after each op; once at the end it looks
  // at everything, which catches damage to state no op listed as touched.
  std::vector<Violation> final_check = model->check_all();
  if (!final_check.empty()) {
    if (results.empty())
      results.push_back(StepResult{});
    for (Violation &v : final_check)
      results.back().violations.push_back(v);
    if (!report_known(final_check.front(), s))
      report_violation(final_check.front(), s, results, size);
    digest.str(format_violation(final_check.front()));
  }
  g_last_digest = digest.h;
  return 0;
}

uint64_t last_outcome_digest() { return g_last_digest; }

} // namespace hvo::fuzz

extern "C" uint64_t HvoFuzzLastOutcomeDigest() { return hvo::fuzz::last_outcome_digest(); }
