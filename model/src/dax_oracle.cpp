// SPDX-License-Identifier: GPL-2.0-only
//
// Device-DAX invariants (see dax_oracle.h).  Like the core oracle, reads go
// through the page table without recording faults: the oracle looks at what
// the kernel would see.
#include "hvo/dax_oracle.h"

#include <algorithm>
#include <map>
#include <utility>

#include "hvo/compound_info.h"
#include "hvo/machine.h"
#include "hvo/shared_tail.h"
#include "hvo/sparse_vmemmap.h"
#include "hvo/struct_page.h"

namespace hvo {

namespace {

const std::vector<InvariantInfo> kDaxCatalog = {
    {"I13-dax-reuse",
     "an optimized DAX compound page maps its head vmemmap page and its first tail vmemmap page to "
     "two private frames and every other vmemmap page to the second; a reused frame's refcount is "
     "1 + the PTEs that alias it; a pgmap that may not be optimized (altmap, V <= 2) shares no "
     "frame"},
    {"I14-section-bookkeeping",
     "muchun: a section whose compound order is recorded maps every optimizable pfn's vmemmap "
     "page, read-only, to the zone's shared tail"},
    {"I13-dax-orphan-section",
     "every hot-added section with a memmap belongs to a live pgmap (depopulate returns all)"},
    {"I13-dax-leaf",
     "an optimized DAX compound page's vmemmap is deduplicated, as memmap_init_zone_device assumes "
     "when it initialises only 2 * SPP of its struct pages; one whose vmemmap lies in a PMD leaf "
     "(ppc64-radix skips leaves) keeps uninitialised tails"},
    {"I1-dax-head-resolution",
     "every struct page of a live DAX compound page resolves to its head, its tails are PageTail"},
    {"K-WARN_ON", "the ported code reached a WARN / WARN_ON of the kernel"},
    {"K-model-limit", "the ported code reached a path the model does not implement"},
};

struct Budget {
  std::size_t max;
  std::map<std::string, std::size_t> used;
  bool take(const std::string &id) { return used[id]++ < max; }
};

// Whether the memmap of a device-DAX pfn in section `sec` is deduplicated:
// MS by the compound order the section recorded, 6.12 by the pgmap
// (`can_optimize` is vmemmap_can_optimize(m, &p)); never in an early section.
bool dax_memmap_optimized(const Machine &m, const MemSection &sec, bool can_optimize) {
  const bool ms = m.cfg.era == Era::SharedTail && m.cfg.variant == Variant::Muchun;
  if (sec.early)
    return false;
  return ms ? vmemmap_optimizable_order(vmemmap_geometry(m.cfg), sec.compound_order) : can_optimize;
}

// The references hot-plug bookkeeping holds on a memmap frame (0 if none).
uint64_t memmap_frame_refs(const HotplugState &hp, FrameId f) {
  auto it = hp.frame_refcount.find(f);
  return it == hp.frame_refcount.end() ? 0 : it->second;
}

uint64_t read_word(Machine &m, uint64_t vaddr) {
  const Pte pte = m.pt.ptep_get(vaddr);
  if (!pte.present())
    return 0;
  const uint64_t w = (vaddr & (m.cfg.page_size() - 1)) / 8;
  return m.phys.read_word(pte.frame, w);
}

[[gnu::noinline]] void report_head_resolution(Machine &m, const DevPagemap &p, uint64_t head_pfn,
                                              uint64_t pfn, uint64_t got, bool tail,
                                              bool want_tail, Budget &b,
                                              std::vector<Violation> &out) {
  if (b.take("I1-dax-head-resolution"))
    out.push_back({"I1-dax-head-resolution", 0, m.page(pfn), pfn,
                   "head " + std::to_string(head_pfn) + (want_tail ? ", tail" : ""),
                   "head " + std::to_string(m.page_to_pfn(got)) + (tail ? ", tail" : ""),
                   "pgmap " + std::to_string(p.id)});
}

// I1 for the struct page of `pfn` in the compound page at `head_pfn`: false
// (after reporting it, within the budget) when it does not resolve to its
// head or its tail bit is wrong.  The report is built out of line.
bool check_head_resolution(Machine &m, const DevPagemap &p, uint64_t head_pfn, uint64_t pfn,
                           bool compound, Budget &b, std::vector<Violation> &out) {
  const uint64_t head = m.page(head_pfn), page = m.page(pfn);
  // compound_head() without the 6.12 fake-head fallback (DAX compound pages
  // are never HugeTLB-optimized and their aliased pages hold tails):
  // pointer+1 in the legacy era, the mask decode in the shared-tail era.
  // One read serves the decode and the tail bit (reads have no effect).
  const uint64_t info = read_word(m, Machine::field(page, sp::kCompoundHead));
  const uint64_t got = compound_info_decode(vmemmap_geometry(m.cfg), page, info);
  const bool tail = info & 1;
  const bool want_tail = pfn != head_pfn && compound;
  if (got == head && tail == want_tail)
    return true;
  report_head_resolution(m, p, head_pfn, pfn, got, tail, want_tail, b, out);
  return false;
}

void check_compound(Machine &m, const HotplugState &hp, const DevPagemap &p, uint64_t head_pfn,
                    uint64_t end_pfn, Budget &b, std::vector<Violation> &out) {
  const uint64_t ps = m.cfg.page_size(), S = m.cfg.struct_page_size;
  const uint64_t nr = pgmap_vmemmap_nr(p);
  const uint64_t head = m.page(head_pfn);
  const uint64_t last_pfn = std::min(end_pfn, head_pfn + nr);
  const bool early = hp.sections.pfn_to_section(head_pfn).early;
  const bool ms = m.cfg.era == Era::SharedTail && m.cfg.variant == Variant::Muchun;
  const bool optimized =
      dax_memmap_optimized(m, hp.sections.pfn_to_section(head_pfn), vmemmap_can_optimize(m, &p));
  // The vmemmap pages of this compound page that lie in the range.
  const uint64_t first_page = head & ~(ps - 1);
  const uint64_t end_page = m.page(last_pfn);
  auto refcount = [&](FrameId f) { return memmap_frame_refs(hp, f); };
  if (optimized && ms && head % ps == 0) {
    // MS: one private frame (the head's), every other vmemmap page maps the
    // device zone's shared tail read-only (I14: what the section's recorded
    // order promises), whose refcount is its own reference + one per PTE.
    const FrameId h = m.pt.ptep_get(first_page).frame;
    const FrameId t = shared_tail_lookup(m, p.vmemmap_shift, tail_owner_device(m, p.nid));
    if (h == kNoFrame || h == t || refcount(h) != 1 || std::as_const(m.phys).frame(h).map_count != 1)
      if (b.take("I13-dax-reuse"))
        out.push_back({"I13-dax-reuse", 0, first_page, head_pfn, "a private head frame",
                       h == kNoFrame ? "unmapped" : "frame " + std::to_string(h),
                       "pgmap " + std::to_string(p.id)});
    for (uint64_t a = first_page + ps; a < end_page; a += ps) {
      const Pte pte = m.pt.ptep_get(a);
      if (pte.frame != t || !pte.ro) {
        if (b.take("I14-section-bookkeeping"))
          out.push_back({"I14-section-bookkeeping", 0, a, m.page_to_pfn(a),
                         "RO shared tail " + std::to_string(t),
                         pte.present() ? std::string(pte.ro ? "RO" : "RW") + " frame " +
                                             std::to_string(pte.frame)
                                       : "unmapped",
                         "pgmap " + std::to_string(p.id) + " compound page at pfn " +
                             std::to_string(head_pfn)});
        break;
      }
    }
    if (t != kNoFrame && refcount(t) != 1 + std::as_const(m.phys).frame(t).map_count)
      if (b.take("I13-dax-reuse"))
        out.push_back({"I13-dax-reuse", 0, first_page + ps, head_pfn,
                       "refcount 1 + " + std::to_string(std::as_const(m.phys).frame(t).map_count) + " PTEs",
                       std::to_string(refcount(t)), "the device shared tail"});
  } else if (optimized && head % ps == 0 && m.pt.covers(first_page) &&
             m.pt.pmd_leaf(m.pt.pmd_index(first_page))) {
    // Population skipped the leaf (radix_pgtable.c 6.12 l.1336-1340) but
    // compound_nr_pages (mm/mm_init.c 6.12 l.1034-1048) still counts on the
    // deduplication: the struct pages past 2 * SPP were never initialised.
    // The x86-64 path never gets here: its section memmaps are whole PMDs.
    if (b.take("I13-dax-leaf"))
      out.push_back({"I13-dax-leaf", 0, first_page, head_pfn, "a deduplicated vmemmap",
                     "a PMD leaf", "pgmap " + std::to_string(p.id)});
    return;
  } else if (optimized && head % ps == 0) {
    const FrameId h = m.pt.ptep_get(first_page).frame;
    const FrameId t = m.pt.ptep_get(first_page + ps).frame;
    if (h == kNoFrame || t == kNoFrame || h == t) {
      if (b.take("I13-dax-reuse"))
        out.push_back({"I13-dax-reuse", 0, first_page, head_pfn, "two private frames",
                       h == t ? "one frame" : "unmapped", "pgmap " + std::to_string(p.id)});
      return;
    }
    for (uint64_t a = first_page + 2 * ps; a < end_page; a += ps) {
      const Pte pte = m.pt.ptep_get(a);
      if (pte.frame != t || pte.ro) {
        if (b.take("I13-dax-reuse"))
          out.push_back({"I13-dax-reuse", 0, a, m.page_to_pfn(a),
                         "RW alias of frame " + std::to_string(t),
                         pte.present() ? "frame " + std::to_string(pte.frame) : "unmapped",
                         "pgmap " + std::to_string(p.id) + " compound page at pfn " +
                             std::to_string(head_pfn)});
        break;
      }
    }
    if (refcount(h) != 1 || std::as_const(m.phys).frame(h).map_count != 1)
      if (b.take("I13-dax-reuse"))
        out.push_back({"I13-dax-reuse", 0, first_page, head_pfn, "head frame refcount 1, 1 PTE",
                       std::to_string(refcount(h)) + " refs, " +
                           std::to_string(std::as_const(m.phys).frame(h).map_count) + " PTEs",
                       "pgmap " + std::to_string(p.id)});
    if (refcount(t) != std::as_const(m.phys).frame(t).map_count)
      if (b.take("I13-dax-reuse"))
        out.push_back({"I13-dax-reuse", 0, first_page + ps, head_pfn + ps / S,
                       "refcount == 1 + extra PTEs (" + std::to_string(std::as_const(m.phys).frame(t).map_count) +
                           ")",
                       std::to_string(refcount(t)), "pgmap " + std::to_string(p.id)});
  } else if (!optimized && !early) {
    for (uint64_t a = first_page; a < end_page; a += ps) {
      const Pte pte = m.pt.ptep_get(a);
      if (pte.present() && std::as_const(m.phys).frame(pte.frame).map_count != 1) {
        if (b.take("I13-dax-reuse"))
          out.push_back({"I13-dax-reuse", 0, a, m.page_to_pfn(a), "a private frame",
                         std::to_string(std::as_const(m.phys).frame(pte.frame).map_count) + " PTEs",
                         "pgmap " + std::to_string(p.id) + " may not be optimized"});
        break;
      }
    }
  }
  // Head resolution over a sample: the head, the first tails, the first
  // struct page of every vmemmap page (where fake heads would show), the last;
  // in that order, up to the first that fails.  Visited one by one rather
  // than gathered in a list: a list per compound page was an allocation per
  // compound page, which under ASan costs a fresh chunk each time.
  auto resolves = [&](uint64_t pfn) {
    if (pfn < head_pfn || pfn >= last_pfn)
      return true;
    return check_head_resolution(m, p, head_pfn, pfn, nr > 1, b, out);
  };
  if (!resolves(head_pfn))
    return;
  for (uint64_t i = 1; i < std::min<uint64_t>(nr, 4); i++)
    if (!resolves(head_pfn + i))
      return;
  for (uint64_t a = first_page + ps; a < end_page; a += ps)
    if (!resolves(m.page_to_pfn(a)))
      return;
  if (nr > 1)
    resolves(last_pfn - 1);
}

// The pfns from `pfn` on, below `end`, whose struct pages lie whole in the
// vmemmap page holding pfn's and in pfn's section: the pfns an order-0
// pgmap's check_compound calls treat alike.  Returns pfn itself when pfn's
// struct page straddles two vmemmap pages (72/80-byte struct pages).
uint64_t order0_block_end(const Machine &m, const HotplugState &hp, uint64_t pfn, uint64_t end) {
  const uint64_t ps = m.cfg.page_size(), S = m.cfg.struct_page_size;
  const uint64_t page_end = (m.page(pfn) & ~(ps - 1)) + ps;
  const uint64_t fits = (page_end - m.cfg.vmemmap_base) / S;  // pfns q < fits end by page_end
  const uint64_t section_end = hp.sections.geo.section_nr_to_pfn(hp.sections.geo.pfn_to_section_nr(pfn) + 1);
  return std::max(pfn, std::min(std::min(end, section_end), fits));
}

// True when check_compound would report nothing for any pfn of the block
// [pfn, block_end) of an order-0 pgmap (order0_block_end), decided once
// for the vmemmap page instead of once per struct page; false when that is
// not certain (the caller then runs check_compound pfn by pfn).  For an
// order-0 page check_compound (a) decides `optimized` from the section
// alone (same for the block), (b) if neither optimized nor early, looks at
// the PTE of the one vmemmap page holding the struct page (the block's
// page) and wants its frame mapped once, (c) reads the struct page's
// compound_head word through that PTE and wants bit 0 clear (not a tail:
// compound_info_decode of a non-tail word returns the page itself, the
// head; a set bit 0 fails the tail test whatever it decodes to).  An
// unmapped page reads 0.  The words of one field of a pure image differ
// only by a multiple of the struct page size (the address of their slot or
// folio head, ImagePool::eval), an even number, so they share bit 0 where
// every vmemmap page starts at the same field (PAGE_SIZE a multiple of the
// struct page size); any other image is read word by word.
// `can_optimize` is vmemmap_can_optimize(m, &p), the same for every block.
bool order0_block_clean(Machine &m, const HotplugState &hp, bool can_optimize, uint64_t pfn,
                        uint64_t block_end) {
  const MemSection &sec = hp.sections.pfn_to_section(pfn);
  if (dax_memmap_optimized(m, sec, can_optimize))
    return false;
  const uint64_t ps = m.cfg.page_size();
  const Pte pte = m.pt.ptep_get(m.page(pfn) & ~(ps - 1));
  if (!pte.present())
    return true;
  const FrameRec &fr = std::as_const(m.phys).frame(pte.frame);
  if (!sec.early && fr.map_count != 1)
    return false;
  const Image &im = std::as_const(m.phys).images().at(fr.image);
  auto word_of = [&](uint64_t q) {
    return (Machine::field(m.page(q), sp::kCompoundHead) & (ps - 1)) / 8;
  };
  if (im.pure() && m.cfg.words_per_page() % (m.cfg.struct_page_size / 8) == 0)
    return (m.phys.read_word(pte.frame, word_of(pfn)) & 1) == 0;
  for (uint64_t q = pfn; q < block_end; q++)
    if (m.phys.read_word(pte.frame, word_of(q)) & 1)
      return false;
  return true;
}

// Reads of struct page words for compound_clean: the PTE of the last
// vmemmap page read is kept.  A check has no effect on the machine, so a
// PTE read once stays the PTE of its page for the whole check; the word is
// read through it as read_word would.
class PteCachedReader {
public:
  explicit PteCachedReader(Machine &m) : m_(m), ps_(m.cfg.page_size()) {}
  Pte pte(uint64_t vaddr) {
    const uint64_t page = vaddr & ~(ps_ - 1);
    if (page != page_) {
      page_ = page;
      pte_ = m_.pt.ptep_get(page);
    }
    return pte_;
  }
  uint64_t word(uint64_t vaddr) {
    const Pte p = pte(vaddr);
    return p.present() ? m_.phys.read_word(p.frame, (vaddr & (ps_ - 1)) / 8) : 0;
  }

private:
  Machine &m_;
  const uint64_t ps_;
  uint64_t page_ = UINT64_MAX;
  Pte pte_;
};

// Whether every vmemmap page in [a, b) has the page-table PTE {frame, ro}:
// the loops of check_compound over the tail pages of an optimized compound
// page, decided a run of equal PTEs at a time (VmemmapPageTable::pte_run:
// the pages of a run all have the PTE ptep_get gives for its first).
bool all_map(Machine &m, uint64_t a, uint64_t b, FrameId frame, bool ro) {
  const uint64_t ps = m.cfg.page_size();
  while (a < b) {
    const Pte pte = m.pt.ptep_get(a);
    if (pte.frame != frame || pte.ro != ro)
      return false;
    a += m.pt.pte_run(a, (b - a) / ps) * ps;
  }
  return true;
}

// True when check_compound(m, hp, p, head_pfn, end_pfn, ...) would report
// nothing (then it need not run); false when it would or that is not
// certain.  It makes check_compound's decisions, in whatever order is
// cheapest, since only "nothing to report" is answered: the PTE loops
// over the tail pages of an optimized compound page by runs of equal PTEs
// (all_map), one PTE read per vmemmap page otherwise, shared by the
// map-count test and the head-resolution read of that page's first struct
// page (PteCachedReader), and where every tail page maps one frame (an
// optimized compound page, a power-of-two struct page, so each page's
// first struct page starts at word 0) that read made once: the same frame
// and word give the same value, which is then decoded for each page's own
// address as check_head_resolution decodes it.
bool compound_clean(Machine &m, const HotplugState &hp, const DevPagemap &p, uint64_t head_pfn,
                    uint64_t end_pfn, const VmemmapGeometry &geo) {
  const uint64_t ps = m.cfg.page_size();
  const uint64_t nr = pgmap_vmemmap_nr(p);
  const uint64_t head = m.page(head_pfn);
  const uint64_t last_pfn = std::min(end_pfn, head_pfn + nr);
  const MemSection &sec = hp.sections.pfn_to_section(head_pfn);
  const bool early = sec.early;
  const bool ms = m.cfg.era == Era::SharedTail && m.cfg.variant == Variant::Muchun;
  const bool optimized = dax_memmap_optimized(m, sec, vmemmap_can_optimize(m, &p));
  const uint64_t first_page = head & ~(ps - 1);
  const uint64_t end_page = m.page(last_pfn);
  auto refcount = [&](FrameId f) { return memmap_frame_refs(hp, f); };
  auto map_count = [&](FrameId f) { return std::as_const(m.phys).frame(f).map_count; };
  PteCachedReader rd(m);
  // check_head_resolution's verdict on the struct page of `pfn` whose
  // compound_head word holds `info`.
  auto resolves_to_head = [&](uint64_t pfn, uint64_t info) {
    if (pfn < head_pfn || pfn >= last_pfn)
      return true;
    const bool want_tail = pfn != head_pfn && nr > 1;
    return compound_info_decode(geo, m.page(pfn), info) == head && bool(info & 1) == want_tail;
  };
  auto resolves = [&](uint64_t pfn) {
    return resolves_to_head(pfn, rd.word(Machine::field(m.page(pfn), sp::kCompoundHead)));
  };
  // Tail vmemmap pages [first_page + ps, end_page) all mapping `shared`
  // (kNoFrame: not known to).
  FrameId shared = kNoFrame;
  if (optimized && ms && head % ps == 0) {
    const FrameId h = rd.pte(first_page).frame;
    const FrameId t = shared_tail_lookup(m, p.vmemmap_shift, tail_owner_device(m, p.nid));
    if (h == kNoFrame || h == t || refcount(h) != 1 || map_count(h) != 1)
      return false;
    if (!all_map(m, first_page + ps, end_page, t, true))
      return false;
    if (t != kNoFrame && refcount(t) != 1 + map_count(t))
      return false;
    shared = t;
  } else if (optimized && head % ps == 0 && m.pt.covers(first_page) &&
             m.pt.pmd_leaf(m.pt.pmd_index(first_page))) {
    return false;  // I13-dax-leaf
  } else if (optimized && head % ps == 0) {
    const FrameId h = m.pt.ptep_get(first_page).frame;
    const FrameId t = m.pt.ptep_get(first_page + ps).frame;
    if (h == kNoFrame || t == kNoFrame || h == t)
      return false;
    if (!all_map(m, first_page + 2 * ps, end_page, t, false))
      return false;
    if (refcount(h) != 1 || map_count(h) != 1 || refcount(t) != map_count(t))
      return false;
    shared = t;
  } else if (!optimized && !early) {
    // The map-count loop and the first struct page of each tail page, one
    // PTE read per page.
    for (uint64_t a = first_page; a < end_page; a += ps) {
      const Pte pte = rd.pte(a);
      if (pte.present() && map_count(pte.frame) != 1)
        return false;
      if (a != first_page && !resolves(m.page_to_pfn(a)))
        return false;
    }
  } else {
    for (uint64_t a = first_page + ps; a < end_page; a += ps)
      if (!resolves(m.page_to_pfn(a)))
        return false;
  }
  if (!resolves(head_pfn))
    return false;
  for (uint64_t i = 1; i < std::min<uint64_t>(nr, 4); i++)
    if (!resolves(head_pfn + i))
      return false;
  if (shared != kNoFrame) {
    // Every tail page maps `shared`: with a power-of-two struct page the
    // first struct page of each starts the page, so its compound_head is
    // the same word of the same frame.
    if (m.cfg.struct_page_pow2()) {
      const uint64_t w = Machine::field(0, sp::kCompoundHead) / 8;
      const uint64_t info = end_page > first_page + ps ? m.phys.read_word(shared, w) : 0;
      for (uint64_t a = first_page + ps; a < end_page; a += ps)
        if (!resolves_to_head(m.page_to_pfn(a), info))
          return false;
    } else {
      for (uint64_t a = first_page + ps; a < end_page; a += ps)
        if (!resolves(m.page_to_pfn(a)))
          return false;
    }
  }
  return nr <= 1 || resolves(last_pfn - 1);
}

} // namespace

const std::vector<InvariantInfo> &dax_invariant_catalog() { return kDaxCatalog; }

std::vector<Violation> check_dax(Machine &m, const HotplugState &hp, std::size_t max_per_id) {
  std::vector<Violation> out;
  Budget b{max_per_id, {}};
  for (const DevPagemap &p : hp.pgmaps) {
    if (!p.live || p.nr_range == 0)
      continue;
    uint64_t start = p.range_start_pfn;
    const uint64_t end = p.range_start_pfn + p.range_nr_pages;
    if (p.altmap)
      start = p.altmap->base_pfn + p.altmap->reserve + p.altmap->free;
    const uint64_t nr = pgmap_vmemmap_nr(p);
    const bool can_optimize = nr == 1 && vmemmap_can_optimize(m, &p);
    const VmemmapGeometry geo = vmemmap_geometry(m.cfg);
    for (uint64_t pfn = start; pfn < end;) {
      // An order-0 pgmap: a vmemmap page's struct pages at once where
      // that provably reports nothing, else each as the loop below does.
      const uint64_t block_end =
          nr == 1 && !check_dax_reference ? order0_block_end(m, hp, pfn, end) : pfn;
      if (block_end > pfn && order0_block_clean(m, hp, can_optimize, pfn, block_end)) {
        check_dax_clean_blocks++;
        pfn = block_end;
        continue;
      }
      for (const uint64_t stop = std::max(block_end, pfn + 1); pfn < stop && pfn < end; pfn += nr) {
        // A compound page that provably reports nothing is not checked
        // sample by sample (compound_clean; reference: check_compound alone).
        if (nr > 1 && !check_dax_reference && compound_clean(m, hp, p, pfn, end, geo)) {
          check_dax_clean_compounds++;
          continue;
        }
        check_compound(m, hp, p, pfn, end, b, out);
      }
    }
  }
  // Sections that carry a hot-added memmap must belong to a live pgmap.
  const SectionGeometry &g = hp.sections.geo;
  for (uint64_t nr = 0; nr < hp.sections.sections.size(); nr++) {
    const MemSection &ms = hp.sections.sections[nr];
    if (!ms.has_mem_map || ms.early)
      continue;
    const uint64_t s = g.section_nr_to_pfn(nr), e = s + g.pages_per_section();
    bool owned = false;
    for (const DevPagemap &p : hp.pgmaps)
      owned |= p.live && p.range_start_pfn < e && s < p.range_start_pfn + p.range_nr_pages;
    if (!owned && b.take("I13-dax-orphan-section"))
      out.push_back({"I13-dax-orphan-section", 0, m.page(s), s, "a live pgmap",
                     "no pgmap", "section " + std::to_string(nr) + " keeps a hot-added memmap"});
  }
  return out;
}

} // namespace hvo
