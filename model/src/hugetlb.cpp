// SPDX-License-Identifier: GPL-2.0-only
//
// HugeTLB callers of HVO: mm/hugetlb.c and mm/memory-failure.c, Debian
// 6.12.117 (line numbers "l.N" are mm/hugetlb.c unless stated).
#include "hvo/hugetlb.h"

#include <algorithm>

#include "hvo/compound.h"
#include "hvo/hugetlb_boot_hvo.h"
#include "hvo/page_flags.h"
#include "hvo/struct_page.h"

namespace hvo {

namespace {

constexpr unsigned HUGETLB_VMEMMAP_RESERVE_PAGES_of(const Machine &m) {
  return static_cast<unsigned>(m.cfg.spp());
}

HugetlbFolio &new_folio_record(Machine &m, uint64_t pfn, unsigned order) {
  HugetlbFolio f;
  f.id = static_cast<FolioId>(m.folios.size());
  f.pfn = pfn;
  f.order = static_cast<uint8_t>(order);
  const ZoneRange *z = m.phys.zone_of_pfn(pfn);
  f.nid = static_cast<uint8_t>(z->nid);
  f.zone = z->type;
  f.state = FolioState::Pool;
  m.folios.push_back(std::move(f));
  return m.folios.back();
}

void drop_snapshot(Machine &m, HugetlbFolio &f) {
  for (auto &[img, origin] : f.pre_optimize)
    m.phys.images().put(img);
  f.pre_optimize.clear();
}

// init_new_hugetlb_folio, l.1966-1973.
void init_new_hugetlb_folio(Machine &m, uint64_t folio) {
  __folio_set_hugetlb(m, folio);
  uint64_t lru = Machine::field(folio, sp::kCompoundHead);  // INIT_LIST_HEAD(&folio->lru)
  m.mmu.write(lru, lru, "init_new_hugetlb_folio");
  m.mmu.write(lru + 8, lru, "init_new_hugetlb_folio");
  uint64_t p3 = folio + 3 * m.cfg.struct_page_size;
  m.mmu.write(Machine::field(p3, 2), 0, "hugetlb_set_folio_subpool");
  m.mmu.write(Machine::field(p3, 3), 0, "set_hugetlb_cgroup");
  m.mmu.write(Machine::field(p3, 4), 0, "set_hugetlb_cgroup_rsvd");
}

// enqueue_hugetlb_folio, l.1318-1330: the folio is free, refcount 0.
void enqueue_hugetlb_folio(Machine &m, HugetlbFolio &f) {
  uint64_t folio = m.page(f.pfn);
  if (page_ref_count(m, folio) != 0)
    m.report("K-VM_BUG_ON", folio, f.pfn, "refcount 0", std::to_string(page_ref_count(m, folio)),
             "enqueue_hugetlb_folio: VM_BUG_ON_FOLIO(folio_ref_count(folio))");
  folio_set_hpg(m, folio, sp::HPG_freed);
  f.state = FolioState::Pool;
}

// only_alloc_fresh_hugetlb_folio (l.2073-2093): the buddy or gigantic
// allocation with __GFP_COMP (post_alloc_hook + prep_compound_page), the
// refcount frozen (alloc_buddy_hugetlb_folio), then init_new_hugetlb_folio.
int only_alloc_fresh_hugetlb_folio(Machine &m, unsigned order, unsigned nid, HugetlbFolio **out) {
  auto pfn = m.phys.alloc_pfn_range(nid, order);
  if (!pfn)
    return -ENOMEM_;
  HugetlbFolio &f = new_folio_record(m, *pfn, order);
  uint64_t folio = m.page(*pfn);
  set_page_count(m, folio, 1, "set_page_refcounted");
  prep_compound_page(m, folio, order);
  page_ref_freeze(m, folio, 1);
  init_new_hugetlb_folio(m, folio);
  *out = &f;
  return 0;
}

// hugetlb_free_folio (mm/hugetlb.c 6.12 l.96-105) -> folio_put: the reference
// page_ref_unfreeze gave back drops to zero (put_page_testzero), then the
// compound teardown checks every tail (free_tail_page_prepare); a bad page
// is reported and the folio is leaked, as free_pages_prepare does.  Without
// the put the head kept a count of 1 in the free memory, and a later, larger
// folio over it carried that count in a tail.  The model frees on this put
// even if a speculative reference is still held (the ops never hold one
// across a free).
void hugetlb_free_folio(Machine &m, HugetlbFolio &f) {
  uint64_t folio = m.page(f.pfn);
  if (uint32_t refs = page_ref_count(m, folio))
    set_page_count(m, folio, refs - 1, "folio_put");
  std::vector<BadPage> bad = free_compound_page_prepare(m, folio, f.order);
  for (const BadPage &b : bad)
    m.report("K-bad-page", b.page, m.page_to_pfn(b.page), "a clean tail", b.reason,
             "free_tail_page_prepare: bad_page(): " + b.reason);
  drop_snapshot(m, f);
  f.state = FolioState::Gone;
  if (bad.empty())
    m.phys.free_pfn_range(f.pfn, f.order);
}

// remove_hugetlb_folio, l.1590-1633.
void remove_hugetlb_folio(Machine &m, HugetlbFolio &f) {
  uint64_t folio = m.page(f.pfn);
  if (folio_test_hpg(m, folio, sp::HPG_freed))
    folio_clear_hpg(m, folio, sp::HPG_freed);
  if (!folio_test_hugetlb_vmemmap_optimized(m, folio))
    __folio_clear_hugetlb(m, folio);
}

// add_hugetlb_folio, l.1635-1663.
void add_hugetlb_folio(Machine &m, HugetlbFolio &f, bool adjust_surplus) {
  uint64_t folio = m.page(f.pfn);
  if (!folio_test_hugetlb_vmemmap_optimized(m, folio))
    m.report("K-VM_BUG_ON", folio, f.pfn, "optimized", "not optimized",
             "add_hugetlb_folio: VM_BUG_ON_FOLIO(!folio_test_hugetlb_vmemmap_optimized)");
  uint64_t lru = Machine::field(folio, sp::kCompoundHead);
  m.mmu.write(lru, lru, "add_hugetlb_folio");
  m.mmu.write(lru + 8, lru, "add_hugetlb_folio");
  if (adjust_surplus)
    f.surplus = true;
  __folio_set_hugetlb(m, folio);
  m.mmu.write(Machine::field(folio, sp::kPrivate), 0, "folio_change_private");
  // folio_change_private cleared it: set the optimized flag again.
  folio_set_hpg(m, folio, sp::HPG_vmemmap_optimized);
  enqueue_hugetlb_folio(m, f);
}

// folio_clear_hugetlb_hwpoison, mm/memory-failure.c l.2011-2019.
void folio_clear_hugetlb_hwpoison(Machine &m, HugetlbFolio &f) {
  uint64_t folio = m.page(f.pfn);
  if (folio_test_hpg(m, folio, sp::HPG_raw_hwp_unreliable))
    return;
  if (folio_test_hugetlb_vmemmap_optimized(m, folio))
    return;
  clear_page_flag(m, folio, sp::PG_hwpoison, "folio_clear_hwpoison");
  for (uint64_t idx : f.raw_hwp)  // __folio_free_raw_hwp(folio, move_flag = true)
    set_page_flag(m, folio + idx * m.cfg.struct_page_size, sp::PG_hwpoison, "SetPageHWPoison");
  f.raw_hwp.clear();
}

// __update_and_free_hugetlb_folio, l.1665-1719.
void __update_and_free_hugetlb_folio(Machine &m, HugetlbFolio &f) {
  uint64_t folio = m.page(f.pfn);
  Hstate h = hstate_of(f);
  bool clear_flag = folio_test_hugetlb_vmemmap_optimized(m, folio);
  if (folio_test_hpg(m, folio, sp::HPG_raw_hwp_unreliable)) {
    f.state = FolioState::Gone;  // leaked intentionally: unknown hwpoisoned subpages
    drop_snapshot(m, f);
    return;
  }
  if (clear_flag && hugetlb_vmemmap_restore_folio(m, h, f)) {
    add_hugetlb_folio(m, f, true);  // refuse to free: back to the pool as surplus
    return;
  }
  if (folio_test_hugetlb(m, folio))
    __folio_clear_hugetlb(m, folio);
  if (test_page_flag(m, folio, sp::PG_hwpoison))
    folio_clear_hugetlb_hwpoison(m, f);
  page_ref_unfreeze(m, folio, 1);
  hugetlb_free_folio(m, f);
}

int check_free_folio(Machine &m, FolioId id, HugetlbFolio **out) {
  HugetlbFolio *f = m.folio(id);
  if (!f)
    return -EINVAL_;
  if (f->state != FolioState::Pool)
    return -EBUSY_;
  *out = f;
  return 0;
}

}  // namespace

int alloc_fresh_hugetlb_folio(Machine &m, unsigned order, unsigned nid, FolioId *out) {
  if (order < kMinHugetlbOrder || order > kMaxHugetlbOrder || nid >= m.phys.nr_nodes())
    return -EINVAL_;
  HugetlbFolio *f = nullptr;
  if (int ret = only_alloc_fresh_hugetlb_folio(m, order, nid, &f))
    return ret;
  // prep_new_hugetlb_folio -> __prep_new_hugetlb_folio (l.1975-1979)
  hugetlb_vmemmap_optimize_folio(m, hstate_of(*f), *f);
  enqueue_hugetlb_folio(m, *f);
  *out = f->id;
  return 0;
}

int alloc_pool_huge_folios(Machine &m, unsigned order, unsigned nid, unsigned count,
                           std::vector<FolioId> *out) {
  if (order < kMinHugetlbOrder || order > kMaxHugetlbOrder || nid >= m.phys.nr_nodes() || count == 0)
    return -EINVAL_;
  std::vector<FolioId> ids;
  int ret = 0;
  for (unsigned i = 0; i < count; i++) {
    HugetlbFolio *f = nullptr;
    if ((ret = only_alloc_fresh_hugetlb_folio(m, order, nid, &f)))
      break;
    ids.push_back(f->id);
  }
  // prep_and_add_allocated_folios (l.2111-2125) for what was allocated.
  std::vector<HugetlbFolio *> list;
  for (FolioId id : ids)
    list.push_back(&m.folios[id]);
  Hstate h{order};
  hugetlb_vmemmap_optimize_folios(m, h, list);
  for (HugetlbFolio *f : list)
    enqueue_hugetlb_folio(m, *f);
  if (out)
    *out = ids;
  return ids.empty() ? ret : 0;
}

// hugetlb_folio_init_tail_vmemmap, l.3193-3213.
static void hugetlb_folio_init_tail_vmemmap(Machine &m, HugetlbFolio &f, uint64_t start,
                                            uint64_t end) {
  uint64_t folio = m.page(f.pfn);
  uint64_t head_pfn = f.pfn;
  init_single_pages(m, head_pfn + start, head_pfn + end, static_cast<unsigned>(f.zone), f.nid);
  prep_compound_tails(m, folio, f.order, start, end);
  // page_ref_freeze(page, 1) on each: __init_single_page set 1, now 0.
  set_page_count_range(m, head_pfn + start, head_pfn + end, 0, "page_ref_freeze");
}

namespace {

// pfn_range_intersects_zones (mm/mm_init.c, 6.15+), as
// hugetlb_bootmem_page_zones_valid uses it.
bool bootmem_page_spans_zones(const Machine &m, uint64_t pfn, uint64_t nr) {
  return m.phys.zone_of_pfn(pfn) != m.phys.zone_of_pfn(pfn + nr - 1);
}

// One memblock gigantic page at `pfn` (already reserved) through
// hugetlb_vmemmap_init_late and gather_bootmem_prealloc_node up to the folio
// list; false when the page was discarded.
bool gather_bootmem_page(Machine &m, uint64_t pfn, unsigned order, std::vector<FolioId> &ids) {
  const uint64_t nr = uint64_t{1} << order;
  // Shared-tail era (6.15+ trees): a page that spans zones is never a
  // folio.  hugetlb_vmemmap_init_late discards a pre-HVO candidate itself
  // (hugetlb_boot_hvo.cpp); gather_bootmem_prealloc_node's
  // hugetlb_bootmem_page_zones_valid() check gives any other such page to
  // the buddy allocator (hugetlb_bootmem_free_invalid_page): in the model the
  // pfns go back and the memmap stays the normal one.  Debian 6.12 has
  // neither check: the page becomes a folio whose tails all take the head's
  // zone (hugetlb_folio_init_tail_vmemmap, l.3193-3213).
  bool prehvo = false;
  if (m.cfg.era == Era::SharedTail) {
    if (hugetlb_bootmem_page_prehvo(m, pfn, order)) {
      const BootHvo r = hugetlb_vmemmap_init_late_page(m, pfn, order);
      if (r == BootHvo::Discarded)
        return false;
      prehvo = r == BootHvo::Hvo;
    } else if (bootmem_page_spans_zones(m, pfn, nr)) {
      m.phys.free_pfn_range(pfn, order);
      return false;
    }
  }
  const uint64_t reserve = HUGETLB_VMEMMAP_RESERVE_PAGES_of(m);
  HugetlbFolio &f = new_folio_record(m, pfn, order);
  f.boot = true;
  // A pre-HVO page's memmap is HVO-populated: only its head vmemmap page
  // holds uninitialised struct pages.
  poison_struct_pages(m, pfn + 1, pfn + (prehvo ? std::min<uint64_t>(nr, m.cfg.spp()) : nr));
  // hugetlb_folio_init_vmemmap(folio, h, HUGETLB_VMEMMAP_RESERVE_PAGES), l.3215-3229
  uint64_t folio = m.page(pfn);
  clear_page_flag(m, folio, sp::PG_reserved, "__folio_clear_reserved");
  set_page_flag(m, folio, sp::PG_head, "__folio_set_head");
  set_page_count(m, folio, 1, "init_page_count");
  page_ref_freeze(m, folio, 1);
  hugetlb_folio_init_tail_vmemmap(m, f, 1, std::min(reserve, nr));
  prep_compound_head(m, folio, order);
  init_new_hugetlb_folio(m, folio);
  if (prehvo)  // HUGE_BOOTMEM_HVO: folio_set_hugetlb_vmemmap_optimized
    folio_set_hpg(m, folio, sp::HPG_vmemmap_optimized);
  ids.push_back(f.id);
  return true;
}

// prep_and_add_bootmem_folios, l.3231-3262, then (shared-tail era) the
// late_initcall hugetlb_vmemmap_init that initialises the zone tails the
// early population allocated.
void prep_and_add_bootmem_folios(Machine &m, unsigned order, const std::vector<FolioId> &ids) {
  std::vector<HugetlbFolio *> list;
  for (FolioId id : ids)
    list.push_back(&m.folios[id]);
  Hstate h{order};
  const uint64_t reserve = HUGETLB_VMEMMAP_RESERVE_PAGES_of(m);
  hugetlb_vmemmap_optimize_folios(m, h, list);
  for (HugetlbFolio *f : list) {
    if (!folio_test_hugetlb_vmemmap_optimized(m, m.page(f->pfn)))
      hugetlb_folio_init_tail_vmemmap(m, *f, reserve, h.pages_per_huge_page());
    enqueue_hugetlb_folio(m, *f);
  }
  if (m.cfg.era == Era::SharedTail)
    hugetlb_vmemmap_init_tails(m);
}

}  // namespace

int gather_bootmem_prealloc(Machine &m, unsigned order, unsigned nid, unsigned count,
                            std::vector<FolioId> *out) {
  if (order < kMinHugetlbOrder || order > kMaxHugetlbOrder || nid >= m.phys.nr_nodes() || count == 0)
    return -EINVAL_;
  std::vector<FolioId> ids;
  for (unsigned i = 0; i < count; i++) {
    // alloc_bootmem_huge_page (l.3140-3191): memblock, never fault-injected;
    // memblock_reserved_mark_noinit on all but the first page, so
    // memmap_init leaves those struct pages as memblock gave them.
    auto pfn = m.phys.alloc_pfn_range(nid, order);
    if (!pfn)
      break;
    gather_bootmem_page(m, *pfn, order, ids);
  }
  prep_and_add_bootmem_folios(m, order, ids);
  if (out)
    *out = ids;
  return ids.empty() ? -ENOMEM_ : 0;
}

int gather_bootmem_prealloc_at(Machine &m, uint64_t pfn, unsigned order,
                               std::vector<FolioId> *out) {
  if (order < kMinHugetlbOrder || order > kMaxHugetlbOrder)
    return -EINVAL_;
  const uint64_t nr = uint64_t{1} << order;
  const ZoneRange *first = m.phys.zone_of_pfn(pfn);
  const ZoneRange *last = pfn + nr > pfn ? m.phys.zone_of_pfn(pfn + nr - 1) : nullptr;
  // memblock_alloc_exact_nid_raw: one node, aligned to the page size.
  if (pfn % nr != 0 || !first || !last || first->nid != last->nid)
    return -EINVAL_;
  if (!m.phys.reserve_pfn_range(pfn, nr))
    return -ENOMEM_;
  std::vector<FolioId> ids;
  gather_bootmem_page(m, pfn, order, ids);
  prep_and_add_bootmem_folios(m, order, ids);
  if (out)
    *out = ids;
  return ids.empty() ? -ENOMEM_ : 0;
}

int hugetlb_get_folio(Machine &m, FolioId id) {
  HugetlbFolio *f = nullptr;
  if (int ret = check_free_folio(m, id, &f))
    return ret;
  uint64_t folio = m.page(f->pfn);
  folio_clear_hpg(m, folio, sp::HPG_freed);
  page_ref_unfreeze(m, folio, 1);
  f->state = FolioState::InUse;
  return 0;
}

int free_huge_folio(Machine &m, FolioId id) {
  HugetlbFolio *f = m.folio(id);
  if (!f)
    return -EINVAL_;
  if (f->state != FolioState::InUse)
    return -EINVAL_;  // folio_put on a folio nobody holds
  uint64_t folio = m.page(f->pfn);
  // folio_put_testzero: the last reference goes.
  if (page_ref_count(m, folio) != 1)
    return -EBUSY_;
  set_page_count(m, folio, 0, "folio_put_testzero");
  if (f->surplus) {
    remove_hugetlb_folio(m, *f);
    __update_and_free_hugetlb_folio(m, *f);
  } else {
    enqueue_hugetlb_folio(m, *f);
  }
  return 0;
}

int update_and_free_hugetlb_folio(Machine &m, FolioId id) {
  HugetlbFolio *f = nullptr;
  if (int ret = check_free_folio(m, id, &f))
    return ret;
  remove_hugetlb_folio(m, *f);
  __update_and_free_hugetlb_folio(m, *f);
  return 0;
}

int update_and_free_pages_bulk(Machine &m, const std::vector<FolioId> &ids) {
  std::vector<HugetlbFolio *> list;
  for (FolioId id : ids) {
    HugetlbFolio *f = nullptr;
    if (int ret = check_free_folio(m, id, &f))
      return ret;
    if (std::find(list.begin(), list.end(), f) != list.end())
      return -EINVAL_;
    if (!list.empty() && list.front()->order != f->order)
      return -EINVAL_;  // one hstate per call
    list.push_back(f);
  }
  for (HugetlbFolio *f : list)
    remove_hugetlb_folio(m, *f);
  if (list.empty())
    return 0;
  Hstate h = hstate_of(*list.front());
  std::vector<HugetlbFolio *> non_hvo;
  while (true) {
    long ret = hugetlb_vmemmap_restore_folios(m, h, list, non_hvo);
    if (ret >= 0) {
      if (!non_hvo.empty() && ret)
        for (HugetlbFolio *f : non_hvo)
          __folio_clear_hugetlb(m, m.page(f->pfn));
      break;
    }
    // bulk_vmemmap_restore_error, l.1786-1835.
    if (!non_hvo.empty()) {
      for (HugetlbFolio *f : non_hvo) {
        __folio_clear_hugetlb(m, m.page(f->pfn));
        __update_and_free_hugetlb_folio(m, *f);
      }
      non_hvo.clear();
    } else {
      for (size_t i = 0; i < list.size(); i++) {
        HugetlbFolio *f = list[i];
        if (hugetlb_vmemmap_restore_folio(m, h, *f)) {
          list.erase(list.begin() + static_cast<long>(i--));
          add_hugetlb_folio(m, *f, true);
        } else {
          list.erase(list.begin() + static_cast<long>(i));
          __folio_clear_hugetlb(m, m.page(f->pfn));
          __update_and_free_hugetlb_folio(m, *f);
          break;
        }
      }
    }
  }
  for (HugetlbFolio *f : non_hvo)
    __update_and_free_hugetlb_folio(m, *f);
  return 0;
}

int demote_free_hugetlb_folio(Machine &m, FolioId id, unsigned dst_order,
                              std::vector<FolioId> *out) {
  HugetlbFolio *src = nullptr;
  if (int ret = check_free_folio(m, id, &src))
    return ret;
  if (dst_order < kMinHugetlbOrder || dst_order >= src->order)
    return -EINVAL_;
  Hstate hsrc = hstate_of(*src), hdst{dst_order};
  remove_hugetlb_folio(m, *src);  // demote_pool_huge_page takes it off the free list
  std::vector<HugetlbFolio *> src_list{src}, ret_list;
  long rc = hugetlb_vmemmap_restore_folios(m, hsrc, src_list, ret_list);
  for (HugetlbFolio *f : ret_list)
    src_list.push_back(f);  // list_splice_init(&ret_list, src_list)
  std::vector<HugetlbFolio *> dst_list;
  std::vector<FolioId> ids;
  for (HugetlbFolio *f : src_list) {
    uint64_t folio = m.page(f->pfn);
    if (folio_test_hugetlb_vmemmap_optimized(m, folio)) {
      add_hugetlb_folio(m, *f, false);  // demote_pool_huge_page puts it back
      continue;
    }
    uint64_t src_pfn = f->pfn;
    drop_snapshot(m, *f);
    f->state = FolioState::Gone;
    for (uint64_t i = 0; i < hsrc.pages_per_huge_page(); i += hdst.pages_per_huge_page()) {
      uint64_t page = m.page(src_pfn + i);
      m.mmu.write(Machine::field(page, sp::kMapping), 0, "demote_free_hugetlb_folios");
      clear_compound_head(m, page);
      prep_compound_page(m, page, dst_order);
      init_new_hugetlb_folio(m, page);
      HugetlbFolio &nf = new_folio_record(m, src_pfn + i, dst_order);
      ids.push_back(nf.id);
    }
  }
  for (FolioId nid : ids)
    dst_list.push_back(&m.folios[nid]);
  // prep_and_add_allocated_folios(dst, &dst_list)
  hugetlb_vmemmap_optimize_folios(m, hdst, dst_list);
  for (HugetlbFolio *f : dst_list)
    enqueue_hugetlb_folio(m, *f);
  if (out)
    *out = ids;
  return rc < 0 ? static_cast<int>(rc) : 0;
}

int memory_failure_hugetlb(Machine &m, FolioId id, uint64_t index) {
  HugetlbFolio *f = m.folio(id);
  if (!f)
    return -EINVAL_;
  if (index >= (uint64_t{1} << f->order))
    return -EINVAL_;
  uint64_t folio = m.page(f->pfn);
  // hugetlb_update_hwpoison: folio_test_set_hwpoison on the head.
  set_page_flag(m, folio, sp::PG_hwpoison, "folio_test_set_hwpoison");
  if (!folio_test_hpg(m, folio, sp::HPG_raw_hwp_unreliable)) {
    if (std::find(f->raw_hwp.begin(), f->raw_hwp.end(), index) == f->raw_hwp.end()) {
      if (m.phys.kmalloc_attempt(f->nid)) {
        f->raw_hwp.push_back(index);
      } else {
        folio_set_hpg(m, folio, sp::HPG_raw_hwp_unreliable);
        f->raw_hwp.clear();
      }
    }
  }
  // A free folio is dissolved (dissolve_free_hugetlb_folio, l.2198-2260).
  if (f->state != FolioState::Pool)
    return -EHWPOISON_;  // in use: the owner gets SIGBUS; nothing HVO does here
  remove_hugetlb_folio(m, *f);
  if (folio_test_hugetlb(m, folio)) {
    if (int rc = hugetlb_vmemmap_restore_folio(m, hstate_of(*f), *f)) {
      add_hugetlb_folio(m, *f, false);
      return rc;
    }
  }
  __update_and_free_hugetlb_folio(m, *f);
  // __page_handle_poison, mm/memory-failure.c l.163-186: once the folio is
  // dissolved, take_page_off_buddy() takes the poisoned page out of the free
  // pages, so it is never handed out again (a no-op if the folio was leaked).
  m.phys.reserve_pfn_range(f->pfn + index, 1);
  return 0;
}

}  // namespace hvo
