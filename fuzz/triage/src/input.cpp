// SPDX-License-Identifier: GPL-2.0-only
//
// Reading crash files and scenarios (see input.h).
#include "hvo/triage/input.h"

#include <algorithm>
#include <optional>
#include <fstream>
#include <iterator>
#include <string_view>
#include <system_error>
#include <filesystem>

#include "hvo/fuzz/decoder.h"
#include "hvo/triage/run.h"

namespace hvo::triage {

namespace {

std::string_view basename(std::string_view p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

bool starts_with_word(std::string_view line, std::string_view word) {
  return line.substr(0, word.size()) == word &&
         (line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t' ||
          line[word.size()] == '\r');
}

// The first line that is not blank or a comment, if the text is printable.
std::optional<std::string_view> first_statement(std::span<const uint8_t> data, bool &printable) {
  printable = !data.empty();
  for (uint8_t c : data)
    if (!((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r'))
      printable = false;
  if (!printable)
    return std::nullopt;
  std::string_view text(reinterpret_cast<const char *>(data.data()), data.size());
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
      line.remove_prefix(1);
    if (line.empty() || line == "\r" || line.front() == '#')
      continue;
    return line;
  }
  return std::nullopt;
}

}  // namespace

bool looks_like_race(std::span<const uint8_t> data) {
  bool printable = false;
  std::optional<std::string_view> first = first_statement(data, printable);
  return first && starts_with_word(*first, "race");
}

bool looks_like_scenario(std::span<const uint8_t> data) {
  bool printable = false;
  std::optional<std::string_view> first = first_statement(data, printable);
  if (!printable)
    return false;
  // Only comments: a scenario that does nothing.
  if (!first)
    return true;
  if (starts_with_word(*first, "config") || starts_with_word(*first, "race"))
    return true;
  for (const OpDescriptor &d : op_table())
    if (starts_with_word(*first, d.name))
      return true;
  return false;
}

std::string artifact_kind(const std::string &path) {
  const std::string_view b = basename(path);
  for (std::string_view k : {"crash", "leak", "timeout", "oom", "slow-unit"})
    if (b.substr(0, k.size() + 1) == std::string(k) + "-")
      return std::string(k);
  if (b.substr(0, 20) == "clusterfuzz-testcase")
    return "testcase";
  return "";
}

std::string target_from_path(const std::string &path) {
  // Longest name first, so no profile name hides a longer one containing it.
  std::string best;
  for (const fuzz::TargetProfile &p : fuzz::profiles())
    if (path.find(p.name) != std::string::npos && p.name.size() > best.size())
      best = std::string(p.name);
  return best;
}

std::string load_input_bytes(const std::string &path, std::span<const uint8_t> data,
                             const LoadOptions &opts, TriageInput &out) {
  out = TriageInput{};
  out.path = path;
  out.size = data.size();
  out.format = opts.format ? *opts.format : looks_like_scenario(data) ? InputFormat::Scenario
                                                                       : InputFormat::Bytes;
  const std::string kind = artifact_kind(path);
  if (out.format == InputFormat::Scenario) {
    out.kind = kind.empty() ? "scenario" : kind;
    std::string_view text(reinterpret_cast<const char *>(data.data()), data.size());
    std::string err;
    if (looks_like_race(data)) {
      out.is_race = true;
      out.target = "hvo_fuzz_race";
      out.target_source = "race text";
      err = fuzz::parse_race_input(text, path, out.race);
      if (!err.empty())
        return err;
      // A race line has no config: its bug switches are a "# bugs:" header.
      const std::string tag = "# bugs: ";
      for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        if (line.substr(0, tag.size()) == tag)
          if (std::string e = parse_bug_list(line.substr(tag.size()), out.race_bugs); !e.empty())
            return path + ": # bugs: " + e;
      }
      out.race_bugs |= opts.bugs;
      return "";
    }
    if (!parse_scenario(text, path, out.scenario, err))
      return err;
    out.scenario.config.bugs |= opts.bugs;
    if (!opts.target.empty()) {
      if (!fuzz::find_profile(opts.target))
        return path + ": --target: no fuzz target named '" + opts.target + "'";
      out.target = opts.target;
      out.target_source = "--target";
    }
    return "";
  }

  out.kind = kind.empty() ? "bytes" : kind;
  auto decode = [&](const fuzz::TargetProfile &p) {
    out.target = std::string(p.name);
    if (p.runner == fuzz::Runner::Race) {
      out.is_race = true;
      out.race = fuzz::decode_race_input(data);
      out.race_bugs = opts.bugs;
      return;
    }
    out.scenario = fuzz::decode_input(p, data);
    out.scenario.config.bugs = opts.bugs;
  };
  if (!opts.target.empty()) {
    const fuzz::TargetProfile *p = fuzz::find_profile(opts.target);
    if (!p)
      return path + ": --target: no fuzz target named '" + opts.target + "'";
    decode(*p);
    out.target_source = "--target";
    return "";
  }
  if (std::string named = target_from_path(path); !named.empty()) {
    decode(*fuzz::find_profile(named));
    out.target_source = "path";
    return "";
  }
  // Inference: the first profile whose replay of these bytes crashes.
  const fuzz::TargetProfile *chosen = nullptr;
  for (const fuzz::TargetProfile &p : fuzz::profiles()) {
    if (p.runner == fuzz::Runner::Race) {
      if (!run_race(fuzz::decode_race_input(data), opts.bugs).crashed)
        continue;
    } else {
      if (fuzz::profile_kinds(p).empty())
        continue;  // the model has none of its ops yet
      Scenario s = fuzz::decode_input(p, data);
      s.config.bugs = opts.bugs;
      if (!run_scenario(s).crashed)
        continue;
    }
    if (!chosen)
      chosen = &p;
    else
      out.other_crashing_targets.push_back(std::string(p.name));
  }
  decode(chosen ? *chosen : fuzz::profiles().front());
  out.target_source = chosen ? "inferred" : "default (no target crashes on these bytes)";
  return "";
}

RunOutcome run_input(const TriageInput &in) {
  return in.is_race ? run_race(in.race, in.race_bugs) : run_scenario(in.scenario);
}

Signature signature_of_input(const TriageInput &in, const RunOutcome &r) {
  return in.is_race ? race_signature_of(in.race, in.race_bugs, r) : signature_of(in.scenario, r);
}

size_t input_size_in_steps(const TriageInput &in) {
  return in.is_race ? in.race.schedule.size() : in.scenario.ops.size();
}

BugSet input_bugs(const TriageInput &in) { return in.is_race ? in.race_bugs : in.scenario.config.bugs; }

std::string load_input(const std::string &path, const LoadOptions &opts, TriageInput &out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return path + ": no such file";
  if (fs::is_directory(st))
    return path + ": is a directory (dedup takes directories)";
  if (!fs::is_regular_file(st))
    return path + ": not a regular file";
  const uintmax_t size = fs::file_size(path, ec);
  if (ec)
    return path + ": cannot read size: " + ec.message();
  if (size > kMaxInputBytes)
    return path + ": " + std::to_string(size) + " bytes, larger than any fuzz input (limit " +
           std::to_string(kMaxInputBytes) + ")";
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return path + ": cannot open";
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    return path + ": read error";
  return load_input_bytes(path, data, opts, out);
}

}  // namespace hvo::triage
