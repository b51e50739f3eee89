// SPDX-License-Identifier: GPL-2.0-only
//
// Physical memory: per-node page budgets, the frames that back the memmap and
// the kernel page tables (with copy-on-write contents), the pfn ranges that
// hold folio data, an allocator with exact accounting and fault injection.
//
// Modelling choice (docs/model.md, "frames"): memmap frames and page-table
// pages are drawn from their node's page budget but are named by frame ids,
// not placed at pfns, so their own struct pages are not modelled.  The two
// facts the kernel reads from those struct pages are frame attributes:
// PG_reserved (memblock memory: free_vmemmap_page, vmemmap_split_pmd) and
// PageVmemmapSelfHosted (memmap_on_memory).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hvo/config.h"
#include "hvo/frame_image.h"

namespace hvo {

using FrameId = uint32_t;
inline constexpr FrameId kNoFrame = UINT32_MAX;

enum class FrameState : uint8_t { Free, Allocated };

enum FrameAttr : uint8_t {
  kFrameReserved = 1u << 0,    // PG_reserved: came from memblock (bootmem)
  kFrameSelfHosted = 1u << 1,  // PageVmemmapSelfHosted (memmap_on_memory)
  kFramePageTable = 1u << 2,   // holds a PTE table, not struct pages
  kFrameOnList = 1u << 3,      // linked on a vmemmap_pages list (page->lru in use)
  kFrameMemmap = 1u << 4,      // accounted as memmap (memmap_pages / memmap_boot_pages)
  kFrameSharedTail = 1u << 5,  // a shared tail page (shared-tail era): never freed, not in memmap_pages
};

struct FrameRec {
  uint32_t image = ImagePool::kZero;
  uint32_t origin_vpn = 0;  // vmemmap page (relative to the base) the contents were made for
  uint32_t map_count = 0;   // vmemmap PTEs / PMD-leaf slots mapping this frame
  uint32_t tlb_refs = 0;    // stale TLB entries still translating to this frame
  uint8_t node = 0;
  FrameState state = FrameState::Free;
  uint8_t attrs = 0;
};

struct ZoneRange {
  ZoneType type;
  unsigned nid;
  uint64_t start_pfn;
  uint64_t end_pfn;
};

// Why an allocation was made; only for the trace and the per-purpose counters.
enum class AllocPurpose : uint8_t { Memmap, PageTable, FolioData };

// Fault injection: fail the Nth allocation attempt counted from when it was
// armed (1 = the next one), and/or every allocation on chosen nodes.
struct FaultInjection {
  uint64_t fail_nth = 0;          // 0 = off
  uint64_t attempts_since_arm = 0;
  uint64_t node_mask = 0;         // bit n: every allocation on node n fails
  // Fault attributes that are not allocations (lib/fault-inject.c
  // should_fail with interval 1 and probability 100): `space` calls pass,
  // then `times` calls fail.  Consulted by hugetlb_vmemmap.cpp (MS tree's
  // CONFIG_FAIL_HUGETLB_VMEMMAP: fail_hugetlb_vmemmap_pte / _pmd).
  struct Attr {
    uint64_t space = 0;
    uint64_t times = 0;
  };
  Attr hvo_pte, hvo_pmd;
};

class PhysMem {
public:
  explicit PhysMem(const Config &cfg);

  const Config &config() const { return cfg_; }
  // Takes `cfg` as this memory's Config without changing anything else: for
  // a machine copied from one booted with a Config that boots the same
  // memory (Machine::boots_alike: same nodes, zones, geometry, layout).
  void retarget(const Config &cfg) { cfg_ = cfg; }
  ImagePool &images() { return images_; }
  const ImagePool &images() const { return images_; }

  // --- frames -----------------------------------------------------------------
  // Mutable access counts as a change (changed_frames below), whether or not
  // the caller writes: the conservative side of the whole-machine check.
  FrameRec &frame(FrameId f) {
    note_changed(f);
    return frames_[f];
  }
  const FrameRec &frame(FrameId f) const { return frames_[f]; }
  size_t frame_table_size() const { return frames_.size(); }
  // Every frame record, by id: for a reader that walks the whole table.
  std::span<const FrameRec> frame_records() const { return frames_; }

  // alloc_pages_node(nid, gfp, 0): one frame from node `nid`'s budget.
  std::optional<FrameId> alloc_frame(unsigned nid, AllocPurpose why);
  // alloc_pages_node(nid, gfp, order) for `count` frames with consecutive
  // ids (a PMD_SIZE vmemmap block, M2 device DAX): one allocation attempt,
  // fault-injected like alloc_frame.
  std::optional<FrameId> alloc_frames_contig(unsigned nid, uint64_t count, AllocPurpose why);
  // Boot-time (memblock) allocation of `count` consecutive frame ids; never
  // fault-injected (the kernel panics if the boot memmap cannot be allocated).
  FrameId memblock_alloc_frames(unsigned nid, uint64_t count);
  // A memblock page for a boot-time page table (vmemmap_populate_basepages).
  FrameId memblock_alloc_pagetable(unsigned nid);
  // __free_page / free_bootmem_page: the frame goes back to its node.
  void free_frame(FrameId f);

  // Contents, through the linear map (no vmemmap translation).
  uint64_t read_word(FrameId f, uint64_t w) const {
    const FrameRec &r = frames_[f];
    return images_.word(r.image, r.origin_vpn, w);
  }
  void write_word(FrameId f, uint64_t w, uint64_t value);
  void store_field_all(FrameId f, unsigned field, uint64_t mask, FieldSpec value);
  // Replaces the contents with a fresh image made for vmemmap page `origin_vpn`.
  void set_image(FrameId f, uint32_t image, uint64_t origin_vpn);
  // The frame is now mapped at vmemmap page `vpn`; stores whose value depends
  // on the struct page's address must be computed there, so a frame whose
  // contents were made elsewhere (a copy) is first made dense, keeping every
  // word it holds, and takes `vpn` as its origin.
  void rebase(FrameId f, uint64_t vpn);
  // copy_page(dst, src) through the linear map: shares the source's image.
  void copy_frame(FrameId dst, FrameId src);
  bool same_contents(FrameId a, FrameId b) const;

  // --- node budgets, accounting -------------------------------------------------
  unsigned nr_nodes() const { return static_cast<unsigned>(node_free_.size()); }
  uint64_t node_free_pages(unsigned nid) const { return node_free_[nid]; }
  uint64_t node_present_pages(unsigned nid) const { return node_present_[nid]; }
  // vmstat NR_MEMMAP / NR_MEMMAP_BOOT as the kernel's callers maintain them
  // (memmap_pages_add / memmap_boot_pages_add), not derived from the frames.
  int64_t memmap_pages = 0;
  int64_t memmap_boot_pages = 0;
  uint64_t frames_allocated() const { return frames_allocated_; }
  uint64_t frames_freed() const { return frames_freed_; }
  // Ground truth the oracle compares the counters with, kept O(1).
  uint64_t live_memmap_boot_frames() const { return live_memmap_boot_; }
  uint64_t live_memmap_buddy_frames() const { return live_memmap_buddy_; }
  uint64_t live_pagetable_frames() const { return live_pagetable_; }

  // --- fault injection ------------------------------------------------------------
  FaultInjection fault;
  uint64_t alloc_attempts() const { return attempts_; }
  // A slab allocation (kmalloc) on `nid`: not drawn from the page budget, but
  // counted and fault-injected like every other allocation.
  bool kmalloc_attempt(unsigned nid) { return !injected_failure(nid); }

  // --- folio data (pfn space) -------------------------------------------------------
  const std::vector<ZoneRange> &zones() const { return zones_; }
  const ZoneRange *zone_of_pfn(uint64_t pfn) const;
  // Lowest free naturally aligned block of 2^order pages on `nid` (any zone
  // unless `zone` is given); nullopt = -ENOMEM.
  std::optional<uint64_t> alloc_pfn_range(unsigned nid, unsigned order,
                                          std::optional<ZoneType> zone = std::nullopt);
  void free_pfn_range(uint64_t pfn, unsigned order);
  // Boot (memblock) reservation of a specific aligned block, e.g. gigantic pages.
  bool reserve_pfn_range(uint64_t pfn, uint64_t nr);

  // --- what an operation touched (for the incremental oracle) -----------------------
  // Each frame at most once until the oracle takes the list (take_touched).
  void touch(FrameId f) {
    if (f >= touched_bit_.size())
      touched_bit_.resize(std::max<size_t>(frames_.size(), f + 1), false);
    if (!touched_bit_[f]) {
      touched_bit_[f] = true;
      touched_.push_back(f);
    }
  }
  std::vector<FrameId> take_touched() {
    std::vector<FrameId> out;
    take_touched(out);
    return out;
  }
  // The same list into `out` (its old contents dropped), whose storage then
  // becomes the next list's: a caller that keeps `out` (the oracle, once
  // per op) reuses two buffers instead of growing a fresh one per op.
  // Under ASan a fresh buffer is fresh pages (the quarantine delays reuse),
  // and a PMD split alone touches PTRS_PER_PTE frames.
  void take_touched(std::vector<FrameId> &out) {
    clear_touched_bits();
    out.clear();
    out.swap(touched_);
  }
  // Drops the list (a whole-machine check looks at more than it).
  void forget_touched() {
    clear_touched_bits();
    touched_.clear();
  }

  // --- what changed since a mark (for the whole-machine oracle) -------------------
  // Every frame whose record or contents anything could have changed since
  // mark_unchanged(): each mutable frame() access and each PhysMem method
  // that writes a frame records it.  Frames created after the mark are not
  // listed; they are the ids from unchanged_limit() on.  Unlike touch(), which
  // ops use to list what they meant to change, this is not up to the caller.
  void mark_unchanged() {
    for (FrameId f : changed_)
      changed_bits_[f / 64] = 0;
    changed_.clear();
    unchanged_limit_ = frames_.size();
    changed_bits_.resize((unchanged_limit_ + 63) / 64, 0);  // note_changed() never resizes
  }
  size_t unchanged_limit() const { return unchanged_limit_; }
  const std::vector<FrameId> &changed_frames() const { return changed_; }
  // The same set as a bitmap over the frames below unchanged_limit(): bit
  // f % 64 of word f / 64 is set exactly for the frames in changed_frames().
  // A whole-machine check reads it a word at a time.
  const std::vector<uint64_t> &changed_bits() const { return changed_bits_; }
  // Whether `f` is among changed_frames() (a frame created since the mark is not).
  bool changed_since_mark(FrameId f) const {
    return f < unchanged_limit_ && (changed_bits_[f / 64] >> (f % 64) & 1);
  }

  // --- frames written since a checkpoint (Differential's per-folio memo) ------
  // While the journal is on, every frame a write could have reached (each
  // call of note_changed, whatever the mark) is recorded once until
  // journal_clear(): a reader that remembers which frames it read can tell
  // whether any of them may hold other contents or another record now.
  // Frames created while it is on are not recorded (no reader saw them
  // before).  Off by default, and off in a copy of a machine that never
  // turned it on; copied like the rest of the state otherwise.
  void journal_start() {
    journal_on_ = true;
    journal_clear();
  }
  void journal_stop() {
    journal_clear();
    journal_on_ = false;
  }
  void journal_clear() {
    for (FrameId f : journal_)
      journal_bits_[f / 64] = 0;
    journal_.clear();
  }
  bool journaled(FrameId f) const {
    return f / 64 < journal_bits_.size() && (journal_bits_[f / 64] >> (f % 64) & 1);
  }

private:
  bool injected_failure(unsigned nid);
  void journal(FrameId f) {
    if (f / 64 >= journal_bits_.size())
      journal_bits_.resize(std::max<size_t>(frames_.size(), size_t{f} + 1) / 64 + 1, 0);
    uint64_t &word = journal_bits_[f / 64];
    const uint64_t bit = uint64_t{1} << (f % 64);
    if (!(word & bit)) {
      word |= bit;
      journal_.push_back(f);
    }
  }
  // A bit is set exactly for the frames listed in touched_: clearing them
  // one by one, or (a PMD split lists PTRS_PER_PTE of them) the whole
  // bitmap a word at a time when that is fewer stores, leaves it all clear.
  void clear_touched_bits() {
    if (touched_.size() * 64 >= touched_bit_.size())
      std::fill(touched_bit_.begin(), touched_bit_.end(), false);
    else
      for (FrameId f : touched_)
        touched_bit_[f] = false;
  }
  void note_changed(FrameId f) {
    if (journal_on_)
      journal(f);
    if (f >= unchanged_limit_)
      return;  // created after the mark: always examined
    uint64_t &word = changed_bits_[f / 64];
    const uint64_t bit = uint64_t{1} << (f % 64);
    if (!(word & bit)) {
      word |= bit;
      changed_.push_back(f);
    }
  }

  Config cfg_;
  ImagePool images_;
  std::vector<FrameRec> frames_;
  std::vector<FrameId> touched_;
  std::vector<bool> touched_bit_;
  std::vector<FrameId> changed_;      // since mark_unchanged(), first change first
  std::vector<uint64_t> changed_bits_;  // changed_bits(): frame ids < unchanged_limit_
  size_t unchanged_limit_ = 0;        // 0: no mark yet, every frame counts as new
  bool journal_on_ = false;
  std::vector<FrameId> journal_;          // since journal_clear(), first write first
  std::vector<uint64_t> journal_bits_;    // the same as a bitmap (grown on demand)
  std::vector<std::vector<FrameId>> free_frames_;  // per node, LIFO
  std::vector<uint64_t> node_free_;
  std::vector<uint64_t> node_present_;
  std::vector<ZoneRange> zones_;
  std::map<uint64_t, uint64_t> free_pfns_;  // start -> end, disjoint, coalesced
  uint64_t frames_allocated_ = 0;
  uint64_t frames_freed_ = 0;
  uint64_t attempts_ = 0;
  uint64_t live_memmap_boot_ = 0;
  uint64_t live_memmap_buddy_ = 0;
  uint64_t live_pagetable_ = 0;
};

}  // namespace hvo
