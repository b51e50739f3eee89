// SPDX-License-Identifier: GPL-2.0-only
//
// The invariants (see oracle.h and docs/model.md "Invariants").  The oracle
// reads memory through the TLB and page table without recording faults: it
// looks at what the kernel would see, it does not act as the kernel.
#include "hvo/oracle.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <span>
#include <utility>

#include "hvo/dax_oracle.h"
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/legacy_tail_check.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"

namespace hvo {

namespace {

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

const std::vector<InvariantInfo> kCatalog = {
    {"I0-unmapped-access", "a struct page access hit a vmemmap address that has no mapping"},
    {"I1-head-resolution",
     "every tail slot of a live folio resolves to its head via compound_head() and is PageTail; "
     "the head resolves to itself, is PageHead and not PageTail (fake-head logic, current key)"},
    {"I2-fake-head",
     "slot i*SPP (i >= 1) of an optimized folio reads PG_head with word1 bit 0 clear and is a "
     "fake head while the key is on; the static key count equals the number of optimized folios"},
    {"I3-ro-write", "a store into a vmemmap page mapped read-only"},
    {"I5-zone-node", "every tail slot reports the head's zone and node"},
    {"I6-frame-accounting",
     "memmap_pages / memmap_boot_pages equal the live memmap frames; every allocated memmap "
     "frame is mapped by a vmemmap PTE or sits on a pending list; no freed frame is mapped"},
    {"I7-restore-fidelity",
     "after a restore every vmemmap page but the first is mapped RW by a private frame and every "
     "struct page reads as before optimize (lru.prev of tails beyond the folio metadata excepted)"},
    {"I8-tlb-coverage",
     "every changed PTE is flushed before the frame it mapped is freed and before the operation "
     "returns"},
    {"I9-failure-atomicity",
     "a failed optimize leaves the folio un-flagged, privately RW-mapped with its original "
     "contents; a failed restore leaves it flagged and fully optimized"},
    {"I10-optimize-gate",
     "only optimizable folios (power-of-two struct page, V >= 2, switch on) are flagged; an "
     "un-flagged folio has no read-only vmemmap PTE"},
    {"I12-speculative-ref",
     "a speculative page_ref_add_unless succeeded on a slot whose vmemmap page is read-only"},
    {"K-BUG_ON", "the ported code reached a BUG_ON / VM_BUG_ON of the kernel"},
    {"K-VM_BUG_ON", "the ported code reached a VM_BUG_ON_FOLIO of the kernel"},
    {"K-VM_WARN_ON", "the ported code reached a VM_WARN_ON of the kernel"},
    {"K-bad-page", "the page allocator's free-path checks (free_tail_page_prepare) fired"},
};

constexpr uint64_t kTailMetadataSlots = 4;  // head + 3 folio-overlay tails (NR_RESET_STRUCT_PAGE)

// Every word of a frame holding `im` is ~0 (the poison of a never
// initialised struct page), whatever the frame's origin.
bool all_words_poison(const Image &im, uint64_t words_per_struct_page) {
  if (!im.pure())
    return false;
  for (uint64_t f = 0; f < words_per_struct_page; f++)
    if (!(im.fields[f] == FieldSpec{~uint64_t{0}}))
      return false;
  return true;
}

}  // namespace

const std::vector<InvariantInfo> &invariant_catalog() {
  // The core's ids, then the shared-tail era's and device DAX's (M2).
  static const std::vector<InvariantInfo> all = [] {
    std::vector<InvariantInfo> v = kCatalog;
    for (const auto *extra : {&shared_tail_invariant_catalog(), &dax_invariant_catalog()})
      for (const InvariantInfo &i : *extra)
        if (std::none_of(v.begin(), v.end(), [&](const InvariantInfo &x) { return x.id == i.id; }))
          v.push_back(i);
    return v;
  }();
  return all;
}

Oracle::Oracle(Machine &m) : m_(m) {
  m_.hooks = this;
  // From here on the machine records which frames change; those that could
  // report already are remembered (none on a freshly booted machine).
  m_.phys.mark_unchanged();
  if (mark_scan_reference) {
    for (FrameId f = 0; f < m_.phys.frame_table_size(); f++)
      if (frame_may_report(f))
        reporting_at_mark_.push_back(f);
  } else {
    scan_frames_at_mark();
  }
  reporting_bits_.assign(m_.phys.changed_bits().size(), 0);
  for (FrameId f : reporting_at_mark_)
    reporting_bits_[f / 64] |= uint64_t{1} << (f % 64);
}

// m's PhysMem carries booted's mark (mark_unchanged ran in booted's
// constructor, before anything changed), so only the oracle's own copy of
// what reported at the mark is needed.
Oracle::Oracle(Machine &m, const Oracle &booted) : m_(m) {
  m_.hooks = this;
  reset(booted);
}

Oracle::~Oracle() {
  if (m_.hooks == this)
    m_.hooks = nullptr;
}

void Oracle::reset(const Oracle &booted) {
  optimized_.clear();
  optimized_count_ = 0;
  pending_.clear();
  reporting_at_mark_ = booted.reporting_at_mark_;
  reporting_bits_ = booted.reporting_bits_;
}

// check_frames' three cases, and a frame marked as a shared tail.
bool Oracle::record_may_report(const FrameRec &r) {
  if (r.state == FrameState::Allocated && (r.attrs & kFrameMemmap) &&
      ((r.attrs & kFrameOnList) || r.map_count == 0))
    return true;
  if (r.state == FrameState::Free && r.map_count != 0)
    return true;
  return (r.attrs & kFrameSharedTail) != 0;
}

// frame_may_report for every frame in one pass over the frame table: the
// record test inline, and the shared-tail lists (empty on a freshly booted
// machine) searched once as one sorted list instead of list by list per
// frame.  The same frames, in the same (ascending) order, as the loop it
// replaces (reference: mark_scan_reference; tests/fastpath/oracle_mark_test.cpp).
void Oracle::scan_frames_at_mark() {
  std::vector<FrameId> tails;
  for (const std::vector<FrameId> &per_owner : m_.shared_tails.tails)
    tails.insert(tails.end(), per_owner.begin(), per_owner.end());
  std::sort(tails.begin(), tails.end());
  const std::span<const FrameRec> frames = m_.phys.frame_records();
  for (size_t f = 0; f < frames.size(); f++)
    if (record_may_report(frames[f]) ||
        (!tails.empty() && std::binary_search(tails.begin(), tails.end(), static_cast<FrameId>(f))))
      reporting_at_mark_.push_back(static_cast<FrameId>(f));
}

bool Oracle::frame_may_report(FrameId f) const {
  const FrameRec &r = std::as_const(m_.phys).frame(f);
  // check_frames' three cases, and every shared tail (check_shared_tails).
  if (record_may_report(r))
    return true;
  for (const std::vector<FrameId> &per_owner : m_.shared_tails.tails)
    if (std::find(per_owner.begin(), per_owner.end(), f) != per_owner.end())
      return true;
  return false;
}

bool Oracle::flagged(HugetlbFolio &f) {
  // head->private may sit in the next vmemmap page (72/80-byte struct page).
  uint64_t a = Machine::field(m_.page(f.pfn), sp::kPrivate);
  Pte p = m_.pt.ptep_get(a);
  if (!p.present())
    return false;
  uint64_t w = (a & (m_.cfg.page_size() - 1)) / 8;
  return (m_.phys.read_word(p.frame, w) >> sp::HPG_vmemmap_optimized) & 1;
}

void Oracle::track(HugetlbFolio &f) {
  if (optimized_.size() <= f.id)
    optimized_.resize(f.id + 1, 0);
  bool now = f.state != FolioState::Gone && flagged(f);
  if (now != static_cast<bool>(optimized_[f.id])) {
    optimized_count_ += now ? 1 : -1;
    optimized_[f.id] = now;
  }
}

void Oracle::check_folio(HugetlbFolio &f, std::vector<Violation> &out) {
  const Config &c = m_.cfg;
  const uint64_t S = c.struct_page_size, ps = c.page_size();
  const uint64_t h = m_.page(f.pfn), n = uint64_t{1} << f.order;
  const bool opt = flagged(f);
  Hstate hs{f.order};

  if (opt && !hugetlb_vmemmap_optimizable(m_, hs))
    out.push_back({"I10-optimize-gate", 0, h, f.pfn, "not flagged", "HPG_vmemmap_optimized",
                   "folio " + std::to_string(f.id) + " of order " + std::to_string(f.order) +
                       " is flagged optimized but cannot be optimized"});
  // I5: a folio lies in one zone (its tails take the head's zone, so a pfn
  // of another zone would read the wrong one).  Reachable through a boot
  // gigantic page that memblock placed across a zone boundary in Debian
  // 6.12 (docs/findings-model.md); the shared-tail era discards such pages.
  if (m_.phys.zone_of_pfn(f.pfn) != m_.phys.zone_of_pfn(f.pfn + n - 1))
    out.push_back({"I5-zone-node", 0, h, f.pfn, "one zone", "spans zones",
                   "folio " + std::to_string(f.id) + " (pfns " + hex(f.pfn) + "-" +
                       hex(f.pfn + n - 1) + ") spans two zones"});
  // Shared-tail era: mask decode, shared tails (shared_tail.cpp).
  if (c.era == Era::SharedTail) {
    check_folio_shared_tail(m_, f, opt, max_per_id, out, reference_paths);
    return;
  }

  // The head.
  const SlotView hv = legacy_slot_view(m_, h, m_.static_key_enabled());
  if (hv.kind != SlotView::Self)
    out.push_back({"I1-head-resolution", 0, h, f.pfn, "compound_head(head) == head",
                   hex(hv.head), "head of folio " + std::to_string(f.id) + " resolves elsewhere"});
  else if (!((hv.flags >> sp::PG_head) & 1))
    out.push_back({"I1-head-resolution", 0, h, f.pfn, "PageHead", "PG_head clear",
                   "head of folio " + std::to_string(f.id) + " is not PageHead"});
  // The tails (legacy_tail_check.cpp).
  check_legacy_tails(m_, f, opt, hv.flags, max_per_id, out, reference_paths);

  // I10: an un-flagged folio has no read-only vmemmap PTE.
  if (!opt && c.struct_page_pow2()) {
    uint64_t first = h & ~(ps - 1), end = h + n * S;
    for (uint64_t a = first; a < end; a += ps) {
      Pte pte = m_.pt.ptep_get(a);
      if (pte.present() && pte.ro) {
        out.push_back({"I10-optimize-gate", 0, a, m_.page_to_pfn(a), "RW", "RO",
                       "folio " + std::to_string(f.id) +
                           " is not flagged optimized but its vmemmap is remapped read-only"});
        break;
      }
    }
  }
}

namespace {

// How many I6 reports of each kind check_frames has made (capped at
// max_per_id each).
struct FrameReportCounts {
  size_t listed = 0, leaks = 0, mapped_free = 0;
};

// check_frames' reports, out of line: almost every frame says nothing, and
// with the reporting code (strings, the violation list) inline the scan's
// locals live on ASan's fake stack and every iteration pays for that.
// Which of check_frames' three cases frame record @r is in: bit 0 on a
// vmemmap_pages list, bit 1 an allocated memmap frame nothing maps (a
// leak), bit 2 a free frame still mapped; 0 says nothing to report.  One
// branch-free expression over the record's bits and one comparison: in an
// instrumented (fuzzing) build every branch costs a coverage counter and
// every comparison a call into the coverage runtime, per frame.
inline unsigned frame_report_case(const FrameRec &r) {
  static_assert(static_cast<unsigned>(FrameState::Free) == 0 &&
                static_cast<unsigned>(FrameState::Allocated) == 1);
  constexpr unsigned kMemmap = std::countr_zero(unsigned{kFrameMemmap});
  constexpr unsigned kOnList = std::countr_zero(unsigned{kFrameOnList});
  constexpr unsigned kSharedTail = std::countr_zero(unsigned{kFrameSharedTail});
  const unsigned allocated = static_cast<unsigned>(r.state);
  const unsigned attrs = r.attrs;
  const unsigned mapped = r.map_count != 0;
  const unsigned memmap = allocated & attrs >> kMemmap;
  const unsigned on_list = memmap & attrs >> kOnList;
  const unsigned leaked = memmap & ~mapped & ~(attrs >> kSharedTail);
  const unsigned freed_mapped = ~allocated & mapped;
  return (on_list & 1) | (leaked & 1) << 1 | (freed_mapped & 1) << 2;
}

[[gnu::noinline, gnu::cold]] void report_frame(FrameId f, const FrameRec &r, unsigned report_case,
                                               size_t cap, FrameReportCounts &n,
                                               std::vector<Violation> &out) {
  if (report_case & 1) {
    if (n.listed++ < cap)
      out.push_back({"I6-frame-accounting", 0, 0, UINT64_MAX, "list empty at return",
                     "frame " + std::to_string(f) + " on a vmemmap_pages list",
                     "a vmemmap page list was left non-empty"});
  } else if (report_case & 2) {
    if (n.leaks++ < cap)
      out.push_back({"I6-frame-accounting", 0, 0, UINT64_MAX, "mapped or freed",
                     "frame " + std::to_string(f) + " allocated, unmapped",
                     "leaked memmap frame"});
  } else if (n.mapped_free++ < cap) {
    out.push_back({"I6-frame-accounting", 0, 0, UINT64_MAX, "0 PTEs",
                   std::to_string(r.map_count) + " PTEs",
                   "freed frame " + std::to_string(f) + " is still mapped by the vmemmap"});
  }
}

// check_frames over the consecutive frames [@first, @end), which almost
// never report: the records are first only tested (a loop whose one branch
// is its own), and looked at one by one, in order, only when one reports.
void check_frame_run(const FrameRec *recs, size_t first, size_t end, size_t cap,
                     FrameReportCounts &counts, std::vector<Violation> &out) {
  unsigned any = 0;
  for (const FrameRec &r : std::span<const FrameRec>(recs + first, end - first))
    any |= frame_report_case(r);
  if (!any)
    return;
  for (size_t f = first; f < end; f++)
    if (const unsigned c = frame_report_case(recs[f]))
      report_frame(static_cast<FrameId>(f), recs[f], c, cap, counts, out);
}

}  // namespace

void Oracle::check_frames(const std::vector<FrameId> &frames, std::vector<Violation> &out) {
  FrameReportCounts counts;
  // Locals, not members, in the loop: Oracle is polymorphic (HvoHooks), so
  // under UBSan every member access through `this` is a vptr check.
  const PhysMem &phys = m_.phys;
  const size_t table = phys.frame_table_size(), cap = max_per_id;
  for (FrameId f : frames) {
    if (f >= table)
      continue;
    const FrameRec &r = phys.frame(f);
    // The three cases report_frame tells apart, as one branch-free test:
    // in an instrumented (fuzzing) build each branch of this loop costs a
    // coverage counter per frame.  Written out here rather than through
    // frame_report_case: this loop over every frame is the reference the
    // whole-machine check's walk is compared with.
    const bool memmap = (r.state == FrameState::Allocated) & ((r.attrs & kFrameMemmap) != 0);
    const bool on_list = memmap & ((r.attrs & kFrameOnList) != 0);
    const bool leaked = memmap & (r.map_count == 0) & ((r.attrs & kFrameSharedTail) == 0);
    const bool freed_mapped = (r.state == FrameState::Free) & (r.map_count != 0);
    if (on_list | leaked | freed_mapped)
      report_frame(f, r, unsigned{on_list} | unsigned{leaked} << 1 | unsigned{freed_mapped} << 2,
                   cap, counts, out);
  }
}

// The frames a whole-machine check must look at are every frame that
// changed since the mark, was created since, or could report already then
// (the rest still hold the records they had at the mark, which said
// nothing): check_frames over that set, ascending, equals check_frames over
// every frame (tests/fastpath/whole_check_test.cpp).  Here the set is
// walked where it lies rather than listed first: the changed frames come
// in runs (a PMD split changes PTRS_PER_PTE consecutive frames), and the
// frames created since the mark are one run.
void Oracle::check_frames_since_mark(std::vector<Violation> &out) {
  const PhysMem &p = m_.phys;
  const std::vector<FrameId> &changed = p.changed_frames();
  const std::vector<uint64_t> &changed_bits = p.changed_bits();
  const size_t limit = p.unchanged_limit(), table = p.frame_table_size(), cap = max_per_id;
  const FrameRec *const recs = table ? &p.frame(0) : nullptr;
  FrameReportCounts counts;
  // Many for the machine (a boot gigantic page changes thousands of its
  // few thousand memmap frames, the race target's PMD split 512 of its
  // 1,024): the two bitmaps over the frames below the limit, read a word
  // at a time, give them in order; a word with every bit set is a run.
  // Few: the sort.  The reporting frames' bitmap was taken with the list
  // at the mark; a PhysMem marked again since (tests do) has another
  // limit, and its frames are then listed and sorted.
  if ((changed.size() + reporting_at_mark_.size()) * 64 >= limit &&
      reporting_bits_.size() == changed_bits.size()) {
    const uint64_t *const c = changed_bits.data(), *const r = reporting_bits_.data();
    for (size_t w = 0, n = changed_bits.size(); w < n; w++) {
      uint64_t word = c[w] | r[w];
      if (word == ~uint64_t{0}) {
        check_frame_run(recs, w * 64, w * 64 + 64, cap, counts, out);
        continue;
      }
      for (; word; word &= word - 1) {
        const size_t f = w * 64 + static_cast<size_t>(std::countr_zero(word));
        if (const unsigned rc = frame_report_case(recs[f]))
          report_frame(static_cast<FrameId>(f), recs[f], rc, cap, counts, out);
      }
    }
  } else {
    // The reporting frames were taken below the limit; one that was not
    // would be in the run from the limit.
    std::vector<FrameId> &frames = frames_;
    frames.assign(changed.begin(), changed.end());
    for (FrameId f : reporting_at_mark_)
      if (f < limit)
        frames.push_back(f);
    std::sort(frames.begin(), frames.end());
    frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
    for (FrameId f : frames)
      if (const unsigned rc = frame_report_case(recs[f]))
        report_frame(f, recs[f], rc, cap, counts, out);
  }
  check_frame_run(recs, limit, table, cap, counts, out);
}

// The shared tail frames among those check_frames_since_mark looks at,
// ascending: what check_shared_tails finds among a list of that whole set,
// as it only ever looks for the tails in the list.
void Oracle::tails_since_mark(std::vector<FrameId> &tails) const {
  const PhysMem &p = m_.phys;
  const size_t limit = p.unchanged_limit(), table = p.frame_table_size();
  tails.clear();
  for (const std::vector<FrameId> &per_owner : m_.shared_tails.tails)
    for (FrameId f : per_owner)
      if (f != kNoFrame &&
          (p.changed_since_mark(f) || (f >= limit && f < table) ||
           std::binary_search(reporting_at_mark_.begin(), reporting_at_mark_.end(), f)))
        tails.push_back(f);
  std::sort(tails.begin(), tails.end());
  tails.erase(std::unique(tails.begin(), tails.end()), tails.end());
}

void Oracle::check_fidelity(HugetlbFolio &f, uint64_t first_page, const char *id,
                            std::vector<Violation> &out, bool keep_shared_tail) {
  const Config &c = m_.cfg;
  const uint64_t ps = c.page_size(), W = c.words_per_struct_page(), S = c.struct_page_size;
  const uint64_t h = m_.page(f.pfn);
  const FrameId shared_tail =
      keep_shared_tail ? shared_tail_lookup(m_, f.order, tail_owner_of_pfn(m_, f.pfn)) : kNoFrame;
  for (uint64_t k = first_page; k < f.pre_optimize.size(); k++) {
    uint64_t a = h + k * ps;
    Pte pte = m_.pt.ptep_get(a);
    if (shared_tail != kNoFrame && pte.present() && pte.ro && pte.frame == shared_tail)
      continue;
    if (!pte.present() || pte.ro || std::as_const(m_.phys).frame(pte.frame).map_count != 1) {
      out.push_back({id, 0, a, m_.page_to_pfn(a), "private RW frame",
                     !pte.present() ? "unmapped" : pte.ro ? "read-only" : "shared frame",
                     "vmemmap page " + std::to_string(k) + " of folio " + std::to_string(f.id)});
      return;
    }
    const FrameRec &r = std::as_const(m_.phys).frame(pte.frame);
    auto [img, origin] = f.pre_optimize[k];
    if (r.image == img && r.origin_vpn == origin)
      continue;
    // A page that held only never-initialised words before optimize (every
    // field the poison pattern, no override: the tails of a boot gigantic
    // page) has nothing to restore: the loop below skips each of its words.
    if (!reference_paths && all_words_poison(m_.phys.images().at(img), W))
      continue;
    // Every word equal but the exempt ones, decided per field (what a
    // restore that copies a page and rewrites some of it leaves): nothing
    // below could report.  lru.prev is exempt for tails past the folio
    // metadata; when the page holds only such tails and its words map to
    // fields as the loop below maps them, that field is left out.
    const uint64_t g_addr = (a - c.vmemmap_base) / 8;
    const bool same_fields = g_addr % W == (uint64_t{origin} * c.words_per_page()) % W;
    const uint32_t exempt =
        same_fields && g_addr / W - f.pfn >= kTailMetadataSlots ? 1u << sp::kLruPrev : 0;
    if (!reference_paths &&
        m_.phys.images().same_page_words(img, origin, r.image, r.origin_vpn, exempt))
      continue;
    // Different (image, origin): every word is compared, both pages
    // materialised once rather than evaluated word by word (the hot path of
    // every restore; same words, same order, same first difference).
    const uint64_t wpp = c.words_per_page();
    page_was_.resize(wpp);
    page_now_.resize(wpp);
    m_.phys.images().read_page(img, origin, page_was_.data());
    m_.phys.images().read_page(r.image, r.origin_vpn, page_now_.data());
    const uint64_t g0 = (a - c.vmemmap_base) / 8;
    uint64_t slot = g0 / W, next_field = g0 % W;
    for (uint64_t w = 0; w < wpp; w++) {
      const uint64_t idx = slot - f.pfn, field = next_field;
      if (++next_field == W) {
        next_field = 0;
        slot++;
      }
      if (field == sp::kLruPrev && idx >= kTailMetadataSlots)
        continue;  // lru.prev of a tail: meaningless, memcpy keeps the source's pointer
      uint64_t was = page_was_[w];
      uint64_t now = page_now_[w];
      // A word that was never initialised (memblock noinit, modelled as the
      // poison pattern, e.g. tails of a boot gigantic page) has no value to
      // restore: whatever the restore writes is at least as good (M2).
      if (was == ~uint64_t{0})
        continue;
      if (was != now) {
        out.push_back({id, 0, h + idx * S + field * 8, f.pfn + idx, hex(was), hex(now),
                       "struct page " + std::to_string(idx) + " word " + std::to_string(field) +
                           " of folio " + std::to_string(f.id) +
                           " differs from before optimize (first difference)"});
        return;
      }
    }
  }
}

void Oracle::optimize_done(Machine &m, HugetlbFolio &f, int ret) {
  if (ret == 0)
    return;
  std::vector<Violation> v;
  if (ret == VMEMMAP_REMAP_INCOMPLETE) {
    // muchun's partial HVO (hugetlb_vmemmap.h): still flagged; every tail
    // vmemmap page maps the shared tail or a private page as it was.
    if (!flagged(f))
      v.push_back({"I9-failure-atomicity", 0, m.page(f.pfn), f.pfn, "flagged", "un-flagged",
                   "partially optimized folio " + std::to_string(f.id) + " lost its flag"});
    check_fidelity(f, 1, "I9-failure-atomicity", v, true);
    for (Violation &x : v)
      pending_.push_back(std::move(x));
    return;
  }
  // I9: a failed optimize leaves the folio un-flagged, RW, private, original.
  if (flagged(f))
    v.push_back({"I9-failure-atomicity", 0, m.page(f.pfn), f.pfn, "un-flagged", "flagged",
                 "optimize of folio " + std::to_string(f.id) + " failed but left the flag"});
  check_fidelity(f, 0, "I9-failure-atomicity", v);
  for (Violation &x : v)
    pending_.push_back(std::move(x));
}

void Oracle::restore_done(Machine &m, HugetlbFolio &f, int ret) {
  std::vector<Violation> v;
  const uint64_t ps = m.cfg.page_size();
  uint64_t h = m.page(f.pfn);
  if (ret == 0) {
    check_fidelity(f, 1, "I7-restore-fidelity", v);
  } else {
    // I9: a failed restore leaves the folio flagged and fully optimized.
    if (!flagged(f))
      v.push_back({"I9-failure-atomicity", 0, h, f.pfn, "flagged", "un-flagged",
                   "restore of folio " + std::to_string(f.id) + " failed but cleared the flag"});
    // muchun: a restore that failed part-way leaves a partial HVO (the pages
    // it restored stay private), completed by the next restore.
    const bool partial_hvo = m.cfg.era == Era::SharedTail && m.cfg.variant == Variant::Muchun;
    if (partial_hvo)
      check_fidelity(f, 1, "I9-failure-atomicity", v, true);
    Pte p0 = m.pt.ptep_get(h);
    // Legacy: tails alias the head copy; shared-tail era: the shared tail.
    const bool shared = m.cfg.era == Era::SharedTail;
    const FrameId alias =
        shared ? shared_tail_lookup(m, f.order, tail_owner_of_pfn(m, f.pfn)) : p0.frame;
    for (uint64_t k = 1; k < (partial_hvo ? 0 : f.pre_optimize.size()); k++) {
      Pte pk = m.pt.ptep_get(h + k * ps);
      if (!pk.ro || pk.frame != alias) {
        v.push_back({"I9-failure-atomicity", 0, h + k * ps, m.page_to_pfn(h + k * ps),
                     shared ? "RO alias of the shared tail" : "RO alias of the head page",
                     pk.ro ? "other frame" : "RW",
                     "failed restore left folio " + std::to_string(f.id) + " half restored"});
        break;
      }
    }
  }
  for (Violation &x : v)
    pending_.push_back(std::move(x));
}

std::vector<Violation> Oracle::check(uint64_t op_index, const std::vector<FolioId> &folios) {
  std::vector<Violation> out;
  // Reports from inside the port, first in the order they happened.
  for (Violation &v : m_.reports)
    out.push_back(std::move(v));
  m_.reports.clear();
  for (Violation &v : pending_)
    out.push_back(std::move(v));
  pending_.clear();

  // I3 / I12 / I0: faults the operation's accesses took.
  size_t nro = 0, nspec = 0, nun = 0;
  for (const Fault &f : m_.mmu.faults) {
    bool spec = std::string_view(f.who) == "page_ref_add_unless";
    size_t &cnt = f.kind == Fault::Kind::Unmapped ? nun : spec ? nspec : nro;
    if (cnt++ >= max_per_id)
      continue;
    const char *id = f.kind == Fault::Kind::Unmapped ? "I0-unmapped-access"
                     : spec                           ? "I12-speculative-ref"
                                                      : "I3-ro-write";
    out.push_back({id, 0, f.vaddr, m_.page_to_pfn(f.vaddr & ~7ull),
                   f.kind == Fault::Kind::Unmapped ? "mapped" : "writable",
                   f.kind == Fault::Kind::Unmapped ? "unmapped" : hex(f.new_value),
                   std::string(f.who) + (f.kind == Fault::Kind::Unmapped
                                             ? " accessed an unmapped vmemmap address"
                                             : " wrote through a read-only vmemmap mapping (frame " +
                                                   std::to_string(f.frame) + ", held " +
                                                   hex(f.old_value) + ")")});
  }
  m_.mmu.faults.clear();

  // Folios.
  std::vector<FolioId> ids = folios;
  if (full)
    for (const HugetlbFolio &f : m_.folios)
      ids.push_back(f.id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (FolioId id : ids) {
    if (id >= m_.folios.size())
      continue;
    HugetlbFolio &f = m_.folios[id];
    track(f);
    if (f.state != FolioState::Gone)
      check_folio(f, out);
  }

  // I2: the static key counts the optimized folios (legacy era only: the
  // shared-tail era has no key).
  if (m_.cfg.era == Era::Legacy && m_.hugetlb_optimize_vmemmap_key != optimized_count_)
    out.push_back({"I2-fake-head", 0, 0, UINT64_MAX, std::to_string(optimized_count_),
                   std::to_string(m_.hugetlb_optimize_vmemmap_key),
                   "hugetlb_optimize_vmemmap_key does not count the optimized folios"});

  // I6: counters against ground truth, and the frames this operation touched.
  if (m_.phys.memmap_boot_pages != static_cast<int64_t>(m_.phys.live_memmap_boot_frames()))
    out.push_back({"I6-frame-accounting", 0, 0, UINT64_MAX,
                   std::to_string(m_.phys.live_memmap_boot_frames()),
                   std::to_string(m_.phys.memmap_boot_pages), "memmap_boot_pages is off"});
  // Shared tail frames are memmap but never added to memmap_pages by the
  // kernel (docs/findings-model.md): the ground truth leaves them out.
  // ppc64-radix maps the memmap in 2 MiB blocks that serve eight 16 MiB
  // sections (radix_pgtable.c 6.12 l.1161-1186) while memmap_pages_add
  // counts each section's own pages (mm/sparse-vmemmap.c l.567-577): there
  // the counter is approximate by design (docs/findings-model.md, "powerpc
  // radix"), and only the frame checks hold the memmap to the ground truth.
  if (m_.cfg.arch != Arch::Ppc64Radix &&
      m_.phys.memmap_pages != static_cast<int64_t>(m_.phys.live_memmap_buddy_frames() -
                                                    m_.shared_tails.frames))
    out.push_back({"I6-frame-accounting", 0, 0, UINT64_MAX,
                   std::to_string(m_.phys.live_memmap_buddy_frames()),
                   std::to_string(m_.phys.memmap_pages), "memmap_pages is off"});
  // The list's storage is reused from the last check; the reference path
  // builds it in a fresh vector, as before that reuse.
  std::vector<FrameId> fresh;
  std::vector<FrameId> &frames = reference_paths ? fresh : frames_;
  if (full && !reference_paths) {
    m_.phys.forget_touched();
    check_frames_since_mark(out);
    if (m_.cfg.era == Era::SharedTail)
      tails_since_mark(frames);  // all check_shared_tails looks for in the list
  } else {
    if (full) {
      frames.resize(m_.phys.frame_table_size());
      for (size_t i = 0; i < frames.size(); i++)
        frames[i] = static_cast<FrameId>(i);
      m_.phys.forget_touched();
    } else {
      m_.phys.take_touched(frames);  // deterministic order: first touch
    }
    check_frames(frames, out);
  }

  // I4 / I11: the shared tails themselves and the memmap alignment.
  if (m_.cfg.era == Era::SharedTail)
    check_shared_tails(m_, frames, max_per_id, out, /*frames_ascending=*/full);

  // I8: nothing may stay unflushed when the operation returns.
  if (m_.pt.stale_tlb_entries() != 0)
    out.push_back({"I8-tlb-coverage", 0, *m_.pt.first_stale_address(), UINT64_MAX, "0",
                   std::to_string(m_.pt.stale_tlb_entries()),
                   "stale TLB entries left when the operation returned"});

  for (Violation &v : out)
    v.op_index = op_index;
  return out;
}

std::string format_violation(const Violation &v) {
  std::string s = v.id + " op=" + std::to_string(v.op_index);
  if (v.vaddr)
    s += " vaddr=" + hex(v.vaddr);
  if (v.pfn != UINT64_MAX)
    s += " pfn=" + hex(v.pfn);
  if (!v.expected.empty() || !v.found.empty())
    s += " expected=" + v.expected + " found=" + v.found;
  return s + ": " + v.message;
}

}  // namespace hvo
