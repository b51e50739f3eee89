// SPDX-License-Identifier: GPL-2.0-only
//
// The concurrency scenarios over machines handed in by a ModelSource (the
// fuzz harness's boot cache): a machine reset from a booted copy, after
// other runs dirtied it, must give every run the trace and the violations a
// fresh boot gives, and its whole-machine check, which examines only the
// frames changed since the boot, must report what a check of every frame
// (Oracle::reference_paths) reports.  The cases include planted historic
// bugs whose violations come from the scenario's own check and from the
// whole oracle (I6 frame accounting, I12 speculative reference).
#include "hvo/concurrency/scenarios.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hvo/model.h"

namespace hvo::concurrency {
namespace {

// Booted machines by printed Config, each with a working copy reset before
// every run: BootCache's mechanism without its eviction.  With
// @every_frame, the working copy's whole-machine check looks at every
// frame and compares restored pages word by word (the reference paths).
class ResetSource {
public:
  explicit ResetSource(bool every_frame) : every_frame_(every_frame) {}
  ModelSource source() {
    return [this](const Config &c, std::string *error) { return model_for(c, error); };
  }
  unsigned resets() const { return resets_; }

private:
  Model *model_for(const Config &c, std::string *error) {
    Entry &e = entries_[print_config(c)];
    if (!e.booted) {
      e.booted = Model::create(c, error);
      if (!e.booted)
        return nullptr;
      e.work = std::make_unique<Model>(c);
    } else {
      e.work->reset(*e.booted);
      resets_++;
    }
    e.work->oracle().reference_paths = every_frame_;
    return e.work.get();
  }

  struct Entry {
    std::unique_ptr<Model> booted, work;
  };
  bool every_frame_;
  std::map<std::string, Entry> entries_;
  unsigned resets_ = 0;
};

struct Case {
  std::string name;
  ScenarioKind kind;
  ScenarioOptions opt;
  std::vector<uint8_t> schedule;
};

std::string outcome(const ScenarioRun &r) {
  std::string s = r.trace + "schedule " + format_schedule(r.run.choices) + "\n";
  for (const Violation &v : r.violations)
    s += "VIOLATION " + format_violation(v) + "\n";
  return s;
}

// Every scenario shape, fixed and buggy, under the schedule that
// explore_scenario finds bad first (or its first schedule when none is bad)
// and under a few fixed byte strings.
std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&out](std::string name, ScenarioKind kind, ScenarioOptions opt, unsigned bound) {
    const Exploration e = explore_scenario(kind, opt, bound);
    for (const std::vector<uint8_t> &s :
         {e.first_bad, std::vector<uint8_t>{}, std::vector<uint8_t>{1, 0, 1, 0, 1, 0, 1, 0},
          std::vector<uint8_t>{0xff, 0x00, 0x7f, 0x80, 0x01, 0xfe}})
      out.push_back({name, kind, opt, s});
  };
  ScenarioOptions plain;
  plain.cmpxchg_publish = false;  // get-tail-plain-store
  add("get-tail-plain-store", ScenarioKind::GetTailRace, plain, kUnboundedPreemptions);
  add("get-tail-fixed", ScenarioKind::GetTailRace, ScenarioOptions{}, kUnboundedPreemptions);
  ScenarioOptions norcu;
  norcu.synchronize_rcu = false;  // hvo-no-synchronize-rcu
  norcu.refcount_first = false;
  add("reader-no-rcu", ScenarioKind::SpeculativeReader, norcu, kUnboundedPreemptions);
  ScenarioOptions steps = norcu;
  steps.remap_steps = true;
  steps.order = 7;
  add("reader-no-rcu-steps", ScenarioKind::SpeculativeReader, steps, 2);
  ScenarioOptions restore;
  restore.restore = true;
  restore.remap_steps = true;
  restore.order = 7;
  add("reader-restore-steps", ScenarioKind::SpeculativeReader, restore, 2);
  ScenarioOptions shared;
  shared.era = Era::SharedTail;
  add("reader-shared-tail", ScenarioKind::SpeculativeReader, shared, kUnboundedPreemptions);
  ScenarioOptions ovr;
  ovr.remap_steps = true;
  ovr.order = 7;
  add("optimize-vs-restore-steps", ScenarioKind::OptimizeVsRestore, ovr, 1);
  ovr.remap_steps = false;
  ovr.shared_variant = Variant::Muchun;
  add("optimize-vs-restore-muchun", ScenarioKind::OptimizeVsRestore, ovr, kUnboundedPreemptions);
  return out;
}

TEST(ConcurrencyModelSource, AResetMachineRunsEveryScenarioLikeAFreshBoot) {
  const std::vector<Case> all = cases();
  std::vector<std::string> fresh;
  for (const Case &c : all)
    fresh.push_back(outcome(run_scenario(c.kind, c.opt, c.schedule)));

  ResetSource changed(false), every(true);
  // Twice over, so that each machine is reset after runs of other schedules
  // (and, between the configs, of other scenarios) changed it.
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < all.size(); i++) {
      const Case &c = all[i];
      SCOPED_TRACE(c.name + " schedule " + format_schedule(c.schedule) + " pass " +
                   std::to_string(pass));
      EXPECT_EQ(outcome(run_scenario(c.kind, c.opt, c.schedule, changed.source())), fresh[i]);
      EXPECT_EQ(outcome(run_scenario(c.kind, c.opt, c.schedule, every.source())), fresh[i]);
    }
  EXPECT_GT(changed.resets(), all.size());

  // Not vacuous: the planted bugs are reported, by the scenario's check and
  // by the whole-machine oracle.
  std::map<std::string, bool> seen;
  for (const std::string &f : fresh)
    for (const char *id : {"I4-shared-tail-content", "I6-frame-accounting", "I12-speculative-ref"})
      if (f.find(std::string("VIOLATION ") + id) != std::string::npos)
        seen[id] = true;
  EXPECT_TRUE(seen["I4-shared-tail-content"]);
  EXPECT_TRUE(seen["I6-frame-accounting"]);
  EXPECT_TRUE(seen["I12-speculative-ref"]);
}

// The run's interleave hook belongs to the run: a machine handed back to
// the source has none, so the next user (a remap in one step, another
// target's op) does not call into a destroyed scenario.
TEST(ConcurrencyModelSource, TheMachineComesBackWithoutTheRunsHook) {
  ResetSource src(false);
  Model *lent = nullptr;
  const ModelSource source = [&](const Config &c, std::string *e) {
    lent = src.source()(c, e);
    return lent;
  };
  ScenarioOptions opt;
  opt.remap_steps = true;
  opt.order = 7;
  const ScenarioRun r = run_scenario(ScenarioKind::SpeculativeReader, opt, {1, 1, 0, 1}, source);
  ASSERT_NE(lent, nullptr);
  EXPECT_NE(r.trace.find("set_pte_at"), std::string::npos) << "the remap ran in steps";
  EXPECT_EQ(lent->machine().interleave, nullptr);
}

TEST(ConcurrencyModelSource, ARefusingSourceIsAnErrorNotACrash) {
  const ModelSource refuse = [](const Config &, std::string *e) -> Model * {
    *e = "no machine";
    return nullptr;
  };
  EXPECT_THROW(run_scenario(ScenarioKind::GetTailRace, ScenarioOptions{}, {}, refuse),
               std::invalid_argument);
}

} // namespace
} // namespace hvo::concurrency
