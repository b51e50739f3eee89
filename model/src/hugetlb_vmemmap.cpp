// SPDX-License-Identifier: GPL-2.0-only
//
// Port of mm/hugetlb_vmemmap.c, Debian linux-source-6.12 (6.12.117), with the
// v6.12.0-mainline walk shape as Config::variant V6_12_0 (see the header).
// Line numbers "l.N" refer to the Debian file; "L616 l.N" to linux-mm
// 9fda9e6b5502 mm/hugetlb_vmemmap.c, the reuse_page form; "MS l.N" to
// linux-mm 0454b15e9bbd mm/hugetlb_vmemmap.c (Muchun's tree, Variant::Muchun:
// PTE updates that can fail, and the partial-HVO state they leave).
#include "hvo/hugetlb_vmemmap.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"

namespace hvo {

namespace {

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// Reports of the functions run once per PTE or per frame, out of line: the
// std::string temporaries of an inline m.report() give the caller a large
// frame, which ASan allocates on every call (a fake stack frame), reported
// or not.  The strings are the same.
[[gnu::noinline, gnu::cold]] void report_cold(Machine &m, const char *id, uint64_t vaddr,
                                              uint64_t pfn, const char *expected,
                                              const char *found, const char *message) {
  m.report(id, vaddr, pfn, expected, found, message);
}

// struct vmemmap_remap_walk (l.34-51; L616 l.34-48 for reuse_page/reuse_addr;
// MS l.37-52, where remap_pte returns an error).
struct VmemmapRemapWalk {
  int (*remap_pte)(Machine &, uint64_t addr, VmemmapRemapWalk &) = nullptr;
  uint64_t nr_walked = 0;
  FrameId vmemmap_head = kNoFrame;  // D612
  FrameId vmemmap_tail = kNoFrame;  // D612
  FrameId reuse_page = kNoFrame;    // V6_12_0
  uint64_t reuse_addr = 0;          // V6_12_0
  FrameList *vmemmap_pages = nullptr;
  unsigned flags = 0;
  // Model only (V6_12_0 restore): the last page restored and the frame it was
  // copied from.  Every page of one walk is the same copy_page +
  // reset_struct_pages of the same reuse frame, so the next ones share its
  // contents instead of recomputing them (same bytes, shared storage).
  FrameId last_restored = kNoFrame;
  FrameId last_reuse_src = kNoFrame;
  // Model only (V6_12_0 restore): what reuse_addr translated to at the
  // walk's first restored PTE, when nothing can change it before the last
  // (see vmemmap_restore_pte).
  std::optional<Translation> reuse_from;
};

// The shared-tail era kept D612's walk shape (vmemmap_head / vmemmap_tail).
bool d612(const Machine &m) { return m.cfg.variant != Variant::V6_12_0; }
bool shared_tail_era(const Machine &m) { return m.cfg.era == Era::SharedTail; }
// Muchun's tree (MS): PTE and PMD updates go through hvo_update_vmemmap_pte /
// hvo_populate_vmemmap_pmd, which may fail; a failed rollback leaves the
// folio partially optimized.
bool ms(const Machine &m) { return shared_tail_era(m) && m.cfg.variant == Variant::Muchun; }

// should_fail(attr, size) with interval 1 and probability 100
// (lib/fault-inject.c, Debian 6.12 l.105-160): `space` calls pass, then
// `times` calls fail.  The model counts calls, not bytes: every call of one
// site has the same size (PAGE_SIZE or PMD_SIZE).
bool should_fail(FaultInjection::Attr &attr) {
  if (attr.times == 0)
    return false;
  if (attr.space > 0) {
    attr.space--;
    return false;
  }
  attr.times--;
  return true;
}

// hvo_update_vmemmap_pte, MS l.86-91: the fault attribute, then
// try_update_vmemmap_pte.  The generic try_update_vmemmap_pte (its arm64
// form may lose a race) was not among the files read; the model takes it as
// a set_pte_at that succeeds, so only the attribute makes it fail.
int hvo_update_vmemmap_pte(Machine &m, uint64_t addr, Pte entry) {
  if (should_fail(m.phys.fault.hvo_pte))
    return -EAGAIN_;
  m.pt.set_pte_at(addr, entry);
  m.interleave_point("set_pte_at", addr);
  return 0;
}

void list_del(FrameList &list, FrameId f, PhysMem &phys) {
  auto it = std::find(list.rbegin(), list.rend(), f);
  if (it != list.rend())
    list.erase(std::next(it).base());
  phys.frame(f).attrs &= ~kFrameOnList;
}

void list_add(FrameList &list, FrameId f, PhysMem &phys) {
  list.push_back(f);
  phys.frame(f).attrs |= kFrameOnList;
}

// __free_page / free_bootmem_page: the frame returns to the allocator.  The
// moment of freeing is where invariants 6 and 8 are decided, so check here.
[[gnu::noinline, gnu::cold]] void report_frame_in_use(Machine &m, FrameId f, const char *who) {
  const FrameRec &r = std::as_const(m.phys).frame(f);
  if (r.tlb_refs != 0)
    m.report("I8-tlb-coverage", 0, UINT64_MAX, "no stale translation",
             std::to_string(r.tlb_refs) + " stale TLB entries",
             std::string(who) + " frees frame " + std::to_string(f) +
                 " while the TLB may still translate to it");
  if (r.map_count != 0)
    m.report("I6-frame-accounting", 0, UINT64_MAX, "0 PTEs", std::to_string(r.map_count) + " PTEs",
             std::string(who) + " frees frame " + std::to_string(f) + " still mapped by the vmemmap");
}

void free_frame_checked(Machine &m, FrameId f, const char *who) {
  const FrameRec &r = std::as_const(m.phys).frame(f);
  if (r.tlb_refs != 0 || r.map_count != 0)
    report_frame_in_use(m, f, who);
  m.phys.frame(f).attrs &= ~kFrameOnList;
  m.phys.free_frame(f);
}

// copy_page(to, from) where `from` is a vmemmap address: the source frame is
// whatever the TLB / page table translate it to right now.
void copy_page_from_vmemmap(Machine &m, FrameId to, uint64_t from, const char *who) {
  Translation t = m.pt.translate(from);
  if (!t.pte.present()) {
    m.mmu.faults.push_back(Fault{Fault::Kind::Unmapped, from, kNoFrame, 0, 0, who});
    return;
  }
  m.phys.copy_frame(to, t.pte.frame);
  m.phys.touch(to);
}

// vmemmap_split_pmd, l.53-97 (L68 split_vmemmap_huge_pmd has the same body).
int vmemmap_split_pmd(Machine &m, size_t pmd_i, FrameId head, uint64_t start,
                      VmemmapRemapWalk &walk) {
  std::optional<FrameId> backing = m.phys.alloc_frame(std::as_const(m.phys).frame(head).node,
                                                       AllocPurpose::PageTable);
  if (!backing)
    return -ENOMEM_;
  // Fast path: when no interleaving can look in between, no PMD fault can
  // fire (should_fail() with times == 0 changes nothing) and the PMD is
  // still a leaf, the steps below end as split_leaf() leaves the table, the
  // TLB and every frame record (pgtable.h); only the interleave points,
  // which do nothing without a schedule, are not visited.
  const bool flush = !(walk.flags & VMEMMAP_SPLIT_NO_TLB_FLUSH);
  if (!hugetlb_vmemmap_reference_walks && !m.interleave && m.pt.pmd_leaf(pmd_i) &&
      !(ms(m) && m.phys.fault.hvo_pmd.times != 0)) {
    m.pt.split_leaf(pmd_i, *backing, flush, start);
    m.events.pmd_splits++;
    return 0;
  }
  uint32_t table = m.pt.pte_table_create(*backing);
  for (uint64_t i = 0; i < m.cfg.ptrs_per_pte(); i++)
    m.pt.pte_table_set(table, i, Pte{static_cast<FrameId>(head + i), false});
  // spin_lock(&init_mm.page_table_lock): single-threaded, the leaf is still there.
  // MS l.130-136: hvo_populate_vmemmap_pmd (MS l.93-99) may fail instead of
  // installing the table: the table is freed and the walk stops (-EAGAIN).
  if (m.pt.pmd_leaf(pmd_i) && ms(m) && should_fail(m.phys.fault.hvo_pmd)) {
    m.phys.free_frame(m.pt.pte_table_destroy(table));
    return -EAGAIN_;
  }
  if (m.pt.pmd_leaf(pmd_i)) {
    // split_page(head, PMD order) when the block came from buddy: the model's
    // frames are already individually freeable, nothing else to do.
    m.pt.pmd_populate_kernel(pmd_i, table);
    m.events.pmd_splits++;
    m.interleave_point("pmd_populate_kernel", start);
    if (flush) {
      m.pt.flush_tlb_kernel_range(start, start + m.cfg.pmd_size());
      m.interleave_point("flush_tlb_kernel_range(pmd)", start);
    }
  } else {
    m.phys.free_frame(m.pt.pte_table_destroy(table));
  }
  return 0;
}

// vmemmap_pmd_entry, l.99-138.
int vmemmap_pmd_entry(Machine &m, size_t pmd_i, uint64_t addr, VmemmapRemapWalk &walk) {
  int ret = 0;
  const Pmd &pmd = m.pt.pmd(pmd_i);
  bool leaf = pmd.kind == PmdKind::Leaf;
  FrameId head = leaf ? pmd.value : kNoFrame;
  if (m.cfg.memory_hotplug && walk.nr_walked == 0) {
    FrameId page = m.pt.ptep_get(addr).frame;
    if (page != kNoFrame && (std::as_const(m.phys).frame(page).attrs & kFrameSelfHosted))
      ret = -ENOTSUPP_;
  }
  if (!leaf || ret)
    return ret;
  return vmemmap_split_pmd(m, pmd_i, head, addr & ~(m.cfg.pmd_size() - 1), walk);
}

// vmemmap_pte_entry, l.140-149 (D612) / L616 l.140-155 (reuse_page form) /
// MS l.199-210 (a PTE counts as walked only if remap_pte succeeded).
int vmemmap_pte_entry(Machine &m, uint64_t addr, VmemmapRemapWalk &walk) {
  int ret = 0;
  if (!d612(m) && walk.reuse_page == kNoFrame)
    walk.reuse_page = m.pt.ptep_get(addr).frame;  // found 'first', not remapped
  else
    ret = walk.remap_pte(m, addr, walk);
  if (!ret)
    walk.nr_walked++;
  return ret;
}

uint64_t vmemmap_pte_run(Machine &m, uint64_t addr, uint64_t end, VmemmapRemapWalk &walk);

// vmemmap_remap_range, l.156-174, with walk_kernel_page_table_range's
// order: per PMD the pmd_entry, then (unless split-only) every PTE.  D612
// returns a walk error without flushing; MS l.217-233 flushes either way.
int vmemmap_remap_range(Machine &m, uint64_t start, uint64_t end, VmemmapRemapWalk &walk) {
  const uint64_t ps = m.cfg.page_size();
  if ((start | end) & (ps - 1)) {
    m.report("K-BUG_ON", start, UINT64_MAX, "page aligned range", hex(start) + "-" + hex(end),
             "vmemmap_remap_range: VM_BUG_ON(!PAGE_ALIGNED(start | end))");
    return -EINVAL_;
  }
  for (uint64_t addr = start; addr < end;) {
    if (!m.pt.covers(addr))
      return -EINVAL_;  // beyond the vmemmap the model maps: nothing to walk
    size_t i = m.pt.pmd_index(addr);
    uint64_t next = std::min(end, m.pt.pmd_addr(i) + m.cfg.pmd_size());
    // walk_pmd_range (mm/pagewalk.c 6.12 l.80-150): a none PMD is a hole
    // (no pte_hole op here: skipped); pmd_entry, then the PTEs unless
    // ACTION_CONTINUE (split only) or the PMD is still a leaf.
    if (m.pt.pmd(i).kind == PmdKind::None) {
      addr = next;
      continue;
    }
    int ret = vmemmap_pmd_entry(m, i, addr, walk);
    if (!ret && walk.remap_pte && m.pt.pmd(i).kind == PmdKind::Table)
      for (uint64_t a = addr; a < next && !ret;) {
        // Fast path: a run of PTEs decided at once (vmemmap_pte_run), else
        // the kernel's one vmemmap_pte_entry per PTE.
        if (const uint64_t done = vmemmap_pte_run(m, a, next, walk)) {
          a += done * ps;
          continue;
        }
        ret = vmemmap_pte_entry(m, a, walk);
        a += ps;
      }
    if (ret) {
      if (ms(m) && walk.remap_pte && !(walk.flags & VMEMMAP_REMAP_NO_TLB_FLUSH))
        m.pt.flush_tlb_kernel_range(start, end);
      return ret;
    }
    addr = next;
  }
  if (walk.remap_pte && !(walk.flags & VMEMMAP_REMAP_NO_TLB_FLUSH)) {
    m.pt.flush_tlb_kernel_range(start, end);
    m.interleave_point("flush_tlb_kernel_range", start);
  }
  return 0;
}

// free_vmemmap_page, l.182-191 (the accounting arrived with 6.9's memmap counters).
void free_vmemmap_page(Machine &m, FrameId f) {
  if (std::as_const(m.phys).frame(f).attrs & kFrameReserved) {
    m.phys.memmap_boot_pages -= 1;  // memmap_boot_pages_add(-1); free_bootmem_page
  } else {
    m.phys.memmap_pages -= 1;  // memmap_pages_add(-1); __free_page
  }
  free_frame_checked(m, f, "free_vmemmap_page");
  m.events.frames_freed_by_hvo++;
  m.interleave_point("free_vmemmap_page", 0);
}

// vmemmap_remap_pte, l.202-234 (D612) / L616 l.205-232 (reuse form) /
// MS l.261-307 (the PTE update may fail; the list changes only after it
// succeeded).
int vmemmap_remap_pte(Machine &m, uint64_t addr, VmemmapRemapWalk &walk) {
  FrameId page = m.pt.ptep_get(addr).frame;
  Pte entry;
  if (d612(m)) {
    if (walk.nr_walked == 0 && walk.vmemmap_head != kNoFrame) {
      if (!PageHead(m, addr))
        report_cold(m, "K-VM_WARN_ON", addr, m.page_to_pfn(addr), "PageHead", "not a head",
                    "vmemmap_remap_pte: VM_WARN_ON_ONCE(!PageHead(addr))");
      if (ms(m)) {
        if (int ret = hvo_update_vmemmap_pte(m, addr, Pte{walk.vmemmap_head, false}))
          return ret;
        list_add(*walk.vmemmap_pages, page, m.phys);
        list_del(*walk.vmemmap_pages, walk.vmemmap_head, m.phys);
        return 0;
      }
      list_del(*walk.vmemmap_pages, walk.vmemmap_head, m.phys);
      entry = Pte{walk.vmemmap_head, false};  // smp_wmb(); mk_pte(.., PAGE_KERNEL)
    } else {
      if (!PageTail(m, addr))
        report_cold(m, "K-VM_WARN_ON", addr, m.page_to_pfn(addr), "PageTail", "not a tail",
                    "vmemmap_remap_pte: VM_WARN_ON_ONCE(!PageTail(addr))");
      entry = Pte{walk.vmemmap_tail, true};  // PAGE_KERNEL_RO
      if (ms(m)) {
        if (int ret = hvo_update_vmemmap_pte(m, addr, entry))
          return ret;
        list_add(*walk.vmemmap_pages, page, m.phys);
        return 0;
      }
    }
  } else {
    bool head = addr == walk.reuse_addr;
    if (head)
      list_del(*walk.vmemmap_pages, walk.reuse_page, m.phys);
    entry = Pte{walk.reuse_page, !head};
  }
  list_add(*walk.vmemmap_pages, page, m.phys);
  m.pt.set_pte_at(addr, entry);
  m.interleave_point("set_pte_at", addr);
  return 0;
}

[[gnu::noinline, gnu::cold]] void report_not_reuse_page(Machine &m, uint64_t addr, FrameId src) {
  m.report("K-BUG_ON", addr, m.page_to_pfn(addr), "PTE maps the reuse page",
           "frame " + std::to_string(src),
           "vmemmap_restore_pte: BUG_ON(pte_page(ptep_get(pte)) != walk->reuse_page)");
}

// reset_struct_pages, L616 l.234-250: copy struct pages R..2R-1 over 0..R-1
// of the freshly copied frame, R = NR_RESET_STRUCT_PAGE = 4.
void reset_struct_pages(Machine &m, FrameId to) {
  constexpr uint64_t R = 4;
  const uint64_t W = m.cfg.words_per_struct_page();
  for (uint64_t w = 0; w < R * W; w++)
    m.phys.write_word(to, w, m.phys.read_word(to, w + R * W));
}

// vmemmap_restore_pte, MS l.309-343: no tail page is a WARN; PTEs that do
// not map the shared tail are kept (a partially optimized folio keeps its
// head copy and the pages an earlier rollback restored); a failed PTE update
// leaves the copy on the list for the caller to free.
int vmemmap_restore_pte_ms(Machine &m, uint64_t addr, VmemmapRemapWalk &walk) {
  const FrameId src = m.pt.ptep_get(addr).frame;
  if (walk.vmemmap_tail == kNoFrame) {
    report_cold(m, "K-WARN_ON", addr, m.page_to_pfn(addr), "a shared tail", "none",
                "vmemmap_restore_pte: WARN_ON_ONCE(!walk->vmemmap_tail)");
    return -EINVAL_;
  }
  if (walk.vmemmap_tail != src)
    return 0;
  if (PageHead(m, addr))
    report_cold(m, "K-VM_WARN_ON", addr, m.page_to_pfn(addr), "not PageHead", "PageHead",
                "vmemmap_restore_pte: VM_WARN_ON_ONCE(PageHead(addr))");
  if (walk.vmemmap_pages->empty()) {
    report_cold(m, "K-BUG_ON", addr, m.page_to_pfn(addr), "a page on the list", "empty list",
                "vmemmap_restore_pte: list_first_entry on an empty list");
    return 0;
  }
  const FrameId dst = walk.vmemmap_pages->back();
  m.phys.copy_frame(dst, src);  // copy_page(page_to_virt(dst), page_to_virt(src))
  m.phys.touch(dst);
  m.interleave_point("copy_page", addr);
  if (int ret = hvo_update_vmemmap_pte(m, addr, Pte{dst, false}))
    return ret;
  list_del(*walk.vmemmap_pages, dst, m.phys);
  return 0;
}

// vmemmap_restore_pte, l.236-261 (D612) / L616 l.252-272 (reuse form).
int vmemmap_restore_pte(Machine &m, uint64_t addr, VmemmapRemapWalk &walk) {
  if (ms(m))
    return vmemmap_restore_pte_ms(m, addr, walk);
  FrameId src = m.pt.ptep_get(addr).frame;
  if (d612(m)) {
    // Rollback keeps PTEs that do not point at the tail page.
    if (walk.vmemmap_tail != kNoFrame && walk.vmemmap_tail != src)
      return 0;
    if (PageHead(m, addr))
      report_cold(m, "K-VM_WARN_ON", addr, m.page_to_pfn(addr), "not PageHead", "PageHead",
                  "vmemmap_restore_pte: VM_WARN_ON_ONCE(PageHead(addr))");
    if (walk.vmemmap_pages->empty()) {
      report_cold(m, "K-BUG_ON", addr, m.page_to_pfn(addr), "a page on the list", "empty list",
                  "vmemmap_restore_pte: list_first_entry on an empty list");
      return 0;
    }
    FrameId dst = walk.vmemmap_pages->back();
    list_del(*walk.vmemmap_pages, dst, m.phys);
    m.phys.copy_frame(dst, src);  // copy_page(page_to_virt(dst), page_to_virt(src))
    m.phys.touch(dst);
    m.interleave_point("copy_page", addr);
    m.pt.set_pte_at(addr, Pte{dst, false});
    m.interleave_point("set_pte_at", addr);
    return 0;
  }
  if (src != walk.reuse_page) {
    report_not_reuse_page(m, addr, src);
    return 0;
  }
  if (walk.vmemmap_pages->empty()) {
    report_cold(m, "K-BUG_ON", addr, m.page_to_pfn(addr), "a page on the list", "empty list",
                "vmemmap_restore_pte: list_first_entry on an empty list");
    return 0;
  }
  FrameId page = walk.vmemmap_pages->back();
  list_del(*walk.vmemmap_pages, page, m.phys);
  // The walk changes only PTEs above reuse_addr, the first page it visits
  // (its own PTE is never set): set_pte_at there leaves reuse_addr's entry
  // and any stale translation of it alone, and a PMD it splits on the way
  // lies above reuse_addr's, so neither the split nor its flush reaches
  // reuse_addr.  Without an interleaving in between, every PTE of the walk
  // translates reuse_addr to what the first did.
  if (hugetlb_vmemmap_reference_walks || m.interleave || !walk.reuse_from)
    walk.reuse_from = m.pt.translate(walk.reuse_addr);
  const Translation from = *walk.reuse_from;
  if (from.pte.present() && from.pte.frame == walk.last_reuse_src &&
      walk.last_restored != kNoFrame) {
    m.phys.copy_frame(page, walk.last_restored);  // the same bytes as computed below
    m.phys.touch(page);
  } else {
    copy_page_from_vmemmap(m, page, walk.reuse_addr, "vmemmap_restore_pte");
    // Historic bug RestoreNoResetStructPages: before reset_struct_pages the
    // restored page was a plain copy of the reuse page, so its first slots
    // carried the head's and the first tails' metadata.
    if (!m.cfg.has(Bug::RestoreNoResetStructPages))
      reset_struct_pages(m, page);
    walk.last_restored = page;
    walk.last_reuse_src = from.pte.present() ? from.pte.frame : kNoFrame;
  }
  m.interleave_point("copy_page", addr);
  m.pt.set_pte_at(addr, Pte{page, false});
  m.interleave_point("set_pte_at", addr);
  return 0;
}

// The fast path beside the per-PTE walk in vmemmap_remap_range: from
// `addr`, PTEs of one installed table (up to `end`) that the legacy walks'
// remap_pte would each handle the same way, done at once; returns how many
// (each counted in nr_walked), 0 to leave `addr` to vmemmap_pte_entry.
// What it decides at once, and why that equals the loop:
//  * Only after the walk's first PTE (nr_walked > 0): that one finds the
//    reuse page or takes the head copy, the per-PTE path's special cases.
//  * No interleaving (nothing looks between two PTEs), no reference mode,
//    not the MS tree (whose PTE updates may fail): the legacy steps below
//    allocate nothing, so fault injection counts nothing here.
//  * Restore (vmemmap_restore_pte): a run of PTEs that map one frame
//    (pte_run).  Each would pop the list's first page, copy into it the same
//    source (D612: the run's frame; v6.12.0: the page restored first from
//    the reuse page, as the per-PTE path does from its second page on) and
//    map it RW; D612 PTEs that do not map the tail are each left alone.
//    D612 asks PageHead of each page in that page's step, as the per-PTE
//    path does; a head ends the run (the per-PTE path reports it).
//  * Optimize (vmemmap_remap_pte): every PTE of the table left, each onto
//    the reuse page / vmemmap tail read-only with its old page listed.  D612
//    asks PageTail of each page: its frame's first compound_head word read
//    directly (no stale translation), bit 0 set; the first page where that
//    does not settle it ends the run.
// The list, the copies and the touched frames change as the per-PTE steps
// change them (each page's first note and touch falls in its own step), and
// set_ptes stores the entries as set_pte_at would, one by one, with the
// reuse / tail / source frame's counts added up once.  Pinned by
// tests/fastpath/remap_walk_test.cpp (hugetlb_vmemmap_reference_walks).
uint64_t vmemmap_pte_run(Machine &m, uint64_t addr, uint64_t end, VmemmapRemapWalk &walk) {
  if (walk.nr_walked == 0 || hugetlb_vmemmap_reference_walks || m.interleave || ms(m))
    return 0;
  const uint64_t ps = m.cfg.page_size();
  uint64_t n = (end - addr) / ps;
  if (n < 2)
    return 0;
  static thread_local std::vector<Pte> olds, news;
  FrameList &list = *walk.vmemmap_pages;
  if (walk.remap_pte == vmemmap_restore_pte) {
    n = m.pt.pte_run(addr, n);
    const Pte src = m.pt.ptep_get(addr);
    if (d612(m)) {
      if (walk.vmemmap_tail != kNoFrame && walk.vmemmap_tail != src.frame) {
        walk.nr_walked += n;  // rollback: PTEs not on the tail stay
        hugetlb_vmemmap_run_ptes += n;
        return n;
      }
      if (!src.present())
        return 0;
    } else {
      const std::optional<Translation> &from = walk.reuse_from;
      if (src.frame != walk.reuse_page || !from || !from->pte.present() ||
          from->pte.frame != walk.last_reuse_src || walk.last_restored == kNoFrame)
        return 0;
    }
    n = std::min<uint64_t>(n, list.size());
    if (n == 0)
      return 0;
    const FrameId copy_of = d612(m) ? src.frame : walk.last_restored;
    news.resize(n);
    // Pops, copies and maps pages k0 .. k1-1; stops early (shrinking n) at
    // a page that is a source itself (a corrupted list: per PTE).
    auto steps = [&](uint64_t k0, uint64_t k1) {
      for (uint64_t k = k0; k < k1; k++) {
        const FrameId page = list.back();
        // D612 asks PageHead of each page in its own step, as the per-PTE
        // path does (a stale translation may show another frame); a head
        // ends the run there (the per-PTE path reports it).
        if (page == src.frame || page == copy_of || (d612(m) && PageHead(m, addr + k * ps))) {
          n = k1 = k;
          break;
        }
        list.pop_back();  // list_del of the first entry
        m.phys.frame(page).attrs &= ~kFrameOnList;
        m.phys.copy_frame(page, copy_of);
        m.phys.touch(page);
        news[k] = Pte{page, false};
      }
      if (k0 < k1)
        m.pt.set_ptes(addr + k0 * ps, news.data() + k0, k1 - k0, src.frame);
    };
    // The first step alone: its set_pte_at is where the source frame is
    // first noted and touched, before the second page is.
    steps(0, 1);
    if (n > 1)
      steps(1, n);
    walk.nr_walked += n;
    hugetlb_vmemmap_run_ptes += n;
    return n;
  }
  if (walk.remap_pte != vmemmap_remap_pte)
    return 0;
  const FrameId target = d612(m) ? walk.vmemmap_tail : walk.reuse_page;
  if (target == kNoFrame || (d612(m) && m.pt.stale_in(addr, n)))
    return 0;
  if (!d612(m) && walk.reuse_addr >= addr && walk.reuse_addr < addr + n * ps)
    n = (walk.reuse_addr - addr) / ps;  // the head PTE goes the per-PTE way
  olds.resize(n);
  m.pt.read_ptes(addr, n, olds.data());
  uint64_t k = 0;
  for (; k < n; k++) {
    if (!olds[k].present() || olds[k].frame == target)
      break;
    if (d612(m) && !(m.phys.read_word(olds[k].frame, sp::kCompoundHead) & 1))
      break;  // PageTail needs the fake-head test, or reports: per PTE
  }
  n = k;
  if (n == 0)
    return 0;
  news.assign(n, Pte{target, true});
  m.pt.set_ptes(addr, news.data(), n, target);
  for (k = 0; k < n; k++)
    list_add(list, olds[k].frame, m.phys);
  walk.nr_walked += n;
  hugetlb_vmemmap_run_ptes += n;
  return n;
}

// vmemmap_remap_split, l.272-280 / L616 l.284-296.
int vmemmap_remap_split(Machine &m, uint64_t start, uint64_t end) {
  VmemmapRemapWalk walk;
  walk.flags = VMEMMAP_SPLIT_NO_TLB_FLUSH;
  return vmemmap_remap_range(m, start, end, walk);
}

// vmemmap_remap_free, l.298-334 (D612) / MS l.382-419 (a failed rollback is
// VMEMMAP_REMAP_INCOMPLETE).
int vmemmap_remap_free_d612(Machine &m, uint64_t start, uint64_t end, FrameId vmemmap_head,
                            FrameId vmemmap_tail, FrameList &vmemmap_pages, unsigned flags) {
  VmemmapRemapWalk walk;
  walk.remap_pte = vmemmap_remap_pte;
  walk.vmemmap_head = vmemmap_head;
  walk.vmemmap_tail = vmemmap_tail;
  walk.vmemmap_pages = &vmemmap_pages;
  walk.flags = flags;
  int ret = vmemmap_remap_range(m, start, end, walk);
  if (!ret || !walk.nr_walked)
    return ret;
  end = start + walk.nr_walked * m.cfg.page_size();
  VmemmapRemapWalk back;
  back.remap_pte = vmemmap_restore_pte;
  back.vmemmap_tail = vmemmap_tail;
  back.vmemmap_pages = &vmemmap_pages;
  back.flags = 0;
  // Historic bug RollbackFlushWrongStart (Kiryl v2, fixed in v3 "pass
  // correct start address for TLB flush"): the error path kept the
  // pre-refactor range base, the first tail vmemmap page, so the rollback's
  // flush missed vmemmap page 0, whose PTE the failed walk had switched to
  // the head copy without a flush.
  const uint64_t rollback_start =
      m.cfg.has(Bug::RollbackFlushWrongStart) ? start + m.cfg.page_size() : start;
  if (vmemmap_remap_range(m, rollback_start, end, back) && ms(m))
    return VMEMMAP_REMAP_INCOMPLETE;
  return ret;
}

// vmemmap_remap_free, L616 l.314-377 (v6.12.0 reuse form).
int vmemmap_remap_free_reuse(Machine &m, uint64_t start, uint64_t end, uint64_t reuse,
                             FrameList &vmemmap_pages, unsigned flags) {
  VmemmapRemapWalk walk;
  walk.remap_pte = vmemmap_remap_pte;
  walk.reuse_addr = reuse;
  walk.vmemmap_pages = &vmemmap_pages;
  walk.flags = flags;
  unsigned nid = page_to_nid(m, reuse);
  // GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN; falls back to the old head.
  if (auto copy = m.phys.alloc_frame(nid, AllocPurpose::Memmap)) {
    walk.reuse_page = *copy;
    copy_page_from_vmemmap(m, *copy, reuse, "vmemmap_remap_free");
    m.interleave_point("copy_page(reuse)", reuse);
    list_add(vmemmap_pages, *copy, m.phys);
    m.phys.memmap_pages += 1;
  }
  if (start - reuse != m.cfg.page_size())
    m.report("K-BUG_ON", start, UINT64_MAX, "start - reuse == PAGE_SIZE", hex(start - reuse),
             "vmemmap_remap_free: BUG_ON(start - reuse != PAGE_SIZE)");
  int ret = vmemmap_remap_range(m, reuse, end, walk);
  if (ret && walk.nr_walked) {
    end = reuse + walk.nr_walked * m.cfg.page_size();
    VmemmapRemapWalk back;
    back.remap_pte = vmemmap_restore_pte;
    back.reuse_addr = reuse;
    back.vmemmap_pages = &vmemmap_pages;
    back.flags = 0;
    vmemmap_remap_range(m, reuse, end, back);
  }
  return ret;
}

// alloc_vmemmap_page_list, l.336-358.
int alloc_vmemmap_page_list(Machine &m, uint64_t start, uint64_t end, FrameList &list) {
  uint64_t nr_pages = (end - start) >> m.cfg.page_shift;
  unsigned nid = page_to_nid(m, start);
  for (uint64_t i = 0; i < nr_pages; i++) {
    auto page = m.phys.alloc_frame(nid, AllocPurpose::Memmap);  // GFP_KERNEL | RETRY_MAYFAIL
    if (!page) {
      for (auto it = list.rbegin(); it != list.rend(); ++it)
        free_frame_checked(m, *it, "alloc_vmemmap_page_list");
      list.clear();
      return -ENOMEM_;
    }
    list_add(list, *page, m.phys);
  }
  m.phys.memmap_pages += static_cast<int64_t>(nr_pages);
  return 0;
}

// vmemmap_remap_alloc, l.372-386 (D612) / L616 l.414-432 (reuse form).
// muchun (linux-mm mm/hugetlb_vmemmap.c @0454b15e vmemmap_remap_alloc):
// the walk restores only PTEs that map the folio's shared tail (a partially
// optimized folio keeps its private pages).
int vmemmap_remap_alloc(Machine &m, uint64_t start, uint64_t end, uint64_t reuse,
                        unsigned flags, unsigned order) {
  FrameList vmemmap_pages;
  VmemmapRemapWalk walk;
  walk.remap_pte = vmemmap_restore_pte;
  walk.vmemmap_pages = &vmemmap_pages;
  walk.flags = flags;
  walk.reuse_addr = reuse;
  if (m.cfg.variant == Variant::Muchun) {
    walk.vmemmap_tail = vmemmap_get_tail(m, order, tail_owner_of_pfn(m, m.page_to_pfn(start)));
    if (walk.vmemmap_tail == kNoFrame) {
      m.report("K-WARN_ON", start, m.page_to_pfn(start), "a shared tail", "none",
               "vmemmap_remap_alloc: WARN_ON_ONCE(!vmemmap_tail)");
      return -ENOMEM_;
    }
  }
  if (!d612(m) && start - reuse != m.cfg.page_size())
    m.report("K-BUG_ON", start, UINT64_MAX, "start - reuse == PAGE_SIZE", hex(start - reuse),
             "vmemmap_remap_alloc: BUG_ON(start - reuse != PAGE_SIZE)");
  if (alloc_vmemmap_page_list(m, start, end, vmemmap_pages))
    return -ENOMEM_;
  int ret = vmemmap_remap_range(m, d612(m) ? start : reuse, end, walk);
  if (ms(m)) {
    // MS l.483-487: "Not all pages may have been consumed" (a partially
    // optimized folio, or a PTE update that failed): free the rest.
    free_vmemmap_page_list(m, vmemmap_pages);
    return ret;
  }
  // Whatever the walk did not consume is lost to the kernel (an empty list
  // in every path that can happen); the oracle's frame accounting sees it.
  for (FrameId f : vmemmap_pages)
    m.phys.frame(f).attrs &= ~kFrameOnList;
  return ret;
}

// vmemmap_should_optimize_folio, l.489-501.
bool vmemmap_should_optimize_folio(Machine &m, const Hstate &h, HugetlbFolio &folio) {
  if (folio_test_hugetlb_vmemmap_optimized(m, m.page(folio.pfn)))
    return false;
  if (!m.vmemmap_optimize_enabled)
    return false;
  if (!hugetlb_vmemmap_optimizable(m, h))
    return false;
  return true;
}

// Model instrumentation, not kernel code: remember what every vmemmap page of
// the folio holds before it is optimized, for the restore-fidelity invariant.
void snapshot_pre_optimize(Machine &m, const Hstate &h, HugetlbFolio &folio) {
  for (auto &[img, origin] : folio.pre_optimize)
    m.phys.images().put(img);
  folio.pre_optimize.clear();
  uint64_t start = m.page(folio.pfn);
  uint64_t nr = hugetlb_vmemmap_size(m, h) >> m.cfg.page_shift;
  for (uint64_t k = 0; k < nr; k++) {
    Pte p = m.pt.ptep_get(start + k * m.cfg.page_size());
    if (!p.present()) {
      folio.pre_optimize.emplace_back(ImagePool::kZero, 0);
      continue;
    }
    const FrameRec &r = std::as_const(m.phys).frame(p.frame);
    m.phys.images().get(r.image);
    folio.pre_optimize.emplace_back(r.image, r.origin_vpn);
  }
}

}  // namespace

uint64_t hugetlb_vmemmap_size(const Machine &m, const Hstate &h) {
  return h.pages_per_huge_page() * m.cfg.struct_page_size;
}

uint64_t hugetlb_vmemmap_optimizable_size(const Machine &m, const Hstate &h) {
  int64_t size = static_cast<int64_t>(hugetlb_vmemmap_size(m, h)) -
                 static_cast<int64_t>(m.cfg.page_size());  // HUGETLB_VMEMMAP_RESERVE_SIZE
  if (!m.cfg.struct_page_pow2())
    return 0;
  return size > 0 ? static_cast<uint64_t>(size) : 0;
}

// A scenario's interleave hook makes the caller wait here for the readers
// inside a read-side section (concurrency/scenarios.cpp).
void synchronize_rcu(Machine &m) {
  m.events.synchronize_rcu++;
  m.interleave_point("synchronize_rcu", 0);
}

void free_vmemmap_page_list(Machine &m, FrameList &list) {
  for (auto it = list.rbegin(); it != list.rend(); ++it)
    free_vmemmap_page(m, *it);
  list.clear();
}

// __hugetlb_vmemmap_restore_folio, l.394-427.
int __hugetlb_vmemmap_restore_folio(Machine &m, const Hstate &h, HugetlbFolio &folio,
                                    unsigned flags) {
  uint64_t head = m.page(folio.pfn);
  if (!folio_test_hugetlb(m, head))
    m.report("K-VM_WARN_ON", head, folio.pfn, "folio_test_hugetlb", "not hugetlb",
             "__hugetlb_vmemmap_restore_folio: VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb)");
  if (page_ref_count(m, head) != 0)
    m.report("K-VM_WARN_ON", head, folio.pfn, "refcount 0",
             std::to_string(page_ref_count(m, head)),
             "__hugetlb_vmemmap_restore_folio: VM_WARN_ON_ONCE_FOLIO(folio_ref_count)");
  if (!folio_test_hugetlb_vmemmap_optimized(m, head))
    return 0;
  if ((flags & VMEMMAP_SYNCHRONIZE_RCU) && !shared_tail_era(m))
    synchronize_rcu(m);  // the shared-tail era removed it with the fake heads
  uint64_t vmemmap_start = head;
  uint64_t vmemmap_end = vmemmap_start + hugetlb_vmemmap_size(m, h);
  uint64_t vmemmap_reuse = vmemmap_start;
  vmemmap_start += m.cfg.page_size();  // HUGETLB_VMEMMAP_RESERVE_SIZE
  int ret = vmemmap_remap_alloc(m, vmemmap_start, vmemmap_end, vmemmap_reuse, flags, h.order);
  if (!ret) {
    folio_clear_hpg(m, head, sp::HPG_vmemmap_optimized);
    if (!shared_tail_era(m))
      m.hugetlb_optimize_vmemmap_key--;  // static_branch_dec
  }
  if (m.hooks)
    m.hooks->restore_done(m, folio, ret);
  return ret;
}

int hugetlb_vmemmap_restore_folio(Machine &m, const Hstate &h, HugetlbFolio &folio) {
  return __hugetlb_vmemmap_restore_folio(m, h, folio, VMEMMAP_SYNCHRONIZE_RCU);
}

long hugetlb_vmemmap_restore_folios(Machine &m, const Hstate &h,
                                    std::vector<HugetlbFolio *> &folios,
                                    std::vector<HugetlbFolio *> &non_hvo) {
  long restored = 0, ret = 0;
  unsigned flags = VMEMMAP_REMAP_NO_TLB_FLUSH | VMEMMAP_SYNCHRONIZE_RCU;
  size_t i = 0;
  for (; i < folios.size(); i++) {
    HugetlbFolio &folio = *folios[i];
    if (folio_test_hugetlb_vmemmap_optimized(m, m.page(folio.pfn))) {
      ret = __hugetlb_vmemmap_restore_folio(m, h, folio, flags);
      flags &= ~VMEMMAP_SYNCHRONIZE_RCU;  // only once per batch
      if (ret)
        break;
      restored++;
    }
    non_hvo.push_back(&folio);  // list_move to the output list
  }
  folios.erase(folios.begin(), folios.begin() + static_cast<long>(i));
  if (restored) {
    m.pt.flush_tlb_all();
    m.interleave_point("flush_tlb_all", 0);
  }
  if (!ret)
    ret = restored;
  return ret;
}

// __hugetlb_vmemmap_optimize_folio, l.503-565 (D612) / L616 l.536-585.
int __hugetlb_vmemmap_optimize_folio(Machine &m, const Hstate &h, HugetlbFolio &folio,
                                     FrameList &vmemmap_pages, unsigned flags) {
  uint64_t head = m.page(folio.pfn);
  int ret = 0;
  if (!folio_test_hugetlb(m, head))
    m.report("K-VM_WARN_ON", head, folio.pfn, "folio_test_hugetlb", "not hugetlb",
             "__hugetlb_vmemmap_optimize_folio: VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb)");
  if (page_ref_count(m, head) != 0)
    m.report("K-VM_WARN_ON", head, folio.pfn, "refcount 0",
             std::to_string(page_ref_count(m, head)),
             "__hugetlb_vmemmap_optimize_folio: VM_WARN_ON_ONCE_FOLIO(folio_ref_count)");
  if (!vmemmap_should_optimize_folio(m, h, folio))
    return ret;
  snapshot_pre_optimize(m, h, folio);

  // Shared-tail era: the tail is fetched first, so that -ENOMEM changes
  // nothing (Kiryl v7 12/18; muchun @0454b15e); no static key, no RCU.
  FrameId shared_tail = kNoFrame;
  if (shared_tail_era(m)) {
    shared_tail = vmemmap_get_tail(m, h.order, tail_owner_of_pfn(m, folio.pfn));
    if (shared_tail == kNoFrame) {
      if (m.hooks)
        m.hooks->optimize_done(m, folio, -ENOMEM_);
      return -ENOMEM_;
    }
  } else {
    m.hugetlb_optimize_vmemmap_key++;  // static_branch_inc
    if (flags & VMEMMAP_SYNCHRONIZE_RCU)
      synchronize_rcu(m);
  }
  // "Very subtle": set the flag before the copy so the new head carries it.
  folio_set_hpg(m, head, sp::HPG_vmemmap_optimized);

  uint64_t vmemmap_start = head;
  uint64_t vmemmap_end = vmemmap_start + hugetlb_vmemmap_size(m, h);
  if (d612(m)) {
    auto vmemmap_head = m.phys.alloc_frame(folio.nid, AllocPurpose::Memmap);
    if (!vmemmap_head) {
      ret = -ENOMEM_;
    } else {
      copy_page_from_vmemmap(m, *vmemmap_head, head, "__hugetlb_vmemmap_optimize_folio");
      m.interleave_point("copy_page(vmemmap_head)", head);
      list_add(vmemmap_pages, *vmemmap_head, m.phys);
      m.phys.memmap_pages += 1;
      // 6.12: the head copy doubles as the tail page; shared-tail era: the
      // owner's shared tail.
      FrameId vmemmap_tail = shared_tail_era(m) ? shared_tail : *vmemmap_head;
      ret = vmemmap_remap_free_d612(m, vmemmap_start, vmemmap_end, *vmemmap_head, vmemmap_tail,
                                    vmemmap_pages, flags);
    }
  } else {
    uint64_t vmemmap_reuse = vmemmap_start;
    vmemmap_start += m.cfg.page_size();
    ret = vmemmap_remap_free_reuse(m, vmemmap_start, vmemmap_end, vmemmap_reuse, vmemmap_pages,
                                   flags);
  }
  // MS l.685-691: VMEMMAP_REMAP_INCOMPLETE keeps the flag (the folio may be
  // partially optimized); only an error clears it.
  if (ret < 0) {
    if (!shared_tail_era(m))
      m.hugetlb_optimize_vmemmap_key--;  // static_branch_dec
    folio_clear_hpg(m, head, sp::HPG_vmemmap_optimized);
  }
  if (m.hooks)
    m.hooks->optimize_done(m, folio, ret);
  return ret;
}

void hugetlb_vmemmap_optimize_folio(Machine &m, const Hstate &h, HugetlbFolio &folio) {
  FrameList vmemmap_pages;
  __hugetlb_vmemmap_optimize_folio(m, h, folio, vmemmap_pages, VMEMMAP_SYNCHRONIZE_RCU);
  free_vmemmap_page_list(m, vmemmap_pages);
}

// hugetlb_vmemmap_split_folio, l.585-600.
int hugetlb_vmemmap_split_folio(Machine &m, const Hstate &h, HugetlbFolio &folio) {
  if (!vmemmap_should_optimize_folio(m, h, folio))
    return 0;
  uint64_t vmemmap_start = m.page(folio.pfn);
  uint64_t vmemmap_end = vmemmap_start + hugetlb_vmemmap_size(m, h);
  // V6_12_0 passes [start + PAGE_SIZE, end) with reuse = start and walks
  // [reuse, end): the same range.
  return vmemmap_remap_split(m, vmemmap_start, vmemmap_end);
}

// hugetlb_vmemmap_optimize_folios, l.602-648.
void hugetlb_vmemmap_optimize_folios(Machine &m, const Hstate &h,
                                     std::vector<HugetlbFolio *> &folios) {
  FrameList vmemmap_pages;
  unsigned flags = VMEMMAP_REMAP_NO_TLB_FLUSH | VMEMMAP_SYNCHRONIZE_RCU;
  for (HugetlbFolio *folio : folios) {
    int ret = hugetlb_vmemmap_split_folio(m, h, *folio);
    if (ret == -ENOMEM_)
      break;  // fail early on the first OOM
  }
  m.pt.flush_tlb_all();
  m.interleave_point("flush_tlb_all", 0);
  for (HugetlbFolio *folio : folios) {
    int ret = __hugetlb_vmemmap_optimize_folio(m, h, *folio, vmemmap_pages, flags);
    flags &= ~VMEMMAP_SYNCHRONIZE_RCU;  // only once per batch
    if (ret == -ENOMEM_ && !vmemmap_pages.empty()) {
      m.pt.flush_tlb_all();
      m.interleave_point("flush_tlb_all", 0);
      free_vmemmap_page_list(m, vmemmap_pages);
      __hugetlb_vmemmap_optimize_folio(m, h, *folio, vmemmap_pages, flags);
    }
  }
  m.pt.flush_tlb_all();
  m.interleave_point("flush_tlb_all", 0);
  free_vmemmap_page_list(m, vmemmap_pages);
}

}  // namespace hvo
