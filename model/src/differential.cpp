// SPDX-License-Identifier: GPL-2.0-only
//
// The differential oracle (see differential.h).
#include "hvo/differential.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>

#include "hvo/compound_info.h"
#include "hvo/page_flags.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"
#include "hvo/struct_page_range.h"

namespace hvo {

namespace {

constexpr int64_t kENOMEM = -12, kEOPNOTSUPP = -95;

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

Config era_config(const Config &base, Era era, Variant v) {
  Config c = base;
  c.era = era;
  c.variant = v;
  return c;
}

// The struct pages of an order-@order compound page to compare: all of them,
// or every struct page of the head's vmemmap page, both ends of every vmemmap page
// (where 6.12's fake heads and the shared tails begin) and the last.
// Into `idx` (its old contents dropped; the caller keeps it across calls).
void sample(unsigned order, uint64_t spp, bool all, std::vector<uint64_t> &idx) {
  const uint64_t n = uint64_t{1} << order;
  idx.clear();
  if (all || n <= 2 * spp) {
    for (uint64_t i = 0; i < n; i++)
      idx.push_back(i);
    return;
  }
  for (uint64_t i = 0; i < spp; i++)  // the head's vmemmap page: the folio metadata
    idx.push_back(i);
  // At most 64 vmemmap pages, spread over the folio.
  const uint64_t pages = n / spp;
  const uint64_t stride = std::max<uint64_t>(1, pages / 64);
  for (uint64_t k = 1; k < pages; k += stride) {
    idx.push_back(k * spp);
    idx.push_back(k * spp + 1);
    idx.push_back(k * spp + spp - 1);
  }
  idx.push_back(n - 1);
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
}

// What page_view emits for one struct page, in order: at most 14 values
// (7 for every page, 7 more for a head).
struct PageView {
  static constexpr size_t kMax = 16;
  std::array<const char *, kMax> name{};
  std::array<uint64_t, kMax> value{};
  size_t n = 0;
  void add(const char *what, uint64_t v) {
    if (n < kMax) {
      name[n] = what;
      value[n++] = v;
    }
  }
};

// The words of a struct page that page_view reads of a tail slot, in
// uniform_struct_page_words' order.
constexpr std::array<unsigned, 3> kTailViewFields = {sp::kCompoundHead, sp::kFlags, sp::kCounts};

// page_view of a tail struct page (idx >= 4) that does not start a vmemmap
// page, from its three words (kTailViewFields order), without a read:
// what compound_head(), PageHead(), PageTail(), page_to_nid(),
// page_zonenum() and the counts give there (page_flags.cpp).  Off a
// vmemmap page's start no struct page is a fake head
// (page_fixed_fake_head looks only at page-aligned ones), so the legacy
// compound_head() is the stored pointer or the page itself, PageHead() is
// PG_head, PageTail() bit 0, and the raw counts are the page's own.  Not
// for kiryl-v6, whose page_zonenum() reads the head's flags.
void tail_view_from_words(const Machine &m, uint64_t page, uint64_t head, const uint64_t *w,
                          PageView &v) {
  const uint64_t info = w[0], flags = w[1], counts = w[2];
  const uint64_t resolved = m.cfg.era == Era::SharedTail
                                ? compound_info_decode(vmemmap_geometry(m.cfg), page, info)
                                : ((info & 1) ? info - 1 : page);
  v.add("compound_head", resolved - head);
  v.add("PageHead", (flags >> sp::PG_head) & 1);
  v.add("PageTail", info & 1);
  v.add("page_to_nid", sp::flags_nid(flags));
  v.add("page_zonenum", sp::flags_zone(flags));
  v.add("page_ref_count", sp::refcount_of(counts));
  v.add("_mapcount", sp::mapcount_of(counts));
}

uint64_t total_free(const Machine &m) {
  uint64_t f = 0;
  for (unsigned n = 0; n < m.phys.nr_nodes(); n++)
    f += m.phys.node_free_pages(n);
  return f;
}

} // namespace

std::string DiffResult::format() const {
  std::string allowances;
  for (const DiffAllowance &a : allowed)
    allowances += (allowances.empty() ? "" : ", ") + a.id + "@" + std::to_string(a.op_index);
  if (diverged)
    return "diverged at op " + std::to_string(op_index) + " (" + op + ")" +
           (pfn == UINT64_MAX ? "" : " pfn " + hex(pfn)) + ": " + observable +
           " legacy=" + legacy + " shared=" + shared +
           (allowances.empty() ? "" : " (allowed before: " + allowances + ")");
  return std::string(stopped ? "stopped" : "agreed") + " after " + std::to_string(ops_compared) +
         " ops" + (allowances.empty() ? "" : " (allowed: " + allowances + ")");
}

Differential::Differential(const Config &base, const DiffOptions &opt) : opt_(opt) {
  std::string e1, e2;
  owned_legacy_ = Model::create(era_config(base, Era::Legacy, opt.legacy_variant), &e1);
  owned_shared_ = Model::create(era_config(base, Era::SharedTail, opt.shared_variant), &e2);
  set_models(owned_legacy_.get(), e1, owned_shared_.get(), e2);
}

Differential::Differential(const Config &base, const DiffOptions &opt,
                           const ModelSource &model_for)
    : opt_(opt) {
  std::string e1, e2;
  Model *l = model_for(era_config(base, Era::Legacy, opt.legacy_variant), &e1);
  Model *s = model_for(era_config(base, Era::SharedTail, opt.shared_variant), &e2);
  set_models(l, e1, s, e2);
}

Differential::~Differential() {
  for (Model *m : {legacy_, shared_})
    if (m)
      m->machine().phys.journal_stop();
}

void Differential::set_models(Model *legacy, const std::string &e1, Model *shared,
                              const std::string &e2) {
  legacy_ = legacy;
  shared_ = shared;
  // From here on each side's memory records the frames written (the memo
  // in compare_state reads it).
  for (Model *m : {legacy_, shared_})
    if (m)
      m->machine().phys.journal_start();
  if (!legacy_ || !shared_) {
    r_.diverged = true;
    r_.observable = "config";
    r_.op = "config";
    r_.legacy = legacy_ ? "ok" : e1;
    r_.shared = shared_ ? "ok" : e2;
  }
}

bool Differential::differ(const std::string &what, uint64_t pfn, uint64_t a, uint64_t b,
                          const std::string &op_text) {
  if (a == b)
    return false;
  r_.diverged = true;
  r_.op_index = index_;
  r_.op = op_text;
  r_.observable = what;
  r_.pfn = pfn;
  r_.legacy = hex(a);
  r_.shared = hex(b);
  return true;
}

// compare_state's memo.  What a folio's comparison reads on one side is a
// function of: the words of the sampled struct pages and, for a struct page
// that starts a vmemmap page, of the next one (page_fixed_fake_head), which
// lie in [page, page + 2 * sizeof(struct page)) of each sampled page (the
// head's metadata too: idx 0 and 1 are always sampled); how those vmemmap
// pages translate (TLB first: Mmu::read); the frames they translate to;
// the static key (legacy compound_head()); and the Config.  Not kiryl-v6,
// whose page_zonenum() reads the flags wherever compound_head() points.
// When none of these changed since a comparison that found no difference,
// the comparison would read the same values and find none again: it is
// skipped.  Frames are tracked by PhysMem's journal (every write reaches
// note_changed), translations by translating the recorded pages again, so
// a page whose translation is not present (a read there records a fault,
// which the next op's check reports) is never remembered.
bool Differential::record_pages(Machine &m, uint64_t head_pfn) {
  const uint64_t ps = m.cfg.page_size(), S = m.cfg.struct_page_size;
  uint64_t next = 0;  // the lowest vmemmap page not yet recorded
  for (const uint64_t idx : sample_) {
    const uint64_t p = m.page(head_pfn + idx);
    for (uint64_t v = std::max(p & ~(ps - 1), next); v <= ((p + 2 * S - 1) & ~(ps - 1)); v += ps) {
      const Translation t = m.mmu.translate(v);
      if (!t.pte.present())
        return false;
      seen_pages_.push_back(PageSeen{v, t});
      next = v + ps;
    }
  }
  return true;
}

void Differential::remember_folio(size_t id, uint64_t pfn, unsigned order) {
  if (seen_.size() <= id)
    seen_.resize(id + 1);
  FolioSeen &f = seen_[id];
  f.valid = false;
  Machine &L = legacy_->machine(), &S = shared_->machine();
  const size_t first = seen_pages_.size();
  if (!record_pages(L, pfn)) {
    seen_pages_.resize(first);
    return;
  }
  const size_t mid = seen_pages_.size();
  if (!record_pages(S, pfn)) {
    seen_pages_.resize(first);
    return;
  }
  f = FolioSeen{true, L.static_key_enabled(), S.static_key_enabled(), static_cast<uint8_t>(order),
                pfn, first, mid - first, seen_pages_.size() - mid};
}

bool Differential::folio_unchanged(size_t id, uint64_t pfn, unsigned order) {
  if (id >= seen_.size() || !seen_[id].valid)
    return false;
  const FolioSeen &f = seen_[id];
  Machine &L = legacy_->machine(), &S = shared_->machine();
  if (f.pfn != pfn || f.order != order || f.key_legacy != L.static_key_enabled() ||
      f.key_shared != S.static_key_enabled())
    return false;
  auto same = [](Machine &m, const PageSeen *p, size_t n) {
    for (const PageSeen &s : std::span<const PageSeen>(p, n))
      if (!(m.mmu.translate(s.vaddr) == s.t) || m.phys.journaled(s.t.pte.frame))
        return false;
    return true;
  };
  return same(L, &seen_pages_[f.first], f.legacy_pages) &&
         same(S, &seen_pages_[f.first + f.legacy_pages], f.shared_pages);
}

// Folios, then device-DAX compound pages, struct page by struct page.
void Differential::compare_state(const std::string &op_text) {
  Machine &L = legacy_->machine(), &S = shared_->machine();
  const uint64_t spp = L.cfg.spp();
  if (differ("folio count", UINT64_MAX, L.folios.size(), S.folios.size(), op_text))
    return;
  auto page_view = [&](Machine &m, uint64_t page, uint64_t head, uint64_t idx, auto &&emit) {
    const uint64_t counts = m.mmu.read(Machine::field(page, sp::kCounts), "differential");
    emit("compound_head", compound_head(m, page) - head);
    emit("PageHead", PageHead(m, page));
    emit("PageTail", PageTail(m, page));
    emit("page_to_nid", page_to_nid(m, page));
    emit("page_zonenum", page_zonenum(m, page));
    // A 6.12 fake head reads the head's struct page: its raw refcount and
    // _mapcount are the head's (rule "fake-head raw fields", docs/model.md).
    // What a caller sees of them is what page_ref_add_unless sees: a fake
    // head counts as 0 there, as every tail does.
    const bool fake = idx != 0 && m.cfg.era == Era::Legacy && page_is_fake_head(m, page);
    emit("page_ref_count", fake ? 0 : sp::refcount_of(counts));
    if (idx >= 4 && !fake)  // tails past the folio metadata: _mapcount
      emit("_mapcount", sp::mapcount_of(counts));
    if (idx == 0) {
      // Folio metadata through the head (HPG_vmemmap_optimized masked off).
      const uint64_t h1 = head + m.cfg.struct_page_size;
      emit("head flags", m.mmu.read(Machine::field(head, sp::kFlags), "differential"));
      emit("head private", m.mmu.read(Machine::field(head, sp::kPrivate), "differential") &
                               ~(uint64_t{1} << sp::HPG_vmemmap_optimized));
      emit("page type", sp::mapcount_of(counts));
      emit("folio order", m.mmu.read(Machine::field(h1, sp::kFlags), "differential") & 0xff);
      emit("folio nr_pages", m.mmu.read(Machine::field(h1, sp::kFolioNrPages), "differential"));
      emit("folio mapcounts", m.mmu.read(Machine::field(h1, sp::kFolioMapcounts), "differential"));
      emit("folio pincount", m.mmu.read(Machine::field(h1, sp::kFolioPinned), "differential"));
    }
  };
  // The sample lives in a member and the views in fixed arrays made once
  // per call: a fresh vector per struct page was most of this function's
  // cost under ASan (a new chunk, a stack-depot entry and regrowth for each
  // of thousands of pages per op).
  PageView a, b;
  // The sample entries from sample_[s] on that form a run compared from
  // words decided once per vmemmap page on each side: consecutive tails
  // (idx >= 4), none starting a vmemmap page, all in one vmemmap page on
  // each side, whose three words uniform_struct_page_words shows to be the
  // same in every struct page of the run on both sides.  Their views then
  // differ from slot to slot only through the slot's own address (the
  // legacy compound_head() of a non-tail, the mask decode), which
  // tail_view_from_words recomputes per slot; the values are compared in
  // page_view's order, so the first difference is the reference's.
  // Returns the run's length, 0 when there is none.
  const uint64_t page_size = L.cfg.page_size(), SZ = L.cfg.struct_page_size;
  const bool runs_ok = !differential_compare_reference && L.cfg.variant != Variant::KirylV6 &&
                       S.cfg.variant != Variant::KirylV6 && SZ == S.cfg.struct_page_size &&
                       page_size == S.cfg.page_size();
  std::array<uint64_t, 3> wl{}, ws{};
  auto uniform_run = [&](size_t s, uint64_t head_pfn) -> uint64_t {
    const uint64_t idx = sample_[s];
    const uint64_t pl = L.page(head_pfn + idx), pS = S.page(head_pfn + idx);
    if (!runs_ok || idx < 4 || pl % page_size == 0 || pS % page_size == 0)
      return 0;
    uint64_t n = 1;
    while (s + n < sample_.size() && sample_[s + n] == idx + n)
      n++;
    // Struct pages wholly in the vmemmap page of the first, on each side,
    // and none at the start of the next page (the run ends before it).
    n = std::min({n, ((pl & ~(page_size - 1)) + page_size - pl) / SZ,
                  ((pS & ~(page_size - 1)) + page_size - pS) / SZ});
    if (n < 2)
      return 0;
    n = uniform_struct_page_words(L, pl & ~(page_size - 1), pl, n, kTailViewFields, wl.data());
    if (n < 2)
      return 0;
    return uniform_struct_page_words(S, pS & ~(page_size - 1), pS, n, kTailViewFields, ws.data());
  };
  auto compare_compound = [&](uint64_t head_pfn, unsigned order) -> bool {
    sample(order, spp, opt_.all_slots, sample_);
    for (size_t s = 0; s < sample_.size(); s++) {
      if (const uint64_t run = uniform_run(s, head_pfn); run >= 2) {
        differential_uniform_runs++;
        for (uint64_t j = 0; j < run; j++) {
          const uint64_t pfn = head_pfn + sample_[s] + j;
          a.n = b.n = 0;
          tail_view_from_words(L, L.page(pfn), L.page(head_pfn), wl.data(), a);
          tail_view_from_words(S, S.page(pfn), S.page(head_pfn), ws.data(), b);
          for (size_t i = 0; i < a.n && i < b.n; i++)
            if (a.value[i] != b.value[i] && differ(a.name[i], pfn, a.value[i], b.value[i], op_text))
              return true;
        }
        s += run - 1;
        continue;
      }
      const uint64_t idx = sample_[s];
      const uint64_t pfn = head_pfn + idx;
      a.n = b.n = 0;
      page_view(L, L.page(pfn), L.page(head_pfn), idx,
                [&](const char *n, uint64_t v) { a.add(n, v); });
      page_view(S, S.page(pfn), S.page(head_pfn), idx,
                [&](const char *n, uint64_t v) { b.add(n, v); });
      // differ() is false for equal values; testing them first spares a
      // std::string made from the name for every value compared.
      for (size_t i = 0; i < a.n && i < b.n; i++)
        if (a.value[i] != b.value[i] && differ(a.name[i], pfn, a.value[i], b.value[i], op_text))
          return true;
    }
    return false;
  };
  const bool memo = runs_ok;  // the reference compares every folio every time; not kiryl-v6
  for (size_t id = 0; id < L.folios.size(); id++) {
    const HugetlbFolio &fl = L.folios[id], &fs = S.folios[id];
    // The names are built only for a difference: every folio is looked
    // at after every op, and a string per look is a heap allocation.
    const uint64_t state_l = static_cast<uint64_t>(fl.state) << 32 | fl.order;
    const uint64_t state_s = static_cast<uint64_t>(fs.state) << 32 | fs.order;
    if ((state_l != state_s &&
         differ("folio " + std::to_string(id) + " state", fl.pfn, state_l, state_s, op_text)) ||
        (fl.pfn != fs.pfn &&
         differ("folio " + std::to_string(id) + " pfn", fl.pfn, fl.pfn, fs.pfn, op_text)))
      return;
    if (fl.state == FolioState::Gone)
      continue;
    if (memo && folio_unchanged(id, fl.pfn, fl.order)) {
      differential_memo_hits++;
      continue;
    }
    if (compare_compound(fl.pfn, fl.order))
      return;
    if (memo)
      remember_folio(id, fl.pfn, fl.order);
  }
  // Every folio now reads as its memo says: from here on the journals
  // record what the next op writes.
  L.phys.journal_clear();
  S.phys.journal_clear();
  // Device DAX: the pgmaps, then up to 4 compound pages at each end of each.
  const auto &pl = L.hotplug.pgmaps, &ps = S.hotplug.pgmaps;
  if (differ("pgmap count", UINT64_MAX, pl.size(), ps.size(), op_text))
    return;
  for (size_t i = 0; i < pl.size(); i++) {
    if (pl[i].live != ps[i].live &&
        differ("pgmap " + std::to_string(i) + " live", pl[i].range_start_pfn, pl[i].live,
               ps[i].live, op_text))
      return;
    if (!pl[i].live)
      continue;
    const DevPagemap &p = pl[i];
    const uint64_t nr = pgmap_vmemmap_nr(p);
    uint64_t start = p.range_start_pfn;
    if (p.altmap)
      start = p.altmap->base_pfn + p.altmap->reserve + p.altmap->free;
    const uint64_t end = p.range_start_pfn + p.range_nr_pages;
    const uint64_t count = end > start ? (end - start + nr - 1) / nr : 0;
    for (uint64_t k = 0; k < count; k++) {
      if (k >= 4 && k + 4 < count)
        continue;
      const uint64_t head = start + k * nr;
      if (head + nr > end)
        continue;  // a partial compound page at the end: initialised past the range
      if (compare_compound(head, p.vmemmap_shift))
        return;
    }
  }
}

namespace {

// boot_gigantic_at's page (pfn = slot << order) straddles a zone boundary.
bool boot_page_spans_zones(const Machine &m, const Op &op) {
  if (op.args[0] > 40 || op.args[1] > (uint64_t{1} << 40))
    return false;
  const uint64_t nr = uint64_t{1} << op.args[0], pfn = op.args[1] << op.args[0];
  return m.phys.zone_of_pfn(pfn) != m.phys.zone_of_pfn(pfn + nr - 1);
}

}  // namespace

bool Differential::step(const Op &op) {
  if (r_.diverged || r_.stopped)
    return false;
  const std::string text = print_op(op);
  const uint64_t armed_l = legacy_->machine().phys.fault.fail_nth;
  const uint64_t armed_s = shared_->machine().phys.fault.fail_nth;
  const StepResult a = legacy_->apply(op);
  const StepResult b = shared_->apply(op);
  last_legacy_ = a;
  const bool fired = (armed_l && !legacy_->machine().phys.fault.fail_nth) ||
                     (armed_s && !shared_->machine().phys.fault.fail_nth);
  if (a.result.ret != b.result.ret || a.result.folios != b.result.folios) {
    std::string allowed;
    const auto &desc = op_table()[op.kind < op_table().size() ? op.kind : 0];
    if (fired) {
      allowed = "fault-injection-target";  // the eras allocate in a different order
    } else if (desc.name == "boot_gigantic_at" && a.result.ret == 0 && b.result.ret == kENOMEM &&
               boot_page_spans_zones(shared_->machine(), op)) {
      allowed = "boot-cross-zone";  // 6.15+ trees discard a boot page that spans zones
    } else if ((a.result.ret == kENOMEM || b.result.ret == kENOMEM) &&
               total_free(legacy_->machine()) != total_free(shared_->machine())) {
      allowed = "memory-budget";  // shared tails are frames the legacy era does not have
    } else if (opt_.shared_variant == Variant::Muchun && desc.name == "dax_add" &&
               b.result.ret == kEOPNOTSUPP) {
      allowed = "dax-section-order";  // Muchun refuses sub-section adds into optimized sections
    } else if (opt_.shared_variant == Variant::Muchun &&
               (desc.name == "fail_vmemmap_pte" || desc.name == "fail_vmemmap_pmd")) {
      allowed = "muchun-fault-attribute";  // CONFIG_FAIL_HUGETLB_VMEMMAP exists only there
    }
    if (allowed.empty()) {
      r_.diverged = true;
      r_.op_index = index_;
      r_.op = text;
      r_.observable = a.result.ret != b.result.ret ? "ret" : "folios";
      r_.legacy = format_ret(a.result.ret);
      r_.shared = format_ret(b.result.ret);
      return false;
    }
    r_.allowed.push_back({allowed, index_, r_.observable + " " + format_ret(a.result.ret) + " vs " +
                                               format_ret(b.result.ret)});
    // One side did something the other did not (a folio, a pgmap, an
    // optimization): the two machines no longer hold the same objects, so
    // the comparison ends here, without a divergence.
    r_.stopped = true;
    r_.ops_compared = ++index_;
    return false;
  }
  compare_state(text);
  if (r_.diverged && fired) {
    // The same allowance, for the op's effect rather than its return value:
    // the failure hit a different request on each side, so e.g. free_folio
    // returns 0 on both but keeps the folio as surplus on the side whose
    // restore failed.  The machines now hold different objects: stop.
    r_.allowed.push_back({"fault-injection-target", index_,
                          r_.observable + " " + r_.legacy + " vs " + r_.shared});
    r_.diverged = false;
    r_.observable.clear();
    r_.legacy.clear();
    r_.shared.clear();
    r_.op.clear();
    r_.op_index = 0;
    r_.pfn = UINT64_MAX;
    r_.stopped = true;
  } else if (fired && !r_.diverged) {
    // The failure fired and this op still looks the same on both sides, but
    // the eras allocate in a different order, so it may have hit a request
    // on one side that the other side did not make (or made later): one era
    // can hold an optimized folio the other does not, invisible until a
    // later op asks (fuzz/findings/differential_fail_nth_one_side.hvo:
    // restore_batch returned 1 against 0 two ops later).  Stop here too.
    r_.allowed.push_back({"fault-injection-target", index_, "injected failure fired; machines may differ"});
    r_.stopped = true;
  }
  r_.ops_compared = ++index_;
  return !r_.diverged && !r_.stopped;
}

DiffResult run_differential(const Config &base, std::span<const Op> ops, const DiffOptions &opt) {
  Differential d(base, opt);
  for (const Op &op : ops)
    if (!d.step(op))
      break;
  return d.result();
}

} // namespace hvo
