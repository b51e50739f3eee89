// SPDX-License-Identifier: GPL-2.0-only
//
// Crash deduplication by signature (see dedup.h).
#include "hvo/triage/dedup.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

#include "hvo/triage/report.h"

namespace hvo::triage {

std::string dedup_dir(const std::string &dir, const LoadOptions &opts, DedupReport &out,
                      unsigned parts) {
  namespace fs = std::filesystem;
  out = DedupReport{};
  out.dir = dir;
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return dir + ": no such directory";
  if (!fs::is_directory(dir, ec))
    return dir + ": not a directory";
  std::vector<std::string> paths;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec)
    return dir + ": cannot list: " + ec.message();
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      return dir + ": cannot list: " + ec.message();
    if (it->is_regular_file(ec))
      paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());
  out.files = paths.size();

  // std::map: groups keyed by the signature's text, iterated in key order.
  std::map<std::string, DedupGroup> by_key;
  for (const std::string &p : paths) {
    TriageInput in;
    if (std::string err = load_input(p, opts, in); !err.empty()) {
      out.errors.push_back(err);
      continue;
    }
    RunOutcome r = run_input(in);
    DedupMember m{p, in.target, input_size_in_steps(in)};
    if (!r.model_error.empty()) {
      out.errors.push_back(p + ": the configuration does not boot: " + r.model_error);
      continue;
    }
    if (!r.crashed) {
      out.clean.push_back(m);
      continue;
    }
    Signature sig = coarsen(signature_of_input(in, r), parts);
    DedupGroup &g = by_key[sig.key()];
    g.signature = sig;
    g.members.push_back(m);
  }
  for (auto &[key, g] : by_key) {
    g.representative = g.members.front();
    for (const DedupMember &m : g.members) {
      if (m.ops < g.representative.ops)
        g.representative = m;
      if (!m.target.empty() && std::find(g.targets.begin(), g.targets.end(), m.target) == g.targets.end())
        g.targets.push_back(m.target);
    }
    std::sort(g.targets.begin(), g.targets.end());
    out.groups.push_back(std::move(g));
  }
  std::sort(out.groups.begin(), out.groups.end(), [](const DedupGroup &a, const DedupGroup &b) {
    if (a.members.size() != b.members.size())
      return a.members.size() > b.members.size();
    return a.signature.key() < b.signature.key();
  });
  return "";
}

std::string format_dedup(const DedupReport &r) {
  std::string out = r.dir + ": " + std::to_string(r.files) + " files, " +
                    std::to_string(r.groups.size()) + " crash group(s), " +
                    std::to_string(r.clean.size()) + " without a crash, " +
                    std::to_string(r.errors.size()) + " unreadable\n";
  for (size_t i = 0; i < r.groups.size(); ++i) {
    const DedupGroup &g = r.groups[i];
    char head[64];
    std::snprintf(head, sizeof head, "#%-3zu %4zu x  ", i + 1, g.members.size());
    out += head + g.signature.key() + "\n";
    out += "             representative: " + g.representative.path + " (" +
           std::to_string(g.representative.ops) + " ops)";
    if (!g.targets.empty()) {
      out += " targets:";
      for (const std::string &t : g.targets)
        out += " " + t;
    }
    out += "\n";
  }
  for (const std::string &e : r.errors)
    out += "error: " + e + "\n";
  return out;
}

void write_dedup_json(JsonWriter &j, const DedupReport &r) {
  j.begin_object();
  j.key("dir").value(r.dir);
  j.key("files").value(static_cast<uint64_t>(r.files));
  j.key("groups").begin_array();
  for (const DedupGroup &g : r.groups) {
    j.begin_object();
    j.key("signature");
    write_signature_json(j, g.signature);
    j.key("count").value(static_cast<uint64_t>(g.members.size()));
    j.key("representative").value(g.representative.path);
    j.key("representative_ops").value(static_cast<uint64_t>(g.representative.ops));
    j.key("targets").begin_array();
    for (const std::string &t : g.targets)
      j.value(t);
    j.end_array();
    j.key("members").begin_array();
    for (const DedupMember &m : g.members)
      j.value(m.path);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.key("clean").begin_array();
  for (const DedupMember &m : r.clean)
    j.value(m.path);
  j.end_array();
  j.key("errors").begin_array();
  for (const std::string &e : r.errors)
    j.value(e);
  j.end_array();
  j.end_object();
}

}  // namespace hvo::triage
