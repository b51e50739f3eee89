// SPDX-License-Identifier: GPL-2.0-only
//
// struct page accesses through the simulated MMU (see mmu.h).
#include "hvo/mmu.h"

#include <utility>

namespace hvo {

// A frame made for vmemmap page o holds, in word w of slot s, its image's
// field evaluated at the global slot o * SPP + s: a literal, or a literal
// plus the address of that struct page (Self) or of the head of its aligned
// order-k folio (FolioHead); or an override, a literal word.  Seen from
// vmemmap page v the same words need each relative field's literal raised
// by the difference of those addresses, which with a power-of-two struct
// page is one constant per field: (o - v) * PAGE_SIZE for Self, and for
// FolioHead the difference of the folio heads of slot 0 of each page (when
// 2^k <= SPP the folio lies inside the page and that is again (o - v) *
// PAGE_SIZE; when 2^k > SPP every slot of a page has the head of slot 0).
// Overrides stay as they are.  So an image that is not dense is moved by
// shifting its relative fields; the rebase checks the result word for word
// and otherwise falls back to PhysMem::rebase, which keeps the words as a
// dense copy (4 KiB per frame, and a fresh chunk each time under ASan).
// Same words, same origin afterwards; only the description differs.
void Mmu::rebase(FrameId f, uint64_t vpn) {
  const FrameRec &r = std::as_const(phys_).frame(f);
  ImagePool &images = phys_.images();
  if (rebase_reference || r.origin_vpn == vpn || !cfg_.struct_page_pow2() ||
      !images.at(r.image).dense.empty()) {
    phys_.rebase(f, vpn);
    return;
  }
  const uint64_t o = r.origin_vpn, spp = cfg_.spp(), S = cfg_.struct_page_size;
  const uint32_t was = r.image;
  ImagePool::Fields fields = images.at(was).fields;
  for (FieldSpec &fs : fields) {
    if (fs.rel == FieldRel::Self) {
      fs.literal += (o - vpn) * spp * S;
    } else if (fs.rel == FieldRel::FolioHead) {
      const uint64_t keep = ~((uint64_t{1} << fs.order) - 1);
      fs.literal += (((o * spp) & keep) - ((vpn * spp) & keep)) * S;
    }
  }
  // (intern and unshare may add images: no Image reference is held across.)
  uint32_t moved = images.intern(fields);
  if (!images.at(was).overrides.empty()) {
    // The overrides, literal words, go on top of the shifted fields.
    moved = images.unshare(moved);
    for (size_t i = 0; i < images.at(was).overrides.size(); i++) {
      const auto [w, v] = images.at(was).overrides[i];
      images.store_word(moved, vpn, w, v);
    }
  }
  if (!images.same_page(was, o, moved, vpn, page_words_)) {
    images.put(moved);
    phys_.rebase(f, vpn);
    return;
  }
  phys_.set_image(f, moved, vpn);
  pure_rebases++;
}

uint64_t Mmu::read(uint64_t vaddr, const char *who) {
  Translation t = pt_.translate(vaddr);
  if (!t.pte.present()) {
    faults.push_back(Fault{Fault::Kind::Unmapped, vaddr, kNoFrame, 0, 0, who});
    return 0;
  }
  return phys_.read_word(t.pte.frame, (vaddr & (cfg_.page_size() - 1)) / 8);
}

bool Mmu::write(uint64_t vaddr, uint64_t value, const char *who) {
  return write_masked(vaddr, ~uint64_t{0}, value, who);
}

bool Mmu::write_masked(uint64_t vaddr, uint64_t mask, uint64_t value, const char *who) {
  Translation t = pt_.translate(vaddr);
  uint64_t w = (vaddr & (cfg_.page_size() - 1)) / 8;
  if (!t.pte.present()) {
    faults.push_back(Fault{Fault::Kind::Unmapped, vaddr, kNoFrame, 0, value, who});
    return false;
  }
  uint64_t old = phys_.read_word(t.pte.frame, w);
  uint64_t nv = (old & ~mask) | (value & mask);
  if (t.pte.ro) {
    faults.push_back(Fault{Fault::Kind::RoWrite, vaddr, t.pte.frame, old, nv, who});
    return false;
  }
  if (nv != old)
    phys_.write_word(t.pte.frame, w, nv);
  phys_.touch(t.pte.frame);
  return true;
}

bool Mmu::store_field_page(uint64_t page_vaddr, unsigned field, uint64_t mask, FieldSpec value,
                           const char *who) {
  Translation t = pt_.translate(page_vaddr);
  if (!t.pte.present()) {
    faults.push_back(Fault{Fault::Kind::Unmapped, page_vaddr, kNoFrame, 0, value.literal, who});
    return false;
  }
  if (t.pte.ro) {
    // Report the first struct page the loop would have hit.
    uint64_t first = page_vaddr + (field * 8);
    uint64_t w = (first & (cfg_.page_size() - 1)) / 8;
    faults.push_back(Fault{Fault::Kind::RoWrite, first, t.pte.frame,
                           phys_.read_word(t.pte.frame, w), value.literal, who});
    return false;
  }
  if (value.rel != FieldRel::None)
    rebase(t.pte.frame, (page_vaddr - cfg_.vmemmap_base) >> cfg_.page_shift);
  phys_.store_field_all(t.pte.frame, field, mask, value);
  phys_.touch(t.pte.frame);
  return true;
}

bool Mmu::store_fields_page(uint64_t page_vaddr, const std::vector<FieldStore> &stores,
                            StoreMemo &memo, const char *who) {
  Translation t = pt_.translate(page_vaddr);
  if (!t.pte.present() || t.pte.ro || stores.empty())
    return stores.empty() || store_field_page(page_vaddr, stores[0].field, stores[0].mask,
                                              stores[0].value, who);  // records the fault
  const uint64_t vpn = (page_vaddr - cfg_.vmemmap_base) >> cfg_.page_shift;
  FrameRec &r = phys_.frame(t.pte.frame);
  bool relative = false;
  for (const FieldStore &s : stores)
    relative |= s.value.rel != FieldRel::None;
  if (relative && r.origin_vpn != vpn) {
    // Contents made for another vmemmap page (a copy): address-relative
    // values must be computed for where the stores land.
    rebase(t.pte.frame, vpn);
  } else if (r.image == memo.old_image && memo.new_image != UINT32_MAX) {
    phys_.images().get(memo.new_image);
    phys_.images().put(r.image);
    r.image = memo.new_image;
    phys_.touch(t.pte.frame);
    return true;
  }
  uint32_t before = r.image;
  phys_.images().get(before);  // keep it alive to remember it
  if (!store_fields_pure(r, stores))
    for (const FieldStore &s : stores)
      phys_.store_field_all(t.pte.frame, s.field, s.mask, s.value);
  phys_.touch(t.pte.frame);
  // A pure result is hash-consed and may be reused.  So may any other
  // result (the frames of a restored folio are copies of one page, with
  // overrides or dense words) when nothing in it depends on this frame's
  // origin: literal stores; a struct page layout that is the same in every
  // vmemmap page (a power-of-two struct page), so a field's words are the
  // same words in every frame; and no dense words materialised by this
  // store from origin-relative fields.  Frames then share the result by
  // reference until one is written (ImagePool::unshare).  The memo holds a
  // reference on both ids so neither is recycled meanwhile.
  release_memo(memo);
  const Image &was = phys_.images().at(before), &result = phys_.images().at(r.image);
  const bool origin_free = !relative && cfg_.struct_page_pow2() &&
                           (result.dense.empty() || !was.dense.empty());
  if (result.pure() || origin_free) {
    memo.old_image = before;  // keeps the reference taken above
    memo.new_image = r.image;
    phys_.images().get(r.image);
  } else {
    phys_.images().put(before);
  }
  return true;
}

bool Mmu::store_fields_pure(FrameRec &r, const std::vector<FieldStore> &stores) {
  // PhysMem::store_field_all on a pure image interns the image with one
  // more field stored (ImagePool::with_field): store after store, each
  // intermediate description interned and dropped again.  When every store
  // is expressible per field, the chain ends with the image of the final
  // description, so that is interned once.  Otherwise the chain runs.
  ImagePool &images = phys_.images();
  if (!images.at(r.image).pure())
    return false;
  ImagePool::Fields fields = images.at(r.image).fields;
  for (const FieldStore &s : stores)
    if (!ImagePool::store_into_fields(fields, s.field, s.mask, s.value))
      return false;
  const uint32_t result = images.intern(fields);
  images.put(r.image);
  r.image = result;
  return true;
}

bool Mmu::store_fields_page_except(uint64_t page_vaddr, const std::vector<FieldStore> &stores,
                                   const std::vector<uint32_t> &untouched, const char *who) {
  Translation t = pt_.translate(page_vaddr);
  if (!t.pte.present() || t.pte.ro || stores.empty())
    return stores.empty() || store_field_page(page_vaddr, stores[0].field, stores[0].mask,
                                              stores[0].value, who);  // records the fault
  const uint64_t vpn = (page_vaddr - cfg_.vmemmap_base) >> cfg_.page_shift;
  FrameId f = t.pte.frame;
  std::vector<std::pair<uint32_t, uint64_t>> &keep = kept_words_;
  keep.clear();
  for (uint32_t w : untouched)
    keep.emplace_back(w, phys_.read_word(f, w));
  for (const FieldStore &s : stores) {
    if (s.value.rel != FieldRel::None)
      rebase(f, vpn);
    phys_.store_field_all(f, s.field, s.mask, s.value);
  }
  for (auto [w, v] : keep)
    if (phys_.read_word(f, w) != v)
      phys_.write_word(f, w, v);
  phys_.touch(f);
  return true;
}

void Mmu::release_memo(StoreMemo &memo) {
  if (memo.old_image != UINT32_MAX) {
    phys_.images().put(memo.old_image);
    phys_.images().put(memo.new_image);
  }
  memo = StoreMemo{};
}

}  // namespace hvo
