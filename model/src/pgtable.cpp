// SPDX-License-Identifier: GPL-2.0-only
//
// vmemmap page table and pessimistic TLB (see pgtable.h).
#include "hvo/pgtable.h"

#include <algorithm>

namespace hvo {

bool StaleTlbMap::insert(uint64_t vpn, uint32_t e) {
  size_t c = vpn >> kShift;
  if (c >= chunks_.size())
    chunks_.resize(c + 1);
  if (!chunks_[c])
    chunks_[c] = std::make_unique<uint32_t[]>(kMask + 1);  // zeroed
  uint32_t &slot = chunks_[c][vpn & kMask];
  if (slot)
    return false;
  slot = e;
  keys_.push_back(vpn);
  size_++;
  return true;
}

uint32_t StaleTlbMap::erase(uint64_t vpn) {
  size_t c = vpn >> kShift;
  if (c >= chunks_.size() || !chunks_[c])
    return 0;
  uint32_t &slot = chunks_[c][vpn & kMask];
  uint32_t e = slot;
  if (e) {
    slot = 0;
    if (--size_ == 0)
      keys_.clear();
  }
  return e;
}

// Chunks this map already has are kept (emptied) rather than freed: a
// fuzz input's machine is reset to its booted copy by assignment, and the
// next input's splits would allocate the same chunks again.  An all-zero
// chunk holds no entry, so find() answers as if it were absent.
StaleTlbMap &StaleTlbMap::operator=(const StaleTlbMap &o) {
  if (this == &o)
    return *this;
  clear();
  if (chunks_.size() < o.chunks_.size())
    chunks_.resize(o.chunks_.size());
  for (size_t c = 0; c < o.chunks_.size(); c++) {
    if (!o.chunks_[c])
      continue;
    if (!chunks_[c])
      chunks_[c] = std::make_unique<uint32_t[]>(kMask + 1);
    std::copy(o.chunks_[c].get(), o.chunks_[c].get() + kMask + 1, chunks_[c].get());
  }
  keys_ = o.keys_;
  size_ = o.size_;
  return *this;
}

void StaleTlbMap::clear() {
  for (uint64_t v : keys_) {
    size_t c = v >> kShift;
    if (c < chunks_.size() && chunks_[c])
      chunks_[c][v & kMask] = 0;
  }
  keys_.clear();
  size_ = 0;
}

VmemmapPageTable::VmemmapPageTable(const Config &cfg, PhysMem &phys) : cfg_(cfg), phys_(phys) {
  uint64_t memmap_bytes = cfg.total_pages() * cfg.struct_page_size;
  pmds_.resize((memmap_bytes + cfg.pmd_size() - 1) / cfg.pmd_size());
}

void VmemmapPageTable::assign_state(const VmemmapPageTable &o) {
  changed();
  pmds_ = o.pmds_;
  // Tables past o's count keep their storage as spares for
  // pte_table_create (the next fuzz input splits the same PMDs again).
  while (tables_.size() > o.tables_.size()) {
    spare_tables_.push_back(std::move(tables_.back()));
    tables_.pop_back();
  }
  tables_ = o.tables_;
  table_frames_ = o.table_frames_;
  free_tables_ = o.free_tables_;
  tlb_pte_ = o.tlb_pte_;
  tlb_pmd_ = o.tlb_pmd_;
  counters_ = o.counters_;
}

void VmemmapPageTable::map_ref(FrameId f, int delta) {
  FrameRec &r = phys_.frame(f);
  r.map_count += delta;
  phys_.touch(f);
}

void VmemmapPageTable::tlb_ref(FrameId f, int delta) { phys_.frame(f).tlb_refs += delta; }

void VmemmapPageTable::pmd_set_leaf(size_t i, FrameId first) {
  changed();
  pmds_[i] = Pmd{PmdKind::Leaf, first};
  for (uint64_t k = 0; k < cfg_.ptrs_per_pte(); k++)
    phys_.frame(first + k).map_count++;
}

uint32_t VmemmapPageTable::pte_table_create(FrameId backing) {
  changed();
  uint32_t t;
  if (!free_tables_.empty()) {
    t = free_tables_.back();
    free_tables_.pop_back();
    tables_[t].assign(cfg_.ptrs_per_pte(), 0);
    table_frames_[t] = backing;
  } else {
    t = static_cast<uint32_t>(tables_.size());
    if (!spare_tables_.empty()) {
      tables_.push_back(std::move(spare_tables_.back()));
      spare_tables_.pop_back();
      tables_.back().assign(cfg_.ptrs_per_pte(), 0);
    } else {
      tables_.emplace_back(cfg_.ptrs_per_pte(), 0);
    }
    table_frames_.push_back(backing);
  }
  return t;
}

FrameId VmemmapPageTable::pte_table_destroy(uint32_t table) {
  changed();
  for (uint32_t e : tables_[table])
    if (e != 0)
      map_ref(decode(e).frame, -1);
  tables_[table].clear();  // keeps its storage for the next pte_table_create
  free_tables_.push_back(table);
  return table_frames_[table];
}

void VmemmapPageTable::pte_table_set(uint32_t table, uint64_t index, Pte pte) {
  changed();
  uint32_t &slot = tables_[table][index];
  if (slot != 0)
    map_ref(decode(slot).frame, -1);
  slot = encode(pte);
  if (pte.present())
    map_ref(pte.frame, +1);
}

void VmemmapPageTable::pmd_populate_kernel(size_t i, uint32_t table) {
  changed();
  Pmd &p = pmds_[i];
  if (p.kind == PmdKind::Leaf) {
    // The old huge translation may still be cached: remember it as stale
    // unless an older stale one is already there.
    if (!tlb_pmd_.count(i)) {
      tlb_pmd_.emplace(i, p);
      for (uint64_t k = 0; k < cfg_.ptrs_per_pte(); k++)
        tlb_ref(p.value + k, +1);
    }
    for (uint64_t k = 0; k < cfg_.ptrs_per_pte(); k++)
      map_ref(p.value + k, -1);
  }
  p = Pmd{PmdKind::Table, table};
}

// The calls split_leaf stands for add, per frame k of the leaf: map_count
// +1 (pte_table_set) and -1 (pmd_populate_kernel drops the leaf), and a
// stale huge entry's tlb_refs +1 unless one is already cached for PMD i;
// a flush over a range that overlaps the PMD takes that entry back out (-1).  So map_count never
// changes, tlb_refs rises by one only when the entry stays cached, and each
// frame is noted changed and touched once, first by pte_table_set in k
// order, as here.  The flush also drops stale PTEs and older huge entries:
// the real flush runs for that.
uint32_t VmemmapPageTable::split_leaf(size_t i, FrameId backing, bool then_flush,
                                      uint64_t flush_start) {
  const uint32_t table = pte_table_create(backing);
  Pmd &p = pmds_[i];
  const FrameId first = p.value;
  const bool remember = !then_flush && !tlb_pmd_.count(i);
  std::vector<uint32_t> &ptes = tables_[table];
  for (uint64_t k = 0, n = cfg_.ptrs_per_pte(); k < n; k++) {
    const FrameId f = static_cast<FrameId>(first + k);
    ptes[k] = encode(Pte{f, false});
    FrameRec &r = phys_.frame(f);
    r.tlb_refs += remember;
    phys_.touch(f);
  }
  if (remember)
    tlb_pmd_.emplace(i, p);
  p = Pmd{PmdKind::Table, table};
  if (then_flush)
    flush_tlb_kernel_range(flush_start, flush_start + cfg_.pmd_size());
  return table;
}

// What the calls populate_leaf_with stands for do, per frame: pte_table_set
// of PTE k maps (map_ref +1) the kept leaf frame or fill's frame, in k
// order, so the kept frame is noted and touched first, fill's frame second
// and never again first; pmd_populate_kernel then remembers the leaf as a
// stale huge entry unless PMD i has one (tlb_refs +1 per leaf frame) and
// unmaps every leaf frame (map_count -1), noting and touching them in
// order.  Entries equal to fill are written directly; fill's map_count
// rises by their number once.
uint32_t VmemmapPageTable::populate_leaf_with(size_t i, FrameId backing, bool keep_first,
                                              Pte fill) {
  const uint32_t table = pte_table_create(backing);
  Pmd &p = pmds_[i];
  const FrameId first = p.value;
  const uint64_t n = cfg_.ptrs_per_pte();
  std::vector<uint32_t> &ptes = tables_[table];
  uint64_t k0 = 0;
  if (keep_first && n > 0) {
    ptes[0] = encode(Pte{first, false});
    map_ref(first, +1);
    k0 = 1;
  }
  if (k0 < n) {
    std::fill(ptes.begin() + static_cast<long>(k0), ptes.end(), encode(fill));
    if (fill.present()) {
      phys_.frame(fill.frame).map_count += static_cast<uint32_t>(n - k0);
      phys_.touch(fill.frame);
    }
  }
  const bool remember = !tlb_pmd_.count(i);
  if (remember)
    tlb_pmd_.emplace(i, p);
  for (uint64_t k = 0; k < n; k++) {
    const FrameId f = static_cast<FrameId>(first + k);
    FrameRec &r = phys_.frame(f);
    r.tlb_refs += remember;
    r.map_count -= 1;
    phys_.touch(f);
  }
  p = Pmd{PmdKind::Table, table};
  return table;
}

void VmemmapPageTable::ensure_covers(uint64_t end_vaddr) {
  changed();
  if (end_vaddr <= end())
    return;
  pmds_.resize((end_vaddr - start() + cfg_.pmd_size() - 1) >> cfg_.pmd_shift());
}

FrameId VmemmapPageTable::pmd_clear(size_t i) {
  changed();
  Pmd &p = pmds_[i];
  FrameId backing = kNoFrame;
  if (p.kind == PmdKind::Leaf) {
    if (!tlb_pmd_.count(i)) {
      tlb_pmd_.emplace(i, p);
      for (uint64_t k = 0; k < cfg_.ptrs_per_pte(); k++)
        tlb_ref(p.value + k, +1);
    }
    for (uint64_t k = 0; k < cfg_.ptrs_per_pte(); k++)
      map_ref(p.value + k, -1);
  } else if (p.kind == PmdKind::Table) {
    backing = pte_table_destroy(p.value);
  }
  p = Pmd{};
  return backing;
}

bool VmemmapPageTable::pte_table_empty(size_t i) const {
  const Pmd &p = pmds_[i];
  if (p.kind != PmdKind::Table)
    return false;
  for (uint32_t e : tables_[p.value])
    if (e != 0)
      return false;
  return true;
}

Pte VmemmapPageTable::ptep_get(uint64_t vaddr) const {
  if (!covers(vaddr))
    return Pte{};
  const Pmd &p = pmds_[pmd_index(vaddr)];
  uint64_t idx = vpn(vaddr) & (cfg_.ptrs_per_pte() - 1);
  switch (p.kind) {
  case PmdKind::None:
    return Pte{};
  case PmdKind::Leaf:
    return Pte{static_cast<FrameId>(p.value + idx), false};
  case PmdKind::Table:
    return decode(tables_[p.value][idx]);
  }
  return Pte{};
}

uint64_t VmemmapPageTable::pte_run(uint64_t vaddr, uint64_t max_pages) const {
  if (max_pages <= 1 || !covers(vaddr))
    return 1;
  const Pmd &p = pmds_[pmd_index(vaddr)];
  if (p.kind != PmdKind::Table)
    return 1;
  const uint64_t per = cfg_.ptrs_per_pte();
  const uint64_t idx = vpn(vaddr) & (per - 1);
  const uint64_t last = idx + std::min(max_pages, per - idx);  // one past the run's limit
  const uint32_t *ptes = tables_[p.value].data();
  uint64_t k = idx + 1;
  while (k < last && ptes[k] == ptes[idx])
    k++;
  return k - idx;
}

void VmemmapPageTable::tlb_remember(uint64_t vaddr, Pte old) {
  if (!old.present())
    return;
  uint64_t v = vpn(vaddr);
  if (tlb_pte_.find(v) || (!tlb_pmd_.empty() && tlb_pmd_.count(pmd_index(vaddr))))
    return;  // an older translation is already cached
  tlb_pte_.insert(v, encode(old));
  tlb_ref(old.frame, +1);
}

void VmemmapPageTable::set_pte_at(uint64_t vaddr, Pte pte) {
  changed();
  const Pmd &p = pmds_[pmd_index(vaddr)];
  uint64_t idx = vpn(vaddr) & (cfg_.ptrs_per_pte() - 1);
  uint32_t &slot = tables_[p.value][idx];
  Pte old = decode(slot);
  if (old == pte)
    return;
  tlb_remember(vaddr, old);
  if (old.present())
    map_ref(old.frame, -1);
  slot = encode(pte);
  if (pte.present())
    map_ref(pte.frame, +1);
}

void VmemmapPageTable::read_ptes(uint64_t vaddr, uint64_t n, Pte *out) const {
  const Pmd &p = pmds_[pmd_index(vaddr)];
  const uint32_t *ptes = tables_[p.value].data() + (vpn(vaddr) & (cfg_.ptrs_per_pte() - 1));
  for (uint64_t k = 0; k < n; k++)
    out[k] = decode(ptes[k]);
}

// set_pte_at's steps per entry, in its order: tlb_remember (a stale entry
// for the old frame unless the vpn or its PMD already has one: tlb_refs +1,
// noted), map_ref(old, -1) and map_ref(new, +1) (each noted and touched).
// For `recurring` the first of these notes and touches it; its counts are
// summed and stored after the last entry (no one reads them in between).
void VmemmapPageTable::set_ptes(uint64_t vaddr, const Pte *news, uint64_t n, FrameId recurring) {
  changed();
  const uint64_t per = cfg_.ptrs_per_pte();
  const uint64_t v0 = vpn(vaddr);
  const size_t pi = pmd_index(vaddr);
  uint32_t *ptes = tables_[pmds_[pi].value].data() + (v0 & (per - 1));
  const bool huge_stale = !tlb_pmd_.empty() && tlb_pmd_.count(pi);
  int64_t map_delta = 0, tlb_delta = 0;
  bool recurring_seen = false;
  auto seen = [&](FrameId f) {
    if (!recurring_seen) {
      recurring_seen = true;
      phys_.frame(f);  // noted
      phys_.touch(f);
    }
  };
  for (uint64_t k = 0; k < n; k++) {
    const Pte old = decode(ptes[k]), pte = news[k];
    if (old == pte)
      continue;
    if (old.present()) {
      const uint64_t v = v0 + k;
      const bool remember = !huge_stale && !tlb_pte_.find(v);
      if (remember)
        tlb_pte_.insert(v, ptes[k]);
      if (old.frame == recurring) {
        seen(old.frame);
        tlb_delta += remember;
        map_delta -= 1;
      } else {
        FrameRec &r = phys_.frame(old.frame);
        r.tlb_refs += remember;
        r.map_count -= 1;
        phys_.touch(old.frame);
      }
    }
    ptes[k] = encode(pte);
    if (pte.present()) {
      if (pte.frame == recurring) {
        seen(pte.frame);
        map_delta += 1;
      } else {
        map_ref(pte.frame, +1);
      }
    }
  }
  if (recurring_seen) {
    FrameRec &r = phys_.frame(recurring);
    r.map_count = static_cast<uint32_t>(r.map_count + map_delta);
    r.tlb_refs = static_cast<uint32_t>(r.tlb_refs + tlb_delta);
  }
}

bool VmemmapPageTable::stale_in(uint64_t vaddr, uint64_t n) const {
  if (!tlb_pmd_.empty())
    for (uint64_t k = 0; k < n; k++)
      if (tlb_pmd_.count(pmd_index(vaddr + (k << cfg_.page_shift))))
        return true;
  if (!tlb_pte_.empty())
    for (uint64_t v = vpn(vaddr), e = v + n; v < e; v++)
      if (tlb_pte_.find(v))
        return true;
  return false;
}

Translation VmemmapPageTable::translate(uint64_t vaddr) const {
  if (!covers(vaddr))
    return Translation{};
  const uint64_t v = vpn(vaddr);
  // Loops over the struct pages of one vmemmap page translate the same vpn
  // again and again; nothing in between can change the answer unless a
  // mutator ran (changed()).
  if (v == memo_vpn_ && gen_ == memo_gen_) {
    if (check_memo.on) [[unlikely]] {
      check_memo.hits++;
      check_memo.mismatches += !(lookup(vaddr, v) == memo_);
    }
    return memo_;
  }
  memo_ = lookup(vaddr, v);
  memo_vpn_ = v;
  memo_gen_ = gen_;
  return memo_;
}

Translation VmemmapPageTable::lookup(uint64_t vaddr, uint64_t v) const {
  if (!tlb_pte_.empty())
    if (uint32_t e = tlb_pte_.find(v))
      return Translation{decode(e), true, false};
  size_t i = pmd_index(vaddr);
  if (!tlb_pmd_.empty()) {
    auto it = tlb_pmd_.find(i);
    if (it != tlb_pmd_.end())
      return Translation{
          Pte{static_cast<FrameId>(it->second.value + (v & (cfg_.ptrs_per_pte() - 1))), false},
          true, true};
  }
  return Translation{ptep_get(vaddr), false, pmds_[i].kind == PmdKind::Leaf};
}

void VmemmapPageTable::flush_tlb_kernel_range(uint64_t s, uint64_t e) {
  changed();
  counters_.range_flushes++;
  if (e <= s)
    return;
  uint64_t lo = s < start() ? 0 : vpn(s);
  uint64_t hi = e <= start() ? 0 : vpn(e - 1) + 1;
  if (hi - lo <= 4 * tlb_pte_.size()) {
    for (uint64_t v = lo; v < hi && !tlb_pte_.empty(); v++)
      if (uint32_t e = tlb_pte_.erase(v))
        tlb_ref(decode(e).frame, -1);
  } else {
    std::vector<uint64_t> hit;
    tlb_pte_.for_each([&](uint64_t v, uint32_t) {
      if (v >= lo && v < hi)
        hit.push_back(v);
    });
    for (uint64_t v : hit)
      if (uint32_t e = tlb_pte_.erase(v))
        tlb_ref(decode(e).frame, -1);
  }
  // A huge entry is dropped when the range touches any page it translates.
  uint64_t per = cfg_.ptrs_per_pte();
  for (auto it = tlb_pmd_.begin(); it != tlb_pmd_.end();) {
    uint64_t first = it->first * per, last = first + per;
    if (first < hi && lo < last) {
      for (uint64_t k = 0; k < per; k++)
        tlb_ref(it->second.value + k, -1);
      it = tlb_pmd_.erase(it);
    } else {
      ++it;
    }
  }
}

void VmemmapPageTable::flush_tlb_all() {
  changed();
  counters_.full_flushes++;
  tlb_pte_.drain([&](uint32_t e) { tlb_ref(decode(e).frame, -1); });
  for (auto &[i, p] : tlb_pmd_)
    for (uint64_t k = 0; k < cfg_.ptrs_per_pte(); k++)
      tlb_ref(p.value + k, -1);
  tlb_pmd_.clear();
}

std::optional<uint64_t> VmemmapPageTable::first_stale_address() const {
  std::optional<uint64_t> best;
  tlb_pte_.for_each([&](uint64_t v, uint32_t) {
    if (!best || start() + (v << cfg_.page_shift) < *best)
      best = start() + (v << cfg_.page_shift);
  });
  if (!tlb_pmd_.empty()) {
    uint64_t a = pmd_addr(tlb_pmd_.begin()->first);
    if (!best || a < *best)
      best = a;
  }
  return best;
}

}  // namespace hvo
