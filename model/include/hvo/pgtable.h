// SPDX-License-Identifier: GPL-2.0-only
//
// The kernel page table of the vmemmap region (init_mm) and a TLB.
//
// Storage is compact: one PMD entry per PMD_SIZE of vmemmap, and flat arrays
// of PTE words for the PMDs that have been split.  The TLB is pessimistic: a
// translation that existed is assumed to be cached until a flush covers it,
// so only *stale* translations (page table changed, no flush yet) are stored;
// a lookup prefers them to the page table, which is exactly what a CPU with
// every translation cached would see.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "hvo/phys_mem.h"

namespace hvo {

struct Pte {
  FrameId frame = kNoFrame;
  bool ro = false;
  bool present() const { return frame != kNoFrame; }
  bool operator==(const Pte &) const = default;
};

enum class PmdKind : uint8_t { None, Leaf, Table };

struct Pmd {
  PmdKind kind = PmdKind::None;
  uint32_t value = 0;  // Leaf: first of PTRS_PER_PTE consecutive frames; Table: table index
};

struct Translation {
  Pte pte;
  bool stale = false;  // came from a TLB entry the page table no longer agrees with
  bool huge = false;   // translated by a PMD leaf (or a stale one)
  bool operator==(const Translation &) const = default;
};

struct TlbCounters {
  uint64_t range_flushes = 0;
  uint64_t full_flushes = 0;
};

// vpn -> encoded stale PTE, stored flat: 512-entry chunks allocated on first
// use (no per-entry heap node: a batch leaves ~10^6 stale entries).  The key
// list is only used to visit entries; output never depends on its order.
class StaleTlbMap {
public:
  StaleTlbMap() = default;
  // Deep copies (a booted machine is copied per fuzz input, machine.h).
  StaleTlbMap(const StaleTlbMap &o) { *this = o; }
  StaleTlbMap &operator=(const StaleTlbMap &o);
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t find(uint64_t vpn) const {  // 0 = none
    size_t c = vpn >> kShift;
    return c < chunks_.size() && chunks_[c] ? chunks_[c][vpn & kMask] : 0;
  }
  bool insert(uint64_t vpn, uint32_t e);
  uint32_t erase(uint64_t vpn);  // returns what was there (0 = none)
  template <typename F> void for_each(F &&f) const {
    for (uint64_t v : keys_)
      if (uint32_t e = find(v))
        f(v, e);
  }
  void clear();
  // Removes every entry, calling f(encoded) once per entry removed.
  template <typename F> void drain(F &&f) {
    std::vector<uint64_t> keys;
    keys.swap(keys_);
    for (uint64_t v : keys) {
      size_t c = v >> kShift;
      uint32_t &slot = chunks_[c][v & kMask];
      if (slot) {
        f(slot);
        slot = 0;
      }
    }
    size_ = 0;
  }

private:
  static constexpr unsigned kShift = 9;
  static constexpr uint64_t kMask = (1u << kShift) - 1;
  std::vector<std::unique_ptr<uint32_t[]>> chunks_;
  std::vector<uint64_t> keys_;
  size_t size_ = 0;
};

// See VmemmapPageTable::check_memo.
struct TranslateMemoCheck {
  bool on = false;
  uint64_t hits = 0;
  uint64_t mismatches = 0;
};

class VmemmapPageTable {
public:
  VmemmapPageTable(const Config &cfg, PhysMem &phys);
  VmemmapPageTable(const VmemmapPageTable &) = delete;
  VmemmapPageTable &operator=(const VmemmapPageTable &) = delete;
  // Takes over every entry, table and stale translation of `o`, keeping this
  // table's own Config and PhysMem (Machine::assign_state).
  void assign_state(const VmemmapPageTable &o);

  uint64_t start() const { return cfg_.vmemmap_base; }
  uint64_t end() const { return cfg_.vmemmap_base + pmds_.size() * cfg_.pmd_size(); }
  bool covers(uint64_t vaddr) const { return vaddr >= start() && vaddr < end(); }
  size_t pmd_index(uint64_t vaddr) const { return (vaddr - start()) >> cfg_.pmd_shift(); }
  uint64_t pmd_addr(size_t i) const { return start() + (uint64_t{i} << cfg_.pmd_shift()); }
  size_t nr_pmds() const { return pmds_.size(); }
  const Pmd &pmd(size_t i) const { return pmds_[i]; }

  // pmd_leaf + the frame a leaf maps at `vaddr` (pmd_page(*pmd) + pte_index(addr)).
  bool pmd_leaf(size_t i) const { return pmds_[i].kind == PmdKind::Leaf; }
  // Boot: map [pmd_addr(i), +PMD_SIZE) to frames first..first+PTRS_PER_PTE-1, RW.
  void pmd_set_leaf(size_t i, FrameId first);

  // pte_alloc_one_kernel: a zeroed PTE table backed by `backing` (a page-table frame).
  uint32_t pte_table_create(FrameId backing);
  // pte_free_kernel on a table that was never installed: returns its backing frame.
  FrameId pte_table_destroy(uint32_t table);
  // set_pte_at on a table that is not installed yet (vmemmap_split_pmd's loop).
  void pte_table_set(uint32_t table, uint64_t index, Pte pte);
  FrameId pte_table_frame(uint32_t table) const { return table_frames_[table]; }
  // pmd_populate_kernel: install `table` at PMD i (replacing a leaf or nothing).
  void pmd_populate_kernel(size_t i, uint32_t table);
  // vmemmap_split_pmd's success path on leaf PMD i in one pass over its
  // frames: pte_table_create(backing), pte_table_set of every PTE to the
  // frame the leaf maps there (RW), pmd_populate_kernel, and, if
  // `then_flush`, flush_tlb_kernel_range(flush_start, flush_start +
  // PMD_SIZE), a range that overlaps PMD i.  The same entries,
  // tables, stale translations, counters and frame records as those calls,
  // with every frame noted changed and touched in the same order
  // (tests/fastpath/pgtable_split_test.cpp).  Returns the table index.
  uint32_t split_leaf(size_t i, FrameId backing, bool then_flush, uint64_t flush_start);
  // pte_table_create(backing), pte_table_set of every PTE k to `fill`
  // (with `keep_first`, PTE 0 to the frame the leaf maps there, RW instead),
  // then pmd_populate_kernel(i, table), on leaf PMD i, in one pass: the
  // table every PTE of a boot pre-HVO page ends up with at once
  // (hugetlb_vmemmap_init_late_page).  The same entries, table, stale huge
  // translation, counters and frame records as those calls, with the
  // frames noted changed and touched in the same order (the kept frame,
  // fill's frame, then the leaf's frames in order): fill's map_count is
  // added once instead of once per PTE
  // (tests/fastpath/boot_hvo_test.cpp).  Returns the table index.
  uint32_t populate_leaf_with(size_t i, FrameId backing, bool keep_first, Pte fill);

  // sparse_index_init() for hot-added memory (M2, device DAX): grows the
  // span so that it covers [start(), end_vaddr); new PMDs are none.
  void ensure_covers(uint64_t end_vaddr);
  // pmd_clear(): a leaf's frames lose their mapping, an installed PTE table
  // is dropped; returns the table's backing frame (kNoFrame for a leaf) for
  // the caller to free.  A leaf's translation stays cached until a flush.
  FrameId pmd_clear(size_t i);
  // Every PTE of the table installed at PMD i is none.
  bool pte_table_empty(size_t i) const;

  // The page table's current PTE for `vaddr` (a leaf is reported as its PTE).
  Pte ptep_get(uint64_t vaddr) const;
  // How many consecutive vmemmap pages, starting at the page holding
  // `vaddr`, have a page-table PTE identical to ptep_get(vaddr) (same frame,
  // same ro; the page table only, no TLB): n >= 1, at most max_pages (0 is
  // taken as 1), never past the end of vaddr's PMD.  A none PMD, a leaf and
  // an address outside the span answer 1 (a leaf maps a different frame at
  // every page; a none PMD has no PTE to share).  Lets a walk that calls
  // ptep_get page by page decide a whole run of equal PTEs at once
  // (tests/fastpath/pgtable_pte_run_test.cpp pins it to ptep_get).
  uint64_t pte_run(uint64_t vaddr, uint64_t max_pages) const;
  // set_pte_at(&init_mm, vaddr, pte, entry) on an installed PTE table.
  void set_pte_at(uint64_t vaddr, Pte pte);
  // The page table's PTEs of the n vmemmap pages from the page holding
  // `vaddr`, all in one installed PTE table (the caller's promise): out[k]
  // is ptep_get(vaddr + k * PAGE_SIZE).
  void read_ptes(uint64_t vaddr, uint64_t n, Pte *out) const;
  // set_pte_at(vaddr + k * PAGE_SIZE, news[k]) for k = 0 .. n-1 in order,
  // all in one installed PTE table (the caller's promise).  The same
  // entries, stale translations, counters and frame records, with frames
  // noted changed and touched in the same order as those calls.  The map
  // and TLB counts of `recurring` (kNoFrame: none), the frame that every
  // old or every new entry of a remap walk names, are added up and stored
  // once; it is noted and touched where the calls first would
  // (tests/fastpath/pgtable_set_ptes_test.cpp).
  void set_ptes(uint64_t vaddr, const Pte *news, uint64_t n, FrameId recurring);
  // Whether any of the n vmemmap pages from the page holding `vaddr` has a
  // stale translation (translate() would not answer ptep_get()).
  bool stale_in(uint64_t vaddr, uint64_t n) const;

  // What an access to `vaddr` uses: a stale TLB entry if any, else the table.
  Translation translate(uint64_t vaddr) const;
  // Tests (tests/fastpath) turn check_memo on: every answer translate()
  // takes from its memo is then compared with a fresh lookup, and each hit
  // and each disagreement is counted.  Process-wide; off by default.
  static inline TranslateMemoCheck check_memo;
  void flush_tlb_kernel_range(uint64_t start, uint64_t end);
  void flush_tlb_all();
  size_t stale_tlb_entries() const { return tlb_pte_.size() + tlb_pmd_.size(); }
  // Lowest vmemmap address with a stale translation, if any.
  std::optional<uint64_t> first_stale_address() const;
  const TlbCounters &tlb_counters() const { return counters_; }

  // Every installed PTE table (for the full oracle and diagrams).
  uint64_t ptes_per_table() const { return cfg_.ptrs_per_pte(); }

private:
  static uint32_t encode(Pte p) { return p.present() ? ((p.frame + 1) << 1) | p.ro : 0; }
  static Pte decode(uint32_t e) {
    return e == 0 ? Pte{} : Pte{(e >> 1) - 1, static_cast<bool>(e & 1)};
  }
  uint64_t vpn(uint64_t vaddr) const { return (vaddr - start()) >> cfg_.page_shift; }
  void map_ref(FrameId f, int delta);
  void tlb_remember(uint64_t vaddr, Pte old);
  // translate() without its memo.
  Translation lookup(uint64_t vaddr, uint64_t vpn) const;
  // Every mutator calls this first: it invalidates translate()'s memo.
  void changed() { ++gen_; }
  void tlb_ref(FrameId f, int delta);

  const Config &cfg_;
  PhysMem &phys_;
  std::vector<Pmd> pmds_;
  std::vector<std::vector<uint32_t>> tables_;  // encoded PTEs
  std::vector<FrameId> table_frames_;
  std::vector<uint32_t> free_tables_;
  // Storage of tables dropped by assign_state, reused by pte_table_create
  // (allocation only: never part of the page table's state).
  std::vector<std::vector<uint32_t>> spare_tables_;
  StaleTlbMap tlb_pte_;              // vpn -> encoded stale PTE
  std::map<uint64_t, Pmd> tlb_pmd_;  // pmd index -> stale leaf
  TlbCounters counters_;
  // translate()'s one-entry memo (a speed-up only: the same answer as a
  // fresh lookup, because every change to pmds_, tables_ or the stale
  // entries bumps gen_).
  uint64_t gen_ = 0;
  mutable uint64_t memo_vpn_ = UINT64_MAX;
  mutable uint64_t memo_gen_ = UINT64_MAX;
  mutable Translation memo_;
};

}  // namespace hvo
