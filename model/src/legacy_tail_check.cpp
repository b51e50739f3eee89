// SPDX-License-Identifier: GPL-2.0-only
//
// The legacy era's tail checks of one folio (see legacy_tail_check.h).  The
// reference reads every slot as the kernel does; the fast path reads a
// vmemmap page at a time and decides most pages from the image's field
// descriptions.  tests/fastpath/legacy_folio_check_test.cpp pins one to the
// other.
#include "hvo/legacy_tail_check.h"

#include <cstdio>
#include <string>

#include "hvo/machine.h"
#include "hvo/struct_page.h"

namespace hvo {

namespace {

constexpr uint64_t kTailMetadataSlots = 4;  // head + 3 folio-overlay tails (NR_RESET_STRUCT_PAGE)
// The flags bits a tail shares with its head: zone and node (and section).
constexpr uint64_t kLinksMask = ~((uint64_t{1} << sp::kNodesPgShift) - 1);

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// Counts, caps and words the reports of one folio's tails.  The reports are
// built out of line so that the loops calling check() keep small frames
// (under ASan, a frame full of std::string temporaries costs a fake-stack
// allocation per call).
class TailReporter {
public:
  TailReporter(const HugetlbFolio &f, uint64_t h, uint64_t ps, uint64_t spp, bool opt, bool key,
               uint64_t head_flags, size_t cap, std::vector<Violation> &out)
      : f_(f), h_(h), ps_(ps), spp_(spp), opt_(opt), key_(key), zone_(sp::flags_zone(head_flags)),
        nid_(sp::flags_nid(head_flags)), cap_(cap), out_(out) {}

  // What the oracle says about tail slot @idx at @p that reads as @v.
  void check(uint64_t p, uint64_t idx, const SlotView &v) {
    const uint64_t resolved = v.kind == SlotView::Self ? p : v.head;
    if (resolved != h_ || v.kind == SlotView::Self)
      if (i1_++ < cap_)
        report_i1(p, idx, v, resolved);
    if (opt_ && idx % spp_ == 0 && idx != 0 && (p & (ps_ - 1)) == 0) {
      const bool head_bit = (v.flags >> sp::PG_head) & 1;
      if (!head_bit || v.kind != SlotView::Fake)
        if (i2_++ < cap_)
          report_i2(p, idx, head_bit);
    }
    if (idx >= kTailMetadataSlots &&
        (sp::flags_zone(v.flags) != zone_ || sp::flags_nid(v.flags) != nid_))
      if (i5_++ < cap_)
        report_i5(p, idx, v.flags);
  }

  // Whether slots that are all Tail of @head with the links @links would
  // make check() report nothing (beyond I2, which only slot 0 of a vmemmap
  // page can take).
  bool clean_tails(uint64_t head, uint64_t links) const {
    return head == h_ && sp::flags_zone(links) == zone_ && sp::flags_nid(links) == nid_;
  }

  [[gnu::noinline]] void report_unmapped(uint64_t page, uint64_t idx) {
    out_.push_back({"I0-unmapped-access", 0, page, f_.pfn + idx, "mapped", "no PTE",
                    "vmemmap page of folio " + std::to_string(f_.id) + " is unmapped"});
  }

  // The "N more" of every id past its cap.
  void finish() {
    note(i1_, "I1-head-resolution");
    note(i2_, "I2-fake-head");
    note(i5_, "I5-zone-node");
  }

private:
  [[gnu::noinline]] void report_i1(uint64_t p, uint64_t idx, const SlotView &v, uint64_t resolved) {
    out_.push_back({"I1-head-resolution", 0, p, f_.pfn + idx, hex(h_), hex(resolved),
                    "tail " + std::to_string(idx) + " of folio " + std::to_string(f_.id) +
                        (v.kind == SlotView::Self ? " is not PageTail" : " resolves to another head")});
  }
  [[gnu::noinline]] void report_i2(uint64_t p, uint64_t idx, bool head_bit) {
    out_.push_back({"I2-fake-head", 0, p, f_.pfn + idx, "fake head (PG_head, key on)",
                    std::string(head_bit ? "PG_head" : "no PG_head") + (key_ ? ", key on" : ", key off"),
                    "slot " + std::to_string(idx) + " of optimized folio " + std::to_string(f_.id) +
                        " is not a fake head"});
  }
  [[gnu::noinline]] void report_i5(uint64_t p, uint64_t idx, uint64_t flags) {
    out_.push_back({"I5-zone-node", 0, p, f_.pfn + idx,
                    "zone " + std::to_string(zone_) + " node " + std::to_string(nid_),
                    "zone " + std::to_string(sp::flags_zone(flags)) + " node " +
                        std::to_string(sp::flags_nid(flags)),
                    "tail " + std::to_string(idx) + " of folio " + std::to_string(f_.id)});
  }
  [[gnu::noinline]] void note(size_t count, const char *id) {
    if (count > cap_)
      out_.push_back({id, 0, h_, f_.pfn, "", "",
                      std::to_string(count - cap_) + " more in folio " + std::to_string(f_.id)});
  }

  const HugetlbFolio &f_;
  const uint64_t h_, ps_, spp_;
  const bool opt_, key_;
  const unsigned zone_, nid_;
  const size_t cap_;
  std::vector<Violation> &out_;
  size_t i1_ = 0, i2_ = 0, i5_ = 0;
};

// The reference: every tail slot read through translate(), as the kernel
// reads it.
void check_tails_reference(Machine &m, const HugetlbFolio &f, bool key, TailReporter &rep) {
  const Config &c = m.cfg;
  const uint64_t S = c.struct_page_size, ps = c.page_size(), spp = c.spp();
  const uint64_t h = m.page(f.pfn), n = uint64_t{1} << f.order;
  for (uint64_t idx = 1; idx < n;) {
    const uint64_t p = h + idx * S, page = p & ~(ps - 1);
    const bool whole = c.struct_page_pow2() && p == page && idx + spp <= n;
    if (whole && !m.pt.translate(page).pte.present()) {
      rep.report_unmapped(page, idx);
      idx += spp;
      continue;
    }
    rep.check(p, idx, legacy_slot_view(m, p, key));
    idx++;
  }
}

// read_word() of whatever maps a vmemmap address, translate() once per
// vmemmap page: translate() depends only on the page (vpn relative to the
// base), the word only on the frame and the offset, and the oracle writes
// nothing, so this equals a translate() per word.
class PageReader {
public:
  explicit PageReader(Machine &m) : m_(m) {}
  uint64_t read(uint64_t vaddr) {
    const uint64_t vpn = (vaddr - m_.cfg.vmemmap_base) >> m_.cfg.page_shift;
    if (vpn != vpn_) {
      vpn_ = vpn;
      const Translation t = m_.pt.translate(vaddr);
      frame_ = t.pte.present() ? t.pte.frame : kNoFrame;
    }
    return frame_ == kNoFrame ? 0 : m_.phys.read_word(frame_, (vaddr & (m_.cfg.page_size() - 1)) / 8);
  }

private:
  Machine &m_;
  uint64_t vpn_ = UINT64_MAX;
  FrameId frame_ = kNoFrame;
};

// legacy_slot_view() through a PageReader.
SlotView slot_view(PageReader &rd, const Config &c, uint64_t p, bool key) {
  SlotView v;
  const uint64_t w1 = rd.read(Machine::field(p, sp::kCompoundHead));
  v.flags = rd.read(Machine::field(p, sp::kFlags));
  if (w1 & 1) {
    v.kind = SlotView::Tail;
    v.head = w1 - 1;
  } else if (key && (p & (c.page_size() - 1)) == 0 && ((v.flags >> sp::PG_head) & 1)) {
    const uint64_t n1 = rd.read(Machine::field(p + c.struct_page_size, sp::kCompoundHead));
    if ((n1 & 1) && n1 - 1 != p) {
      v.kind = SlotView::Fake;
      v.head = n1 - 1;
    }
  }
  return v;
}

// What a frame's contents (image, origin) make of the slots of a vmemmap
// page that lies wholly inside a folio (power-of-two struct page): slot 0's
// view, and whether slots 1 .. SPP-1 are all Tail of one head with one
// zone/node (then none of them can report but through that head and
// zone/node).
struct PageSummary {
  uint32_t image = UINT32_MAX, origin = 0;
  SlotView v0;  // Fake whenever the next slot is tail-encoded: the caller
                // resolves "fake head of itself" against the page address
  bool rest_uniform = false;
  uint64_t rest_head = 0, rest_links = 0;
};

// The view of slot @j (>= 1) of frame contents (@img, @origin): never
// page-aligned, so Tail or Self.
SlotView inner_slot_view(const ImagePool &pool, uint32_t img, uint32_t origin, uint64_t W,
                         uint64_t j) {
  SlotView v;
  const uint64_t w1 = pool.word(img, origin, j * W + sp::kCompoundHead);
  v.flags = pool.word(img, origin, j * W + sp::kFlags);
  if (w1 & 1) {
    v.kind = SlotView::Tail;
    v.head = w1 - 1;
  }
  return v;
}

// A field that evaluates to one value in every slot of a vmemmap page:
// a literal, or the head of an aligned folio at least a page of slots long.
bool same_in_every_slot(const FieldSpec &fs, uint64_t spp) {
  return fs.rel == FieldRel::None ||
         (fs.rel == FieldRel::FolioHead && fs.order < 64 && (uint64_t{1} << fs.order) >= spp);
}

PageSummary summarize(const Machine &m, uint32_t img, uint32_t origin, bool key) {
  const Config &c = m.cfg;
  const ImagePool &pool = m.phys.images();
  const Image &im = pool.at(img);
  const uint64_t W = c.words_per_struct_page(), spp = c.spp();
  PageSummary s;
  s.image = img;
  s.origin = origin;
  {
    const uint64_t w1 = pool.word(img, origin, sp::kCompoundHead);
    s.v0.flags = pool.word(img, origin, sp::kFlags);
    if (w1 & 1) {
      s.v0.kind = SlotView::Tail;
      s.v0.head = w1 - 1;
    } else if (key && ((s.v0.flags >> sp::PG_head) & 1)) {
      const uint64_t n1 = pool.word(img, origin, W + sp::kCompoundHead);
      if (n1 & 1) {
        s.v0.kind = SlotView::Fake;
        s.v0.head = n1 - 1;
      }
    }
  }
  if (spp < 2)
    return s;
  bool uniform = true, first = true;
  auto fold = [&](const SlotView &v) {
    if (first) {
      s.rest_head = v.head;
      s.rest_links = v.flags & kLinksMask;
      first = false;
    }
    uniform = uniform && v.kind == SlotView::Tail && v.head == s.rest_head &&
              (v.flags & kLinksMask) == s.rest_links;
  };
  if (!im.dense.empty() || !same_in_every_slot(im.fields[sp::kCompoundHead], spp) ||
      !same_in_every_slot(im.fields[sp::kFlags], spp)) {
    for (uint64_t j = 1; j < spp && uniform; j++)
      fold(inner_slot_view(pool, img, origin, W, j));
    s.rest_uniform = uniform;
    return s;
  }
  // Decided from the fields: every slot 1 .. SPP-1 whose two words carry no
  // override reads the same (same_in_every_slot), so one of them stands for
  // all; the overridden ones are read one by one.  Overrides are sorted by
  // word, so their slots come in ascending order.
  uint64_t next_plain = 1;  // lowest slot >= 1 not yet known to be overridden
  bool plain_seen = false;
  uint64_t last_overridden = 0;
  for (const auto &[w, value] : im.overrides) {
    const uint64_t j = w / W, field = w % W;
    if (j == 0 || j >= spp || (field != sp::kCompoundHead && field != sp::kFlags) ||
        j == last_overridden)
      continue;
    if (!plain_seen && j > next_plain) {
      fold(inner_slot_view(pool, img, origin, W, next_plain));
      plain_seen = true;
    }
    if (j == next_plain)
      next_plain++;
    last_overridden = j;
    fold(inner_slot_view(pool, img, origin, W, j));
  }
  if (!plain_seen && next_plain < spp)
    fold(inner_slot_view(pool, img, origin, W, next_plain));
  s.rest_uniform = uniform;
  return s;
}

// The fast path.  Slots outside the pages below go one by one through a
// PageReader.  A vmemmap page wholly inside the folio (power-of-two struct
// page), and slots 1 .. SPP-1 of the head's page, are taken from their
// frame's PageSummary (kept for the last few (image, origin): every tail
// page of an optimized folio maps one frame): slot 0 checked as the
// reference checks it, the rest only when the summary cannot vouch that
// none of them reports, then each with its own view.
void check_tails_by_page(Machine &m, const HugetlbFolio &f, bool key, TailReporter &rep) {
  const Config &c = m.cfg;
  const uint64_t S = c.struct_page_size, ps = c.page_size(), spp = c.spp();
  const uint64_t W = c.words_per_struct_page();
  const uint64_t h = m.page(f.pfn), n = uint64_t{1} << f.order;
  // Two slots per page at least: slot 0's fake-head test reads slot 1.
  const bool pow2 = c.struct_page_pow2() && spp >= 2;
  PageReader rd(m);
  constexpr unsigned kCacheWays = 4;
  PageSummary cache[kCacheWays];
  unsigned next_way = 0;
  for (uint64_t idx = 1; idx < n;) {
    const uint64_t p = h + idx * S, page = p & ~(ps - 1);
    const bool whole = pow2 && p == page && idx + spp <= n;
    const bool head_page = pow2 && idx == 1 && (h & (ps - 1)) == 0 && spp <= n;
    if (!whole && !head_page) {
      rep.check(p, idx, slot_view(rd, c, p, key));
      idx++;
      continue;
    }
    const Translation t = m.pt.translate(page);
    if (!t.pte.present()) {
      if (whole) {
        rep.report_unmapped(page, idx);
        idx += spp;
      } else {
        rep.check(p, idx, slot_view(rd, c, p, key));
        idx++;
      }
      continue;
    }
    const FrameRec &r = std::as_const(m.phys).frame(t.pte.frame);
    const PageSummary *s = nullptr;
    for (const PageSummary &e : cache)
      if (e.image == r.image && e.origin == r.origin_vpn)
        s = &e;
    if (!s) {
      cache[next_way] = summarize(m, r.image, r.origin_vpn, key);
      s = &cache[next_way];
      next_way = (next_way + 1) % kCacheWays;
    }
    const uint64_t first_idx = whole ? idx : 0;  // the slot at `page`
    if (whole) {
      SlotView v0 = s->v0;
      if (v0.kind == SlotView::Fake && v0.head == page)
        v0.kind = SlotView::Self;  // page_fixed_fake_head returned the page itself
      rep.check(page, idx, v0);
    }
    if (!(s->rest_uniform && rep.clean_tails(s->rest_head, s->rest_links)))
      for (uint64_t j = 1; j < spp; j++)
        rep.check(page + j * S, first_idx + j,
                  inner_slot_view(m.phys.images(), r.image, r.origin_vpn, W, j));
    idx = first_idx + spp;
  }
}

}  // namespace

SlotView legacy_slot_view(Machine &m, uint64_t p, bool key) {
  // Raw word at a vmemmap address as the kernel would read it now.
  auto peek = [&](uint64_t vaddr) -> uint64_t {
    const Translation t = m.pt.translate(vaddr);
    return t.pte.present() ? m.phys.read_word(t.pte.frame, (vaddr & (m.cfg.page_size() - 1)) / 8) : 0;
  };
  SlotView v;
  const uint64_t w1 = peek(Machine::field(p, sp::kCompoundHead));
  v.flags = peek(Machine::field(p, sp::kFlags));
  if (w1 & 1) {
    v.kind = SlotView::Tail;  // _compound_head: compound_head & 1
    v.head = w1 - 1;
  } else if (key && (p & (m.cfg.page_size() - 1)) == 0 && ((v.flags >> sp::PG_head) & 1)) {
    // page_fixed_fake_head: a page-aligned PG_head slot whose next slot is
    // tail-encoded is a fake head, unless that tail points back at it.
    const uint64_t n1 = peek(Machine::field(p + m.cfg.struct_page_size, sp::kCompoundHead));
    if ((n1 & 1) && n1 - 1 != p) {
      v.kind = SlotView::Fake;
      v.head = n1 - 1;
    }
  }
  return v;
}

void check_legacy_tails(Machine &m, const HugetlbFolio &f, bool opt, uint64_t head_flags,
                        size_t max_per_id, std::vector<Violation> &out, bool reference_paths) {
  const bool key = m.static_key_enabled();
  TailReporter rep(f, m.page(f.pfn), m.cfg.page_size(), m.cfg.spp(), opt, key, head_flags,
                   max_per_id, out);
  if (reference_paths)
    check_tails_reference(m, f, key, rep);
  else
    check_tails_by_page(m, f, key, rep);
  rep.finish();
}

}  // namespace hvo
