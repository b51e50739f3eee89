// SPDX-License-Identifier: GPL-2.0-only
//
// The race target's set-up machines (SetupSnapshots,
// model/include/hvo/concurrency/setup_snapshots.h) against the path they
// replace: a fresh boot with the scenario's setup ops applied before every
// run.  Every race seed and regression, and random race inputs, under the
// fixed kernel and under each race bug switch, run both ways; the runs must
// agree on everything a harness or a reader of the model can see: the
// trace, the schedule taken (choices, branching, preemption points), the
// step-limit and deadlock flags, every violation, the final machine state
// (machine_state_diff), the op count, and what a second whole-oracle check
// after the run reports.  One SetupSnapshots serves every input in a mixed
// order, so its entries are reused dirty, reset, and released.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "hvo/concurrency/scenarios.h"
#include "hvo/concurrency/setup_snapshots.h"
#include "hvo/fuzz/outcome.h"
#include "hvo/fuzz/race_input.h"
#include "hvo/model.h"

#include "machine_state.h"
#include "race_inputs.h"

namespace hvo {
namespace {

using concurrency::ScenarioRun;
using concurrency::SetupSnapshots;

using test::describe;

std::string describe(const std::vector<Violation> &vs) {
  std::string out;
  for (const Violation &v : vs)
    out += format_violation(v) + '\n';
  return out;
}

struct Counts {
  unsigned runs = 0, with_violations = 0, stepped = 0;
};

// One input both ways under @bugs; the snapshot side from @snaps.
void compare(const std::string &name, const fuzz::RaceInput &in, const Config &bugs,
             SetupSnapshots &snaps, Counts &counts) {
  const concurrency::ScenarioOptions opt = fuzz::race_options(in, bugs);
  std::unique_ptr<Model> fresh;
  const concurrency::ModelSource boot = [&fresh](const Config &c, std::string *error) {
    fresh = Model::create(c, error);
    return fresh.get();
  };
  const ScenarioRun a = concurrency::run_scenario(in.kind, opt, in.schedule, boot);
  const ScenarioRun b = concurrency::run_scenario(in.kind, opt, in.schedule, snaps);
  ASSERT_NE(fresh, nullptr);
  ASSERT_NE(snaps.last(), nullptr);
  const std::string what = name + ": " + fuzz::print_race_input(in);
  EXPECT_EQ(describe(a), describe(b)) << what;
  EXPECT_EQ(test::machine_state_diff(fresh->machine(), snaps.last()->machine()), "") << what;
  EXPECT_EQ(fresh->ops_applied(), snaps.last()->ops_applied()) << what;
  // The oracle's own state: a second whole check sees the same.
  Model &again = *snaps.last();
  EXPECT_EQ(describe(fresh->check_all()), describe(again.check_all())) << what;
  counts.runs++;
  counts.with_violations += !a.violations.empty();
  counts.stepped += in.remap_steps;
}

TEST(RaceSnapshot, StoredInputsSameAsFreshSetup) {
  const auto inputs = test::stored_race_inputs();
  ASSERT_GE(inputs.size(), 10u) << "the race seeds were not found";
  SetupSnapshots snaps;
  Counts counts;
  unsigned k = 0;
  for (const Config &bugs : test::race_bug_sets())
    for (const auto &[name, in] : inputs) {
      compare(name, in, bugs, snaps, counts);
      if (++k % 3 == 0)
        snaps.release_all();  // otherwise the next model_for resets a dirty entry
    }
  EXPECT_EQ(counts.runs, 4 * inputs.size());
  // Not vacuous: the bug switches make runs report, and the stepped
  // remaps run.
  EXPECT_GE(counts.with_violations, 3u);
  EXPECT_GE(counts.stepped, 4u * 3u);
}

TEST(RaceSnapshot, RandomInputsSameAsFreshSetup) {
  std::mt19937 rng(20261121);
  SetupSnapshots snaps;
  Counts counts;
  const std::vector<Config> bugs = test::race_bug_sets();
  for (unsigned i = 0; i < 96; i++) {
    std::vector<uint8_t> bytes(1 + rng() % 40);
    for (uint8_t &x : bytes)
      x = static_cast<uint8_t>(rng());
    const fuzz::RaceInput in = fuzz::decode_race_input(bytes);
    compare("random input " + std::to_string(i), in, bugs[i % bugs.size()], snaps, counts);
    if (rng() % 2)
      snaps.release_all();
  }
  EXPECT_EQ(counts.runs, 96u);
  RecordProperty("runs_with_violations", static_cast<int>(counts.with_violations));
  RecordProperty("stepped_runs", static_cast<int>(counts.stepped));
  EXPECT_GE(counts.with_violations, 5u);
  EXPECT_GE(counts.stepped, 20u);
}

// A snapshot is never written by the runs that reset to it: the same input
// run first and after many others gives the same.
TEST(RaceSnapshot, SnapshotUnchangedByRuns) {
  SetupSnapshots snaps;
  fuzz::RaceInput probe;
  ASSERT_EQ(fuzz::parse_race_input("race scenario=speculative-reader remap=steps era=legacy "
                                   "restore=0 schedule=0101010101010100",
                                   "probe", probe),
            "");
  const concurrency::ScenarioOptions opt = fuzz::race_options(probe, Config{});
  const std::string first = describe(run_scenario(probe.kind, opt, probe.schedule, snaps));
  std::mt19937 rng(5);
  for (unsigned i = 0; i < 30; i++) {
    std::vector<uint8_t> bytes(2 + rng() % 30);
    for (uint8_t &x : bytes)
      x = static_cast<uint8_t>(rng());
    bytes[0] = 4;  // speculative-reader, remap=steps
    const fuzz::RaceInput in = fuzz::decode_race_input(bytes);
    run_scenario(in.kind, fuzz::race_options(in, Config{}), in.schedule, snaps);
  }
  EXPECT_EQ(first, describe(run_scenario(probe.kind, opt, probe.schedule, snaps)));
}

// The fuzz harness's runs keep one ScenarioRun across inputs and reuse its
// buffers (run_scenario's out overloads, run_schedule_into,
// format_trace_into): each run must replace every field, whatever the
// previous run left there.  Every stored input and random inputs, in a
// mixed order under the bug switches (so runs with violations, deadlocks
// and long traces precede short clean ones), through one reused run
// against a fresh one; from snapshots and from fresh boots.
TEST(RaceSnapshot, ReusedRunSameAsFreshRun) {
  std::vector<std::pair<std::string, fuzz::RaceInput>> inputs = test::stored_race_inputs();
  ASSERT_GE(inputs.size(), 10u) << "the race seeds were not found";
  std::mt19937 rng(1123);
  for (unsigned i = 0; i < 96; i++) {
    std::vector<uint8_t> bytes(1 + rng() % 40);
    for (uint8_t &x : bytes)
      x = static_cast<uint8_t>(rng());
    inputs.emplace_back("random input " + std::to_string(i), fuzz::decode_race_input(bytes));
  }
  std::shuffle(inputs.begin(), inputs.end(), rng);
  SetupSnapshots fresh_snaps, reused_snaps;
  ScenarioRun reused, reused_boot;
  const std::vector<Config> bugs = test::race_bug_sets();
  unsigned with_violations = 0, clean_after_violations = 0, k = 0;
  bool previous_reported = false;
  for (const auto &[name, in] : inputs)
    for (const Config &b : {bugs[0], bugs[1 + k++ % (bugs.size() - 1)]}) {
      const concurrency::ScenarioOptions opt = fuzz::race_options(in, b);
      const std::string what = name + ": " + fuzz::print_race_input(in);
      const ScenarioRun a = concurrency::run_scenario(in.kind, opt, in.schedule, fresh_snaps);
      concurrency::run_scenario(reused, in.kind, opt, in.schedule, reused_snaps);
      EXPECT_EQ(describe(a), describe(reused)) << what;
      ASSERT_NE(fresh_snaps.last(), nullptr);
      ASSERT_NE(reused_snaps.last(), nullptr);
      EXPECT_EQ(test::machine_state_diff(fresh_snaps.last()->machine(),
                                         reused_snaps.last()->machine()),
                "")
          << what;
      fresh_snaps.release_all();
      reused_snaps.release_all();
      if (k % 4 == 0) {  // the fresh-boot overload, reused too
        concurrency::run_scenario(reused_boot, in.kind, opt, in.schedule);
        EXPECT_EQ(describe(concurrency::run_scenario(in.kind, opt, in.schedule)),
                  describe(reused_boot))
            << what;
      }
      with_violations += !a.violations.empty();
      clean_after_violations += previous_reported && a.violations.empty();
      previous_reported = !a.violations.empty();
    }
  // Not vacuous: reused runs overwrite runs that reported.
  EXPECT_GE(with_violations, 5u);
  EXPECT_GE(clean_after_violations, 3u);
}

// Everything an exploration reports, as text.
std::string describe(const concurrency::Exploration &e) {
  std::string out = "schedules " + std::to_string(e.schedules) + " bad " +
                    std::to_string(e.bad) + " max_steps " + std::to_string(e.max_steps) +
                    "\nfirst bad";
  for (uint8_t b : e.first_bad)
    out += ' ' + std::to_string(b);
  out += '\n' + describe(e.first_bad_violations);
  for (const auto &[id, n] : e.bad_by_id)
    out += id + ' ' + std::to_string(n) + '\n';
  return out;
}

// explore_scenario runs every schedule on a snapshot of its setup; the
// same exploration with the setup ops applied per schedule finds the same.
TEST(RaceSnapshot, ExplorationsSameAsSetupPerSchedule) {
  using concurrency::ExploreSetup;
  using concurrency::ScenarioKind;
  struct Case {
    const char *name;
    ScenarioKind kind;
    concurrency::ScenarioOptions opt;
    unsigned preemptions;
  };
  std::vector<Case> cases;
  concurrency::ScenarioOptions plain;
  plain.cmpxchg_publish = false;
  cases.push_back({"get-tail, plain store", ScenarioKind::GetTailRace, plain,
                   concurrency::kUnboundedPreemptions});
  concurrency::ScenarioOptions reader612;
  reader612.synchronize_rcu = false;
  cases.push_back({"reader, 6.12 order, no rcu", ScenarioKind::SpeculativeReader, reader612,
                   concurrency::kUnboundedPreemptions});
  concurrency::ScenarioOptions restore;
  restore.restore = true;
  restore.refcount_first = true;
  cases.push_back({"reader against restore", ScenarioKind::SpeculativeReader, restore,
                   concurrency::kUnboundedPreemptions});
  concurrency::ScenarioOptions stepped;
  stepped.remap_steps = true;
  stepped.order = 7;
  stepped.synchronize_rcu = false;
  cases.push_back({"reader inside the remap, order 7", ScenarioKind::SpeculativeReader, stepped, 1});
  concurrency::ScenarioOptions ovr;
  ovr.remap_steps = true;
  ovr.order = 7;
  ovr.shared_variant = Variant::Muchun;
  cases.push_back({"optimize vs restore in steps, order 7", ScenarioKind::OptimizeVsRestore, ovr, 1});
  unsigned bad = 0;
  for (const Case &c : cases) {
    const concurrency::Exploration a =
        concurrency::explore_scenario(c.kind, c.opt, c.preemptions, ExploreSetup::PerSchedule);
    const concurrency::Exploration b =
        concurrency::explore_scenario(c.kind, c.opt, c.preemptions, ExploreSetup::Snapshot);
    EXPECT_EQ(describe(a), describe(b)) << c.name;
    EXPECT_GT(a.schedules, 1u) << c.name;
    bad += a.bad > 0;
  }
  EXPECT_GE(bad, 2u) << "some explorations should find bad schedules";
}

}  // namespace
}  // namespace hvo
