// SPDX-License-Identifier: GPL-2.0-only
//
// What the fuzz harness and hvo-triage both need to agree on about a run:
// the outcome digest (so a mismatch between two replays means the same
// thing in the replay driver's --twice and in `hvo-triage replay`), and the
// parsing of a bug-switch list ("a,b", from HVO_FUZZ_BUGS or --bugs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hvo/config.h"
#include "hvo/model.h"

namespace hvo::fuzz {

// FNV-1a over everything a run produced: return values, notes, folio ids
// and violations.
struct OutcomeDigest {
  uint64_t h = 0xcbf29ce484222325ull;
  void bytes(const void *p, size_t n) {
    const auto *b = static_cast<const uint8_t *>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 0x100000001b3ull;
    }
  }
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void str(const std::string &s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  void step(const StepResult &r) {
    u64(static_cast<uint64_t>(r.result.ret));
    str(r.result.note);
    u64(r.result.folios.size());
    for (FolioId f : r.result.folios)
      u64(f);
    for (const Violation &v : r.violations)
      str(format_violation(v));
  }
};

// Parses "a,b" into `out`; returns "" or one line naming the unknown switch
// and the known ones.
std::string parse_bug_list(std::string_view text, BugSet &out);

} // namespace hvo::fuzz
