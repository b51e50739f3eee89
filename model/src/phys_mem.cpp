// SPDX-License-Identifier: GPL-2.0-only
//
// Physical memory, frame allocator and fault injection (see phys_mem.h).
#include "hvo/phys_mem.h"

#include <algorithm>

namespace hvo {

PhysMem::PhysMem(const Config &cfg)
    : cfg_(cfg),
      images_(ImageGeometry{cfg.vmemmap_base, cfg.struct_page_size, cfg.words_per_page(),
                            cfg.words_per_struct_page()}) {
  uint64_t pfn = 0;
  for (unsigned nid = 0; nid < cfg.nodes.size(); nid++) {
    uint64_t present = 0;
    for (const ZoneSpec &z : cfg.nodes[nid].zones) {
      zones_.push_back(ZoneRange{z.type, nid, pfn, pfn + z.pages});
      pfn += z.pages;
      present += z.pages;
    }
    node_present_.push_back(present);
    node_free_.push_back(present);
  }
  free_frames_.resize(cfg.nodes.size());
  // The boot memmap and the PTE tables a full split needs, with a little
  // room: growing a 4 Mi-entry table by doubling would cost twice the memory.
  uint64_t pmds = (cfg.total_pages() * cfg.struct_page_size + cfg.pmd_size() - 1) / cfg.pmd_size();
  frames_.reserve(pmds * (cfg.ptrs_per_pte() + 1) + pmds / 8 + 1024);
  for (const ZoneRange &z : zones_) {
    // Coalesce with the previous zone's range: the pfn space is contiguous.
    if (!free_pfns_.empty() && std::prev(free_pfns_.end())->second == z.start_pfn)
      std::prev(free_pfns_.end())->second = z.end_pfn;
    else
      free_pfns_.emplace(z.start_pfn, z.end_pfn);
  }
}

bool PhysMem::injected_failure(unsigned nid) {
  attempts_++;
  if (fault.fail_nth != 0) {
    fault.attempts_since_arm++;
    if (fault.attempts_since_arm == fault.fail_nth) {
      fault.fail_nth = 0;
      return true;
    }
  }
  return nid < 64 && (fault.node_mask >> nid) & 1;
}

std::optional<FrameId> PhysMem::alloc_frame(unsigned nid, AllocPurpose why) {
  if (nid >= nr_nodes())
    return std::nullopt;
  if (injected_failure(nid) || node_free_[nid] == 0)
    return std::nullopt;
  FrameId f;
  if (!free_frames_[nid].empty()) {
    f = free_frames_[nid].back();
    free_frames_[nid].pop_back();
    note_changed(f);
  } else {
    f = static_cast<FrameId>(frames_.size());
    frames_.emplace_back();
  }
  node_free_[nid]--;
  frames_allocated_++;
  FrameRec &r = frames_[f];
  images_.put(r.image);
  r = FrameRec{};
  r.node = static_cast<uint8_t>(nid);
  r.state = FrameState::Allocated;
  if (why == AllocPurpose::PageTable) {
    r.attrs = kFramePageTable;
    live_pagetable_++;
  } else {
    r.attrs = kFrameMemmap;
    live_memmap_buddy_++;
  }
  touch(f);
  return f;
}

std::optional<FrameId> PhysMem::alloc_frames_contig(unsigned nid, uint64_t count,
                                                   AllocPurpose why) {
  if (nid >= nr_nodes() || count == 0)
    return std::nullopt;
  if (injected_failure(nid) || node_free_[nid] < count)
    return std::nullopt;
  FrameId first = static_cast<FrameId>(frames_.size());
  frames_.resize(frames_.size() + count);
  for (uint64_t i = 0; i < count; i++) {
    FrameRec &r = frames_[first + i];
    r.node = static_cast<uint8_t>(nid);
    r.state = FrameState::Allocated;
    r.attrs = why == AllocPurpose::PageTable ? kFramePageTable : kFrameMemmap;
    touch(first + static_cast<FrameId>(i));
  }
  node_free_[nid] -= count;
  frames_allocated_ += count;
  (why == AllocPurpose::PageTable ? live_pagetable_ : live_memmap_buddy_) += count;
  return first;
}

FrameId PhysMem::memblock_alloc_frames(unsigned nid, uint64_t count) {
  FrameId first = static_cast<FrameId>(frames_.size());
  frames_.resize(frames_.size() + count);
  for (uint64_t i = 0; i < count; i++) {
    FrameRec &r = frames_[first + i];
    r.node = static_cast<uint8_t>(nid);
    r.state = FrameState::Allocated;
    r.attrs = kFrameReserved | kFrameMemmap;
  }
  node_free_[nid] -= count;
  frames_allocated_ += count;
  live_memmap_boot_ += count;
  return first;
}

FrameId PhysMem::memblock_alloc_pagetable(unsigned nid) {
  FrameId f = static_cast<FrameId>(frames_.size());
  frames_.emplace_back();
  FrameRec &r = frames_[f];
  r.node = static_cast<uint8_t>(nid);
  r.state = FrameState::Allocated;
  r.attrs = kFrameReserved | kFramePageTable;
  node_free_[nid]--;
  frames_allocated_++;
  live_pagetable_++;
  return f;
}

void PhysMem::free_frame(FrameId f) {
  note_changed(f);
  FrameRec &r = frames_[f];
  if (r.attrs & kFramePageTable)
    live_pagetable_--;
  else if (r.attrs & kFrameReserved)
    live_memmap_boot_--;
  else
    live_memmap_buddy_--;
  images_.put(r.image);
  r.image = ImagePool::kZero;
  r.state = FrameState::Free;
  r.attrs = 0;
  node_free_[r.node]++;
  frames_freed_++;
  free_frames_[r.node].push_back(f);
  touch(f);
}

void PhysMem::write_word(FrameId f, uint64_t w, uint64_t value) {
  note_changed(f);
  FrameRec &r = frames_[f];
  r.image = images_.unshare(r.image);
  images_.store_word(r.image, r.origin_vpn, w, value);
}

void PhysMem::store_field_all(FrameId f, unsigned field, uint64_t mask, FieldSpec value) {
  note_changed(f);
  FrameRec &r = frames_[f];
  uint32_t shared = images_.with_field(r.image, field, mask, value);
  if (shared != ImagePool::kNone) {
    images_.put(r.image);
    r.image = shared;
    return;
  }
  r.image = images_.unshare(r.image);
  images_.store_field_all(r.image, r.origin_vpn, field, mask, value);
}

void PhysMem::set_image(FrameId f, uint32_t image, uint64_t origin_vpn) {
  note_changed(f);
  FrameRec &r = frames_[f];
  images_.put(r.image);
  r.image = image;
  r.origin_vpn = static_cast<uint32_t>(origin_vpn);
}

void PhysMem::rebase(FrameId f, uint64_t vpn) {
  note_changed(f);
  FrameRec &r = frames_[f];
  if (r.origin_vpn == vpn)
    return;
  r.image = images_.unshare(r.image);
  images_.make_dense(r.image, r.origin_vpn);
  r.origin_vpn = static_cast<uint32_t>(vpn);
}

void PhysMem::copy_frame(FrameId dst, FrameId src) {
  if (dst == src)
    return;
  note_changed(dst);
  FrameRec &d = frames_[dst];
  const FrameRec &s = frames_[src];
  images_.get(s.image);
  images_.put(d.image);
  d.image = s.image;
  d.origin_vpn = s.origin_vpn;
}

bool PhysMem::same_contents(FrameId a, FrameId b) const {
  const FrameRec &ra = frames_[a], &rb = frames_[b];
  if (ra.image == rb.image && ra.origin_vpn == rb.origin_vpn)
    return true;
  for (uint64_t w = 0; w < cfg_.words_per_page(); w++)
    if (read_word(a, w) != read_word(b, w))
      return false;
  return true;
}

const ZoneRange *PhysMem::zone_of_pfn(uint64_t pfn) const {
  for (const ZoneRange &z : zones_)
    if (pfn >= z.start_pfn && pfn < z.end_pfn)
      return &z;
  return nullptr;
}

std::optional<uint64_t> PhysMem::alloc_pfn_range(unsigned nid, unsigned order,
                                                 std::optional<ZoneType> zone) {
  if (nid >= nr_nodes() || order >= 40)
    return std::nullopt;
  const uint64_t nr = uint64_t{1} << order;
  if (injected_failure(nid) || node_free_[nid] < nr)
    return std::nullopt;
  for (const ZoneRange &z : zones_) {
    if (z.nid != nid || (zone && z.type != *zone))
      continue;
    // A folio never spans zones: search within this zone's pfns only.
    auto it = free_pfns_.upper_bound(z.start_pfn);
    if (it != free_pfns_.begin())
      --it;
    for (; it != free_pfns_.end() && it->first < z.end_pfn; ++it) {
      uint64_t lo = std::max(it->first, z.start_pfn);
      uint64_t hi = std::min(it->second, z.end_pfn);
      uint64_t start = (lo + nr - 1) & ~(nr - 1);
      if (start + nr <= hi && start >= lo) {
        reserve_pfn_range(start, nr);
        return start;
      }
    }
  }
  return std::nullopt;
}

bool PhysMem::reserve_pfn_range(uint64_t pfn, uint64_t nr) {
  auto it = free_pfns_.upper_bound(pfn);
  if (it == free_pfns_.begin())
    return false;
  --it;
  if (it->second < pfn + nr)
    return false;
  uint64_t s = it->first, e = it->second;
  free_pfns_.erase(it);
  if (s < pfn)
    free_pfns_.emplace(s, pfn);
  if (pfn + nr < e)
    free_pfns_.emplace(pfn + nr, e);
  const ZoneRange *z = zone_of_pfn(pfn);
  node_free_[z->nid] -= nr;
  return true;
}

void PhysMem::free_pfn_range(uint64_t pfn, unsigned order) {
  uint64_t s = pfn, e = pfn + (uint64_t{1} << order);
  auto next = free_pfns_.lower_bound(s);
  if (next != free_pfns_.end() && next->first == e) {
    e = next->second;
    next = free_pfns_.erase(next);
  }
  if (next != free_pfns_.begin()) {
    auto prev = std::prev(next);
    if (prev->second == s) {
      s = prev->first;
      free_pfns_.erase(prev);
    }
  }
  free_pfns_.emplace(s, e);
  node_free_[zone_of_pfn(pfn)->nid] += uint64_t{1} << order;
}

}  // namespace hvo
