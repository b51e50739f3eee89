// SPDX-License-Identifier: GPL-2.0-only
//
// struct page accessors (see page_flags.h for the kernel line ranges).
#include "hvo/page_flags.h"

#include "hvo/compound_info.h"
#include "hvo/shared_tail.h"
#include "hvo/struct_page.h"

namespace hvo {

namespace {
uint64_t F(uint64_t page, unsigned f) { return Machine::field(page, f); }
constexpr uint64_t kRefcountMask = 0xffffffff00000000ull;
constexpr uint64_t kMapcountMask = 0x00000000ffffffffull;
}  // namespace

uint64_t page_fixed_fake_head(Machine &m, uint64_t page) {
  if (!m.static_key_enabled())
    return page;
  // Only a struct page at the start of a vmemmap page can be a fake head.
  if ((page & (m.cfg.page_size() - 1)) == 0 &&
      (m.mmu.read(F(page, sp::kFlags), "page_fixed_fake_head") >> sp::PG_head) & 1) {
    uint64_t head = m.mmu.read(F(page + m.cfg.struct_page_size, sp::kCompoundHead),
                               "page_fixed_fake_head");
    if (head & 1)
      return head - 1;
  }
  return page;
}

bool page_is_fake_head(Machine &m, uint64_t page) {
  switch (m.cfg.era) {
  case Era::Legacy:
    return page_fixed_fake_head(m, page) != page;
  case Era::SharedTail:
    return false;  // fake heads are gone (kernel-reference 3.2, "Removed")
  }
  return false;
}

uint64_t compound_head(Machine &m, uint64_t page) {
  uint64_t head = m.mmu.read(F(page, sp::kCompoundHead), "compound_head");
  switch (m.cfg.era) {
  case Era::Legacy:
    if (head & 1)
      return head - 1;
    return page_fixed_fake_head(m, page);
  case Era::SharedTail:
    // _compound_head, linux-mm page-flags.h @03e0599d: branch-free mask
    // decode, or pointer+1 when struct page is not a power of two.
    return compound_info_decode(vmemmap_geometry(m.cfg), page, head);
  }
  return (head & 1) ? head - 1 : page;
}

bool PageTail(Machine &m, uint64_t page) {
  return (m.mmu.read(F(page, sp::kCompoundHead), "PageTail") & 1) || page_is_fake_head(m, page);
}

bool PageCompound(Machine &m, uint64_t page) {
  return test_page_flag(m, page, sp::PG_head) ||
         (m.mmu.read(F(page, sp::kCompoundHead), "PageCompound") & 1);
}

bool PageHead(Machine &m, uint64_t page) {
  return test_page_flag(m, page, sp::PG_head) && !page_is_fake_head(m, page);
}

void set_compound_head(Machine &m, uint64_t page, uint64_t head, unsigned order) {
  // Shared-tail era: set_compound_head(tail, head, order) writes the mask
  // (page-flags.h @03e0599d); the legacy era writes head + 1 and has no order.
  const uint64_t info = m.cfg.era == Era::SharedTail
                            ? compound_info_encode(vmemmap_geometry(m.cfg), head, order)
                            : head + 1;
  m.mmu.write(F(page, sp::kCompoundHead), info, "set_compound_head");
}

void clear_compound_head(Machine &m, uint64_t page) {
  m.mmu.write(F(page, sp::kCompoundHead), 0, "clear_compound_head");
}

bool test_page_flag(Machine &m, uint64_t page, unsigned bit) {
  return (m.mmu.read(F(page, sp::kFlags), "test_bit(page->flags)") >> bit) & 1;
}

void set_page_flag(Machine &m, uint64_t page, unsigned bit, const char *who) {
  m.mmu.write_masked(F(page, sp::kFlags), uint64_t{1} << bit, uint64_t{1} << bit, who);
}

void clear_page_flag(Machine &m, uint64_t page, unsigned bit, const char *who) {
  m.mmu.write_masked(F(page, sp::kFlags), uint64_t{1} << bit, 0, who);
}

unsigned page_zonenum(Machine &m, uint64_t page) {
  // Kiryl v3-v6: per-node tails cannot carry the right zone, so
  // page_zonenum() read the zone from the head (dropped in v7).
  if (m.cfg.era == Era::SharedTail && m.cfg.variant == Variant::KirylV6)
    page = compound_head(m, page);
  return sp::flags_zone(m.mmu.read(F(page, sp::kFlags), "page_zonenum"));
}

unsigned page_to_nid(Machine &m, uint64_t page) {
  return sp::flags_nid(m.mmu.read(F(page, sp::kFlags), "page_to_nid"));
}

uint32_t page_ref_count(Machine &m, uint64_t page) {
  return sp::refcount_of(m.mmu.read(F(page, sp::kCounts), "page_ref_count"));
}

void set_page_count(Machine &m, uint64_t page, uint32_t v, const char *who) {
  m.mmu.write_masked(F(page, sp::kCounts), kRefcountMask, uint64_t{v} << 32, who);
}

bool page_ref_freeze(Machine &m, uint64_t page, uint32_t count) {
  // atomic_cmpxchg(&page->_refcount, count, 0) == count
  if (page_ref_count(m, page) != count)
    return false;
  set_page_count(m, page, 0, "page_ref_freeze");
  return true;
}

void page_ref_unfreeze(Machine &m, uint64_t page, uint32_t count) {
  set_page_count(m, page, count, "page_ref_unfreeze");
}

bool page_ref_add_unless(Machine &m, uint64_t page, int nr, uint32_t u) {
  switch (m.cfg.era) {
  case Era::Legacy: {
    bool ret = false;
    // rcu_read_lock(): single-threaded here; the interleavings are issue 4's.
    if (!page_is_fake_head(m, page) && page_ref_count(m, page) != u) {
      // atomic_add_unless(&page->_refcount, nr, u)
      uint32_t c = page_ref_count(m, page);
      if (c != u)
        ret = m.mmu.write_masked(F(page, sp::kCounts), kRefcountMask,
                                 uint64_t{c + static_cast<uint32_t>(nr)} << 32,
                                 "page_ref_add_unless");
    }
    return ret;
  }
  case Era::SharedTail: {
    // Kiryl v7: no fake heads, no RCU; atomic_add_unless(&page->_refcount,
    // nr, u).  A tail slot reads refcount 0 from the read-only shared tail,
    // so get_page_unless_zero() (u = 0) never writes there.
    uint32_t c = page_ref_count(m, page);
    if (c == u)
      return false;
    return m.mmu.write_masked(F(page, sp::kCounts), kRefcountMask,
                              uint64_t{c + static_cast<uint32_t>(nr)} << 32, "page_ref_add_unless");
  }
  }
  return false;
}

bool folio_test_hugetlb(Machine &m, uint64_t folio) {
  // page_type lives in the low 32 bits of the head's word 6 (PGTY_* << 24).
  uint32_t pt = sp::mapcount_of(m.mmu.read(F(folio, sp::kCounts), "folio_test_hugetlb"));
  return (pt >> 24) == sp::PGTY_hugetlb;
}

void __folio_set_hugetlb(Machine &m, uint64_t folio) {
  m.mmu.write_masked(F(folio, sp::kCounts), kMapcountMask, uint64_t{sp::PGTY_hugetlb} << 24,
                     "__folio_set_hugetlb");
}

void __folio_clear_hugetlb(Machine &m, uint64_t folio) {
  m.mmu.write_masked(F(folio, sp::kCounts), kMapcountMask, sp::kMapcountNone,
                     "__folio_clear_hugetlb");
}

bool folio_test_hpg(Machine &m, uint64_t folio, unsigned bit) {
  return (m.mmu.read(F(folio, sp::kPrivate), "folio_test_hugetlb_*") >> bit) & 1;
}

void folio_set_hpg(Machine &m, uint64_t folio, unsigned bit) {
  m.mmu.write_masked(F(folio, sp::kPrivate), uint64_t{1} << bit, uint64_t{1} << bit,
                     "folio_set_hugetlb_*");
}

void folio_clear_hpg(Machine &m, uint64_t folio, unsigned bit) {
  m.mmu.write_masked(F(folio, sp::kPrivate), uint64_t{1} << bit, 0, "folio_clear_hugetlb_*");
}

}  // namespace hvo
