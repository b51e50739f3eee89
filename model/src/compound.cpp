// SPDX-License-Identifier: GPL-2.0-only
//
// Compound page prep and teardown (see compound.h for the kernel lines).
#include "hvo/compound.h"

#include <algorithm>

#include "hvo/compound_info.h"
#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"
#include "hvo/struct_page_range.h"

namespace hvo {

namespace {

constexpr uint64_t kAll = ~uint64_t{0};

}  // namespace

void prep_compound_head(Machine &m, uint64_t head, unsigned order) {
  const uint64_t S = m.cfg.struct_page_size;
  uint64_t p1 = head + S, p2 = head + 2 * S;
  // folio_set_order: _flags_1 low byte and _folio_nr_pages.
  m.mmu.write_masked(Machine::field(p1, sp::kFlags), 0xff, order, "prep_compound_head");
  m.mmu.write_masked(Machine::field(p1, sp::kFolioNrPages), 0xffffffffull,
                     uint64_t{1} << order, "prep_compound_head");
  // _large_mapcount = -1, _entire_mapcount = -1, _nr_pages_mapped = 0, _pincount = 0.
  m.mmu.write(Machine::field(p1, sp::kFolioMapcounts), ~uint64_t{0}, "prep_compound_head");
  m.mmu.write(Machine::field(p1, sp::kFolioPinned), 0, "prep_compound_head");
  if (order > 1) {  // INIT_LIST_HEAD(&folio->_deferred_list)
    uint64_t list = Machine::field(p2, sp::kLruPrev);
    m.mmu.write(list, list, "prep_compound_head");
    m.mmu.write(list + 8, list, "prep_compound_head");
  }
}

void prep_compound_tail(Machine &m, uint64_t head, uint64_t tail_idx, unsigned order) {
  uint64_t p = head + tail_idx * m.cfg.struct_page_size;
  m.mmu.write(Machine::field(p, sp::kMapping), sp::TAIL_MAPPING, "prep_compound_tail");
  set_compound_head(m, p, head, order);
  m.mmu.write(Machine::field(p, sp::kPrivate), 0, "prep_compound_tail");
}

// What set_compound_head() stores in every tail of an order-@order folio:
// head + 1 (legacy, or a struct page that is not a power of two), or the
// same mask for every tail (shared-tail era, page-flags.h @03e0599d).
static FieldSpec tail_compound_info(const Machine &m, unsigned order) {
  if (m.cfg.era == Era::SharedTail && mask_encoding(m.cfg))
    return FieldSpec{compound_info_mask(vmemmap_geometry(m.cfg), order)};
  return FieldSpec{1, FieldRel::FolioHead, static_cast<uint8_t>(order)};
}

std::vector<Mmu::FieldStore> prep_compound_tail_stores(const Machine &m, unsigned order) {
  return {{sp::kMapping, kAll, FieldSpec{sp::TAIL_MAPPING}},
          {sp::kCompoundHead, kAll, tail_compound_info(m, order)},
          {sp::kPrivate, kAll, FieldSpec{0}}};
}

void prep_compound_tails(Machine &m, uint64_t head, unsigned order, uint64_t first_tail,
                         uint64_t end_tail) {
  uint64_t head_pfn = m.page_to_pfn(head);
  store_struct_pages(m, head_pfn + first_tail, head_pfn + end_tail,
                     prep_compound_tail_stores(m, order), "prep_compound_tail");
}

void prep_compound_page(Machine &m, uint64_t head, unsigned order) {
  set_page_flag(m, head, sp::PG_head, "__SetPageHead");
  prep_compound_tails(m, head, order, 1, uint64_t{1} << order);
  prep_compound_head(m, head, order);
}

std::vector<Mmu::FieldStore> init_single_page_stores(unsigned zone, unsigned nid) {
  return {{sp::kFlags, kAll, FieldSpec{sp::page_links(zone, nid)}},
          {sp::kCompoundHead, kAll, FieldSpec{8, FieldRel::Self}},
          {sp::kLruPrev, kAll, FieldSpec{8, FieldRel::Self}},
          {sp::kMapping, kAll, FieldSpec{0}},
          {sp::kIndex, kAll, FieldSpec{0}},
          {sp::kPrivate, kAll, FieldSpec{0}},
          {sp::kCounts, kAll, FieldSpec{sp::counts(1, sp::kMapcountNone)}},
          {sp::kMemcg, kAll, FieldSpec{0}}};
}

void init_single_pages(Machine &m, uint64_t start_pfn, uint64_t end_pfn, unsigned zone,
                       unsigned nid) {
  store_struct_pages(m, start_pfn, end_pfn, init_single_page_stores(zone, nid),
                     "__init_single_page");
}

void set_page_count_range(Machine &m, uint64_t start_pfn, uint64_t end_pfn, uint32_t v,
                          const char *who) {
  store_struct_pages(m, start_pfn, end_pfn,
                     {{sp::kCounts, 0xffffffff00000000ull, FieldSpec{uint64_t{v} << 32}}}, who);
}

void poison_struct_pages(Machine &m, uint64_t start_pfn, uint64_t end_pfn) {
  fill_struct_pages(m, start_pfn, end_pfn, kAll, "page_init_poison");
}

namespace {

// The bad_page() reports of one free, in the order the loop makes them,
// capped at `max` (reads and their faults go on past the cap).
struct BadPageList {
  std::vector<BadPage> &bad;
  size_t max;
  uint64_t made = 0;  // reports made, including those past the cap
  void report(uint64_t page, const char *why) {
    made++;
    if (bad.size() < max)
      bad.push_back({page, why});
  }
};

// The last vmemmap page free_tails_in_vmemmap_page found clean: the frame
// image it read, the offset of its first tail in the page and the number
// of tails.  See the use for why a page with the same key is clean too.
struct CleanPageMemo {
  bool valid = false;
  uint32_t image = 0, origin_vpn = 0;
  uint64_t offset = 0, count = 0;
  bool same(uint32_t im, uint32_t origin, uint64_t off, uint64_t n) const {
    return valid && image == im && origin_vpn == origin && offset == off && count == n;
  }
};

// free_tail_page_prepare() on tail `i` of the order-`order` folio at `head`,
// mm/page_alloc.c 6.12 l.969-1031: one struct page, every word read through
// the MMU.  The reference: free_tails_in_vmemmap_page below must agree.
void free_tail_page_prepare(Machine &m, uint64_t head, unsigned order, uint64_t i,
                            BadPageList &out) {
  const uint64_t page = head + i * m.cfg.struct_page_size;
  bool ok = true;
  if (i == 1) {
    uint64_t mc = m.mmu.read(Machine::field(page, sp::kFolioMapcounts), "free_tail_page_prepare");
    uint64_t pin = m.mmu.read(Machine::field(page, sp::kFolioPinned), "free_tail_page_prepare");
    // folio_entire_mapcount/large_mapcount are stored minus one.
    if ((mc >> 32) != 0xffffffffu) { out.report(page, "nonzero entire_mapcount"); ok = false; }
    else if ((mc & 0xffffffffu) != 0xffffffffu) { out.report(page, "nonzero large_mapcount"); ok = false; }
    else if ((pin & 0xffffffffu) != 0) { out.report(page, "nonzero nr_pages_mapped"); ok = false; }
    else if ((pin >> 32) != 0) { out.report(page, "nonzero pincount"); ok = false; }
  } else if (i == 2) {
    uint64_t list = Machine::field(page, sp::kLruPrev);
    if (order > 1 && m.mmu.read(list, "free_tail_page_prepare") != list) {
      out.report(page, "on deferred list");
      ok = false;
    }
  } else if (i == 3) {
    // CONFIG_HUGETLB_PAGE: hugetlb specifics overlap ->mapping.
  } else if (m.mmu.read(Machine::field(page, sp::kMapping), "free_tail_page_prepare") !=
             sp::TAIL_MAPPING) {
    out.report(page, "corrupted mapping in tail page");
    ok = false;
  }
  if (ok && !PageTail(m, page)) {
    out.report(page, "PageTail not set");
    ok = false;
  }
  if (ok && compound_head(m, page) != head)
    out.report(page, "compound_head not consistent");
}

// What free_tail_page_prepare() concludes for a tail with index >= 4 from
// its mapping word `mapping` and its compound_head word `info` alone, or
// false when that is not enough (a legacy word without bit 0: PageTail and
// compound_head then ask page_is_fake_head, which reads other struct pages).
// Both reads of compound_head (PageTail's and compound_head's) see `info`:
// nothing is written in between.
bool free_tail_decided(const Machine &m, const VmemmapGeometry &geo, uint64_t head,
                       uint64_t page, uint64_t mapping, uint64_t info, BadPageList &out) {
  if (mapping != sp::TAIL_MAPPING) {
    out.report(page, "corrupted mapping in tail page");
    return true;
  }
  const bool legacy = m.cfg.era == Era::Legacy;
  if (!(info & 1)) {
    if (legacy)
      return false;
    out.report(page, "PageTail not set");  // no fake heads in the shared-tail era
    return true;
  }
  // compound_head(): legacy head - 1; shared-tail the pure decode.
  const uint64_t decoded = legacy ? info - 1 : compound_info_decode(geo, page, info);
  if (decoded != head)
    out.report(page, "compound_head not consistent");
  return true;
}

// True when every tail in `info`'s struct page slots [first, last] of a pure
// image decodes to `head`, decided from the two end slots: `info` is the
// same word at both ends and compound_head's decode is then the same for
// every slot in between (see the caller for why the words are equal).
bool same_head_across(const Machine &m, const VmemmapGeometry &geo, uint64_t head,
                      uint64_t first_page, uint64_t last_page, uint64_t info) {
  if (!(info & 1))
    return false;
  if (m.cfg.era == Era::Legacy || !compound_info_has_mask(geo))
    return info - 1 == head;
  // Mask form: page & info.  With info = GENMASK(63, k) | 1 that is the
  // page rounded down to 2^k, non-decreasing in the page: equal at both
  // ends means equal throughout.  Any other mask: not decided here.
  const uint64_t high = info & ~uint64_t{1}, low = ~high;
  if ((low & (low + 1)) != 0)
    return false;
  return compound_info_decode(geo, first_page, info) == head &&
         compound_info_decode(geo, last_page, info) == head;
}

// free_tail_page_prepare() on tails [first, end) of the folio at `head`,
// every one with index >= 4 and its struct page wholly inside the vmemmap
// page at `p`: a vmemmap page at a time.  The page is translated once (the
// reads change nothing, so every per-word translation would give the same
// frame) and the words are read from the frame.  Where the frame's image
// describes a run of those struct pages by its FieldSpecs alone (no
// override among their words, field f at word f of each), the run is
// decided from its two end slots (uniform_run_passes).  Returns false,
// having reported nothing, when the page is unmapped (the reference loop
// records the faults); a tail it cannot decide alone goes through the
// reference on its own, in order.
//
// `memo` carries the last clean page of this free.  A page whose frame
// holds the same image at the same origin, with its tails at the same
// offset, reads the very same words at the same places (nothing is written
// during the checks), and when compound_head's decode does not depend on
// the struct page's address (legacy, or no mask encoding: head = info - 1)
// every check concludes the same: clean, with no report and no read
// through the MMU.  After a restore every page maps one shared image, so a
// whole folio is then checked in one pass plus a lookup per page.
bool free_tails_in_vmemmap_page(Machine &m, const VmemmapGeometry &geo, uint64_t head,
                                unsigned order, uint64_t first, uint64_t end, uint64_t p,
                                BadPageList &out, CleanPageMemo &memo) {
  const Translation t = m.mmu.translate(p);
  if (!t.pte.present())
    return false;
  const uint64_t S = m.cfg.struct_page_size;
  const PhysMem &phys = m.phys;
  const FrameRec &rec = phys.frame(t.pte.frame);
  const bool address_free = m.cfg.era == Era::Legacy || !compound_info_has_mask(geo);
  const uint64_t offset = head + first * S - p;
  if (address_free && memo.same(rec.image, rec.origin_vpn, offset, end - first))
    return true;
  const uint64_t made_before = out.made;
  bool per_struct_page = false;  // some tail went through free_tail_page_prepare
  const Image &im = phys.images().at(rec.image);
  const uint64_t wpp = m.cfg.words_per_page(), W = m.cfg.words_per_struct_page();
  auto word = [&](uint64_t page, unsigned f) {
    return phys.read_word(t.pte.frame, (page + 8 * f - p) / 8);
  };
  auto each_slot = [&](uint64_t a, uint64_t b) {
    for (uint64_t i = a; i < b; i++) {
      const uint64_t page = head + i * S;
      if (!free_tail_decided(m, geo, head, page, word(page, sp::kMapping),
                             word(page, sp::kCompoundHead), out)) {
        per_struct_page = true;
        free_tail_page_prepare(m, head, order, i, out);
      }
    }
  };
  auto remember_if_clean = [&] {
    if (address_free && !per_struct_page && out.made == made_before)
      memo = CleanPageMemo{true, rec.image, rec.origin_vpn, offset, end - first};
  };
  // Every tail of [a, b) passes all three checks, decided from the image's
  // FieldSpecs: the mapping words are all the mapping spec's value, and a
  // FolioHead word is literal + base + (slot & ~(2^order - 1)) * S, where
  // slot & ~mask never decreases along the run and the map from it to the
  // word is one-to-one over so few slots, so equal end words mean every
  // word of the run is that word (a literal is the same everywhere).
  const FieldSpec &ms = im.fields[sp::kMapping], &cs = im.fields[sp::kCompoundHead];
  auto uniform_run_passes = [&](uint64_t a, uint64_t b) {
    const uint64_t first_page = head + a * S, last_page = head + (b - 1) * S;
    const uint64_t c0 = word(first_page, sp::kCompoundHead);
    const uint64_t c1 = word(last_page, sp::kCompoundHead);
    const bool one_info = cs.rel == FieldRel::None || a + 1 == b ||
                          (cs.rel == FieldRel::FolioHead && c0 == c1);
    return ms.rel == FieldRel::None && ms.literal == sp::TAIL_MAPPING && one_info &&
           same_head_across(m, geo, head, first_page, last_page, c0);
  };
  auto run = [&](uint64_t a, uint64_t b) {
    if (a < b && !uniform_run_passes(a, b))
      each_slot(a, b);
  };
  // Word w of the frame is field (origin * wpp + w) % W of the image; the
  // struct page at vmemmap page p reads it as field (vpn(p) * wpp + w) % W.
  const bool aligned = (rec.origin_vpn * wpp) % W == (m.vpn(p) * wpp) % W;
  if (!im.dense.empty() || !aligned) {
    each_slot(first, end);
    remember_if_clean();
    return true;
  }
  // Runs between the struct pages with an overridden word (after a
  // restore: the first few of the page, reset_struct_pages), which go one
  // by one.  The overrides are sorted by word, so their slots never decrease.
  const uint64_t w_first = (head + first * S - p) / 8;
  uint64_t next = first;
  for (const auto &[w, v] : im.overrides) {
    if (w < w_first)
      continue;
    const uint64_t slot = first + (w - w_first) / W;
    if (slot >= end)
      break;
    if (slot < next)
      continue;  // another word of a struct page already done
    run(next, slot);
    each_slot(slot, slot + 1);
    next = slot + 1;
  }
  run(next, end);
  remember_if_clean();
  return true;
}

}  // namespace

std::vector<BadPage> free_compound_page_prepare(Machine &m, uint64_t head, unsigned order,
                                                size_t max_reports) {
  std::vector<BadPage> bad;
  BadPageList out{bad, max_reports};
  const uint64_t S = m.cfg.struct_page_size, n = uint64_t{1} << order, ps = m.cfg.page_size();
  if (free_tail_checks_per_struct_page) {
    for (uint64_t i = 1; i < n; i++)
      free_tail_page_prepare(m, head, order, i, out);
  } else {
    // The same tails in the same order; runs of tails that share a vmemmap
    // page are checked at once.  Tails 1-3 (their own checks) and struct
    // pages that straddle two vmemmap pages (72/80-byte struct pages) take
    // the reference path.
    const VmemmapGeometry geo = vmemmap_geometry(m.cfg);
    CleanPageMemo memo;
    uint64_t i = 1;
    while (i < n) {
      const uint64_t page = head + i * S, p = page & ~(ps - 1);
      const uint64_t fit = (p + ps - page) / S;  // struct pages from i wholly inside p
      if (i < 4 || fit == 0) {
        free_tail_page_prepare(m, head, order, i++, out);
        continue;
      }
      const uint64_t end = std::min(n, i + fit);
      if (!free_tails_in_vmemmap_page(m, geo, head, order, i, end, p, out, memo))
        for (uint64_t j = i; j < end; j++)
          free_tail_page_prepare(m, head, order, j, out);
      i = end;
    }
  }
  // free_pages_prepare (mm/page_alloc.c 6.12 l.1142): page[1].flags &=
  // ~PAGE_FLAGS_SECOND, which takes the folio order out of _flags_1.
  // Left in place, a larger folio later allocated over these pages carried
  // the order byte in one of its tails.
  if (n > 1)
    m.mmu.write_masked(Machine::field(head + S, sp::kFlags), 0xff, 0, "free_pages_prepare");
  // Teardown: every tail stops being a tail, the head stops being a head.
  store_struct_pages(m, m.page_to_pfn(head) + 1, m.page_to_pfn(head) + n,
                     {{sp::kMapping, kAll, FieldSpec{0}}, {sp::kCompoundHead, kAll, FieldSpec{0}}},
                     "free_tail_page_prepare");
  clear_page_flag(m, head, sp::PG_head, "free_pages_prepare");
  return bad;
}

}  // namespace hvo
