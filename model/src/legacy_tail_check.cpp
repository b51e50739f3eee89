// SPDX-License-Identifier: GPL-2.0-only
//
// The legacy era's tail checks of one folio (see legacy_tail_check.h).  The
// reference reads every slot as the kernel does; the fast path reads a
// vmemmap page at a time and decides most pages from the image's field
// descriptions.  tests/fastpath/legacy_folio_check_test.cpp pins one to the
// other.
#include "hvo/legacy_tail_check.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <string>
#include <utility>

#include "hvo/frame_image.h"
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

  // Whether check(p, idx, v) would report nothing (check() then changes
  // nothing either: its counters move only with a report).
  bool quiet(uint64_t p, uint64_t idx, const SlotView &v) const {
    if (v.kind == SlotView::Self || v.head != h_)
      return false;  // I1
    if (opt_ && idx % spp_ == 0 && idx != 0 && (p & (ps_ - 1)) == 0 &&
        (!((v.flags >> sp::PG_head) & 1) || v.kind != SlotView::Fake))
      return false;  // I2
    return idx < kTailMetadataSlots ||
           (sp::flags_zone(v.flags) == zone_ && sp::flags_nid(v.flags) == nid_);  // I5
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
  // The frame read() reads @vaddr from (kNoFrame: unmapped, reads give 0).
  FrameId frame_of(uint64_t vaddr) {
    read(vaddr);
    return frame_;
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
  uint32_t image = UINT32_MAX;
  uint64_t origin_class = 0;  // see origin_class()
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

// Which origins of image @im give one PageSummary.  The summary reads only
// the compound_head and flags words of the page's slots (power-of-two
// struct page: field f of slot j is word j * W + f whatever the origin).
// Dense words and overrides are literals; a field word is its literal (None),
// or plus the head of the aligned order-o block holding slot
// origin * SPP + j (FolioHead): with 2^o >= SPP that head is the same for
// every j < SPP and changes only with origin >> (o - log2 SPP).  So pages of
// one image whose origins agree on that (the vmemmap pages of one folio,
// each prepared for its own address) share a summary; anything else (Self,
// a smaller FolioHead) keys on the exact origin, as before.  Which of the
// three keys applies is decided by the image alone, so keys of different
// kinds never meet under one image id.
uint64_t origin_class(const Image &im, uint32_t origin, unsigned spp_shift) {
  if (!im.dense.empty())
    return 0;
  unsigned shift = 64;  // no field depends on the origin
  for (const unsigned f : {sp::kCompoundHead, sp::kFlags}) {
    const FieldSpec &fs = im.fields[f];
    if (fs.rel == FieldRel::None)
      continue;
    if (fs.rel == FieldRel::FolioHead && fs.order >= spp_shift && fs.order < 64) {
      shift = std::min<unsigned>(shift, fs.order - spp_shift);
      continue;
    }
    return origin;
  }
  return shift >= 32 ? 0 : origin >> shift;
}

PageSummary summarize(const Machine &m, uint32_t img, uint32_t origin, uint64_t origin_cls,
                      bool key) {
  const Config &c = m.cfg;
  const ImagePool &pool = m.phys.images();
  const Image &im = pool.at(img);
  const uint64_t W = c.words_per_struct_page(), spp = c.spp();
  PageSummary s;
  s.image = img;
  s.origin_class = origin_cls;
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
// frame's PageSummary (kept for the last few (image, origin class): every
// tail page of an optimized folio maps one frame, every page of a folio
// prepared in place holds one image): slot 0 checked as the reference
// checks it, the rest only when the summary cannot vouch that none of them
// reports, then each with its own view.
//
// When no translation is stale, translate() is ptep_get(), so the page
// table is read directly; and a run of whole pages whose PTEs map one frame
// (pte_run, asked once two pages in a row map the same frame) shares that
// frame's record and summary, looked up once per run.  Each page's slots
// are still checked in page order with the page's own addresses.
class TailPages {
public:
  TailPages(Machine &m, const HugetlbFolio &f, bool key, TailReporter &rep)
      : m_(m), c_(m.cfg), pool_(m.phys.images()), key_(key), rep_(rep), S_(c_.struct_page_size),
        ps_(c_.page_size()), spp_(c_.spp()), W_(c_.words_per_struct_page()), h_(m.page(f.pfn)),
        n_(uint64_t{1} << f.order),
        spp_shift_(static_cast<unsigned>(std::countr_zero(spp_))) {}

  void check_all() {
    // Two slots per page at least: slot 0's fake-head test reads slot 1.
    const bool pow2 = c_.struct_page_pow2() && spp_ >= 2;
    const bool no_stale = m_.pt.stale_tlb_entries() == 0;
    PageReader rd(m_);
    FrameId prev_frame = kNoFrame;  // of the last whole page
    for (uint64_t idx = 1; idx < n_;) {
      const uint64_t p = h_ + idx * S_, page = p & ~(ps_ - 1);
      const bool whole = pow2 && p == page && idx + spp_ <= n_;
      const bool head_page = pow2 && idx == 1 && (h_ & (ps_ - 1)) == 0 && spp_ <= n_;
      if (!whole && !head_page) {
        idx = check_slots_in_page(idx, rd);
        continue;
      }
      const Pte pte = no_stale ? m_.pt.ptep_get(page) : m_.pt.translate(page).pte;
      if (!pte.present()) {
        prev_frame = kNoFrame;
        if (whole) {
          rep_.report_unmapped(page, idx);
          idx += spp_;
        } else {
          rep_.check(p, idx, slot_view(rd, c_, p, key_));
          idx++;
        }
        continue;
      }
      const FrameRec &r = std::as_const(m_.phys).frame(pte.frame);
      const PageSummary &s = summary_of(r);
      const bool rest_clean = s.rest_uniform && rep_.clean_tails(s.rest_head, s.rest_links);
      // Whole pages from here on that map this frame (1 for the head's page).
      uint64_t pages = 1;
      if (whole && no_stale && pte.frame == prev_frame)
        pages = m_.pt.pte_run(page, (n_ - idx) / spp_);
      prev_frame = whole ? pte.frame : kNoFrame;
      // A run whose slot 0 is quiet at both ends is quiet throughout: along
      // the run only the page address and idx change, by whole pages and
      // whole pages of slots, so I1 (head, kind) and I2 (idx % SPP, page
      // alignment) ask the same of every page, and I5 holds from the first
      // idx >= 4 on if it holds at the last.  No page of the run is "fake
      // head of itself" (quiet means v0 resolves to the folio's head, below
      // every whole page).  With quiet other slots too, the run is skipped.
      if (pages > 1 && rest_clean && rep_.quiet(page, idx, s.v0) &&
          rep_.quiet(page + (pages - 1) * ps_, idx + (pages - 1) * spp_, s.v0)) {
        idx += pages * spp_;
        continue;
      }
      uint64_t first_idx = whole ? idx : 0;  // the slot at the page's start
      for (uint64_t k = 0; k < pages; k++, first_idx += spp_) {
        const uint64_t pg = page + k * ps_;
        if (whole) {
          SlotView v0 = s.v0;
          if (v0.kind == SlotView::Fake && v0.head == pg)
            v0.kind = SlotView::Self;  // page_fixed_fake_head returned the page itself
          rep_.check(pg, first_idx, v0);
        }
        if (!rest_clean)
          for (uint64_t j = 1; j < spp_; j++)
            rep_.check(pg + j * S_, first_idx + j,
                       inner_slot_view(pool_, r.image, r.origin_vpn, W_, j));
      }
      idx = first_idx;
    }
  }

private:
  // Slots idx .. that go one by one in the reference (a struct page size
  // that is not a power of two, a folio smaller than a vmemmap page of
  // slots, the tails past the last whole page), as far as their flags and
  // compound_head words lie in the vmemmap page holding slot idx; returns
  // the next slot.  Every slot but a page-aligned first one (its fake-head
  // test reads the next slot) views as Tail or Self from those two words,
  // read through one translation.  In a frame whose image is not dense,
  // slots whose two words carry no override read field words: the same
  // field of the image in every slot of a run (the slots are W words
  // apart), evaluated at consecutive struct page numbers, so a literal is
  // the same throughout and a FolioHead value never decreases: equal at a
  // run's two ends, equal throughout (not so for Self, whose value rises
  // with every slot).  Such a run views as one SlotView; when that is a
  // tail of this head with its zone and node, none of its slots reports
  // (no slot here is page-aligned, so I2 cannot apply) and the run is
  // skipped, else each slot is checked with it.  Anything else goes slot by
  // slot through slot_view(), in order.
  uint64_t check_slots_in_page(uint64_t idx, PageReader &rd) {
    const uint64_t p = h_ + idx * S_, page = p & ~(ps_ - 1);
    auto one = [&](uint64_t i) {
      const uint64_t pi = h_ + i * S_;
      rep_.check(pi, i, slot_view(rd, c_, pi, key_));
    };
    if (p == page || p + 16 > page + ps_) {
      one(idx);
      return idx + 1;
    }
    const uint64_t end = std::min(n_, (page + ps_ - 16 - h_) / S_ + 1);  // > idx
    const FrameId fr = rd.frame_of(p);
    if (fr == kNoFrame) {
      for (uint64_t i = idx; i < end; i++)
        one(i);
      return end;
    }
    const FrameRec &r = std::as_const(m_.phys).frame(fr);
    const Image &im = pool_.at(r.image);
    if (!im.dense.empty()) {
      for (uint64_t i = idx; i < end; i++)
        one(i);
      return end;
    }
    const uint64_t wpp = c_.words_per_page();
    const uint64_t w_first = (p - page) / 8;  // slot idx's flags word in the frame
    auto flags_word = [&](uint64_t i) { return w_first + (i - idx) * W_; };
    auto run = [&](uint64_t a, uint64_t b) {
      if (a >= b)
        return;
      const uint64_t wf = flags_word(a), wl = flags_word(b - 1);
      const uint64_t f0 = pool_.word(r.image, r.origin_vpn, wf + sp::kFlags);
      const uint64_t c0 = pool_.word(r.image, r.origin_vpn, wf + sp::kCompoundHead);
      const uint64_t f1 = pool_.word(r.image, r.origin_vpn, wl + sp::kFlags);
      const uint64_t c1 = pool_.word(r.image, r.origin_vpn, wl + sp::kCompoundHead);
      const uint64_t g = uint64_t{r.origin_vpn} * wpp + wf;  // the image's word numbering
      const bool no_self = im.fields[(g + sp::kFlags) % W_].rel != FieldRel::Self &&
                           im.fields[(g + sp::kCompoundHead) % W_].rel != FieldRel::Self;
      if (f0 != f1 || c0 != c1 || (b - a > 1 && !no_self)) {
        for (uint64_t i = a; i < b; i++)
          one(i);
        return;
      }
      SlotView v;  // slot_view() of every slot of the run
      v.flags = f0;
      if (c0 & 1) {
        v.kind = SlotView::Tail;
        v.head = c0 - 1;
      }
      if (v.kind == SlotView::Tail && rep_.clean_tails(v.head, v.flags))
        return;
      for (uint64_t i = a; i < b; i++)
        rep_.check(h_ + i * S_, i, v);
    };
    // Runs between the slots with an overridden flags or compound_head
    // word, which go one by one.  Overrides are sorted by word.
    uint64_t next = idx;
    for (const auto &[w, value] : im.overrides) {
      if (w < w_first)
        continue;
      const uint64_t i = idx + (w - w_first) / W_, field = (w - w_first) % W_;
      if (i >= end)
        break;
      if (i < next || (field != sp::kFlags && field != sp::kCompoundHead))
        continue;
      run(next, i);
      one(i);
      next = i + 1;
    }
    run(next, end);
    return end;
  }

  // The summary of a frame holding @r's contents, from the cache or made.
  const PageSummary &summary_of(const FrameRec &r) {
    const uint64_t cls = origin_class(pool_.at(r.image), r.origin_vpn, spp_shift_);
    if (cache_[last_].image == r.image && cache_[last_].origin_class == cls)
      return cache_[last_];
    for (unsigned w = 0; w < kCacheWays; w++)
      if (cache_[w].image == r.image && cache_[w].origin_class == cls)
        return cache_[last_ = w];
    last_ = next_way_;
    next_way_ = (next_way_ + 1) % kCacheWays;
    cache_[last_] = summarize(m_, r.image, r.origin_vpn, cls, key_);
    return cache_[last_];
  }

  static constexpr unsigned kCacheWays = 4;
  Machine &m_;
  const Config &c_;
  const ImagePool &pool_;
  const bool key_;
  TailReporter &rep_;
  const uint64_t S_, ps_, spp_, W_, h_, n_;
  const unsigned spp_shift_;
  PageSummary cache_[kCacheWays];
  unsigned last_ = 0, next_way_ = 0;
};

void check_tails_by_page(Machine &m, const HugetlbFolio &f, bool key, TailReporter &rep) {
  TailPages(m, f, key, rep).check_all();
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
