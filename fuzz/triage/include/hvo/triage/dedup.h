// SPDX-License-Identifier: GPL-2.0-only
//
// `hvo-triage dedup DIR`: every file under DIR (recursively, in sorted path
// order) is loaded and replayed, and crashes are grouped by Signature.  Files
// that do not crash and files that cannot be read are counted and listed,
// never dropped.
#pragma once

#include <string>
#include <vector>

#include "hvo/triage/input.h"
#include "hvo/triage/json.h"
#include "hvo/triage/run.h"

namespace hvo::triage {

struct DedupMember {
  std::string path;
  std::string target;  // "" for scenarios
  size_t ops = 0;      // decoded ops (all of them, not only those that ran)
};

struct DedupGroup {
  Signature signature;
  DedupMember representative;  // fewest ops, then first path
  std::vector<DedupMember> members;  // sorted by path
  std::vector<std::string> targets;  // distinct, sorted
};

struct DedupReport {
  std::string dir;
  std::vector<DedupGroup> groups;  // most members first, then by signature key
  std::vector<DedupMember> clean;  // replayed without a crash
  std::vector<std::string> errors; // one line each
  size_t files = 0;
};

// Returns "" or a one-line error about DIR itself (missing, not a directory).
// `parts`: the signature parts that make a group (kPartAll: all four).
std::string dedup_dir(const std::string &dir, const LoadOptions &opts, DedupReport &out,
                      unsigned parts = kPartAll);

std::string format_dedup(const DedupReport &r);
void write_dedup_json(JsonWriter &j, const DedupReport &r);

}  // namespace hvo::triage
