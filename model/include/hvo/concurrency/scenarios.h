// SPDX-License-Identifier: GPL-2.0-only
//
// The three concurrency scenarios of issue 4, section 3, as deterministic
// interleavings of small steps over one model (scheduler.h).  Each step is a
// piece of the ported kernel code between two accesses another CPU can
// observe; the schedule byte string picks the order.  A scenario runs under
// one schedule (replay) or under every schedule (exhaustive), and its check
// turns what happened into violations.
//
//  1. get-tail race: two CPUs in vmemmap_get_tail() for the same (zone,
//     order); fixed = cmpxchg publication, the loser frees (Kiryl v3+);
//     unfixed = the v1 plain store.
//  2. speculative reader: page_ref_add_unless(tail slot, 1, 0) on one CPU
//     against HugeTLB optimize (freeze, synchronize_rcu, remap, unfreeze) or
//     restore on another; legacy era with or without the synchronize_rcu,
//     in the 6.12 read order (fake-head test, then refcount) or the fixed
//     one (refcount, then fake-head test); shared-tail era (no fake heads).
//  3. optimize of folio A against restore of folio B of the same order and
//     zone, which share one tail frame (shared-tail era), with a reader
//     resolving both folios' tail slots in between.
//
// With remap_steps, the optimize and restore calls of scenarios 2 and 3 run
// as coroutines (coroutine.h): each interleave point of the remap walk (PTE
// update, PMD split and its flush, the walk's TLB flush, page copy, free of
// a vmemmap page, synchronize_rcu) ends a step, so the other CPUs can run
// between two PTE updates, between the last update and the flush, or
// between the flush and the frees.  Without it each call is one step (the
// decoding of older race inputs).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hvo/concurrency/scheduler.h"
#include "hvo/config.h"
#include "hvo/violation.h"

namespace hvo {
class Model;
}

namespace hvo::concurrency {

/// How a scenario's kernel code is ordered.
struct ScenarioOptions {
  Variant shared_variant = Variant::KirylV7;  ///< scenarios 1 and 3
  bool cmpxchg_publish = true;   ///< scenario 1: false = v1's plain store
  Era era = Era::Legacy;         ///< scenario 2
  bool synchronize_rcu = true;   ///< scenario 2, legacy: the writer waits for readers
  bool refcount_first = false;   ///< scenario 2, legacy: Yu Zhao's read order
  bool restore = false;          ///< scenario 2: the writer restores instead of optimizing
  bool remap_steps = false;      ///< scenarios 2, 3: the remap is a step per interleave point
  /// Scenario 2 with remap_steps: the writer calls the batch API
  /// (hugetlb_vmemmap_optimize_folios / _restore_folios), whose walks do not
  /// flush: the stale translations live until its flush_tlb_all.
  bool batch = false;
  /// Scenarios 2, 3: the folios' order.  9 (2 MiB at 4K) is the real
  /// hstate; 7, the smallest order HVO optimizes at 4K (two vmemmap pages),
  /// runs the same walk over fewer PTEs, which keeps "every schedule" small.
  unsigned order = 9;
};

enum class ScenarioKind : uint8_t { GetTailRace, SpeculativeReader, OptimizeVsRestore };

/// One run: the trace, the schedule actually taken, and what the checks found.
struct ScenarioRun {
  RunResult run;
  std::vector<Violation> violations;
  std::string trace;
};

/// Where a run's machine comes from: a Model in the state
/// Model::create(cfg) returns (or nullptr and *error), which stays valid
/// until the run returns (the fuzz harness's boot cache,
/// fuzz/harness/include/hvo/fuzz/boot_cache.h).  The run applies its setup
/// ops and its steps to it and leaves it in the state the run ended in;
/// it installs its interleave hook only for the run and removes it after.
using ModelSource = std::function<Model *(const Config &, std::string *)>;

class SetupSnapshots;

/// Runs @kind under @schedule over a freshly booted machine.
ScenarioRun run_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                         const std::vector<uint8_t> &schedule);
/// The same over a machine from @model_for.  A config @model_for refuses
/// (the scenarios' configs are fixed, so only a broken source does) throws
/// std::invalid_argument naming the config and the error.
ScenarioRun run_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                         const std::vector<uint8_t> &schedule, const ModelSource &model_for);

/// The same over a machine from @snapshots (setup_snapshots.h): booted and
/// set up once per configuration, reset to that state for each run.  The
/// same run, trace, violations and final machine state as the overloads
/// above (tests/fastpath/race_snapshot_test.cpp).
ScenarioRun run_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                         const std::vector<uint8_t> &schedule, SetupSnapshots &snapshots);
/// The two runs a fuzz harness makes (from @snapshots, or from a fresh
/// boot), into @out: every field replaced, the storage of its trace,
/// schedule records and violations reused, so a harness that keeps @out
/// across inputs does not grow them afresh for each.  The same run as the
/// overloads that return it.
void run_scenario(ScenarioRun &out, ScenarioKind kind, const ScenarioOptions &opt,
                  const std::vector<uint8_t> &schedule, SetupSnapshots &snapshots);
void run_scenario(ScenarioRun &out, ScenarioKind kind, const ScenarioOptions &opt,
                  const std::vector<uint8_t> &schedule);

/// Every schedule: how many, how many had violations, and the first bad one.
struct Exploration {
  uint64_t schedules = 0;
  uint64_t bad = 0;
  std::vector<uint8_t> first_bad;      ///< its canonical schedule (replayable)
  std::vector<Violation> first_bad_violations;
  std::map<std::string, uint64_t> bad_by_id;  ///< schedules showing each violation id
  unsigned max_steps = 0;                     ///< longest run, in steps
};
/// Where an exploration's runs get their machine: set up once and reset to
/// that state for each schedule (SetupSnapshots), or booted once and reset
/// to the boot with the setup ops applied for each schedule, the path the
/// snapshots replace and are pinned to (tests/fastpath/race_snapshot_test.cpp).
enum class ExploreSetup : uint8_t { Snapshot, PerSchedule };

/// With @max_preemptions bounded, the schedules with at most that many
/// preemptions (scheduler.h); unbounded, all of them.
Exploration explore_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                             unsigned max_preemptions = kUnboundedPreemptions,
                             ExploreSetup setup = ExploreSetup::Snapshot);

} // namespace hvo::concurrency
