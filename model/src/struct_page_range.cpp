// SPDX-License-Identifier: GPL-2.0-only
//
// Stores into every struct page of a pfn range (see struct_page_range.h).
#include "hvo/struct_page_range.h"

#include <algorithm>

namespace hvo {

namespace {

using FieldStore = Mmu::FieldStore;

// What a FieldSpec stores into the struct page of `pfn`.
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

// Whether a store to the vmemmap page at `p` goes through (mapped read-write).
bool writable(const Machine &m, uint64_t p) {
  const Translation t = m.mmu.translate(p);
  return t.pte.present() && !t.pte.ro;
}

// The first of the stores `st` into pfns [lo, hi) that lands in the
// vmemmap page at `p` (with struct pages that straddle two vmemmap pages,
// the first struct page's first fields may live in the page before).
void first_store(Machine &m, uint64_t p, uint64_t lo, uint64_t hi,
                 const std::vector<FieldStore> &st, const char *who) {
  const uint64_t ps = m.cfg.page_size();
  for (uint64_t pfn = lo; pfn < hi; pfn++)
    for (const FieldStore &s : st) {
      const uint64_t addr = m.page(pfn) + 8 * s.field;
      if (addr >= p && addr < p + ps) {
        m.mmu.write_masked(addr, s.mask, eval_for_slot(m, s.value, pfn), who);
        return;
      }
    }
}

// Struct pages of a vmemmap page outside the range up to which the page is
// still stored in bulk (see below).
constexpr uint64_t kMaxOutsideSlots = 8;

}  // namespace

void store_struct_pages(Machine &m, uint64_t a, uint64_t b, const std::vector<FieldStore> &st,
                        const char *who) {
  Mmu::StoreMemo memo;
  store_struct_pages(m, a, b, st, who, memo);
  m.mmu.release_memo(memo);
}

void store_struct_pages(Machine &m, uint64_t a, uint64_t b, const std::vector<FieldStore> &st,
                        const char *who, Mmu::StoreMemo &memo) {
  if (a >= b)
    return;
  const uint64_t ps = m.cfg.page_size();
  uint64_t start = m.page(a), end = m.page(b);
  for (uint64_t p = start & ~(ps - 1); p < end; p += ps) {
    uint64_t first_slot = m.page_to_pfn(p);                      // touching p's first byte
    uint64_t last_slot = m.page_to_pfn(p + ps - 1);              // touching p's last byte
    uint64_t lo = std::max(a, first_slot), hi = std::min(b, last_slot + 1);
    if (!writable(m, p)) {
      // The kernel oopses at the loop's first store into this page: that
      // store records the fault, and nothing after it reaches the page.
      first_store(m, p, lo, hi, st, who);
      continue;
    }
    if (first_slot >= a && last_slot < b) {
      m.mmu.store_fields_page(p, st, memo, who);
      continue;
    }
    const uint64_t outside = (last_slot + 1 - first_slot) - (hi - lo);
    if (m.cfg.struct_page_pow2() ? outside <= kMaxOutsideSlots
                                  : !bulk_except_reference && outside <= hi - lo) {
      // Mostly inside (a folio's first vmemmap page: all but the head): one
      // bulk store that leaves the outside struct pages' words alone, so the
      // frame keeps a compact image instead of one override per word.  With
      // a struct page that is not a power of two the loop below would leave
      // one override per word anyway (the frame soon goes dense), so such a
      // page is stored in bulk when at least half of its struct pages are in
      // the range (a bulk store costs a pass over the page per field, too
      // much for one struct page): a compound page's first vmemmap page
      // there holds its head and first tail, stored apart, and its tails 2..
      // were stored slot by slot, 10 fields each, ~200 per 16K page, though
      // only two struct pages lie outside.  The words listed are only
      // those in this page: a struct page that straddles the page boundary
      // has the rest of its words in the neighbouring page.
      // The loop touches the page only if one of its stores lands there; a
      // range whose only struct page here straddles in from (or out to) a
      // neighbour may have none of the stored fields in this page.
      bool lands = false;
      for (uint64_t pfn = lo; pfn < hi && !lands; pfn++)
        for (const FieldStore &s : st) {
          const uint64_t addr = m.page(pfn) + 8 * s.field;
          lands |= addr >= p && addr < p + ps;
        }
      if (!lands)
        continue;
      // Kept across calls: a list per page was an allocation per page.
      static thread_local std::vector<uint32_t> untouched;
      untouched.clear();
      for (uint64_t pfn = first_slot; pfn <= last_slot; pfn++)
        if (pfn < lo || pfn >= hi)
          for (const FieldStore &s : st) {
            const uint64_t addr = m.page(pfn) + 8 * s.field;
            if (addr >= p && addr < p + ps)
              untouched.push_back(static_cast<uint32_t>((addr - p) / 8));
          }
      bulk_except_nonpow2_pages += !m.cfg.struct_page_pow2();
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
}

bool struct_pages_writable(const Machine &m, uint64_t a, uint64_t b) {
  if (a >= b)
    return true;
  const uint64_t ps = m.cfg.page_size();
  for (uint64_t p = m.page(a) & ~(ps - 1); p < m.page(b); p += ps)
    if (!writable(m, p))
      return false;
  return true;
}

std::optional<std::vector<FieldStore>> compose_field_stores(const std::vector<FieldStore> &first,
                                                            const std::vector<FieldStore> &second) {
  std::vector<std::optional<FieldStore>> by_field(kMaxStructPageWords);
  for (const std::vector<FieldStore> *list : {&first, &second})
    for (const FieldStore &s : *list) {
      if (s.field >= kMaxStructPageWords)
        return std::nullopt;
      std::optional<FieldStore> &acc = by_field[s.field];
      if (!acc || s.mask == ~uint64_t{0}) {
        acc = s;  // the first store, or one that overwrites every bit
        continue;
      }
      if (acc->value.rel != FieldRel::None || s.value.rel != FieldRel::None)
        return std::nullopt;
      // ((w & ~m1) | (v1 & m1)) & ~m2 | (v2 & m2), as one store under m1 | m2.
      acc->value.literal = (acc->value.literal & acc->mask & ~s.mask) | (s.value.literal & s.mask);
      acc->mask |= s.mask;
    }
  std::vector<FieldStore> out;
  for (const std::optional<FieldStore> &s : by_field)
    if (s)
      out.push_back(*s);
  return out;
}

void fill_struct_pages(Machine &m, uint64_t a, uint64_t b, uint64_t word, const char *who) {
  std::vector<FieldStore> st;
  for (unsigned f = 0; f < m.cfg.words_per_struct_page(); f++)
    st.push_back({f, ~uint64_t{0}, FieldSpec{word}});
  store_struct_pages(m, a, b, st, who);
}

void store_struct_pages_one_by_one(Machine &m, uint64_t a, uint64_t b,
                                   const std::vector<FieldStore> &st, const char *who) {
  for (uint64_t pfn = a; pfn < b; pfn++)
    for (const FieldStore &s : st)
      m.mmu.write_masked(m.page(pfn) + 8 * s.field, s.mask, eval_for_slot(m, s.value, pfn), who);
}

uint64_t uniform_struct_page_words(const Machine &m, uint64_t va, uint64_t p0, uint64_t count,
                                   std::span<const unsigned> fields, uint64_t *values) {
  // Word w of a frame made for vmemmap page `origin` is, unless overridden,
  // its field (origin * words-per-page + w) % W evaluated at slot
  // (origin * words-per-page + w) / W (ImagePool::word); one struct page
  // further on is W words further on: the same field, one slot on.  A field
  // is the same in every slot of a run when it is a literal, or the head of
  // an aligned folio the whole run lies in (FieldRel::FolioHead); a Self
  // field differs in every slot.
  const Translation t = m.pt.translate(va);
  if (!t.pte.present())
    return 0;
  const FrameRec &r = m.phys.frame(t.pte.frame);
  const Image &im = m.phys.images().at(r.image);
  if (!im.dense.empty())
    return 0;
  const uint64_t wpp = m.cfg.page_size() / 8, W = m.cfg.words_per_struct_page();
  const uint64_t first_word = (p0 - va) / 8;
  const auto ov = std::lower_bound(
      im.overrides.begin(), im.overrides.end(), first_word,
      [](const std::pair<uint32_t, uint64_t> &o, uint64_t w) { return o.first < w; });
  if (ov != im.overrides.end())
    count = std::min(count, (ov->first - first_word) / W);
  if (count == 0)
    return 0;
  for (size_t i = 0; i < fields.size(); i++) {
    const uint64_t w0 = first_word + fields[i];
    const uint64_t g0 = uint64_t{r.origin_vpn} * wpp + w0;
    const FieldSpec &fs = im.fields[g0 % W];
    const uint64_t first_slot = g0 / W, last_slot = first_slot + count - 1;
    if (!(fs.rel == FieldRel::None ||
          (fs.rel == FieldRel::FolioHead && fs.order < 64 &&
           first_slot >> fs.order == last_slot >> fs.order)))
      return 0;
    values[i] = m.phys.read_word(t.pte.frame, w0);
  }
  return count;
}

}  // namespace hvo
