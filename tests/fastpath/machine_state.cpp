// SPDX-License-Identifier: GPL-2.0-only
//
// Deep machine comparison (see machine_state.h).
#include "machine_state.h"

#include <vector>

#include "hvo/config.h"

namespace hvo::test {

namespace {

std::string num(uint64_t v) { return std::to_string(v); }

std::string frames_diff(const PhysMem &a, const PhysMem &b, Representation r) {
  if (a.frame_table_size() != b.frame_table_size())
    return "frame table size " + num(a.frame_table_size()) + " vs " + num(b.frame_table_size());
  const uint64_t wpp = a.config().words_per_page();
  std::vector<uint64_t> wa(wpp), wb(wpp);
  for (FrameId f = 0; f < a.frame_table_size(); f++) {
    const FrameRec &x = a.frame(f), &y = b.frame(f);
    if (x.map_count != y.map_count || x.tlb_refs != y.tlb_refs || x.node != y.node ||
        x.state != y.state || x.attrs != y.attrs ||
        (r == Representation::Same && x.origin_vpn != y.origin_vpn))
      return "frame " + num(f) + " record";
    a.images().read_page(x.image, x.origin_vpn, wa.data());
    b.images().read_page(y.image, y.origin_vpn, wb.data());
    for (uint64_t w = 0; w < wpp; w++)
      if (wa[w] != wb[w] || wa[w] != a.read_word(f, w))
        return "frame " + num(f) + " word " + num(w);
  }
  return "";
}

std::string phys_diff(const PhysMem &a, const PhysMem &b, Representation r) {
  if (print_config(a.config()) != print_config(b.config()))
    return "phys config";
  if (a.nr_nodes() != b.nr_nodes())
    return "nodes";
  for (unsigned n = 0; n < a.nr_nodes(); n++)
    if (a.node_free_pages(n) != b.node_free_pages(n) ||
        a.node_present_pages(n) != b.node_present_pages(n))
      return "node " + num(n) + " pages";
  if (a.memmap_pages != b.memmap_pages || a.memmap_boot_pages != b.memmap_boot_pages ||
      a.frames_allocated() != b.frames_allocated() || a.frames_freed() != b.frames_freed() ||
      a.live_memmap_boot_frames() != b.live_memmap_boot_frames() ||
      a.live_memmap_buddy_frames() != b.live_memmap_buddy_frames() ||
      a.live_pagetable_frames() != b.live_pagetable_frames() ||
      a.alloc_attempts() != b.alloc_attempts() ||
      (r == Representation::Same && a.images().live() != b.images().live()))
    return "phys counters";
  if (a.fault.fail_nth != b.fault.fail_nth ||
      a.fault.attempts_since_arm != b.fault.attempts_since_arm ||
      a.fault.node_mask != b.fault.node_mask || a.fault.hvo_pte.space != b.fault.hvo_pte.space ||
      a.fault.hvo_pte.times != b.fault.hvo_pte.times ||
      a.fault.hvo_pmd.space != b.fault.hvo_pmd.space ||
      a.fault.hvo_pmd.times != b.fault.hvo_pmd.times)
    return "fault injection";
  if (a.zones().size() != b.zones().size())
    return "zones";
  return frames_diff(a, b, r);
}

std::string pt_diff(const Machine &a, const Machine &b) {
  const VmemmapPageTable &x = a.pt, &y = b.pt;
  if (x.nr_pmds() != y.nr_pmds())
    return "nr_pmds";
  for (size_t i = 0; i < x.nr_pmds(); i++)
    if (x.pmd(i).kind != y.pmd(i).kind || x.pmd(i).value != y.pmd(i).value)
      return "pmd " + num(i);
  const uint64_t ps = a.cfg.page_size();
  for (uint64_t v = x.start(); v < x.end(); v += ps) {
    if (!(x.ptep_get(v) == y.ptep_get(v)))
      return "pte at " + num(v);
    Translation tx = a.mmu.translate(v), ty = b.mmu.translate(v);
    if (!(tx.pte == ty.pte) || tx.stale != ty.stale || tx.huge != ty.huge)
      return "translation at " + num(v);
  }
  if (x.stale_tlb_entries() != y.stale_tlb_entries() ||
      x.first_stale_address() != y.first_stale_address() ||
      x.tlb_counters().range_flushes != y.tlb_counters().range_flushes ||
      x.tlb_counters().full_flushes != y.tlb_counters().full_flushes)
    return "tlb";
  return "";
}

// A folio's pre-optimize snapshot holds (image, origin) pairs.  With
// Representation::Contents two paths may name the same page contents by
// different images or origins (a shifted copy against a dense one), so the
// snapshots are compared page by page through their words instead.
bool same_pre_optimize(const Machine &a, const HugetlbFolio &x, const Machine &b,
                       const HugetlbFolio &y, Representation r) {
  if (r == Representation::Same)
    return x.pre_optimize == y.pre_optimize;
  if (x.pre_optimize.size() != y.pre_optimize.size())
    return false;
  const uint64_t wpp = a.cfg.words_per_page();
  std::vector<uint64_t> wa(wpp), wb(wpp);
  for (size_t k = 0; k < x.pre_optimize.size(); k++) {
    a.phys.images().read_page(x.pre_optimize[k].first, x.pre_optimize[k].second, wa.data());
    b.phys.images().read_page(y.pre_optimize[k].first, y.pre_optimize[k].second, wb.data());
    if (wa != wb)
      return false;
  }
  return true;
}

std::string folios_diff(const Machine &a, const Machine &b, Representation r) {
  if (a.folios.size() != b.folios.size())
    return "folio count";
  for (size_t i = 0; i < a.folios.size(); i++) {
    const HugetlbFolio &x = a.folios[i], &y = b.folios[i];
    if (x.id != y.id || x.pfn != y.pfn || x.order != y.order || x.nid != y.nid ||
        x.zone != y.zone || x.state != y.state || x.surplus != y.surplus || x.boot != y.boot ||
        x.raw_hwp != y.raw_hwp)
      return "folio " + num(i);
    if (!same_pre_optimize(a, x, b, y, r))
      return "folio " + num(i) + " pre-optimize contents";
  }
  return "";
}

std::string hotplug_diff(const Machine &a, const Machine &b) {
  const HotplugState &x = a.hotplug, &y = b.hotplug;
  if (x.initialized != y.initialized || x.pgmaps.size() != y.pgmaps.size() ||
      x.frame_refcount != y.frame_refcount || x.sections.sections.size() != y.sections.sections.size())
    return "hotplug";
  for (size_t i = 0; i < x.pgmaps.size(); i++) {
    const DevPagemap &p = x.pgmaps[i], &q = y.pgmaps[i];
    if (p.range_start_pfn != q.range_start_pfn || p.range_nr_pages != q.range_nr_pages ||
        p.vmemmap_shift != q.vmemmap_shift || p.live != q.live || p.nr_range != q.nr_range ||
        p.altmap.has_value() != q.altmap.has_value())
      return "pgmap " + num(i);
  }
  for (size_t i = 0; i < x.sections.sections.size(); i++) {
    const MemSection &s = x.sections.sections[i], &t = y.sections.sections[i];
    if (s.present != t.present || s.has_mem_map != t.has_mem_map || s.online != t.online ||
        s.early != t.early || s.compound_order != t.compound_order)
      return "section " + num(i);
  }
  const SharedTailState &u = a.shared_tails, &v = b.shared_tails;
  if (u.tails != v.tails || u.uninitialized != v.uninitialized ||
      u.array_allocated != v.array_allocated || u.frames != v.frames ||
      u.misaligned_reported != v.misaligned_reported)
    return "shared tails";
  return "";
}

}  // namespace

std::string machine_state_diff(const Machine &a, const Machine &b, Representation r) {
  if (print_config(a.cfg) != print_config(b.cfg))
    return "config";
  if (a.events.synchronize_rcu != b.events.synchronize_rcu ||
      a.events.pmd_splits != b.events.pmd_splits ||
      a.events.frames_freed_by_hvo != b.events.frames_freed_by_hvo ||
      a.reports.size() != b.reports.size() ||
      a.hugetlb_optimize_vmemmap_key != b.hugetlb_optimize_vmemmap_key ||
      a.vmemmap_optimize_enabled != b.vmemmap_optimize_enabled ||
      a.mmu.faults.size() != b.mmu.faults.size())
    return "machine globals";
  if (std::string d = phys_diff(a.phys, b.phys, r); !d.empty())
    return d;
  if (std::string d = pt_diff(a, b); !d.empty())
    return d;
  if (std::string d = folios_diff(a, b, r); !d.empty())
    return d;
  return hotplug_diff(a, b);
}

}  // namespace hvo::test
