// SPDX-License-Identifier: GPL-2.0-only
//
// Shared tail pages of the shared-tail era (see shared_tail.h).  Sources:
// kiryl-v6 = seed 002 (v6 "mm/hugetlb: Remove fake head pages");
// kiryl-v7 = v7 12/18 (mm/hugetlb_vmemmap.c vmemmap_get_tail, mm/internal.h
// init_compound_tail); muchun = linux-mm mm/sparse-vmemmap.c @028871b8
// vmemmap_shared_tail_page.
#include "hvo/shared_tail.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>

#include "hvo/compound_info.h"
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/machine.h"
#include "hvo/oracle.h"
#include "hvo/struct_page.h"
#include "hvo/struct_page_range.h"

namespace hvo {

namespace {

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

unsigned nr_tails(const Config &c) { return nr_vmemmap_tails(vmemmap_geometry(c)); }

// The slot of (order, owner), growing the arrays; nullptr if the order has no
// slot (the kernel indexes without a check in kiryl-v6/v7; callers only
// pass optimizable orders).
FrameId *tail_slot(Machine &m, unsigned order, const TailOwner &owner) {
  SharedTailState &st = m.shared_tails;
  const unsigned min = vmemmap_tail_min_order(vmemmap_geometry(m.cfg));
  if (order < min || order - min >= nr_tails(m.cfg))
    return nullptr;
  if (st.tails.size() <= owner.key) {
    st.tails.resize(owner.key + 1, std::vector<FrameId>(nr_tails(m.cfg), kNoFrame));
    st.uninitialized.resize(owner.key + 1, std::vector<bool>(nr_tails(m.cfg), false));
    st.array_allocated.resize(owner.key + 1, false);
  }
  return &st.tails[owner.key][order - min];
}

// The words of the canonical tail struct page of (order, owner) for the
// variant, as FieldSpecs (every slot identical: that is the point).
std::array<FieldSpec, kMaxStructPageWords> tail_fields(const Machine &m, unsigned order,
                                                       const TailOwner &owner) {
  std::array<FieldSpec, kMaxStructPageWords> f{};
  // prep_compound_tail (mm/internal.h): mapping, compound_info, private.
  f[sp::kMapping] = FieldSpec{sp::TAIL_MAPPING};
  f[sp::kCompoundHead] = FieldSpec{compound_info_mask(vmemmap_geometry(m.cfg), order)};
  f[sp::kPrivate] = FieldSpec{0};
  // v6: a zeroed page plus prep_compound_tail, nothing else.  Historic bug
  // TailInitNoNodeMapcount puts that v6 code back into the later shapes.
  if (m.cfg.variant == Variant::KirylV6 || m.cfg.has(Bug::TailInitNoNodeMapcount))
    return f;
  // init_compound_tail (v7 12/18, mm/internal.h): _mapcount = -1, node, zone;
  // muchun adds PG_reserved for ZONE_DEVICE.
  uint64_t flags = sp::page_links(owner.zone, owner.nid);
  if (m.cfg.variant == Variant::Muchun && owner.zone == static_cast<unsigned>(ZoneType::Device))
    flags |= uint64_t{1} << sp::PG_reserved;
  f[sp::kFlags] = FieldSpec{flags};
  f[sp::kCounts] = FieldSpec{sp::counts(0, sp::kMapcountNone)};
  return f;
}

// What invariant 4 requires of every slot, whatever the variant
// (kernel-reference section 5, invariant 4).
std::array<uint64_t, kMaxStructPageWords> canonical_words(const Machine &m, unsigned order,
                                                          const TailOwner &owner) {
  std::array<uint64_t, kMaxStructPageWords> w{};
  uint64_t flags = sp::page_links(owner.zone, owner.nid);
  if (m.cfg.variant == Variant::Muchun && owner.zone == static_cast<unsigned>(ZoneType::Device))
    flags |= uint64_t{1} << sp::PG_reserved;
  w[sp::kFlags] = flags;
  w[sp::kCompoundHead] = compound_info_mask(vmemmap_geometry(m.cfg), order);
  w[sp::kMapping] = sp::TAIL_MAPPING;
  w[sp::kCounts] = sp::counts(0, sp::kMapcountNone);
  return w;
}

} // namespace

VmemmapGeometry vmemmap_geometry(const Config &c) {
  return VmemmapGeometry{c.page_shift, c.struct_page_size, c.era == Era::SharedTail};
}

bool mask_encoding(const Config &c) { return compound_info_has_mask(vmemmap_geometry(c)); }

TailOwner tail_owner_of_pfn(const Machine &m, uint64_t pfn) {
  TailOwner o;
  const ZoneRange *z = m.phys.zone_of_pfn(pfn);
  if (!z)
    return o;
  o.nid = z->nid;
  o.zone = static_cast<unsigned>(z->type);
  // Historic bug ZonenumPerNodeTail: Kiryl v1/v2 kept the tails per node
  // while page_zonenum() still read the zone from the struct page itself
  // (v2 moved it to the head), so a node's second zone used a tail that
  // carries the first zone.
  o.key = m.cfg.variant == Variant::KirylV6 || m.cfg.has(Bug::ZonenumPerNodeTail)
              ? z->nid
              : static_cast<unsigned>(z - m.phys.zones().data());
  o.valid = true;
  return o;
}

TailOwner tail_owner_device(const Machine &m, unsigned nid) {
  TailOwner o;
  o.nid = nid;
  o.zone = static_cast<unsigned>(ZoneType::Device);
  o.key = static_cast<unsigned>(m.phys.zones().size()) + nid;
  o.valid = true;
  return o;
}

FrameId shared_tail_lookup(const Machine &m, unsigned order, const TailOwner &owner) {
  const SharedTailState &st = m.shared_tails;
  const unsigned min = vmemmap_tail_min_order(vmemmap_geometry(m.cfg));
  if (owner.key >= st.tails.size() || order < min || order - min >= st.tails[owner.key].size())
    return kNoFrame;
  return st.tails[owner.key][order - min];
}

void init_shared_tail_frame(Machine &m, FrameId f, unsigned order, const TailOwner &owner) {
  const uint32_t image = m.phys.images().intern(tail_fields(m, order, owner));
  m.phys.set_image(f, image, 0);
  m.phys.touch(f);
}

FrameId tail_alloc_and_init(Machine &m, unsigned order, const TailOwner &owner) {
  // kiryl: alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0); muchun:
  // vmemmap_alloc_block(PAGE_SIZE, zone_to_nid(zone)).  Neither is added to
  // memmap_pages (docs/findings-model.md, "shared tails are not counted").
  std::optional<FrameId> f = m.phys.alloc_frame(owner.nid, AllocPurpose::Memmap);
  if (!f)
    return kNoFrame;
  m.phys.frame(*f).attrs |= kFrameSharedTail;
  m.shared_tails.frames++;
  init_shared_tail_frame(m, *f, order, owner);
  return *f;
}

FrameId tail_publish(Machine &m, unsigned order, const TailOwner &owner, FrameId candidate) {
  FrameId *slot = tail_slot(m, order, owner);
  if (!slot)
    return kNoFrame;
  if (*slot == kNoFrame) {  // cmpxchg(&tails[idx], NULL, tail) succeeded
    *slot = candidate;
    return candidate;
  }
  // Lost the race: __free_page(tail); tail = READ_ONCE(tails[idx]).
  m.phys.frame(candidate).attrs &= ~kFrameSharedTail;
  m.shared_tails.frames--;
  m.phys.free_frame(candidate);
  return *slot;
}

void tail_publish_unlocked(Machine &m, unsigned order, const TailOwner &owner, FrameId candidate) {
  if (FrameId *slot = tail_slot(m, order, owner))
    *slot = candidate;  // v1: WRITE_ONCE without a cmpxchg; an earlier frame is lost
}

FrameId vmemmap_get_tail(Machine &m, unsigned order, const TailOwner &owner) {
  if (!owner.valid)
    return kNoFrame;
  FrameId *slot = tail_slot(m, order, owner);
  if (!slot) {
    if (m.cfg.variant == Variant::Muchun)
      m.report("K-WARN_ON", 0, UINT64_MAX, "order in [MIN, MAX_FOLIO_ORDER]",
               std::to_string(order), "vmemmap_shared_tail_page: WARN_ON_ONCE(idx >= NR)");
    else
      m.report("K-model-limit", 0, UINT64_MAX, "order in [MIN, MAX_FOLIO_ORDER]",
               std::to_string(order),
               "vmemmap_get_tail: the kernel indexes vmemmap_tails[] out of bounds here");
    return kNoFrame;
  }
  if (*slot != kNoFrame)  // READ_ONCE: the fast path
    return *slot;
  if (m.cfg.variant == Variant::Muchun && !m.shared_tails.array_allocated[owner.key]) {
    // vmemmap_tails_alloc: kzalloc of the per-zone array, published by cmpxchg.
    if (!m.phys.kmalloc_attempt(owner.nid))
      return kNoFrame;
    m.shared_tails.array_allocated[owner.key] = true;
  }
  const FrameId candidate = tail_alloc_and_init(m, order, owner);
  if (candidate == kNoFrame)
    return kNoFrame;
  return tail_publish(m, order, owner, candidate);
}

// ---- oracle ----------------------------------------------------------------------

namespace {

const std::vector<InvariantInfo> kCatalog = {
    {"I4-shared-tail-content",
     "every slot of an initialised shared tail frame is the canonical tail of its order and "
     "owner (mask|1, TAIL_MAPPING, private 0, refcount 0, mapcount -1, the owner's node and "
     "zone, no other flag)"},
    {"I11-alignment",
     "VMEMMAP_BASE is a multiple of MAX_FOLIO_VMEMMAP_ALIGN and every folio head's struct page "
     "is aligned to 2^order * sizeof(struct page) (else the mask decode misses the head)"},
};

uint64_t read_vm(Machine &m, uint64_t vaddr, bool &mapped) {
  const Translation t = m.pt.translate(vaddr);
  mapped = t.pte.present();
  return mapped ? m.phys.read_word(t.pte.frame, (vaddr & (m.cfg.page_size() - 1)) / 8) : 0;
}

} // namespace

const std::vector<InvariantInfo> &shared_tail_invariant_catalog() { return kCatalog; }

void check_shared_tails(Machine &m, const std::vector<FrameId> &frames, size_t max_per_id,
                        std::vector<Violation> &out, bool frames_ascending) {
  const VmemmapGeometry g = vmemmap_geometry(m.cfg);
  // sparse_init() warns once (Kiryl v7 08/18); so does the oracle.
  // Historic bug NoMemmapAlignmentCheck: no such check before Kiryl v7 08/18.
  if (!vmemmap_base_is_aligned(g, m.cfg.vmemmap_base) && !m.shared_tails.misaligned_reported &&
      !m.cfg.has(Bug::NoMemmapAlignmentCheck)) {
    m.shared_tails.misaligned_reported = true;
    out.push_back({"I11-alignment", 0, m.cfg.vmemmap_base, 0,
                   "a multiple of " + hex(max_folio_vmemmap_align(g)), hex(m.cfg.vmemmap_base),
                   "sparse_init: the vmemmap base is not aligned to MAX_FOLIO_VMEMMAP_ALIGN"});
  }
  const SharedTailState &st = m.shared_tails;
  const unsigned min = vmemmap_tail_min_order(g);
  const uint64_t spp = m.cfg.spp(), W = m.cfg.words_per_struct_page();
  // A whole-machine check lists thousands of frames, ascending: a binary
  // search per tail there (the tails are a handful), a scan otherwise.
  auto among_frames = [&](FrameId f) {
    return frames_ascending ? std::binary_search(frames.begin(), frames.end(), f)
                            : std::find(frames.begin(), frames.end(), f) != frames.end();
  };
  size_t reported = 0;
  for (unsigned key = 0; key < st.tails.size(); key++) {
    for (unsigned i = 0; i < st.tails[key].size(); i++) {
      const FrameId f = st.tails[key][i];
      if (f == kNoFrame || st.uninitialized[key][i] || !among_frames(f))
        continue;
      TailOwner owner;
      owner.key = key;
      if (key < m.phys.zones().size() && m.cfg.variant != Variant::KirylV6) {
        owner.nid = m.phys.zones()[key].nid;
        owner.zone = static_cast<unsigned>(m.phys.zones()[key].type);
      } else if (m.cfg.variant == Variant::KirylV6) {
        owner.nid = key;  // per node: the zone a tail should carry is not defined;
        owner.zone = 0;   // the normal zone of the node is what folios use
        for (const ZoneRange &z : m.phys.zones())
          if (z.nid == key)
            owner.zone = static_cast<unsigned>(z.type);
      } else {
        owner = tail_owner_device(m, key - static_cast<unsigned>(m.phys.zones().size()));
      }
      const auto want = canonical_words(m, min + i, owner);
      for (uint64_t slot = 0; slot < spp && reported < max_per_id; slot++) {
        bool bad = false;
        unsigned word = 0;
        for (unsigned w = 0; w < W && !bad; w++)
          if (m.phys.read_word(f, slot * W + w) != (w < want.size() ? want[w] : 0)) {
            bad = true;
            word = w;
          }
        if (bad) {
          out.push_back({"I4-shared-tail-content", 0, 0, UINT64_MAX,
                         "word " + std::to_string(word) + " = " + hex(want[word]),
                         hex(m.phys.read_word(f, slot * W + word)),
                         "shared tail frame " + std::to_string(f) + " (order " +
                             std::to_string(min + i) + ", owner " + std::to_string(key) +
                             ") slot " + std::to_string(slot)});
          reported++;
          break;  // one report per frame: the slots are identical by construction
        }
      }
    }
  }
}

namespace {

// What read_vm() returns, a vmemmap page at a time: translate() once per
// vmemmap page, then each word of the frame it maps from a small cache of
// the words already read from that frame.  Equal to read_vm() for every
// address: translate() depends only on the vmemmap page (vpn relative to the
// base; covers() is constant within one), the word read depends only on the
// frame and the offset in the page, and the oracle writes nothing.  Pages
// that map the same frame (every tail page of an optimized folio maps its
// shared tail) therefore cost one translate() and no image evaluation.
class VmemmapWordReader {
public:
  explicit VmemmapWordReader(Machine &m)
      : m_(m), base_(m.cfg.vmemmap_base), shift_(m.cfg.page_shift), offset_mask_(m.cfg.page_size() - 1) {}

  uint64_t read(uint64_t vaddr) {
    const uint64_t vpn = (vaddr - base_) >> shift_;  // wraps below the base: one uncovered window
    if (vpn != vpn_) {
      vpn_ = vpn;
      const Translation t = m_.pt.translate(vaddr);
      const FrameId frame = t.pte.present() ? t.pte.frame : kNoFrame;
      if (frame != frame_) {
        frame_ = frame;
        cached_ = 0;
      }
    }
    if (frame_ == kNoFrame)
      return 0;
    const uint64_t w = (vaddr & offset_mask_) / 8;
    for (unsigned i = 0; i < cached_; i++)
      if (words_[i] == w)
        return values_[i];
    const uint64_t v = m_.phys.read_word(frame_, w);
    const unsigned i = cached_ < kWays ? cached_++ : static_cast<unsigned>(w % kWays);
    words_[i] = w;
    values_[i] = v;
    return v;
  }

private:
  static constexpr unsigned kWays = 8;  // check_folio_shared_tail reads 6 offsets per page
  Machine &m_;
  const uint64_t base_;
  const unsigned shift_;
  const uint64_t offset_mask_;
  uint64_t vpn_ = UINT64_MAX;
  FrameId frame_ = kNoFrame;
  unsigned cached_ = 0;
  std::array<uint64_t, kWays> words_{}, values_{};
};

// check_folio_shared_tail's verdict on one slot from the two words read there.
enum class SlotVerdict { Ok, BadHead, BadZoneNode };

SlotVerdict slot_verdict(const Config &c, const VmemmapGeometry &g, uint64_t h, uint64_t idx,
                         uint64_t p, uint64_t info, uint64_t flags, uint64_t head_flags) {
  const uint64_t resolved = compound_info_decode(g, p, info);
  const bool tail = info & 1;
  if (idx == 0 ? (resolved != h || tail || !((flags >> sp::PG_head) & 1))
               : (resolved != h || !tail))
    return SlotVerdict::BadHead;
  // I5: kiryl-v6 reads the zone through compound_head (page_zonenum), the
  // node from the slot itself; the others read both from the slot.
  const uint64_t zone_flags = c.variant == Variant::KirylV6 ? head_flags : flags;
  if (idx >= 4 && (sp::flags_zone(zone_flags) != sp::flags_zone(head_flags) ||
                   sp::flags_nid(flags) != sp::flags_nid(head_flags)))
    return SlotVerdict::BadZoneNode;
  return SlotVerdict::Ok;
}

// The report of a slot whose verdict is not Ok, built out of line: the loop
// that calls it keeps a small frame (under ASan a frame full of std::string
// temporaries costs a fake-stack allocation per call).
[[gnu::noinline]] void report_slot(const Config &c, const VmemmapGeometry &g, const HugetlbFolio &f,
                                   uint64_t h, uint64_t idx, uint64_t p, uint64_t info,
                                   uint64_t flags, uint64_t head_flags, SlotVerdict verdict,
                                   std::vector<Violation> &out) {
  if (verdict == SlotVerdict::BadHead) {
    const uint64_t resolved = compound_info_decode(g, p, info);
    out.push_back({"I1-head-resolution", 0, p, f.pfn + idx, hex(h) + (idx ? ", tail" : ", head"),
                   hex(resolved) + ((info & 1) ? ", tail" : ""),
                   "slot " + std::to_string(idx) + " of folio " + std::to_string(f.id) +
                       " (mask decode)"});
    return;
  }
  const uint64_t zone_flags = c.variant == Variant::KirylV6 ? head_flags : flags;
  out.push_back({"I5-zone-node", 0, p, f.pfn + idx,
                 "zone " + std::to_string(sp::flags_zone(head_flags)) + " node " +
                     std::to_string(sp::flags_nid(head_flags)),
                 "zone " + std::to_string(sp::flags_zone(zone_flags)) + " node " +
                     std::to_string(sp::flags_nid(flags)),
                 "tail " + std::to_string(idx) + " of folio " + std::to_string(f.id)});
}

// The words check_folio_shared_tail reads of a slot, in the order
// uniform_struct_page_words gives them.
constexpr std::array<unsigned, 2> kSlotFields = {sp::kCompoundHead, sp::kFlags};

// Whether (p & info) == h for every p = p0 + i * S, i < count: every such p
// lies between p0 and the last one, so shares with p0 every bit above the
// highest bit in which p0 and the last differ; if info has no bit at or
// below it, p & info is p0 & info for all of them.  False means "not
// decided at once", not "fails".
bool mask_decodes_to_head_throughout(uint64_t p0, uint64_t last, uint64_t info, uint64_t h) {
  const uint64_t diff = p0 ^ last;
  const uint64_t varying = diff ? ~uint64_t{0} >> std::countl_zero(diff) : 0;
  return (info & varying) == 0 && (p0 & info) == h;
}

} // namespace

void check_folio_shared_tail(Machine &m, const HugetlbFolio &f, bool flagged, size_t max_per_id,
                             std::vector<Violation> &out, bool reference_paths) {
  const Config &c = m.cfg;
  const uint64_t S = c.struct_page_size, ps = c.page_size(), n = uint64_t{1} << f.order;
  const uint64_t h = m.page(f.pfn);
  const VmemmapGeometry g = vmemmap_geometry(c);
  size_t r1 = 0, r5 = 0;
  bool mapped = true;
  const uint64_t head_flags = read_vm(m, Machine::field(h, sp::kFlags), mapped);
  // I11: the head's struct page must be aligned to the folio's memmap size.
  if (mask_encoding(c) && h % (n * S) != 0)
    out.push_back({"I11-alignment", 0, h, f.pfn, "aligned to " + hex(n * S), hex(h % (n * S)),
                   "head of folio " + std::to_string(f.id) + " is not naturally aligned"});
  VmemmapWordReader reader(m);
  // The verdict on slot @idx from its two words, counted and reported.
  auto decide_slot = [&](uint64_t idx, uint64_t p, uint64_t info, uint64_t flags) {
    const SlotVerdict verdict = slot_verdict(c, g, h, idx, p, info, flags, head_flags);
    if (verdict == SlotVerdict::Ok)
      return;
    size_t &count = verdict == SlotVerdict::BadHead ? r1 : r5;
    if (count++ < max_per_id)
      report_slot(c, g, f, h, idx, p, info, flags, head_flags, verdict, out);
  };
  auto check_slot = [&](uint64_t idx) {
    const uint64_t p = h + idx * S;
    uint64_t info, flags;
    if (reference_paths) {  // the reference: every word through translate()
      info = read_vm(m, Machine::field(p, sp::kCompoundHead), mapped);
      flags = read_vm(m, Machine::field(p, sp::kFlags), mapped);
    } else {
      info = reader.read(Machine::field(p, sp::kCompoundHead));
      flags = reader.read(Machine::field(p, sp::kFlags));
    }
    decide_slot(idx, p, info, flags);
  };
  // check_slot(idx) for every idx in [lo, hi), in order.  Outside the
  // reference, the tails (idx >= 4) whose struct pages lie wholly in one
  // vmemmap page are taken a page at a time: where uniform_struct_page_words shows
  // their two words are the same in every slot, the zone/node verdict is
  // the same for all of them and so is the head verdict, except through the
  // slot's own address in a mask decode (p & info), which
  // mask_decodes_to_head_throughout decides for the whole run; a run not
  // provably clean that way gets slot_verdict per slot from those words,
  // which is what check_slot computes from the words it reads.  Anything
  // else (the folio metadata, a struct page straddling two vmemmap pages, a
  // page whose words differ) goes through check_slot.
  auto check_slots = [&](uint64_t lo, uint64_t hi) {
    const bool kiryl_v6 = c.variant == Variant::KirylV6;
    const bool mask = compound_info_has_mask(g);
    for (uint64_t idx = lo; idx < hi;) {
      const uint64_t p = h + idx * S, va = p & ~(ps - 1);
      uint64_t whole = std::min(hi - idx, (va + ps - p) / S);  // slots from idx in page va
      std::array<uint64_t, 2> u{};  // compound_info, flags
      if (reference_paths || idx < 4 || whole < 2 ||
          (whole = uniform_struct_page_words(m, va, p, whole, kSlotFields, u.data())) < 2) {
        check_slot(idx++);
        continue;
      }
      const uint64_t info = u[0], flags = u[1];
      check_folio_shared_tail_uniform_runs++;
      const uint64_t last = p + (whole - 1) * S;
      const uint64_t zone_flags = kiryl_v6 ? head_flags : flags;
      const bool zone_node_ok = sp::flags_zone(zone_flags) == sp::flags_zone(head_flags) &&
                                sp::flags_nid(flags) == sp::flags_nid(head_flags);
      const bool head_ok = (info & 1) && (mask ? mask_decodes_to_head_throughout(p, last, info, h)
                                               : info - 1 == h);
      if (!(zone_node_ok && head_ok))
        for (uint64_t i = 0; i < whole; i++)
          decide_slot(idx + i, p + i * S, info, flags);
      idx += whole;
    }
  };
  // An optimized folio maps vmemmap pages 1.. read-only to its owner's tail
  // (a rolled-back partial HVO under muchun may keep some private pages:
  // those must then be read-write).
  const TailOwner owner = tail_owner_of_pfn(m, f.pfn);
  const FrameId tail = shared_tail_lookup(m, f.order, owner);
  auto pte_ok = [&](const Pte &pte) {
    return flagged ? (pte.frame == tail ? pte.ro : !pte.ro && c.variant == Variant::Muchun)
                   : !pte.ro;
  };
  auto report_i10 = [&](uint64_t k, uint64_t a, const Pte &pte) {
    out.push_back({"I10-optimize-gate", 0, a, m.page_to_pfn(a),
                   flagged ? "RO shared tail " + std::to_string(tail) : "RW",
                   std::string(pte.ro ? "RO " : "RW ") + "frame " + std::to_string(pte.frame),
                   "vmemmap page " + std::to_string(k) + " of folio " + std::to_string(f.id) +
                       (flagged ? " (optimized)" : " (not optimized)")});
  };
  // Every slot of the head's vmemmap page (the folio metadata lives there),
  // then the first, second and last slot of every other vmemmap page.
  const uint64_t spp = c.spp();
  const uint64_t first_page_slots = std::min<uint64_t>(n, c.struct_page_pow2() ? spp : n);
  check_slots(0, first_page_slots);
  const uint64_t vpages = (n * S) / ps;
  // The fast path below needs every sampled vmemmap page to be whole and to
  // start a sample (idx = k * SPP at h + k * PAGE_SIZE, the I10 loop's page
  // k), and the page table to be what every access sees (no stale TLB
  // entry: translate() == ptep_get()).
  const bool by_page = !reference_paths && c.struct_page_pow2() && spp >= 4 && n % spp == 0 &&
                       h % ps == 0 && vpages == n / spp && m.pt.stale_tlb_entries() == 0;
  if (!by_page) {
    for (uint64_t idx = first_page_slots; idx < n; idx += spp) {
      check_slot(idx);
      if (idx + 1 < n)
        check_slot(idx + 1);
      check_slot(std::min(n, idx + spp) - 1);
    }
    for (uint64_t k = 1; k < vpages; k++) {
      const uint64_t a = (h & ~(ps - 1)) + k * ps;
      const Pte pte = m.pt.ptep_get(a);
      if (!pte_ok(pte)) {
        report_i10(k, a, pte);
        break;
      }
    }
    return;
  }
  // A vmemmap page at a time.  Page k's three samples read the words at
  // offsets 0, S and PAGE_SIZE - S of the frame it maps.  When that is the
  // frame of the last page whose samples were all clean, the words are the
  // same; the verdict then differs only through the slot's own address in
  // the mask decode (p & info == h), recomputed here; the pointer decode and
  // the zone/node checks do not read the address.  Any other page is checked
  // slot by slot as above.  The I10 verdict of page k comes from the same
  // translation and is reported after the slots, where the loop above puts it.
  const bool mask = compound_info_has_mask(g);
  FrameId clean_frame = kNoFrame;
  std::array<uint64_t, 3> clean_info{};
  uint64_t bad_k = 0;
  Pte bad_pte;
  // One ptep_get per run of identical PTEs (VmemmapPageTable::pte_run):
  // within the run every page's ptep_get is `pte`.  Nothing below writes
  // the page table.
  Pte pte;
  uint64_t run = 0;  // pages from k on that still map `pte`
  for (uint64_t k = 1; k < vpages; k++, run--) {
    const uint64_t idx = k * spp, p = h + k * ps;
    if (run == 0) {
      pte = m.pt.ptep_get(p);
      run = m.pt.pte_run(p, vpages - k);
    }
    if (bad_k == 0 && !pte_ok(pte)) {
      bad_k = k;
      bad_pte = pte;
    }
    const uint64_t last = p + (spp - 1) * S;
    if (pte.present() && pte.frame == clean_frame &&
        (!mask || ((p & clean_info[0]) == h && ((p + S) & clean_info[1]) == h &&
                   (last & clean_info[2]) == h)))
      continue;
    const size_t r1_was = r1, r5_was = r5;
    check_slot(idx);
    check_slot(idx + 1);
    check_slot(idx + spp - 1);
    clean_frame = r1 == r1_was && r5 == r5_was && pte.present() ? pte.frame : kNoFrame;
    if (clean_frame != kNoFrame)
      clean_info = {reader.read(Machine::field(p, sp::kCompoundHead)),
                    reader.read(Machine::field(p + S, sp::kCompoundHead)),
                    reader.read(Machine::field(last, sp::kCompoundHead))};
  }
  if (bad_k != 0)
    report_i10(bad_k, h + bad_k * ps, bad_pte);
}

} // namespace hvo
