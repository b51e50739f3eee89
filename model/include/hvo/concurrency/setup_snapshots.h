// SPDX-License-Identifier: GPL-2.0-only
//
// Machines already set up for a concurrency scenario, kept across runs.
//
// Before its first step a scenario boots a 256 MiB machine and applies a
// few setup ops to it (allocate the folios, switch HVO off and on around an
// allocation, take a reference: scenarios.cpp, setup_plan).  For one
// schedule (a fuzz input) that is most of the work: four Model::apply calls,
// each with its oracle check, against steps that touch a handful of PTEs.
// The setup depends only on the machine's Config and on the ops, never on
// the schedule or the bug switches (those pick the threads' code), so it is
// done once per (Config, ops) here: `prepared` applies the ops and then
// never runs anything, and each run gets a working Model reset to it
// (Model::reset, the copy the fuzz boot cache makes of a booted machine).
//
// Model::reset copies the whole machine (memory, page tables, TLB, folios,
// counters, faults, reports) and the op index; of the oracle it keeps what
// it held at construction and forgets which folios it saw optimized.  That
// is exact for a scenario run: its steps call the kernel functions, never
// Model::apply, and its one oracle call, Model::check_all, looks at every
// folio, which makes the oracle re-learn each folio's flag before it counts
// them (Oracle::check, track).  tests/fastpath/race_snapshot_test.cpp pins
// it: every race seed and random race inputs, under each bug switch, give
// the same trace, choices, violations and final machine state through a
// snapshot as through a fresh boot plus the setup ops.
//
// Like the boot cache (fuzz/harness/include/hvo/fuzz/boot_cache.h), the
// working Models handed out are reset to their snapshot by release_all at
// the end of the input, so an input frees within itself what it allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hvo/config.h"

namespace hvo {
class Model;
}

namespace hvo::concurrency {

class SetupSnapshots {
public:
  /// At most this many (Config, ops) pairs are kept; the least recently
  /// used goes first.  The race input's options give 10 setups (get-tail
  /// and optimize-vs-restore per shared-tail variant, the reader per era,
  /// variant and writer), so in the fuzzer none is ever dropped.
  static constexpr size_t kMaxEntries = 16;

  SetupSnapshots();
  ~SetupSnapshots();
  SetupSnapshots(const SetupSnapshots &) = delete;
  SetupSnapshots &operator=(const SetupSnapshots &) = delete;

  /// A Model in the state Model::create(@config) followed by apply() of
  /// each of @setup (hvo-sim op lines) leaves it in, as far as anything but
  /// Model::apply can tell (see above); nullptr with *error set when
  /// @config is invalid.  Valid until the next call.
  Model *model_for(const Config &config, const std::vector<std::string> &setup,
                   std::string *error);

  /// Resets every Model handed out since the last call to its snapshot.
  /// Call at the end of an input.
  void release_all();

  /// The Model the last model_for call returned (tests compare its state
  /// after a run), or nullptr.
  Model *last() const { return last_; }

private:
  struct Entry;
  std::vector<std::unique_ptr<Entry>> entries_;
  uint64_t clock_ = 0;
  Model *last_ = nullptr;
};

} // namespace hvo::concurrency
