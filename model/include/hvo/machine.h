// SPDX-License-Identifier: GPL-2.0-only
//
// The simulated machine: configuration, physical memory, the vmemmap page
// table + TLB, the MMU, and the kernel globals HVO reads and writes (the
// static key, the boot/sysctl switch, HugeTLB's folios).  The ported kernel
// functions take a Machine& where the kernel uses globals.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "hvo/config.h"
#include "hvo/memremap.h"
#include "hvo/shared_tail.h"
#include "hvo/mmu.h"
#include "hvo/pgtable.h"
#include "hvo/phys_mem.h"
#include "hvo/violation.h"

namespace hvo {

using FolioId = uint32_t;

enum class FolioState : uint8_t {
  Pool,     // in its hstate's free pool (refcount 0)
  InUse,    // handed out (refcount >= 1)
  Gone,     // freed to buddy, demoted, or never successfully created
};

// What the model knows about a HugeTLB folio outside its struct pages.  The
// kernel keeps all of this in struct pages and hstate lists; the model keeps
// the *identity* here (pfn, order) and every flag the kernel tests in the
// struct pages themselves, read through the MMU.
struct HugetlbFolio {
  FolioId id = 0;
  uint64_t pfn = 0;
  uint8_t order = 0;
  uint8_t nid = 0;
  ZoneType zone = ZoneType::Normal;
  FolioState state = FolioState::Gone;
  bool surplus = false;
  bool boot = false;  // gigantic page from memblock (bootmem)
  // For the restore-fidelity invariant (I7): the frames' contents of every
  // vmemmap page as they were just before the last optimize (image, origin),
  // holding image references.  Empty while not optimized.
  std::vector<std::pair<uint32_t, uint32_t>> pre_optimize;
  // Raw hardware-error records (mm/memory-failure.c: raw_hwp_page list).
  std::vector<uint64_t> raw_hwp;
};

// Modelled events that have no memory effect but matter for ordering.
struct EventCounters {
  uint64_t synchronize_rcu = 0;
  uint64_t pmd_splits = 0;
  uint64_t frames_freed_by_hvo = 0;
};

class Machine;

// Where the oracle watches the port from the inside: called when
// __hugetlb_vmemmap_optimize_folio / __hugetlb_vmemmap_restore_folio actually
// tried (the folio passed the early checks), with the result, before any
// caller frees a page or changes the folio further.
struct HvoHooks {
  virtual ~HvoHooks() = default;
  virtual void optimize_done(Machine &, HugetlbFolio &, int /*ret*/) {}
  virtual void restore_done(Machine &, HugetlbFolio &, int /*ret*/) {}
};

// Deterministic concurrency (concurrency/scenarios.h): a point inside a
// kernel path where another CPU may see a half-done state -- after one PTE
// update of a remap walk and before the next, before the TLB flush, after a
// page copy, after a free.  A scenario that runs the path as a coroutine
// installs a hook and may run other simulated CPUs' steps there.  Null by
// default: one pointer test, nothing else changes.
struct InterleaveHook {
  virtual ~InterleaveHook() = default;
  virtual void at(Machine &, const char *point, uint64_t addr) = 0;
};

class Machine {
public:
  explicit Machine(const Config &cfg);  // boots: sparse_init + memmap_init
  // A machine in `machine`'s state, made without booting: the members are
  // built empty for its (already laid out) Config, then assign_state copies
  // everything else, as Model::reset does on a machine that ran an input.
  // A copy of vectors instead of a per-struct-page boot.
  struct StateOf {
    const Machine &machine;
    // With `as`, the copy takes *as as its Config (laid out as Machine(*as)
    // lays it out): the state a fresh Machine(*as) boots into, when
    // boots_alike(the Config `machine` was booted with, *as) and `machine`
    // has not run anything (tests/fastpath/boot_snapshot_test.cpp,
    // BootCopy.RetargetedCopyEqualsFreshBoot).
    const Config *as = nullptr;
  };
  explicit Machine(StateOf o);
  // Whether Machine(a) and Machine(b) boot into the same state apart from
  // the Config they keep: they differ at most in what boot does not read
  // (the era and variant, hvo_enabled, memory_hotplug), and the era not
  // where it moves the vmemmap base (arch_vmemmap_layout).  Boot is
  // sparse_init + memmap_init + the oracle's mark; the machine keeps
  // vmemmap_optimize_enabled from hvo_enabled, which a copy sets again.
  static bool boots_alike(const Config &a, const Config &b);
  // The vmemmap base Machine(c) lays its memmap out at.
  static uint64_t laid_out_vmemmap_base(const Config &c);
  Machine(const Machine &) = delete;
  Machine &operator=(const Machine &) = delete;
  // Makes this machine's state equal to `o`'s, as if it had run the same
  // steps: every member below except the observers (hooks and the like),
  // which belong to whoever watches *this*.  The fuzz harness boots one
  // machine per Config and assigns it before each input instead of booting
  // again (tests/model/boot_snapshot_test.cpp pins the result to a fresh
  // boot).  A new member must be copied here too.
  void assign_state(const Machine &o);

  Config cfg;
  PhysMem phys;
  VmemmapPageTable pt;
  Mmu mmu;
  EventCounters events;
  // The kernel's own checks that fired (BUG_ON, VM_WARN_ON, bad_page) and
  // checks made at the moment something happens (a frame freed while a
  // stale TLB entry maps it); the oracle stamps them with the op index.
  std::vector<Violation> reports;
  void report(std::string id, uint64_t vaddr, uint64_t pfn, std::string expected,
              std::string found, std::string message) {
    reports.push_back(Violation{std::move(id), 0, vaddr, pfn, std::move(expected),
                                std::move(found), std::move(message)});
  }

  // hugetlb_optimize_vmemmap_key (mm/hugetlb_vmemmap.c 6.12 l.388): a
  // counting static key; enabled while > 0.
  int64_t hugetlb_optimize_vmemmap_key = 0;
  bool static_key_enabled() const { return hugetlb_optimize_vmemmap_key > 0; }
  // vmemmap_optimize_enabled: boot parameter hugetlb_free_vmemmap= and the
  // vm.hugetlb_optimize_vmemmap sysctl (l.391).
  bool vmemmap_optimize_enabled = true;

  HvoHooks *hooks = nullptr;
  InterleaveHook *interleave = nullptr;
  void interleave_point(const char *point, uint64_t addr) {
    if (interleave)
      interleave->at(*this, point, addr);
  }

  // Memory hotplug and device DAX (M2): sections, pgmaps, refcounts of
  // memmap frames mapped more than once.  Set up on first use
  // (hotplug_state_init), so a machine that never hot-adds pays nothing.
  HotplugState hotplug;
  // Shared-tail era (M2): the shared tail frames per node or zone and order.
  SharedTailState shared_tails;

  std::deque<HugetlbFolio> folios;  // indexed by FolioId; references stay valid
  HugetlbFolio *folio(FolioId id) {
    return id < folios.size() && folios[id].state != FolioState::Gone ? &folios[id] : nullptr;
  }

  // Address of the struct page of `pfn` (pfn_to_page).
  uint64_t page(uint64_t pfn) const { return cfg.vmemmap_of_pfn(pfn); }
  uint64_t page_to_pfn(uint64_t vaddr) const {
    return (vaddr - cfg.vmemmap_base) / cfg.struct_page_size;
  }
  // Address of word `field` of the struct page at `page`.
  static uint64_t field(uint64_t page, unsigned f) { return page + 8 * f; }
  // The vmemmap page number (relative to the base) of `vaddr`.
  uint64_t vpn(uint64_t vaddr) const { return (vaddr - cfg.vmemmap_base) >> cfg.page_shift; }

  // Image for freshly initialised struct pages of a zone (__init_single_page
  // then freed to buddy: refcount 0, mapcount -1, lru pointing at itself).
  uint32_t fresh_struct_page_image(unsigned zone, unsigned nid);

private:
  void sparse_init();
  void memmap_init();
};

}  // namespace hvo
