// SPDX-License-Identifier: GPL-2.0-only
//
// vmemmap diagrams (see diagram.h).
#include "hvo/diagram.h"

#include <cstdio>
#include <map>
#include <utility>

#include "hvo/compound_info.h"
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

// What the first struct page of a frame looks like, in a few words.  @slot is
// the vmemmap address that frame is seen at: the shared-tail era's mask
// decode needs it (M2).
std::string describe_frame(Machine &m, FrameId f, uint64_t head, uint64_t slot) {
  uint64_t flags = m.phys.read_word(f, sp::kFlags);
  uint64_t w1 = m.phys.read_word(f, sp::kCompoundHead);
  if (flags == ~uint64_t{0})
    return "uninitialised (poison)";
  if ((flags >> sp::PG_head) & 1)
    return w1 & 1 ? "PG_head with tail encoding?" : "head struct page + first tails";
  if (w1 & 1) {
    const uint64_t h = compound_info_decode(vmemmap_geometry(m.cfg), slot, w1);
    const std::string what = std::as_const(m.phys).frame(f).attrs & kFrameSharedTail ? "shared tail, " : "";
    return h == head ? what + "tails of this folio" : what + "tails of folio at " + hex(h);
  }
  return "plain struct pages (not compound)";
}

}  // namespace

std::string vmemmap_diagram(Machine &m, FolioId id) { return vmemmap_diagram(m, id, {}); }

std::string vmemmap_diagram(Machine &m, FolioId id, const std::vector<DiagramMark> &marks) {
  if (id >= m.folios.size())
    return "folio " + std::to_string(id) + ": no such folio\n";
  HugetlbFolio &f = m.folios[id];
  const Config &c = m.cfg;
  const uint64_t ps = c.page_size(), S = c.struct_page_size;
  const uint64_t head = m.page(f.pfn), n = uint64_t{1} << f.order;
  std::string out = "folio " + std::to_string(id) + ": pfn " + hex(f.pfn) + " order " +
                    std::to_string(f.order) + " node " + std::to_string(f.nid) + " zone " +
                    std::string(zone_type_name(f.zone));
  if (f.state == FolioState::Gone) {
    // With marks (hvo-triage's "after" picture of a freeing op) the struct
    // pages the folio had still tell what the op left behind.
    if (marks.empty())
      return out + ", gone (freed, demoted or leaked)\n";
    out += ", gone (freed, demoted or leaked); the vmemmap of its pfns now:\n";
  } else {
    uint64_t priv = Machine::field(head, sp::kPrivate);  // may be in the next vmemmap page
    Pte p0 = m.pt.ptep_get(priv);
    bool opt = p0.present() &&
               ((m.phys.read_word(p0.frame, (priv & (ps - 1)) / 8) >> sp::HPG_vmemmap_optimized) & 1);
    out += std::string(", ") + (f.state == FolioState::Pool ? "free in pool" : "in use") +
           (f.surplus ? ", surplus" : "") + (opt ? ", HVO optimized" : ", not optimized") +
           ", static key " + std::to_string(m.hugetlb_optimize_vmemmap_key) + "\n";
  }
  uint64_t first = head & ~(ps - 1), end = (head + n * S + ps - 1) & ~(ps - 1);
  out += "  struct pages " + hex(head) + ".." + hex(head + n * S) + " in " +
         std::to_string((end - first) / ps) + " vmemmap page(s)\n";
  out += "  vmemmap page(s)        mapping  frame      refs  contents\n";
  // Name frames by first appearance so the diagram reads top-down.
  std::map<FrameId, unsigned> first_seen;
  uint64_t k = 0;
  // One line per run of vmemmap pages that map the same frame, or
  // consecutive private frames, with the same permission and contents.
  struct PageLine {
    Pte pte;
    Translation t;
    std::string desc;
    uint32_t refs = 0;
    bool reserved = false;
  };
  auto line_of = [&](uint64_t a) {
    PageLine l;
    l.t = m.pt.translate(a);
    l.pte = m.pt.ptep_get(a);
    if (l.pte.present()) {
      const FrameRec &r = std::as_const(m.phys).frame(l.pte.frame);
      l.desc = describe_frame(m, l.pte.frame, head, a);
      l.refs = r.map_count;
      l.reserved = r.attrs & kFrameReserved;
    }
    return l;
  };
  for (uint64_t a = first; a < end;) {
    PageLine l0 = line_of(a);
    Translation t = l0.t;
    Pte pt = l0.pte;
    uint64_t run_end = a + ps;
    bool consecutive = false;
    while (run_end < end && pt.present() && !t.stale) {
      PageLine l = line_of(run_end);
      uint64_t i = (run_end - a) / ps;
      bool same = l.pte == pt;
      bool next = !same && l.pte.present() && l.pte.ro == pt.ro && l0.refs == 1 && l.refs == 1 &&
                  l.pte.frame == pt.frame + i && l.desc == l0.desc && l.reserved == l0.reserved;
      // Stop at a stale page, a break in the pattern, or a change of mode
      // (same frame vs consecutive frames) after the first pair.
      if (l.t.stale || !(same || next) || (i > 1 && same == consecutive))
        break;
      consecutive = next;
      run_end += ps;
    }
    uint64_t k_end = k + (run_end - a) / ps - 1;
    char range[48];
    if (k == k_end)
      std::snprintf(range, sizeof(range), "  %-22llu", static_cast<unsigned long long>(k));
    else
      std::snprintf(range, sizeof(range), "  %-22s",
                    (std::to_string(k) + "-" + std::to_string(k_end)).c_str());
    out += range;
    if (!pt.present()) {
      out += "unmapped\n";
    } else {
      const FrameRec &r = std::as_const(m.phys).frame(pt.frame);
      auto [it, fresh] = first_seen.emplace(pt.frame, static_cast<unsigned>(k));
      std::string frame = "#" + std::to_string(pt.frame);
      if (consecutive)
        frame += "..#" + std::to_string(pt.frame + (k_end - k));
      char line[160];
      std::snprintf(line, sizeof(line), "%-8s %-10s %-5u ", pt.ro ? "RO" : "RW", frame.c_str(),
                    r.map_count);
      out += line;
      if (!fresh)
        out += "= frame of page " + std::to_string(it->second) + " (shared)";
      else
        out += l0.desc + (r.map_count > 1 ? " (shared)" : "");
      if (t.stale)
        out += "  [TLB stale: still translates to #" + std::to_string(t.pte.frame) + "]";
      if (l0.reserved)
        out += " [memblock]";
      out += "\n";
    }
    for (const DiagramMark &mk : marks)
      if (mk.vaddr >= a && mk.vaddr < run_end)
        out.insert(out.size() - 1,
                   "  <== " + mk.label +
                       (mk.vaddr >= head && mk.vaddr < head + n * S
                            ? " (struct page " + std::to_string((mk.vaddr - head) / S) + ")"
                            : " (not a struct page of this folio)"));
    k = k_end + 1;
    a = run_end;
  }
  for (const DiagramMark &mk : marks)
    if (mk.vaddr < first || mk.vaddr >= end)
      out += "  <== " + mk.label + " at " + hex(mk.vaddr) + ", outside this folio's vmemmap\n";
  return out;
}

}  // namespace hvo
