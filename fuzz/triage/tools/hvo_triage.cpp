// SPDX-License-Identifier: GPL-2.0-only
//
// hvo-triage: from a crash file to an understood, minimal, deduplicated
// regression test (issue 6; docs/triage.md).
//
//   hvo-triage show FILE...                 trace, violation, before/after vmemmap
//   hvo-triage replay FILE... [--runs N]    N replays each (default 10)
//   hvo-triage dedup DIR [--group-by invariant,op,era,config]
//                                           one line per crash signature
//   hvo-triage minimize FILE -o OUT [--bytes OUT.bin]
//   hvo-triage regress FILE -o OUT.hvo|DIR [--no-minimize]
//
// Common options: --target NAME (fuzz target whose decoder reads the bytes),
// --format scenario|bytes (override content detection), --bugs a,b (bug
// switches; default: $HVO_FUZZ_BUGS, as the fuzz harness), --json.
//
// Exit status: 0 no crash reproduced, 1 a crash reproduced, 2 usage or input
// error (2 wins: a bad file among good ones is still reported as 2, after
// the good ones were processed).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/triage/dedup.h"
#include "hvo/triage/input.h"
#include "hvo/triage/json.h"
#include "hvo/triage/minimize.h"
#include "hvo/triage/regress.h"
#include "hvo/triage/report.h"
#include "hvo/triage/run.h"

using namespace hvo;
using namespace hvo::triage;

namespace {

constexpr int kExitClean = 0, kExitCrash = 1, kExitBadInput = 2;

struct Options {
  std::vector<std::string> files;
  std::string out, bytes_out;
  LoadOptions load;
  uint64_t runs = 10;
  unsigned group_by = kPartAll;
  bool json = false;
  bool no_minimize = false;
};

int usage(const std::string &msg) {
  if (!msg.empty())
    std::fprintf(stderr, "hvo-triage: error: %s\n", msg.c_str());
  std::fprintf(stderr,
               "usage: hvo-triage show FILE... [options]\n"
               "       hvo-triage replay FILE... [--runs N] [options]\n"
               "       hvo-triage dedup DIR [--group-by invariant,op,era,config] [options]\n"
               "       hvo-triage minimize FILE -o OUT [--bytes OUT.bin] [options]\n"
               "       hvo-triage regress FILE -o OUT.hvo|DIR [--no-minimize] [options]\n"
               "options: --target NAME  --format scenario|bytes  --bugs a,b  --json\n"
               "exit: 0 no crash reproduced, 1 crash reproduced, 2 usage or input error\n");
  return kExitBadInput;
}

// Parses argv after the subcommand; returns "" or a usage error.
std::string parse_options(const std::vector<std::string> &args, Options &o) {
  bool bugs_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&](std::string &dst) -> bool {
      if (i + 1 >= args.size())
        return false;
      dst = args[++i];
      return true;
    };
    std::string v;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--no-minimize") {
      o.no_minimize = true;
    } else if (a == "-o" || a == "--output") {
      if (!value(o.out))
        return a + " needs a path";
    } else if (a == "--bytes") {
      if (!value(o.bytes_out))
        return "--bytes needs a path";
    } else if (a == "--target") {
      if (!value(o.load.target))
        return "--target needs a fuzz target name";
      if (!fuzz::find_profile(o.load.target)) {
        std::string known;
        for (const fuzz::TargetProfile &p : fuzz::profiles())
          known += (known.empty() ? "" : ", ") + std::string(p.name);
        return "--target: no fuzz target named '" + o.load.target + "' (known: " + known + ")";
      }
    } else if (a == "--format") {
      if (!value(v))
        return "--format needs scenario or bytes";
      if (v == "scenario")
        o.load.format = InputFormat::Scenario;
      else if (v == "bytes")
        o.load.format = InputFormat::Bytes;
      else
        return "--format: '" + v + "' is neither scenario nor bytes";
    } else if (a == "--bugs") {
      if (!value(v))
        return "--bugs needs a comma-separated list of bug switches";
      bugs_given = true;
      if (std::string e = parse_bug_list(v, o.load.bugs); !e.empty())
        return "--bugs: " + e;
    } else if (a == "--group-by") {
      if (!value(v))
        return "--group-by needs a list of invariant, op, era, config";
      if (std::string e = parse_signature_parts(v, o.group_by); !e.empty())
        return "--group-by: " + e;
    } else if (a == "--runs") {
      if (!value(v) || v.empty() || v.size() > 6 ||
          !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          std::stoull(v) == 0)
        return "--runs needs a count between 1 and 999999";
      o.runs = std::stoull(v);
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      return "unknown option '" + a + "'";
    } else {
      o.files.push_back(a);
    }
  }
  if (!bugs_given)
    if (const char *env = std::getenv("HVO_FUZZ_BUGS"))
      if (std::string e = parse_bug_list(env, o.load.bugs); !e.empty())
        return "HVO_FUZZ_BUGS: " + e;
  return "";
}

int combine(int a, int b) { return std::max(a, b); }

void print_error(const std::string &e) { std::fprintf(stderr, "hvo-triage: error: %s\n", e.c_str()); }

int cmd_show(const Options &o) {
  if (o.files.empty())
    return usage("show needs at least one file");
  int rc = kExitClean;
  JsonWriter j;
  j.begin_array();
  for (size_t i = 0; i < o.files.size(); ++i) {
    TriageInput in;
    if (std::string err = load_input(o.files[i], o.load, in); !err.empty()) {
      print_error(err);
      rc = combine(rc, kExitBadInput);
      continue;
    }
    Analysis a = analyze(in, true);
    if (!a.outcome.model_error.empty())
      rc = combine(rc, kExitBadInput);
    else if (a.outcome.crashed)
      rc = combine(rc, kExitCrash);
    if (o.json)
      write_show_json(j, a);
    else
      std::fputs(((i ? "\n" : "") + format_show(a)).c_str(), stdout);
  }
  j.end_array();
  if (o.json)
    std::fputs(j.str().c_str(), stdout);
  return rc;
}

int cmd_replay(const Options &o) {
  if (o.files.empty())
    return usage("replay needs at least one file");
  int rc = kExitClean;
  JsonWriter j;
  j.begin_array();
  for (const std::string &path : o.files) {
    // Every run re-reads and re-decodes the file, so the decoder and target
    // inference are inside the determinism check too.
    uint64_t reproduced = 0, clean = 0, digest_mismatch = 0;
    Signature first_sig;
    uint64_t first_digest = 0;
    std::string err;
    for (uint64_t run = 0; run < o.runs && err.empty(); ++run) {
      TriageInput in;
      err = load_input(path, o.load, in);
      if (!err.empty())
        break;
      RunOutcome r = run_input(in);
      if (!r.model_error.empty()) {
        err = path + ": the configuration does not boot: " + r.model_error;
        break;
      }
      Signature sig = signature_of_input(in, r);
      if (run == 0) {
        first_sig = sig;
        first_digest = r.digest;
      } else if (r.digest != first_digest) {
        ++digest_mismatch;
      }
      if (!r.crashed)
        ++clean;
      else if (sig == first_sig)
        ++reproduced;
    }
    if (!err.empty()) {
      print_error(err);
      rc = combine(rc, kExitBadInput);
      continue;
    }
    const bool crashed_first = !first_sig.invariant.empty();
    const bool harness_bug = digest_mismatch != 0 || (crashed_first && reproduced != o.runs) ||
                             (!crashed_first && clean != o.runs);
    if (reproduced)
      rc = combine(rc, kExitCrash);
    if (o.json) {
      j.begin_object();
      j.key("file").value(path);
      j.key("runs").value(o.runs);
      j.key("reproduced").value(reproduced);
      j.key("clean").value(clean);
      j.key("digest_mismatches").value(digest_mismatch);
      j.key("harness_bug").value(harness_bug);
      j.key("signature");
      if (crashed_first)
        write_signature_json(j, first_sig);
      else
        j.null();
      j.end_object();
    } else {
      std::string line = path + ": ";
      if (crashed_first)
        line += "reproduced " + std::to_string(reproduced) + "/" + std::to_string(o.runs) + " (" +
                first_sig.key() + ")";
      else
        line += "no crash in " + std::to_string(clean) + "/" + std::to_string(o.runs) + " runs";
      if (harness_bug)
        line += "\n" + path + ": HARNESS BUG: replays differ (" + std::to_string(digest_mismatch) +
                " outcome digest mismatch(es)); the model or decoder is not deterministic";
      std::puts(line.c_str());
    }
  }
  j.end_array();
  if (o.json)
    std::fputs(j.str().c_str(), stdout);
  return rc;
}

int cmd_dedup(const Options &o) {
  if (o.files.size() != 1)
    return usage("dedup takes exactly one directory");
  DedupReport r;
  if (std::string err = dedup_dir(o.files[0], o.load, r, o.group_by); !err.empty()) {
    print_error(err);
    return kExitBadInput;
  }
  if (o.json) {
    JsonWriter j;
    write_dedup_json(j, r);
    std::fputs(j.str().c_str(), stdout);
  } else {
    std::fputs(format_dedup(r).c_str(), stdout);
  }
  if (!r.errors.empty())
    return kExitBadInput;
  return r.groups.empty() ? kExitClean : kExitCrash;
}

bool write_file(const std::string &path, const void *data, size_t n, std::string &err) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    err = path + ": cannot create";
    return false;
  }
  f.write(static_cast<const char *>(data), static_cast<std::streamsize>(n));
  f.close();
  if (!f) {
    err = path + ": write error";
    return false;
  }
  return true;
}

// minimize and regress: load, check it crashes, shrink.
struct Shrunk {
  TriageInput input;
  MinimizeResult result;          // ops inputs
  RaceMinimizeResult race_result; // hvo_fuzz_race inputs (result.ops_* mirror its schedule bytes)
};

// Returns an exit code; kExitCrash means `s` is filled in.
int load_and_minimize(const Options &o, bool minimize_it, Shrunk &s) {
  if (o.files.size() != 1)
    return usage("takes exactly one file");
  if (o.out.empty())
    return usage("needs -o OUT");
  // Refuse an output we cannot write before spending replays on it.
  {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path out(o.out);
    const fs::path dir = fs::is_directory(out, ec) ? out : out.parent_path();
    if (!dir.empty() && !fs::is_directory(dir, ec)) {
      print_error(o.out + ": no such directory " + dir.string());
      return kExitBadInput;
    }
    if (o.out.back() == '/' && !fs::is_directory(out, ec)) {
      print_error(o.out + ": no such directory");
      return kExitBadInput;
    }
  }
  if (std::string err = load_input(o.files[0], o.load, s.input); !err.empty()) {
    print_error(err);
    return kExitBadInput;
  }
  RunOutcome r = run_input(s.input);
  if (!r.model_error.empty()) {
    print_error(o.files[0] + ": the configuration does not boot: " + r.model_error);
    return kExitBadInput;
  }
  if (!r.crashed) {
    if (o.json)
      std::printf("{\"file\":%s,\"crashed\":false}\n", json_escape(o.files[0]).c_str());
    else
      std::printf("%s: no crash reproduced; nothing written\n", o.files[0].c_str());
    return kExitClean;
  }
  if (s.input.is_race) {
    if (minimize_it) {
      s.race_result = minimize_race(s.input.race, s.input.race_bugs);
    } else {
      s.race_result.race = s.input.race;
      s.race_result.signature = signature_of_input(s.input, r);
      s.race_result.bytes_before = s.race_result.bytes_after = s.input.race.schedule.size();
    }
    s.result.signature = s.race_result.signature;
    s.result.ops_before = s.race_result.bytes_before;
    s.result.ops_after = s.race_result.bytes_after;
    s.result.replays = s.race_result.replays;
    return kExitCrash;
  }
  const fuzz::TargetProfile *profile =
      s.input.target.empty() ? nullptr : fuzz::find_profile(s.input.target);
  Admissible keep_encodable;
  if (profile && s.input.format == InputFormat::Bytes) {
    // Keep the result expressible as this target's bytes, so --bytes can
    // always write it and the fuzzer's corpus can hold it.
    keep_encodable = [profile](const Scenario &c) {
      Scenario plain = c;
      plain.config.bugs.reset();
      std::vector<uint8_t> b;
      return fuzz::encode_scenario(*profile, plain, b).empty();
    };
  }
  if (minimize_it) {
    s.result = minimize(s.input.scenario, keep_encodable);
  } else {
    s.result.scenario = s.input.scenario;
    s.result.scenario.ops.resize(r.in_final_check ? r.failing_op : r.failing_op + 1);
    s.result.scenario.lines.clear();
    s.result.signature = signature_of(s.input.scenario, r);
    s.result.ops_before = s.input.scenario.ops.size();
    s.result.ops_after = s.result.scenario.ops.size();
  }
  return kExitCrash;
}

std::string provenance(const Shrunk &s, const char *verb) {
  std::string p = std::string(verb) + " by hvo-triage from " +
                  std::filesystem::path(s.input.path).filename().string();
  if (!s.input.target.empty())
    p += " (" + s.input.target + ")";
  const char *unit = s.input.is_race ? " schedule bytes" : " ops";
  p += ": " + std::to_string(s.result.ops_before) + unit + " -> " + std::to_string(s.result.ops_after) + unit;
  return p;
}

void print_shrink_summary(const Options &o, const Shrunk &s, const std::string &written) {
  if (o.json) {
    JsonWriter j;
    j.begin_object();
    j.key("file").value(o.files[0]);
    j.key("crashed").value(true);
    j.key("signature");
    write_signature_json(j, s.result.signature);
    j.key("ops_before").value(static_cast<uint64_t>(s.result.ops_before));
    j.key("ops_after").value(static_cast<uint64_t>(s.result.ops_after));
    j.key("replays").value(static_cast<uint64_t>(s.result.replays));
    j.key("output").value(written);
    if (!o.bytes_out.empty())
      j.key("bytes_output").value(o.bytes_out);
    j.end_object();
    std::fputs(j.str().c_str(), stdout);
  } else {
    const char *unit = s.input.is_race ? "schedule bytes" : "ops";
    std::printf("%s: %zu %s -> %zu %s (%s; %zu candidate replays)\nwrote %s\n", o.files[0].c_str(),
                s.result.ops_before, unit, s.result.ops_after, unit, s.result.signature.key().c_str(),
                s.result.replays, written.c_str());
    if (!o.bytes_out.empty())
      std::printf("wrote %s (%s bytes)\n", o.bytes_out.c_str(), s.input.target.c_str());
  }
}

std::string shrunk_text(const Shrunk &s, const char *verb) {
  if (s.input.is_race)
    return format_race_regression(s.race_result.race, s.input.race_bugs, s.result.signature, provenance(s, verb));
  return format_regression(s.result.scenario, s.result.signature, provenance(s, verb));
}

int cmd_minimize(const Options &o) {
  Shrunk s;
  int rc = load_and_minimize(o, true, s);
  if (rc != kExitCrash)
    return rc;
  std::string err;
  const std::string text = shrunk_text(s, "Minimized");
  if (!write_file(o.out, text.data(), text.size(), err)) {
    print_error(err);
    return kExitBadInput;
  }
  if (!o.bytes_out.empty()) {
    const fuzz::TargetProfile *p = fuzz::find_profile(s.input.target);
    if (!p) {
      print_error("--bytes needs a fuzz target (give --target)");
      return kExitBadInput;
    }
    Scenario plain = s.result.scenario;
    plain.config.bugs.reset();
    std::vector<uint8_t> bytes;
    std::string e = s.input.is_race ? fuzz::encode_race_input(s.race_result.race, bytes)
                                    : fuzz::encode_scenario(*p, plain, bytes);
    if (!e.empty()) {
      print_error(o.out + ": not expressible as " + s.input.target + " bytes: " + e);
      return kExitBadInput;
    }
    if (!write_file(o.bytes_out, bytes.data(), bytes.size(), err)) {
      print_error(err);
      return kExitBadInput;
    }
  }
  print_shrink_summary(o, s, o.out);
  return kExitCrash;
}

int cmd_regress(const Options &o) {
  Shrunk s;
  int rc = load_and_minimize(o, !o.no_minimize, s);
  if (rc != kExitCrash)
    return rc;
  std::string path = o.out;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::string stem = std::filesystem::path(s.input.path).stem().string();
    path = (std::filesystem::path(path) / (stem + ".hvo")).string();
  }
  const std::string text = shrunk_text(s, o.no_minimize ? "Written" : "Minimized");
  std::string err;
  if (!write_file(path, text.data(), text.size(), err)) {
    print_error(err);
    return kExitBadInput;
  }
  print_shrink_summary(o, s, path);
  return kExitCrash;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return usage("no subcommand");
  const std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage("");
    return kExitClean;
  }
  Options o;
  if (std::string err = parse_options(std::vector<std::string>(argv + 2, argv + argc), o); !err.empty())
    return usage(err);
  if (cmd == "show")
    return cmd_show(o);
  if (cmd == "replay")
    return cmd_replay(o);
  if (cmd == "dedup")
    return cmd_dedup(o);
  if (cmd == "minimize")
    return cmd_minimize(o);
  if (cmd == "regress")
    return cmd_regress(o);
  return usage("unknown subcommand '" + cmd + "'");
}
