// SPDX-License-Identifier: GPL-2.0-only
//
// The race scenarios' runs against a record of them (race_traces.expected)
// made before the scenarios' threads kept their code and locals in the run's
// World instead of closures and shared state allocated per run
// (model/src/concurrency/scenarios.cpp): that change moved no step and no
// access, and every run must still give the recorded trace, schedule,
// violations and final machine state.  Every stored race input and random
// inputs, under the fixed kernel and each race bug switch, through set-up
// snapshots (the fuzz harness's path) and through fresh boots.
//
// A run is recorded as two hashes: of everything the harness sees
// (test::describe) and of the machine state a reader of the model can see
// after it (every frame record, every vmemmap PTE, the contents of every
// frame the vmemmap maps, the folios, TLB, counters).  To record them anew,
// when a scenario is changed on purpose: HVO_RACE_TRACES_RECORD=FILE.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>

#include "hvo/concurrency/scenarios.h"
#include "hvo/concurrency/setup_snapshots.h"
#include "hvo/fuzz/race_input.h"
#include "hvo/model.h"

#include "race_inputs.h"

namespace hvo {
namespace {

struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void u64(uint64_t v) {
    for (int i = 0; i < 8; i++) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  void str(const std::string &s) {
    u64(s.size());
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
};

// What a reader of the model can see of the machine after a run.
uint64_t state_hash(const Machine &m) {
  Fnv f;
  const PhysMem &p = m.phys;
  f.u64(p.frame_table_size());
  for (FrameId id = 0; id < p.frame_table_size(); id++) {
    const FrameRec &r = p.frame(id);
    f.u64(uint64_t{r.map_count} | uint64_t{r.tlb_refs} << 32);
    f.u64(uint64_t{r.node} | uint64_t{static_cast<uint8_t>(r.state)} << 8 | uint64_t{r.attrs} << 16);
  }
  // The vmemmap: every PTE, and the words of every frame it maps.
  const uint64_t pages = m.pt.nr_pmds() * m.cfg.ptrs_per_pte();
  for (uint64_t v = 0; v < pages; v++) {
    const Pte pte = m.pt.ptep_get(m.cfg.vmemmap_base + (v << m.cfg.page_shift));
    f.u64(pte.present() ? uint64_t{pte.frame} << 1 | pte.ro : ~uint64_t{0});
    if (pte.present() && (v == 0 || pte.frame != m.pt.ptep_get(m.cfg.vmemmap_base + ((v - 1) << m.cfg.page_shift)).frame))
      for (uint64_t w = 0; w < m.cfg.words_per_page(); w++)
        f.u64(p.read_word(pte.frame, w));
  }
  for (const HugetlbFolio &fo : m.folios) {
    f.u64(fo.pfn);
    f.u64(uint64_t{fo.order} | uint64_t{static_cast<uint8_t>(fo.state)} << 8);
  }
  f.u64(m.pt.stale_tlb_entries());
  f.u64(m.events.synchronize_rcu);
  f.u64(m.events.pmd_splits);
  f.u64(m.events.frames_freed_by_hvo);
  f.u64(static_cast<uint64_t>(m.phys.memmap_pages));
  f.u64(static_cast<uint64_t>(m.hugetlb_optimize_vmemmap_key));
  f.u64(m.mmu.faults.size());
  f.u64(m.reports.size());
  return f.h;
}

std::string hex(uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

TEST(RaceTraces, SameAsRecorded) {
  std::vector<std::pair<std::string, fuzz::RaceInput>> inputs = test::stored_race_inputs();
  ASSERT_GE(inputs.size(), 10u) << "the race seeds were not found";
  std::mt19937 rng(1125);
  for (auto &in : test::random_race_inputs(rng, 96))
    inputs.push_back(std::move(in));
  const std::vector<Config> bugs = test::race_bug_sets();
  std::string got;
  concurrency::SetupSnapshots snaps;
  unsigned k = 0;
  for (size_t b = 0; b < bugs.size(); b++)
    for (const auto &[name, in] : inputs) {
      const concurrency::ScenarioOptions opt = fuzz::race_options(in, bugs[b]);
      std::string line = name + " bugs" + std::to_string(b);
      if (k++ % 2) {
        std::unique_ptr<Model> fresh;
        const concurrency::ModelSource boot = [&fresh](const Config &c, std::string *e) {
          fresh = Model::create(c, e);
          return fresh.get();
        };
        line += " boot";
        Fnv d;
        d.str(test::describe(concurrency::run_scenario(in.kind, opt, in.schedule, boot)));
        ASSERT_NE(fresh, nullptr);
        line += " " + hex(d.h) + " " + hex(state_hash(fresh->machine()));
      } else {
        Fnv d;
        d.str(test::describe(concurrency::run_scenario(in.kind, opt, in.schedule, snaps)));
        ASSERT_NE(snaps.last(), nullptr);
        line += " snap " + hex(d.h) + " " + hex(state_hash(snaps.last()->machine()));
        snaps.release_all();
      }
      got += line + "\n";
    }
  const std::string path = HVO_FASTPATH_DIR "/race_traces.expected";
  if (const char *record = std::getenv("HVO_RACE_TRACES_RECORD")) {
    std::ofstream(record) << got;
    GTEST_SKIP() << "recorded into " << record;
  }
  std::ifstream f(path);
  ASSERT_TRUE(f) << path << ": cannot open";
  const std::string want((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Line by line, so that a failure names the first input that differs.
  size_t a = 0, b = 0, n = 0;
  while (a < want.size() || b < got.size()) {
    const size_t ea = want.find('\n', a), eb = got.find('\n', b);
    const std::string wl = want.substr(a, ea == std::string::npos ? std::string::npos : ea - a);
    const std::string gl = got.substr(b, eb == std::string::npos ? std::string::npos : eb - b);
    ASSERT_EQ(gl, wl) << "line " << n + 1 << " of " << path;
    if (ea == std::string::npos || eb == std::string::npos) {
      ASSERT_EQ(ea, eb) << "different number of runs";
      break;
    }
    a = ea + 1;
    b = eb + 1;
    n++;
  }
  EXPECT_EQ(n, 4 * inputs.size());
}

}  // namespace
}  // namespace hvo
