// SPDX-License-Identifier: GPL-2.0-only
//
// The issue 6 pipeline, once per stored reproducer (tests/triage/reproducers/
// *.hvo with an "# expect:" line): it is shown with its violation and
// diagrams, replays 10/10, round-trips through its target's fuzz bytes,
// minimizes to at most its "# smallest-ops:", lands in exactly one group of
// the mixed reproducer directory, and becomes a regression scenario that
// fails while the bug is present (its switch on, or always for a model
// finding without a switch) and passes with the switch off.
//
// And: every historic bug switch the model has (config.cpp) has a reproducer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/triage/dedup.h"
#include "hvo/triage/input.h"
#include "hvo/triage/minimize.h"
#include "hvo/triage/regress.h"
#include "hvo/triage/report.h"
#include "hvo/triage/run.h"

namespace hvo::triage {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Reproducer {
  std::string path, text, expect, target;
  size_t smallest_ops = 0;
};

// gtest prints parameters of failing tests; the path says it all.
void PrintTo(const Reproducer &r, std::ostream *os) { *os << r.path; }

std::vector<Reproducer> reproducers() {
  std::vector<Reproducer> out;
  for (const auto &e : fs::directory_iterator(HVO_TRIAGE_REPRODUCERS)) {
    if (e.path().extension() != ".hvo")
      continue;
    Reproducer r;
    r.path = e.path().string();
    r.text = slurp(e.path());
    r.expect = read_expect_line(r.text);
    if (r.expect.empty())
      continue;  // a clean input of the mixed directory
    r.target = read_header(r.text, "target");
    r.smallest_ops = std::stoul("0" + read_header(r.text, "smallest-ops"));
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const Reproducer &a, const Reproducer &b) { return a.path < b.path; });
  return out;
}

std::string param_name(const testing::TestParamInfo<Reproducer> &info) {
  std::string n = fs::path(info.param.path).stem().string();
  for (char &c : n)
    if (!isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return n;
}

class ReproducerPipeline : public testing::TestWithParam<Reproducer> {
protected:
  TriageInput load() {
    TriageInput in;
    EXPECT_EQ(load_input(GetParam().path, LoadOptions{}, in), "");
    return in;
  }
};

TEST_P(ReproducerPipeline, ShowNamesTheViolationAndDrawsTheFolio) {
  Analysis a = analyze(load(), true);
  ASSERT_TRUE(a.outcome.crashed) << GetParam().path
                                 << ": no longer crashes; if the model was fixed, move it to regressions/";
  EXPECT_EQ(a.signature.key(), GetParam().expect);
  const std::string text = format_show(a);
  if (a.input.is_race) {  // the interleaving and the violation; no vmemmap to draw
    EXPECT_NE(text.find("-- interleaving --\n"), std::string::npos) << text;
    EXPECT_NE(text.find("-- violation --\n" + a.outcome.first.id), std::string::npos) << text;
    return;
  }
  EXPECT_NE(text.find("invariant: " + a.outcome.first.id), std::string::npos);
  // A HugeTLB folio gets both diagrams with the struct page marked; a
  // violation elsewhere (device DAX, global counters) says why there is none.
  if (a.folio) {
    EXPECT_NE(text.find("-- vmemmap before"), std::string::npos) << text;
    EXPECT_NE(text.find("-- vmemmap after"), std::string::npos) << text;
    EXPECT_NE(text.find("<== " + a.outcome.first.id), std::string::npos) << text;
    if (a.outcome.first.pfn != UINT64_MAX)  // the folio drawn owns the pfn
      EXPECT_EQ(a.location.rfind("struct page ", 0), 0u) << a.location;
  } else {
    EXPECT_NE(text.find("(no vmemmap diagram: "), std::string::npos) << text;
  }
}

TEST_P(ReproducerPipeline, ReplaysTenOutOfTen) {
  RunOutcome first = run_input(load());
  ASSERT_TRUE(first.crashed);
  for (int i = 0; i < 10; ++i) {
    TriageInput in = load();
    RunOutcome r = run_input(in);
    EXPECT_EQ(r.digest, first.digest) << "replay " << i;
    EXPECT_EQ(signature_of_input(in, r).key(), GetParam().expect) << "replay " << i;
  }
}

TEST_P(ReproducerPipeline, ItsFuzzBytesCrashTheSameWay) {
  if (GetParam().target.empty())
    GTEST_SKIP() << "no fuzz target decodes this configuration (see the file's header)";
  const fuzz::TargetProfile *p = fuzz::find_profile(GetParam().target);
  ASSERT_NE(p, nullptr) << GetParam().target;
  TriageInput text = load();
  Scenario plain = text.scenario;
  LoadOptions opts;
  opts.bugs = input_bugs(text);
  plain.config.bugs.reset();
  std::vector<uint8_t> bytes;
  ASSERT_EQ(text.is_race ? fuzz::encode_race_input(text.race, bytes) : fuzz::encode_scenario(*p, plain, bytes), "");
  TriageInput by_path, inferred;
  ASSERT_EQ(load_input_bytes(GetParam().target + "/crash-1", bytes, opts, by_path), "");
  EXPECT_EQ(by_path.target_source, "path");
  EXPECT_EQ(signature_of_input(by_path, run_input(by_path)).key(), GetParam().expect);
  ASSERT_EQ(load_input_bytes("crash-1", bytes, opts, inferred), "");
  EXPECT_EQ(inferred.target_source, "inferred");
  EXPECT_TRUE(run_input(inferred).crashed);
}

TEST_P(ReproducerPipeline, MinimizesToTheSmallestKnownOpCount) {
  TriageInput in = load();
  if (in.is_race) {  // a race shrinks its schedule; "smallest-ops" counts schedule bytes
    RaceMinimizeResult m = minimize_race(in.race, in.race_bugs);
    EXPECT_EQ(m.signature.key(), GetParam().expect);
    EXPECT_LE(m.bytes_after, GetParam().smallest_ops) << fuzz::print_race_input(m.race);
    EXPECT_EQ(race_signature_of(m.race, in.race_bugs, run_race(m.race, in.race_bugs)).key(), GetParam().expect);
    return;
  }
  MinimizeResult m = minimize(in.scenario);
  EXPECT_EQ(m.signature.key(), GetParam().expect);
  EXPECT_LE(m.ops_after, GetParam().smallest_ops) << print_scenario(m.scenario);
  EXPECT_LE(m.ops_after, m.ops_before);
  EXPECT_EQ(signature_of(m.scenario, run_scenario(m.scenario)).key(), GetParam().expect);
}

TEST_P(ReproducerPipeline, DedupPutsItInExactlyOneGroup) {
  DedupReport r;
  ASSERT_EQ(dedup_dir(HVO_TRIAGE_REPRODUCERS, LoadOptions{}, r), "");
  EXPECT_TRUE(r.errors.empty());
  int groups_with_it = 0;
  for (const DedupGroup &g : r.groups)
    for (const DedupMember &m : g.members)
      if (m.path == GetParam().path) {
        ++groups_with_it;
        EXPECT_EQ(g.signature.key(), GetParam().expect);
      }
  EXPECT_EQ(groups_with_it, 1);
}

TEST_P(ReproducerPipeline, RegressionFailsWhileTheBugIsPresentAndPassesWithItOff) {
  TriageInput in = load();
  std::string text;
  if (in.is_race) {
    RaceMinimizeResult m = minimize_race(in.race, in.race_bugs);
    text = format_race_regression(m.race, in.race_bugs, m.signature, "test");
  } else {
    MinimizeResult m = minimize(in.scenario);
    text = format_regression(m.scenario, m.signature, "test");
  }
  RegressionVerdict v = check_regression(text, GetParam().path);
  ASSERT_EQ(v.error, "");
  EXPECT_TRUE(v.reproduces()) << "with the bug present the regression test must fail";
  if (v.bugs.empty())
    EXPECT_FALSE(v.holds()) << "a model finding without a switch: present until the model is fixed";
  else
    EXPECT_TRUE(v.holds()) << "with " << v.bugs << " off every invariant must hold: "
                           << v.without_bugs.key();
}

INSTANTIATE_TEST_SUITE_P(Stored, ReproducerPipeline, testing::ValuesIn(reproducers()), param_name);

TEST(ReproducerSet, EveryHistoricBugSwitchHasAReproducer) {
  std::vector<std::string> missing;
  const std::vector<Reproducer> all = reproducers();
  for (unsigned i = 0; i < bug_switch_count(); ++i) {
    const std::string name(bug_switch_name(i));
    bool found = false;
    for (const Reproducer &r : all) {
      TriageInput in;
      if (load_input(r.path, LoadOptions{}, in).empty() && input_bugs(in).test(i))
        found = true;
    }
    if (!found)
      missing.push_back(name);
  }
  std::string list;
  for (const std::string &m : missing)
    list += " " + m;
  EXPECT_TRUE(missing.empty()) << "bug switches without a reproducer in tests/triage/reproducers/:" << list;
}

}  // namespace
}  // namespace hvo::triage
