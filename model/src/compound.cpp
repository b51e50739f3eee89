// SPDX-License-Identifier: GPL-2.0-only
//
// Compound page prep and teardown (see compound.h for the kernel lines).
#include "hvo/compound.h"

#include <algorithm>

#include "hvo/compound_info.h"
#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"

namespace hvo {

namespace {

using FieldStore = Mmu::FieldStore;

uint64_t eval_for_slot(const Machine &m, const FieldSpec &fs, uint64_t pfn) {
  switch (fs.rel) {
  case FieldRel::None:
    return fs.literal;
  case FieldRel::Self:
    return fs.literal + m.page(pfn);
  case FieldRel::FolioHead:
    return fs.literal + m.page(pfn & ~((uint64_t{1} << fs.order) - 1));
  }
  return fs.literal;
}

// Struct pages of a vmemmap page outside the range up to which the page is
// still stored in bulk (see below).
constexpr uint64_t kMaxOutsideSlots = 8;

// The same stores into every struct page of pfns [a, b): whole vmemmap pages
// at once when all their struct pages are in the range, else one by one.
void store_struct_pages(Machine &m, uint64_t a, uint64_t b, const std::vector<FieldStore> &st,
                        const char *who) {
  if (a >= b)
    return;
  const uint64_t ps = m.cfg.page_size();
  uint64_t start = m.page(a), end = m.page(b);
  Mmu::StoreMemo memo;
  for (uint64_t p = start & ~(ps - 1); p < end; p += ps) {
    uint64_t first_slot = m.page_to_pfn(p);                      // touching p's first byte
    uint64_t last_slot = m.page_to_pfn(p + ps - 1);              // touching p's last byte
    if (first_slot >= a && last_slot < b) {
      m.mmu.store_fields_page(p, st, memo, who);  // a fault: the loop's first store oopsed
      continue;
    }
    uint64_t lo = std::max(a, first_slot), hi = std::min(b, last_slot + 1);
    const uint64_t outside = (last_slot + 1 - first_slot) - (hi - lo);
    if (m.cfg.struct_page_pow2() && outside <= kMaxOutsideSlots) {
      // Mostly inside (a folio's first vmemmap page: all but the head): one
      // bulk store that leaves the outside struct pages' words alone, so the
      // frame keeps a compact image instead of one override per word.
      std::vector<uint32_t> untouched;
      for (uint64_t pfn = first_slot; pfn <= last_slot; pfn++)
        if (pfn < lo || pfn >= hi)
          for (const FieldStore &s : st)
            untouched.push_back(static_cast<uint32_t>(((m.page(pfn) + 8 * s.field) & (ps - 1)) / 8));
      m.mmu.store_fields_page_except(p, st, untouched, who);
      continue;
    }
    for (uint64_t pfn = lo; pfn < hi; pfn++)
      for (const FieldStore &s : st) {
        uint64_t addr = m.page(pfn) + 8 * s.field;
        if (addr < p || addr >= p + ps)
          continue;  // that word lives in the neighbouring vmemmap page
        m.mmu.write_masked(addr, s.mask, eval_for_slot(m, s.value, pfn), who);
      }
  }
  m.mmu.release_memo(memo);
}

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

void prep_compound_tails(Machine &m, uint64_t head, unsigned order, uint64_t first_tail,
                         uint64_t end_tail) {
  uint64_t head_pfn = m.page_to_pfn(head);
  store_struct_pages(m, head_pfn + first_tail, head_pfn + end_tail,
                     {{sp::kMapping, kAll, FieldSpec{sp::TAIL_MAPPING}},
                      {sp::kCompoundHead, kAll, tail_compound_info(m, order)},
                      {sp::kPrivate, kAll, FieldSpec{0}}},
                     "prep_compound_tail");
}

void prep_compound_page(Machine &m, uint64_t head, unsigned order) {
  set_page_flag(m, head, sp::PG_head, "__SetPageHead");
  prep_compound_tails(m, head, order, 1, uint64_t{1} << order);
  prep_compound_head(m, head, order);
}

void init_single_pages(Machine &m, uint64_t start_pfn, uint64_t end_pfn, unsigned zone,
                       unsigned nid) {
  store_struct_pages(m, start_pfn, end_pfn,
                     {{sp::kFlags, kAll, FieldSpec{sp::page_links(zone, nid)}},
                      {sp::kCompoundHead, kAll, FieldSpec{8, FieldRel::Self}},
                      {sp::kLruPrev, kAll, FieldSpec{8, FieldRel::Self}},
                      {sp::kMapping, kAll, FieldSpec{0}},
                      {sp::kIndex, kAll, FieldSpec{0}},
                      {sp::kPrivate, kAll, FieldSpec{0}},
                      {sp::kCounts, kAll, FieldSpec{sp::counts(1, sp::kMapcountNone)}},
                      {sp::kMemcg, kAll, FieldSpec{0}}},
                     "__init_single_page");
}

void set_page_count_range(Machine &m, uint64_t start_pfn, uint64_t end_pfn, uint32_t v,
                          const char *who) {
  store_struct_pages(m, start_pfn, end_pfn,
                     {{sp::kCounts, 0xffffffff00000000ull, FieldSpec{uint64_t{v} << 32}}}, who);
}

void poison_struct_pages(Machine &m, uint64_t start_pfn, uint64_t end_pfn) {
  std::vector<FieldStore> st;
  for (unsigned f = 0; f < m.cfg.words_per_struct_page(); f++)
    st.push_back({f, kAll, FieldSpec{kAll}});
  store_struct_pages(m, start_pfn, end_pfn, st, "page_init_poison");
}

std::vector<BadPage> free_compound_page_prepare(Machine &m, uint64_t head, unsigned order,
                                                size_t max_reports) {
  std::vector<BadPage> bad;
  const uint64_t S = m.cfg.struct_page_size, n = uint64_t{1} << order;
  auto report = [&](uint64_t page, const char *why) {
    if (bad.size() < max_reports)
      bad.push_back({page, why});
  };
  for (uint64_t i = 1; i < n; i++) {
    uint64_t page = head + i * S;
    bool ok = true;
    if (i == 1) {
      uint64_t mc = m.mmu.read(Machine::field(page, sp::kFolioMapcounts), "free_tail_page_prepare");
      uint64_t pin = m.mmu.read(Machine::field(page, sp::kFolioPinned), "free_tail_page_prepare");
      // folio_entire_mapcount/large_mapcount are stored minus one.
      if ((mc >> 32) != 0xffffffffu) { report(page, "nonzero entire_mapcount"); ok = false; }
      else if ((mc & 0xffffffffu) != 0xffffffffu) { report(page, "nonzero large_mapcount"); ok = false; }
      else if ((pin & 0xffffffffu) != 0) { report(page, "nonzero nr_pages_mapped"); ok = false; }
      else if ((pin >> 32) != 0) { report(page, "nonzero pincount"); ok = false; }
    } else if (i == 2) {
      uint64_t list = Machine::field(page, sp::kLruPrev);
      if (order > 1 && m.mmu.read(list, "free_tail_page_prepare") != list) {
        report(page, "on deferred list");
        ok = false;
      }
    } else if (i == 3) {
      // CONFIG_HUGETLB_PAGE: hugetlb specifics overlap ->mapping.
    } else if (m.mmu.read(Machine::field(page, sp::kMapping), "free_tail_page_prepare") !=
               sp::TAIL_MAPPING) {
      report(page, "corrupted mapping in tail page");
      ok = false;
    }
    if (ok && !PageTail(m, page)) {
      report(page, "PageTail not set");
      ok = false;
    }
    if (ok && compound_head(m, page) != head) {
      report(page, "compound_head not consistent");
      ok = false;
    }
    (void)ok;
  }
  // Teardown: every tail stops being a tail, the head stops being a head.
  store_struct_pages(m, m.page_to_pfn(head) + 1, m.page_to_pfn(head) + n,
                     {{sp::kMapping, kAll, FieldSpec{0}}, {sp::kCompoundHead, kAll, FieldSpec{0}}},
                     "free_tail_page_prepare");
  clear_page_flag(m, head, sp::PG_head, "free_pages_prepare");
  return bad;
}

}  // namespace hvo
