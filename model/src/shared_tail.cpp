// SPDX-License-Identifier: GPL-2.0-only
//
// Shared tail pages of the shared-tail era (see shared_tail.h).  Sources:
// kiryl-v6 = seed 002 (v6 "mm/hugetlb: Remove fake head pages");
// kiryl-v7 = v7 12/18 (mm/hugetlb_vmemmap.c vmemmap_get_tail, mm/internal.h
// init_compound_tail); muchun = linux-mm mm/sparse-vmemmap.c @028871b8
// vmemmap_shared_tail_page.
#include "hvo/shared_tail.h"

#include <algorithm>
#include <cstdio>

#include "hvo/compound_info.h"
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/machine.h"
#include "hvo/oracle.h"
#include "hvo/struct_page.h"

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
                        std::vector<Violation> &out) {
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
  size_t reported = 0;
  for (unsigned key = 0; key < st.tails.size(); key++) {
    for (unsigned i = 0; i < st.tails[key].size(); i++) {
      const FrameId f = st.tails[key][i];
      if (f == kNoFrame || st.uninitialized[key][i] ||
          std::find(frames.begin(), frames.end(), f) == frames.end())
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

void check_folio_shared_tail(Machine &m, const HugetlbFolio &f, bool flagged, size_t max_per_id,
                             std::vector<Violation> &out) {
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
  auto check_slot = [&](uint64_t idx) {
    const uint64_t p = h + idx * S;
    const uint64_t info = read_vm(m, Machine::field(p, sp::kCompoundHead), mapped);
    const uint64_t flags = read_vm(m, Machine::field(p, sp::kFlags), mapped);
    const uint64_t resolved = compound_info_decode(g, p, info);
    const bool tail = info & 1;
    if (idx == 0 ? (resolved != h || tail || !((flags >> sp::PG_head) & 1))
                 : (resolved != h || !tail)) {
      if (r1++ < max_per_id)
        out.push_back({"I1-head-resolution", 0, p, f.pfn + idx, hex(h) + (idx ? ", tail" : ", head"),
                       hex(resolved) + (tail ? ", tail" : ""),
                       "slot " + std::to_string(idx) + " of folio " + std::to_string(f.id) +
                           " (mask decode)"});
      return;
    }
    // I5: kiryl-v6 reads the zone through compound_head (page_zonenum), the
    // node from the slot itself; the others read both from the slot.
    const uint64_t zone_flags = c.variant == Variant::KirylV6 ? head_flags : flags;
    if (idx >= 4 && (sp::flags_zone(zone_flags) != sp::flags_zone(head_flags) ||
                     sp::flags_nid(flags) != sp::flags_nid(head_flags))) {
      if (r5++ < max_per_id)
        out.push_back({"I5-zone-node", 0, p, f.pfn + idx,
                       "zone " + std::to_string(sp::flags_zone(head_flags)) + " node " +
                           std::to_string(sp::flags_nid(head_flags)),
                       "zone " + std::to_string(sp::flags_zone(zone_flags)) + " node " +
                           std::to_string(sp::flags_nid(flags)),
                       "tail " + std::to_string(idx) + " of folio " + std::to_string(f.id)});
    }
  };
  // Every slot of the head's vmemmap page (the folio metadata lives there),
  // then the first, second and last slot of every other vmemmap page.
  const uint64_t first_page_slots = std::min<uint64_t>(n, c.struct_page_pow2() ? c.spp() : n);
  for (uint64_t idx = 0; idx < first_page_slots; idx++)
    check_slot(idx);
  for (uint64_t idx = first_page_slots; idx < n; idx += c.spp()) {
    check_slot(idx);
    if (idx + 1 < n)
      check_slot(idx + 1);
    check_slot(std::min(n, idx + c.spp()) - 1);
  }
  // An optimized folio maps vmemmap pages 1.. read-only to its owner's tail
  // (a rolled-back partial HVO under muchun may keep some private pages:
  // those must then be read-write).
  const TailOwner owner = tail_owner_of_pfn(m, f.pfn);
  const FrameId tail = shared_tail_lookup(m, f.order, owner);
  const uint64_t vpages = (n * S) / ps;
  for (uint64_t k = 1; k < vpages; k++) {
    const uint64_t a = (h & ~(ps - 1)) + k * ps;
    const Pte pte = m.pt.ptep_get(a);
    const bool ok = flagged ? (pte.frame == tail ? pte.ro : !pte.ro && c.variant == Variant::Muchun)
                            : !pte.ro;
    if (!ok) {
      out.push_back({"I10-optimize-gate", 0, a, m.page_to_pfn(a),
                     flagged ? "RO shared tail " + std::to_string(tail) : "RW",
                     std::string(pte.ro ? "RO " : "RW ") + "frame " + std::to_string(pte.frame),
                     "vmemmap page " + std::to_string(k) + " of folio " + std::to_string(f.id) +
                         (flagged ? " (optimized)" : " (not optimized)")});
      break;
    }
  }
}

} // namespace hvo
