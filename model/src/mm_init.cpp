// SPDX-License-Identifier: GPL-2.0-only
//
// ZONE_DEVICE struct page initialisation, Debian 6.12.117 mm/mm_init.c
// (cited "l.N").
#include "hvo/mm_init.h"

#include <optional>
#include <utility>
#include <vector>

#include "hvo/compound.h"
#include "hvo/machine.h"
#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "hvo/sparse_vmemmap.h"
#include "hvo/struct_page.h"
#include "hvo/struct_page_range.h"

namespace hvo {

namespace {

constexpr unsigned kZoneDevice = static_cast<unsigned>(ZoneType::Device);

// The same masked store into word @field of every struct page of pfns
// [a, b), a vmemmap page at a time (see struct_page_range.h).
void store_field_range(Machine &m, uint64_t a, uint64_t b, unsigned field, uint64_t mask,
                       uint64_t value, const char *who) {
  store_struct_pages(m, a, b, {{field, mask, FieldSpec{value}}}, who);
}

// What __init_zone_device_page (l.993-1023) stores into each struct page,
// in order: __init_single_page, __SetPageReserved, page->pgmap (word 1),
// page->zone_device_data (word 2).  FS_DAX / GENERIC pgmaps keep the
// initial refcount of 1.
std::vector<Mmu::FieldStore> zone_device_page_stores(unsigned nid, const DevPagemap &pgmap) {
  std::vector<Mmu::FieldStore> st = init_single_page_stores(kZoneDevice, nid);
  const uint64_t reserved = uint64_t{1} << sp::PG_reserved;
  st.push_back({sp::kFlags, reserved, FieldSpec{reserved}});
  st.push_back({sp::kCompoundHead, ~uint64_t{0}, FieldSpec{pgmap.kernel_address()}});
  st.push_back({sp::kLruPrev, ~uint64_t{0}, FieldSpec{0}});
  return st;
}

// __init_zone_device_page for pfns [a, b): one pass stores all of it a
// struct page after another, as the kernel's loop does: a read-only or
// unmapped vmemmap page faults at __init_single_page's first store.
void init_zone_device_pages(Machine &m, uint64_t a, uint64_t b,
                            const std::vector<Mmu::FieldStore> &init) {
  store_struct_pages(m, a, b, init, "__init_single_page");
}

// The stores one memmap_init_zone_device makes again and again, built once
// (the fast path; see memmap_init_zone_device).
struct ZoneDeviceStores {
  std::vector<Mmu::FieldStore> init;  // __init_zone_device_page
  // init, prep_compound_tail and set_page_count(page, 0) of a tail >= 2 of
  // an aligned compound page, composed into one store per field (empty:
  // not composable, or the reference path is asked for).
  std::vector<Mmu::FieldStore> tail;
  // init and __SetPageHead of a head, composed likewise (empty: as above).
  std::vector<Mmu::FieldStore> head;
  Mmu::StoreMemo tail_memo;  // shared by every compound page's tail store
  // What the composed stores leave in the first vmemmap page of a compound
  // page (see FirstPageImage below).
  struct {
    bool eligible = false;    // decided once per call (first_page_eligible)
    bool verified = false;    // a second page agreed: the image may be reused
    uint32_t image = ImagePool::kNone;  // one reference held while set
  } first_page;
};

// Whether the first vmemmap page of an aligned compound page ends the same
// whatever it held before: a power-of-two struct page (every page holds
// whole struct pages, a field at the same words in each) and head and tail
// lists that store every word of a struct page under a full mask, the
// head's all literals (what slot 0 ends with does not depend on where the
// page is).  Slot 1 takes the tail list, then prep_compound_head; slots 2..
// the tail list after that (which overwrites prep_compound_head's
// _deferred_list in slot 2).
bool first_page_eligible(const Machine &m, const ZoneDeviceStores &st) {
  if (!m.cfg.struct_page_pow2() || st.head.empty() || st.tail.empty())
    return false;
  const unsigned W = m.cfg.words_per_struct_page();
  auto covers_all = [&](const std::vector<Mmu::FieldStore> &list, bool literal) {
    uint64_t seen = 0;
    for (const Mmu::FieldStore &s : list) {
      if (s.field >= W || s.mask != ~uint64_t{0} || (literal && s.value.rel != FieldRel::None))
        return false;
      seen |= uint64_t{1} << s.field;
    }
    return seen == (uint64_t{1} << W) - 1;
  };
  return covers_all(st.head, true) && covers_all(st.tail, false);
}

// The first vmemmap page of an aligned compound page, made by the composed
// stores below, is one image: the tail list's fields (a pure image; its
// address-relative fields evaluate at each page's own origin) with slots 0
// and 1 overridden by literals (the head list's, which are literal by
// first_page_eligible; tail 1's with prep_compound_head's order, counts and
// mapcounts on top).  first_page_image builds that image from a page the
// stores have just made, and returns kNone unless it reproduces every word
// of it.
uint32_t first_page_image(Machine &m, FrameId f, uint64_t vpn, const ZoneDeviceStores &st) {
  ImagePool &images = m.phys.images();
  ImagePool::Fields fields{};
  for (const Mmu::FieldStore &s : st.tail)
    fields[s.field] = s.value;
  uint32_t image = images.intern(fields);
  const uint64_t n = m.cfg.words_per_page(), slot01 = 2 * m.cfg.words_per_struct_page();
  for (uint64_t w = 0; w < slot01 && w < n; w++) {
    const uint64_t v = m.phys.read_word(f, w);
    if (v != images.word(image, vpn, w)) {
      image = images.unshare(image);
      images.store_word(image, vpn, w, v);
    }
  }
  std::vector<uint64_t> scratch;
  const FrameRec &r = std::as_const(m.phys).frame(f);
  if (!images.same_page(r.image, r.origin_vpn, image, vpn, scratch) ||
      !images.at(image).dense.empty()) {
    images.put(image);
    return ImagePool::kNone;
  }
  return image;
}

// After the composed stores made the first vmemmap page at `head` the slow
// way: the first such page proposes its image, the second must equal that
// image at its own origin word for word (so slots 0 and 1 do not depend on
// where the page is: a literal per word); from the third on the image is
// reused.  Any disagreement turns the reuse off for this call.
void learn_first_page_image(Machine &m, uint64_t head, ZoneDeviceStores &st) {
  const FrameId f = m.mmu.translate(head).pte.frame;
  const uint64_t vpn = (head - m.cfg.vmemmap_base) >> m.cfg.page_shift;
  ImagePool &images = m.phys.images();
  if (st.first_page.image == ImagePool::kNone) {
    st.first_page.image = first_page_image(m, f, vpn, st);
    if (st.first_page.image == ImagePool::kNone)
      st.first_page.eligible = false;
    return;
  }
  std::vector<uint64_t> scratch;
  const FrameRec &r = std::as_const(m.phys).frame(f);
  st.first_page.verified =
      images.same_page(r.image, r.origin_vpn, st.first_page.image, vpn, scratch);
  st.first_page.eligible = st.first_page.verified;
}

// What the composed stores below do to the first vmemmap page at `head`,
// given the image they leave there (learn_first_page_image): the frame takes
// it, made for this page, and is touched, as the stores' first access would.
void reuse_first_page_image(Machine &m, uint64_t head, uint32_t image) {
  const FrameId f = m.mmu.translate(head).pte.frame;
  m.phys.images().get(image);
  m.phys.set_image(f, image, (head - m.cfg.vmemmap_base) >> m.cfg.page_shift);
  m.phys.touch(f);
}

// The fast path of one aligned compound page whose struct pages all lie in
// read-write vmemmap pages (nothing can fault): the head's
// __init_zone_device_page and __SetPageHead as one composed store list,
// tail 1's stores as the tails' composed list (prep_compound_tail(head, 1)
// stores what it stores into every tail of an aligned folio), then
// prep_compound_head, then tails 2.. as memmap_init_compound's fast path.
// The order of the kernel's groups is kept (prep_compound_head after tail
// 1, before tail 2, whose init overwrites its _deferred_list words); within
// a struct page only stores to different words were reordered.
void memmap_init_compound_composed(Machine &m, uint64_t head_pfn, unsigned order,
                                   uint64_t nr_pages, ZoneDeviceStores &st) {
  const uint64_t spp = m.cfg.spp(), head = m.page(head_pfn);
  const bool whole_first_page =
      st.first_page.eligible && nr_pages >= spp && head % m.cfg.page_size() == 0;
  if (whole_first_page && st.first_page.verified) {
    reuse_first_page_image(m, head, st.first_page.image);
    if (nr_pages > spp)
      store_struct_pages(m, head_pfn + spp, head_pfn + nr_pages, st.tail, "__init_single_page",
                         st.tail_memo);
    zone_device_composed_stores++;
    zone_device_first_page_reuses++;
    return;
  }
  store_struct_pages(m, head_pfn, head_pfn + 1, st.head, "__init_single_page");
  if (nr_pages < 2)
    return;
  store_struct_pages(m, head_pfn + 1, head_pfn + 2, st.tail, "__init_single_page");
  prep_compound_head(m, m.page(head_pfn), order);
  if (nr_pages > 2)
    store_struct_pages(m, head_pfn + 2, head_pfn + nr_pages, st.tail, "__init_single_page",
                       st.tail_memo);
  zone_device_composed_stores++;
  if (whole_first_page)
    learn_first_page_image(m, head, st);
}

// memmap_init_compound (l.1050-1075).  The kernel loops tail by tail; the
// model does tail 1 alone (prep_compound_head must follow it, because tail 1
// holds folio data) and tails 2.. together, which leaves the same bytes:
// every later tail's stores happen after prep_compound_head in both.
void memmap_init_compound(Machine &m, uint64_t head, uint64_t head_pfn, const DevPagemap &pgmap,
                          uint64_t nr_pages, ZoneDeviceStores &st) {
  const unsigned order = pgmap.vmemmap_shift;
  const uint64_t end_pfn = head_pfn + nr_pages;
  set_page_flag(m, head, sp::PG_head, "__SetPageHead");
  if (nr_pages < 2)
    return;
  init_zone_device_pages(m, head_pfn + 1, head_pfn + 2, st.init);
  prep_compound_tail(m, head, 1, order);
  set_page_count(m, m.page(head_pfn + 1), 0, "memmap_init_compound");
  prep_compound_head(m, head, order);
  if (end_pfn <= head_pfn + 2)
    return;
  const bool aligned = (head_pfn & ((uint64_t{1} << order) - 1)) == 0;
  if (aligned && !st.tail.empty() && struct_pages_writable(m, head_pfn + 2, end_pfn)) {
    // Fast path: the three passes below as one.  Each tail receives the
    // same three groups of stores, and no store reads memory; with every
    // vmemmap page writable nothing faults, so each word ends with the last
    // of its stores over the bits of the earlier ones, which is what the
    // composed list stores (compose_field_stores), a vmemmap page at a time
    // as the passes do: the same frames, touched in the same order.
    store_struct_pages(m, head_pfn + 2, end_pfn, st.tail, "__init_single_page", st.tail_memo);
    zone_device_composed_stores++;
    return;
  }
  init_zone_device_pages(m, head_pfn + 2, end_pfn, st.init);
  if (aligned) {
    prep_compound_tails(m, head, order, 2, nr_pages);
  } else {
    // A head that is not naturally aligned (an altmap whose size is not a
    // multiple of the compound size): the bulk form assumes alignment, so
    // tail by tail, as the kernel does anyway.
    for (uint64_t i = 2; i < nr_pages; i++)
      prep_compound_tail(m, head, i, order);
  }
  store_field_range(m, head_pfn + 2, end_pfn, sp::kCounts, 0xffffffff00000000ull, 0,
                    "memmap_init_compound");
}

} // namespace

// l.1034-1048.
uint64_t compound_nr_pages(const Machine &m, const HotplugState &hp, uint64_t pfn,
                           const DevPagemap &pgmap) {
  // DAX hot-plugged into an unoccupied subsection of an early section reuses
  // the unoptimized boot memmap.
  const bool early = hp.sections.in_range(pfn) && hp.sections.pfn_to_section(pfn).early;
  if (m.cfg.era == Era::SharedTail && m.cfg.variant == Variant::Muchun) {
    // MS: only the head's vmemmap page is private; the shared tail is
    // initialised once, by vmemmap_shared_tail_page, and mapped read-only,
    // so memmap_init must stop at VMEMMAP_OPTIMIZATION_NR_STRUCT_PAGES
    // (kernel-reference 3.3; the MS body of this function was not read).
    const MemSection *ms = hp.sections.in_range(pfn) ? &hp.sections.pfn_to_section(pfn) : nullptr;
    if (early || !ms ||
        !vmemmap_optimizable_order(vmemmap_geometry(m.cfg), ms->compound_order))
      return pgmap_vmemmap_nr(pgmap);
    // Historic bug MemmapInitSharedTail: this function left as 6.12 had it
    // (head page plus the reserved tail page), so memmap_init writes the
    // second vmemmap page, which is now the zone's read-only shared tail.
    if (m.cfg.has(Bug::MemmapInitSharedTail))
      return VMEMMAP_RESERVE_NR * m.cfg.spp();
    return m.cfg.spp();
  }
  if (early || !vmemmap_can_optimize(m, &pgmap))
    return pgmap_vmemmap_nr(pgmap);
  return VMEMMAP_RESERVE_NR * m.cfg.spp();
}

// l.864-928, the ZONE_DEVICE branch.
void memmap_init_range_zone_device(Machine &m, uint64_t start_pfn, uint64_t nr_pages,
                                   unsigned nid, const DevPagemap &pgmap) {
  if (!pgmap.altmap)
    return;
  const VmemAltmap &a = *pgmap.altmap;
  (void)nr_pages;  // the range is replaced by the altmap's own pfns
  if (start_pfn == a.base_pfn)
    start_pfn += a.reserve;
  const uint64_t end_pfn = a.base_pfn + a.reserve + a.free;  // vmem_altmap_offset
  if (start_pfn >= end_pfn)
    return;
  init_single_pages(m, start_pfn, end_pfn, kZoneDevice, nid);
  store_field_range(m, start_pfn, end_pfn, sp::kFlags, uint64_t{1} << sp::PG_reserved,
                    uint64_t{1} << sp::PG_reserved, "memmap_init_range");
}

// l.1077-1122.
void memmap_init_zone_device(Machine &m, const HotplugState &hp, unsigned nid,
                             uint64_t start_pfn, uint64_t nr_pages, const DevPagemap &pgmap) {
  const uint64_t end_pfn = start_pfn + nr_pages;
  const uint64_t pfns_per_compound = pgmap_vmemmap_nr(pgmap);
  // memmap_init_range already initialised the pfns that hold the altmap.
  if (pgmap.altmap)
    start_pfn = pgmap.altmap->base_pfn + pgmap.altmap->reserve + pgmap.altmap->free;
  ZoneDeviceStores st;
  st.init = zone_device_page_stores(nid, pgmap);
  const bool fast = !zone_device_init_reference;
  if (fast && pfns_per_compound == 1 && struct_pages_writable(m, start_pfn, end_pfn)) {
    // Fast path: the loop below makes the same stores into every struct
    // page of [start_pfn, end_pfn), one after another; with nothing to
    // fault, one range store leaves the same memory (store_struct_pages is
    // pinned to that loop).
    init_zone_device_pages(m, start_pfn, end_pfn, st.init);
    zone_device_composed_stores++;
    return;
  }
  if (fast && pfns_per_compound > 1) {
    std::optional<std::vector<Mmu::FieldStore>> tail =
        compose_field_stores(st.init, prep_compound_tail_stores(m, pgmap.vmemmap_shift));
    if (tail)
      tail = compose_field_stores(*tail, {{sp::kCounts, 0xffffffff00000000ull, FieldSpec{0}}});
    if (tail)
      st.tail = std::move(*tail);
    const uint64_t head_bit = uint64_t{1} << sp::PG_head;
    std::optional<std::vector<Mmu::FieldStore>> head =
        compose_field_stores(st.init, {{sp::kFlags, head_bit, FieldSpec{head_bit}}});
    if (head && !st.tail.empty())
      st.head = std::move(*head);
    st.first_page.eligible = first_page_eligible(m, st);
  }
  for (uint64_t pfn = start_pfn; pfn < end_pfn; pfn += pfns_per_compound) {
    const uint64_t page = m.page(pfn);
    if (!st.head.empty() && (pfn & (pfns_per_compound - 1)) == 0) {
      const uint64_t nr = compound_nr_pages(m, hp, pfn, pgmap);
      if (struct_pages_writable(m, pfn, pfn + nr)) {
        memmap_init_compound_composed(m, pfn, pgmap.vmemmap_shift, nr, st);
        continue;
      }
    }
    init_zone_device_pages(m, pfn, pfn + 1, st.init);
    if (pfns_per_compound == 1)
      continue;
    // Not clamped to end_pfn, as in the kernel: a range that ends inside a
    // compound page has its last compound page initialised past its end.
    memmap_init_compound(m, page, pfn, pgmap, compound_nr_pages(m, hp, pfn, pgmap), st);
  }
  m.mmu.release_memo(st.tail_memo);
  if (st.first_page.image != ImagePool::kNone)
    m.phys.images().put(st.first_page.image);
}

} // namespace hvo
