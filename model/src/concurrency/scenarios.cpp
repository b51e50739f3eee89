// SPDX-License-Identifier: GPL-2.0-only
//
// The issue-4 concurrency scenarios (see scenarios.h).  Steps call the ported
// kernel functions; only the points where another CPU can look in between
// are split.  State lives in a World built for every run, over a machine
// booted for it or handed in by a ModelSource (scenarios.h).  A fuzz input
// is one short run, and under ASan every allocation records its stack: the
// threads' code and locals live in the World, so that a step's closure
// holds only a pointer to it (std::function keeps that inline) and building
// a run's threads allocates next to nothing.
#include "hvo/concurrency/scenarios.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>

#include "hvo/concurrency/coroutine.h"
#include "hvo/concurrency/setup_snapshots.h"

#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"

namespace hvo::concurrency {

namespace {

// RCU as the scenarios need it: which of the (at most two) reading threads
// are inside a read-side critical section, and the set a synchronize_rcu()
// waits for.
struct Rcu {
  std::array<bool, 2> in_cs{};
  std::array<bool, 2> waited{};  // snapshot taken when synchronize_rcu started
  bool grace_period_over() const {
    for (size_t i = 0; i < in_cs.size(); i++)
      if (waited[i] && in_cs[i])
        return false;
    return true;
  }
};

using Step = std::function<std::string()>;
using Gate = std::function<bool()>;

// The code of a thread built from steps (sequence()): its steps in order,
// an optional gate per step (the thread is blocked while the gate of its
// next step says false), and its program counter.
struct Program {
  static constexpr size_t kMaxSteps = 8;  // the longest thread, the legacy reader, has 5
  std::array<Step, kMaxSteps> steps;
  std::array<Gate, kMaxSteps> gates;
  size_t size = 0;
  size_t pc = 0;
};

struct World;

// The scenarios' interleave hook (remap_steps): an interleave point reached
// inside a coroutine ends that coroutine's step.  At synchronize_rcu the
// coroutine also stays blocked until every reader that was inside a
// read-side section when the wait began has left it.  A point reached by a
// plain step (the scheduler's own thread) is not a scheduling point.
struct StepHook final : InterleaveHook {
  World *w = nullptr;
  void at(Machine &m, const char *point, uint64_t addr) override;
};

// A folio's name in trace labels, and its vmemmap range.
struct NamedFolio {
  std::string name;
  uint64_t start = 0, end = 0;
};

struct World {
  // The machine: booted for this run (owned) or lent by a ModelSource, which
  // gets it back with the run's state but without the run's hook.
  std::unique_ptr<Model> owned;
  Model *md = nullptr;
  ScenarioOptions opt;  // the run's options, read by the steps
  Rcu rcu;
  std::vector<Violation> found;  // scenario-specific findings
  // Scenario 1: what each CPU's vmemmap_get_tail returned.
  FrameId got[2] = {kNoFrame, kNoFrame};
  // The threads' locals (what each CPU keeps in registers or on its stack
  // between two steps).  Scenario 1, per CPU: the tail read from the slot
  // and the candidate it allocated.
  FrameId tail[2] = {kNoFrame, kNoFrame};
  FrameId cand[2] = {kNoFrame, kNoFrame};
  // Scenario 2: the folio's head, the reader's struct page, what the
  // reader saw (fake head, refcount) and whether it gave up.
  uint64_t head = 0;
  uint64_t slot = 0;
  bool fake = false;
  bool refuse = false;
  uint32_t count = 0;
  StepHook hook;
  bool rcu_waits = true;  // false: the kernel before bd225530a4c7 (no wait)
  std::array<NamedFolio, 2> names;  // scenario 3 names two folios
  size_t nr_names = 0;
  // The code of the run's threads: sequence() programs and coroutines,
  // which the threads' closures point to.
  std::array<Program, 3> programs;
  size_t nr_programs = 0;
  std::array<std::unique_ptr<Coroutine>, 2> coroutines;
  size_t nr_coroutines = 0;
  World() = default;
  World(const World &) = delete;
  World &operator=(const World &) = delete;
  ~World() {
    release_threads();
    if (md && md->machine().interleave == &hook)
      md->machine().interleave = nullptr;
  }
  Machine &m() { return md->machine(); }
  void name_folio(FolioId id, std::string name) {
    if (nr_names == names.size())
      throw std::logic_error("race scenario: more named folios than World::names holds");
    const HugetlbFolio &f = m().folios[id];
    const uint64_t start = m().page(f.pfn);
    names[nr_names++] = {std::move(name), start,
                         start + hugetlb_vmemmap_size(m(), Hstate{f.order})};
  }
  Coroutine &coroutine(Coroutine::Body body) {
    if (nr_coroutines == coroutines.size())
      throw std::logic_error("race scenario: more coroutines than World::coroutines holds");
    coroutines[nr_coroutines] = std::make_unique<Coroutine>(std::move(body));
    return *coroutines[nr_coroutines++];
  }
  // Done with the threads once the schedule has run (where a run's
  // vector<Thread> goes): a coroutine stopped early is unwound here, before
  // the run's checks, as it was when the threads owned it.
  void release_threads() {
    for (size_t i = nr_coroutines; i-- > 0;)
      coroutines[i].reset();
    nr_coroutines = 0;
    for (size_t i = 0; i < nr_programs; i++) {
      Program &p = programs[i];
      for (size_t k = 0; k < p.size; k++) {
        p.steps[k] = nullptr;
        p.gates[k] = nullptr;
      }
      p.size = p.pc = 0;
    }
    nr_programs = 0;
  }
};

// "set_pte_at(A vmemmap page 3)": which folio and which of its vmemmap pages.
std::string point_label(const World &w, const Machine &m, const char *point, uint64_t addr) {
  std::string s = point;
  for (size_t i = 0; i < w.nr_names; i++)
    if (const NamedFolio &f = w.names[i]; addr >= f.start && addr < f.end)
      return s + "(" + f.name + " vmemmap page " +
             std::to_string((addr - f.start) >> m.cfg.page_shift) + ")";
  return s;
}

void StepHook::at(Machine &m, const char *point, uint64_t addr) {
  Coroutine *co = Coroutine::current();
  if (!co)
    return;
  if (std::strcmp(point, "synchronize_rcu") == 0 && w->rcu_waits) {
    World *wp = w;
    wp->rcu.waited = wp->rcu.in_cs;
    co->wait_until = [wp] { return wp->rcu.grace_period_over(); };
    co->yield("synchronize_rcu: waits for readers");
    return;
  }
  co->yield(point_label(*w, m, point, addr));
}

// A fresh boot per run: what run_scenario without a source and hvo-sim get.
Model *boot_fresh(std::unique_ptr<Model> &owned, const Config &c, std::string *error) {
  owned = Model::create(c, error);
  return owned.get();
}

// Two sections: every scenario allocates at most two order-9 folios on node 0,
// so a larger zone adds nothing the threads can reach; the boot (memmap_init,
// sparse_init) and the final whole-oracle frame scan cost per section, per run.
// Parsed once: the text is fixed, and a run should not pay for parsing it.
const Config &scenario_machine() {
  static const Config base = [] {
    Config c;
    parse_config_args("page-size=4K mem=0:Normal:256M", c);
    return c;
  }();
  return base;
}

// A scenario's machine before its first step: the Config it boots, the ops
// that set it up (applied in order before the threads start, never
// interleaved), and the names the trace labels give its folios.  Nothing
// here depends on the schedule or on the bug switches, which choose the
// threads' code: a SetupSnapshots keeps the result per (config, ops).
struct SetupPlan {
  Config config;
  std::vector<std::string> ops;
  std::vector<std::pair<FolioId, std::string>> names;
};

SetupPlan setup_plan(ScenarioKind kind, const ScenarioOptions &opt) {
  SetupPlan p;
  p.config = scenario_machine();
  const std::string alloc = "alloc_folio order=" + std::to_string(opt.order) + " node=0";
  switch (kind) {
  case ScenarioKind::GetTailRace:
    p.config.era = Era::SharedTail;
    p.config.variant = opt.shared_variant;
    break;
  case ScenarioKind::SpeculativeReader:
    p.config.era = opt.era;
    // The restore case runs v6.12.0's restore: D612's copies the head page
    // into every tail vmemmap page (findings-model.md), which the oracle
    // reports in every schedule and would hide the race.
    p.config.variant = opt.era == Era::Legacy ? (opt.restore ? Variant::V6_12_0 : Variant::D612)
                                              : opt.shared_variant;
    if (opt.restore)
      p.ops = {alloc};  // optimized at allocation
    else
      p.ops = {"sysctl_hvo value=0", alloc, "sysctl_hvo value=1"};
    p.ops.push_back("get_folio folio=0");  // in use: refcount 1
    p.names = {{0, "folio"}};
    break;
  case ScenarioKind::OptimizeVsRestore:
    p.config.era = Era::SharedTail;
    p.config.variant = opt.shared_variant;
    // B, optimized: the tail exists; then A, not yet.
    p.ops = {alloc, "sysctl_hvo value=0", alloc, "sysctl_hvo value=1"};
    p.names = {{0, "B"}, {1, "A"}};
    break;
  }
  return p;
}

// A thread that runs @steps in order (each returns its label), blocked
// while the gate of its next step (if any) says false.  Its code is kept in
// @w; the thread's two closures hold a pointer to it.
Thread sequence(World &w, std::string name, std::initializer_list<Step> steps,
                std::initializer_list<Gate> gates = {}) {
  if (w.nr_programs == w.programs.size() || steps.size() > Program::kMaxSteps ||
      gates.size() > steps.size())
    throw std::logic_error("race scenario: a thread larger than World::programs holds");
  Program *prog = &w.programs[w.nr_programs++];
  std::copy(steps.begin(), steps.end(), prog->steps.begin());
  std::copy(gates.begin(), gates.end(), prog->gates.begin());
  prog->size = steps.size();
  prog->pc = 0;
  Thread t;
  t.name = std::move(name);
  t.step = [prog] {
    const size_t i = prog->pc++;
    return StepResult{prog->steps[i](), prog->pc == prog->size};
  };
  t.runnable = [prog] {
    const size_t pc = prog->pc;
    return pc >= prog->size || !prog->gates[pc] || prog->gates[pc]();
  };
  return t;
}

std::string hexs(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// ---- 1. two CPUs in vmemmap_get_tail -----------------------------------------------

std::vector<Thread> get_tail_race(World &w, const ScenarioOptions &) {
  constexpr unsigned order = 9;
  std::vector<Thread> t;
  t.reserve(3);
  World *wp = &w;
  for (int cpu = 0; cpu < 2; cpu++) {
    w.tail[cpu] = kNoFrame;
    w.cand[cpu] = kNoFrame;
    t.push_back(sequence(
        w, "cpu" + std::to_string(cpu),
        {[wp, cpu] {  // tail = READ_ONCE(zone->vmemmap_tails[idx])
           FrameId &tail = wp->tail[cpu];
           tail = shared_tail_lookup(wp->m(), order, tail_owner_of_pfn(wp->m(), 0));
           return "READ_ONCE(vmemmap_tails[idx]) = " +
                  (tail == kNoFrame ? std::string("NULL") : "frame " + std::to_string(tail));
         },
         [wp, cpu] {  // alloc_pages_node + init_compound_tail on every slot
           if (wp->tail[cpu] != kNoFrame)
             return std::string("fast path");
           FrameId &cand = wp->cand[cpu];
           cand = tail_alloc_and_init(wp->m(), order, tail_owner_of_pfn(wp->m(), 0));
           return "alloc + init frame " + std::to_string(cand);
         },
         [wp, cpu] {  // cmpxchg(&vmemmap_tails[idx], NULL, tail), loser frees
           FrameId &tail = wp->tail[cpu];
           const FrameId cand = wp->cand[cpu];
           const bool cmpxchg = wp->opt.cmpxchg_publish;
           if (tail == kNoFrame && cand != kNoFrame) {
             const TailOwner owner = tail_owner_of_pfn(wp->m(), 0);
             if (cmpxchg) {
               tail = tail_publish(wp->m(), order, owner, cand);
             } else {
               tail_publish_unlocked(wp->m(), order, owner, cand);
               tail = cand;
             }
           }
           wp->got[cpu] = tail;
           return std::string(cmpxchg ? "cmpxchg" : "WRITE_ONCE") + " -> frame " +
                  std::to_string(tail);
         }}));
  }
  return t;
}

void check_get_tail(World &w) {
  Machine &m = w.m();
  const FrameId slot = shared_tail_lookup(m, 9, tail_owner_of_pfn(m, 0));
  for (int cpu = 0; cpu < 2; cpu++)
    if (w.got[cpu] != slot)
      w.found.push_back({"I4-shared-tail-content", 0, 0, UINT64_MAX, "frame " + std::to_string(slot),
                         "frame " + std::to_string(w.got[cpu]),
                         "cpu" + std::to_string(cpu) + " got a tail that is not the published one"});
  // Every live shared-tail frame must be the published one: anything else
  // was lost (allocated, never freed, never reachable).  A lost frame is one
  // the run allocated, so it is among the frames PhysMem lists as changed or
  // created since the boot; the boot's own shared tails are published in
  // the tables (boot_get_tail).  Every other frame keeps the record the boot
  // gave it, which holds no unpublished tail: looking at these candidates
  // finds what a scan of every frame finds, in the same (ascending) order.
  // Read through the const PhysMem: a mutable frame() counts the frame as
  // changed, and the whole-machine check that follows would examine it.
  const PhysMem &phys = m.phys;
  std::vector<FrameId> candidates(phys.changed_frames());
  for (size_t f = phys.unchanged_limit(); f < phys.frame_table_size(); f++)
    candidates.push_back(static_cast<FrameId>(f));
  for (const std::vector<FrameId> &per_owner : m.shared_tails.tails)
    for (FrameId f : per_owner)
      if (f != kNoFrame)
        candidates.push_back(f);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (FrameId f : candidates) {
    const FrameRec &r = phys.frame(f);
    if (r.state == FrameState::Allocated && (r.attrs & kFrameSharedTail) && f != slot)
      w.found.push_back({"I6-frame-accounting", 0, 0, UINT64_MAX, "freed by the cmpxchg loser",
                         "frame " + std::to_string(f) + " live and unreachable",
                         "a shared tail frame was lost"});
  }
}

// ---- 2. speculative reader against optimize / restore --------------------------------

// The writer of scenario 2 with remap_steps: freeze, then the kernel's own
// optimize or restore with VMEMMAP_SYNCHRONIZE_RCU (its synchronize_rcu
// blocks in the scenario's hook), then unfreeze, as one coroutine whose
// steps end at the walk's interleave points.  With batch, the batch API of
// one folio: its walks leave the flush to a flush_tlb_all, and it always
// passes VMEMMAP_SYNCHRONIZE_RCU (without synchronize_rcu the hook does not
// wait there).
Thread stepped_writer(World &w, const ScenarioOptions &) {
  World *wp = &w;
  Coroutine &co = w.coroutine([wp](Coroutine &self) {
    Machine &mm = wp->m();
    const ScenarioOptions &o = wp->opt;
    const unsigned flags =
        o.era == Era::Legacy && o.synchronize_rcu ? VMEMMAP_SYNCHRONIZE_RCU : 0;
    const uint64_t head = wp->head;
    const bool ok = page_ref_freeze(mm, head, 1);
    self.yield(std::string("page_ref_freeze(head, 1) = ") + (ok ? "1" : "0"));
    HugetlbFolio &fo = mm.folios[0];
    const Hstate h{fo.order};
    std::string what;
    std::vector<HugetlbFolio *> folios{&fo};
    if (o.batch && o.restore) {
      std::vector<HugetlbFolio *> non_hvo;
      what = "hugetlb_vmemmap_restore_folios = " +
             std::to_string(hugetlb_vmemmap_restore_folios(mm, h, folios, non_hvo));
    } else if (o.batch) {
      hugetlb_vmemmap_optimize_folios(mm, h, folios);
      what = "hugetlb_vmemmap_optimize_folios";
    } else if (o.restore) {
      what = "restore = " + std::to_string(__hugetlb_vmemmap_restore_folio(mm, h, fo, flags));
    } else {
      FrameList l;
      what = "optimize = " + std::to_string(__hugetlb_vmemmap_optimize_folio(mm, h, fo, l, flags));
      free_vmemmap_page_list(mm, l);
    }
    page_ref_unfreeze(mm, head, 1);
    return what + "; page_ref_unfreeze(head, 1)";
  });
  return coroutine_thread("writer", co);
}

// The reader's steps: page_ref_add_unless(slot, 1, 0), i.e.
// get_page_unless_zero, and (legacy era) the tests around it.
std::string reader_add(World *wp) {
  if (wp->refuse)
    return std::string("refused");
  // atomic_add_unless(&page->_refcount, 1, 0): one atomic RMW.
  const uint64_t p = wp->slot;
  const uint32_t c = page_ref_count(wp->m(), p);
  if (c == 0)
    return std::string("atomic_add_unless: 0, no add");
  wp->m().mmu.write_masked(Machine::field(p, sp::kCounts), 0xffffffff00000000ull,
                           uint64_t{c + 1} << 32, "page_ref_add_unless");
  return "atomic_add_unless: " + std::to_string(c) + " -> " + std::to_string(c + 1);
}

std::string reader_lock(World *wp) {
  wp->rcu.in_cs[0] = true;
  return std::string("rcu_read_lock");
}

std::string reader_unlock(World *wp) {
  wp->rcu.in_cs[0] = false;
  return std::string("rcu_read_unlock");
}

std::string reader_test_fake(World *wp) {
  wp->fake = page_is_fake_head(wp->m(), wp->slot);
  wp->refuse = wp->refuse || wp->fake;
  return std::string("page_is_fake_head = ") + (wp->fake ? "true" : "false");
}

std::string reader_test_count(World *wp) {
  wp->count = page_ref_count(wp->m(), wp->slot);
  wp->refuse = wp->refuse || wp->count == 0;
  return "page_ref_count = " + std::to_string(wp->count);
}

// The writer's steps without remap_steps: freeze, [synchronize_rcu],
// optimize or restore (the remap one step), unfreeze.
std::string writer_freeze(World *wp) {
  const bool ok = page_ref_freeze(wp->m(), wp->head, 1);
  return std::string("page_ref_freeze(head, 1) = ") + (ok ? "1" : "0");
}

std::string writer_sync_begin(World *wp) {
  wp->rcu.waited = wp->rcu.in_cs;
  wp->m().events.synchronize_rcu++;
  return std::string("synchronize_rcu: waits for readers");
}

std::string writer_remap(World *wp) {
  HugetlbFolio &fo = wp->m().folios[0];
  const Hstate h{fo.order};
  if (wp->opt.restore) {
    const int ret = __hugetlb_vmemmap_restore_folio(wp->m(), h, fo, 0);
    return "restore = " + std::to_string(ret);
  }
  FrameList l;
  const int ret = __hugetlb_vmemmap_optimize_folio(wp->m(), h, fo, l, 0);
  free_vmemmap_page_list(wp->m(), l);
  return "optimize (remap) = " + std::to_string(ret);
}

std::string writer_unfreeze(World *wp) {
  page_ref_unfreeze(wp->m(), wp->head, 1);
  return std::string("page_ref_unfreeze(head, 1)");
}

// A step that calls @fn on the world: a closure of two pointers, which
// std::function keeps inline.
Step world_step(World &w, std::string (*fn)(World *)) {
  World *wp = &w;
  return [wp, fn] { return fn(wp); };
}

std::vector<Thread> speculative_reader(World &w, const ScenarioOptions &opt) {
  Machine &m = w.m();
  const HugetlbFolio &f = m.folios[0];
  w.head = m.page(f.pfn);
  w.slot = w.head + m.cfg.spp() * m.cfg.struct_page_size;  // first slot of vmemmap page 1
  w.fake = false;
  w.refuse = false;
  w.count = 0;
  w.rcu = Rcu{};
  std::vector<Thread> t;
  t.reserve(3);

  if (opt.era == Era::SharedTail) {
    t.push_back(sequence(w, "reader", {world_step(w, reader_add)}));
  } else {
    // 6.12 (page_ref.h l.231-244): fake-head test, then refcount;
    // fixed (Yu Zhao): refcount first, fake-head test second.
    const Step lock = world_step(w, reader_lock), unlock = world_step(w, reader_unlock);
    const Step test_fake = world_step(w, reader_test_fake);
    const Step test_count = world_step(w, reader_test_count);
    const Step add = world_step(w, reader_add);
    if (opt.refcount_first)
      t.push_back(sequence(w, "reader", {lock, test_count, test_fake, add, unlock}));
    else
      t.push_back(sequence(w, "reader", {lock, test_fake, test_count, add, unlock}));
  }

  if (opt.remap_steps) {
    t.push_back(stepped_writer(w, opt));
    return t;
  }
  World *wp = &w;
  const Step freeze = world_step(w, writer_freeze), remap = world_step(w, writer_remap);
  const Step unfreeze = world_step(w, writer_unfreeze);
  if (opt.era == Era::Legacy && opt.synchronize_rcu)
    t.push_back(sequence(w, "writer",
                         {freeze, world_step(w, writer_sync_begin),
                          [] { return std::string("synchronize_rcu returns"); }, remap, unfreeze},
                         {nullptr, nullptr, [wp] { return wp->rcu.grace_period_over(); }}));
  else
    t.push_back(sequence(w, "writer", {freeze, remap, unfreeze}));
  return t;
}

// ---- 3. optimize of A against restore of B, one shared tail ------------------------

std::string optimize_a(World *wp) {
  HugetlbFolio &a = wp->m().folios[1];
  hugetlb_vmemmap_optimize_folio(wp->m(), Hstate{a.order}, a);
  return std::string("optimize folio A");
}

std::string restore_b(World *wp) {
  HugetlbFolio &b = wp->m().folios[0];
  const int ret = hugetlb_vmemmap_restore_folio(wp->m(), Hstate{b.order}, b);
  return "restore folio B = " + std::to_string(ret);
}

// The reader of scenario 3: resolves folio @id's second tail slot.
std::string resolve_tail(World *wp, unsigned id) {
  Machine &mm = wp->m();
  const uint64_t S = mm.cfg.struct_page_size, spp = mm.cfg.spp();
  const uint64_t head = mm.page(mm.folios[id].pfn);
  const uint64_t slot = head + spp * S + S;
  const uint64_t got = compound_head(mm, slot);
  if (got != head || !PageTail(mm, slot))
    wp->found.push_back({"I1-head-resolution", 0, slot, mm.page_to_pfn(slot), hexs(head),
                         hexs(got), "reader resolved a wrong head mid-race"});
  return std::string("compound_head(") + (id ? "A" : "B") + " tail) = " + hexs(got);
}

std::string get_b_tail(World *wp) {
  Machine &mm = wp->m();
  const uint64_t slot = mm.page(mm.folios[0].pfn) + mm.cfg.spp() * mm.cfg.struct_page_size;
  const bool ok = page_ref_add_unless(mm, slot, 1, 0);
  return std::string("get_page_unless_zero(B tail) = ") + (ok ? "1" : "0");
}

std::vector<Thread> optimize_vs_restore(World &w, const ScenarioOptions &opt) {
  World *wp = &w;
  std::vector<Thread> t;
  t.reserve(3);
  // One step each, or (remap_steps) a step per interleave point; the last
  // step's label is the call's.
  auto cpu = [&w, wp, &opt](std::string name, std::string (*call)(World *)) {
    if (!opt.remap_steps)
      return sequence(w, std::move(name), {world_step(w, call)});
    return coroutine_thread(std::move(name),
                            w.coroutine([wp, call](Coroutine &) { return call(wp); }));
  };
  t.push_back(cpu("cpuA", optimize_a));
  t.push_back(cpu("cpuB", restore_b));
  // A reader that resolves both folios' tail slots and tries a speculative get.
  t.push_back(sequence(w, "reader",
                       {[wp] { return resolve_tail(wp, 1); }, [wp] { return resolve_tail(wp, 0); },
                        world_step(w, get_b_tail)}));
  return t;
}

// setup_plan depends on these options only.  A run looks its plan up
// rather than building its Config and op text again: a fuzz input is one
// short run, and under ASan each of those allocations records its stack.
const SetupPlan &cached_setup_plan(ScenarioKind kind, const ScenarioOptions &opt) {
  struct Cached {
    ScenarioKind kind;
    Variant shared_variant;
    Era era;
    bool restore;
    unsigned order;
    SetupPlan plan;
  };
  thread_local std::vector<Cached> plans;
  for (const Cached &c : plans)
    if (c.kind == kind && c.shared_variant == opt.shared_variant && c.era == opt.era &&
        c.restore == opt.restore && c.order == opt.order)
      return c.plan;
  if (plans.size() == 32)
    plans.clear();  // more than the fuzz inputs can ask for: tests with odd orders
  plans.push_back({kind, opt.shared_variant, opt.era, opt.restore, opt.order, setup_plan(kind, opt)});
  return plans.back().plan;
}

// The world after its setup: a machine from @snapshots already set up, or
// one from @source (or a fresh boot) with the setup ops applied here.
void setup_world(World *w, ScenarioKind kind, const ScenarioOptions &opt,
                 const ModelSource *source, SetupSnapshots *snapshots) {
  const SetupPlan &plan = cached_setup_plan(kind, opt);
  w->opt = opt;
  std::string error;
  if (snapshots) {
    w->md = snapshots->model_for(plan.config, plan.ops, &error);
  } else {
    w->md = source ? (*source)(plan.config, &error) : boot_fresh(w->owned, plan.config, &error);
    if (w->md)
      for (const std::string &line : plan.ops) {
        Op op;
        if (std::string err = parse_op(line, op); !err.empty())
          throw std::invalid_argument("scenario setup op '" + line + "': " + err);
        w->md->apply(op);
      }
  }
  if (!w->md)
    throw std::invalid_argument("race scenario machine '" + print_config(plan.config) +
                                "': " + error);
  for (const auto &[id, name] : plan.names)
    w->name_folio(id, name);
}

// The world after its boot ops, with the interleave hook installed when the
// remap runs in steps (the boot ops themselves are not interleaved).
// @w is freshly constructed: a run's World lives on its caller's stack (it
// holds the threads' code, a few KiB, which under ASan a heap allocation
// per run would take from fresh pages).
void setup(World &w, ScenarioKind kind, const ScenarioOptions &opt, const ModelSource *source,
           SetupSnapshots *snapshots = nullptr) {
  setup_world(&w, kind, opt, source, snapshots);
  if (opt.remap_steps) {
    w.hook.w = &w;
    w.rcu_waits = opt.synchronize_rcu;
    w.m().interleave = &w.hook;
  }
}

std::vector<Thread> threads_of(ScenarioKind kind, World &w, const ScenarioOptions &opt) {
  switch (kind) {
  case ScenarioKind::GetTailRace:
    return get_tail_race(w, opt);
  case ScenarioKind::SpeculativeReader:
    return speculative_reader(w, opt);
  case ScenarioKind::OptimizeVsRestore:
    return optimize_vs_restore(w, opt);
  }
  return {};
}

// The scenario's own checks, then the whole oracle (faults taken by the
// steps become I3 / I12, frames I6, tails I4, TLB I8).
// Into @v, replacing its contents.
void finish_into(std::vector<Violation> &v, ScenarioKind kind, World &w, const RunResult &r) {
  if (kind == ScenarioKind::GetTailRace)
    check_get_tail(w);
  v.assign(w.found.begin(), w.found.end());
  if (r.deadlock)
    v.push_back({"C-deadlock", 0, 0, UINT64_MAX, "all threads finish", "all blocked",
                 "the scenario deadlocked"});
  for (Violation &x : w.md->check_all())
    v.push_back(std::move(x));
}

std::vector<Violation> finish(ScenarioKind kind, World &w, const RunResult &r) {
  std::vector<Violation> v;
  finish_into(v, kind, w, r);
  return v;
}

// One exploration runs every schedule over the same config: boot it once and
// give each schedule a copy (Model::reset, the fuzz boot cache's mechanism,
// pinned to a fresh boot by tests/fastpath/boot_snapshot_test.cpp).
class BootOnce {
public:
  Model *model_for(const Config &c, std::string *error) {
    std::string key = print_config(c);
    if (!booted_ || key != key_) {
      booted_ = Model::create(c, error);
      if (!booted_)
        return nullptr;
      work_ = std::make_unique<Model>(c);
      key_ = std::move(key);
      return work_.get();
    }
    work_->reset(*booted_);
    return work_.get();
  }

private:
  std::string key_;
  std::unique_ptr<Model> booted_, work_;
};

// One run into @out: every field replaced, storage reused where @out has it.
void run_in(ScenarioRun &out, ScenarioKind kind, const ScenarioOptions &opt,
            const std::vector<uint8_t> &schedule, const ModelSource *source,
            SetupSnapshots *snapshots) {
  World world;
  World *const w = &world;
  setup(world, kind, opt, source, snapshots);
  std::vector<Thread> threads = threads_of(kind, world, opt);
  // The threads' names for the trace, in a buffer kept across runs (the
  // names themselves are short: no allocation either).
  thread_local std::vector<std::string> names;
  names.resize(threads.size());
  for (size_t i = 0; i < threads.size(); i++)
    names[i] = threads[i].name;
  run_schedule_into(out.run, std::move(threads), schedule);
  w->release_threads();
  finish_into(out.violations, kind, *w, out.run);
  format_trace_into(out.trace, out.run, names);
}

ScenarioRun run_in(ScenarioKind kind, const ScenarioOptions &opt,
                   const std::vector<uint8_t> &schedule, const ModelSource *source,
                   SetupSnapshots *snapshots) {
  ScenarioRun out;
  run_in(out, kind, opt, schedule, source, snapshots);
  return out;
}

} // namespace

ScenarioRun run_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                         const std::vector<uint8_t> &schedule) {
  return run_in(kind, opt, schedule, nullptr, nullptr);
}

ScenarioRun run_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                         const std::vector<uint8_t> &schedule, const ModelSource &model_for) {
  return run_in(kind, opt, schedule, &model_for, nullptr);
}

ScenarioRun run_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                         const std::vector<uint8_t> &schedule, SetupSnapshots &snapshots) {
  return run_in(kind, opt, schedule, nullptr, &snapshots);
}

void run_scenario(ScenarioRun &out, ScenarioKind kind, const ScenarioOptions &opt,
                  const std::vector<uint8_t> &schedule, SetupSnapshots &snapshots) {
  run_in(out, kind, opt, schedule, nullptr, &snapshots);
}

void run_scenario(ScenarioRun &out, ScenarioKind kind, const ScenarioOptions &opt,
                  const std::vector<uint8_t> &schedule) {
  run_in(out, kind, opt, schedule, nullptr, nullptr);
}

Exploration explore_scenario(ScenarioKind kind, const ScenarioOptions &opt,
                             unsigned max_preemptions, ExploreSetup setup_path) {
  Exploration e;
  BootOnce machines;
  const ModelSource source = [&machines](const Config &c, std::string *error) {
    return machines.model_for(c, error);
  };
  SetupSnapshots snapshots;
  std::optional<World> current;
  e.schedules = for_each_schedule(
      [&] {
        current.reset();  // done with the previous run's machine before it is reset
        current.emplace();
        if (setup_path == ExploreSetup::Snapshot)
          setup(*current, kind, opt, nullptr, &snapshots);
        else
          setup(*current, kind, opt, &source);
        return threads_of(kind, *current, opt);
      },
      [&](const RunResult &r) {
        current->release_threads();  // as the run's threads went when it ended
        std::vector<Violation> v = finish(kind, *current, r);
        e.max_steps = std::max(e.max_steps, static_cast<unsigned>(r.trace.size()));
        if (!v.empty()) {
          if (e.bad == 0) {
            e.first_bad = r.choices;
            e.first_bad_violations = v;
          }
          e.bad++;
          std::map<std::string, bool> ids;
          for (const Violation &x : v)
            ids[x.id] = true;
          for (const auto &[id, _] : ids)
            e.bad_by_id[id]++;
        }
        return true;
      },
      1'000'000, max_preemptions);
  return e;
}

} // namespace hvo::concurrency
