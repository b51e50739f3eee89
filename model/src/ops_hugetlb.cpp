// SPDX-License-Identifier: GPL-2.0-only
//
// The HugeTLB op family: allocation, HVO, freeing, demote, memory failure.
#include <algorithm>

#include "hvo/hugetlb.h"
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/page_flags.h"

namespace hvo {

namespace {

constexpr uint64_t kMaxNode = 63;
constexpr uint64_t kMaxBatch = 1u << 20;

OpResult refuse(int err, std::string note = {}) { return OpResult{-err, {}, std::move(note)}; }

HugetlbFolio *folio_arg(Model &md, uint64_t id) {
  return id > UINT32_MAX ? nullptr : md.machine().folio(static_cast<FolioId>(id));
}

// Every caller of the vmemmap optimize/restore calls holds the folio with a
// frozen (zero) refcount: a folio handed out by get_folio is not theirs to
// remap, and the kernel's VM_WARN_ON_ONCE_FOLIO(folio_ref_count) says so.
bool folio_in_use(const HugetlbFolio &f) { return f.state == FolioState::InUse; }

// Consecutive live folio ids [first, first + count) of one order, none in use.
bool folio_run(Model &md, uint64_t first, uint64_t count, std::vector<HugetlbFolio *> &out) {
  if (count == 0 || count > kMaxBatch)
    return false;
  for (uint64_t i = 0; i < count; i++) {
    HugetlbFolio *f = folio_arg(md, first + i);
    if (!f || folio_in_use(*f) || (!out.empty() && f->order != out.front()->order))
      return false;
    out.push_back(f);
  }
  return true;
}

OpResult op_alloc_folio(Model &md, const Op &op) {
  if (op.args[0] > kMaxHugetlbOrder || op.args[1] > kMaxNode)
    return refuse(EINVAL_);
  FolioId id = 0;
  int ret = alloc_fresh_hugetlb_folio(md.machine(), static_cast<unsigned>(op.args[0]),
                                      static_cast<unsigned>(op.args[1]), &id);
  if (ret)
    return OpResult{ret, {}, {}};
  return OpResult{0, {id}, "folio " + std::to_string(id)};
}

OpResult folios_result(int ret, const std::vector<FolioId> &ids) {
  OpResult r{ret, ids, {}};
  if (!ids.empty())
    r.note = "folios " + std::to_string(ids.front()) + ".." + std::to_string(ids.back());
  return r;
}

OpResult op_alloc_folios(Model &md, const Op &op) {
  if (op.args[0] > kMaxHugetlbOrder || op.args[1] > kMaxNode || op.args[2] > kMaxBatch)
    return refuse(EINVAL_);
  std::vector<FolioId> ids;
  int ret = alloc_pool_huge_folios(md.machine(), static_cast<unsigned>(op.args[0]),
                                   static_cast<unsigned>(op.args[1]),
                                   static_cast<unsigned>(op.args[2]), &ids);
  return folios_result(ret, ids);
}

OpResult op_boot_gigantic(Model &md, const Op &op) {
  if (op.args[0] > kMaxHugetlbOrder || op.args[1] > kMaxNode || op.args[2] > kMaxBatch)
    return refuse(EINVAL_);
  std::vector<FolioId> ids;
  int ret = gather_bootmem_prealloc(md.machine(), static_cast<unsigned>(op.args[0]),
                                    static_cast<unsigned>(op.args[1]),
                                    static_cast<unsigned>(op.args[2]), &ids);
  return folios_result(ret, ids);
}

OpResult op_optimize(Model &md, const Op &op) {
  HugetlbFolio *f = folio_arg(md, op.args[0]);
  if (!f)
    return refuse(EINVAL_, "no such folio");
  if (folio_in_use(*f))
    return refuse(EBUSY_, "folio in use");
  hugetlb_vmemmap_optimize_folio(md.machine(), hstate_of(*f), *f);
  bool opt = folio_test_hugetlb_vmemmap_optimized(md.machine(), md.machine().page(f->pfn));
  return OpResult{0, {f->id}, opt ? "optimized" : "not optimized"};
}

OpResult op_optimize_batch(Model &md, const Op &op) {
  std::vector<HugetlbFolio *> list;
  if (!folio_run(md, op.args[0], op.args[1], list))
    return refuse(EINVAL_, "not a run of live folios of one order");
  hugetlb_vmemmap_optimize_folios(md.machine(), hstate_of(*list.front()), list);
  OpResult r{0, {}, {}};
  for (HugetlbFolio *f : list)
    r.folios.push_back(f->id);
  return r;
}

OpResult op_restore(Model &md, const Op &op) {
  HugetlbFolio *f = folio_arg(md, op.args[0]);
  if (!f)
    return refuse(EINVAL_, "no such folio");
  if (folio_in_use(*f))
    return refuse(EBUSY_, "folio in use");
  int ret = hugetlb_vmemmap_restore_folio(md.machine(), hstate_of(*f), *f);
  return OpResult{ret, {f->id}, {}};
}

OpResult op_restore_batch(Model &md, const Op &op) {
  std::vector<HugetlbFolio *> list, non_hvo;
  if (!folio_run(md, op.args[0], op.args[1], list))
    return refuse(EINVAL_, "not a run of live folios of one order");
  std::vector<FolioId> ids;
  for (HugetlbFolio *f : list)
    ids.push_back(f->id);
  long ret = hugetlb_vmemmap_restore_folios(md.machine(), hstate_of(*list.front()), list, non_hvo);
  return OpResult{ret, ids, std::to_string(non_hvo.size()) + " with vmemmap"};
}

OpResult op_free_folio(Model &md, const Op &op) {
  if (op.args[0] > UINT32_MAX)
    return refuse(EINVAL_);
  FolioId id = static_cast<FolioId>(op.args[0]);
  int ret = update_and_free_hugetlb_folio(md.machine(), id);
  OpResult r{ret, {}, {}};
  if (id < md.machine().folios.size()) {
    r.folios.push_back(id);
    if (!ret)
      r.note = md.machine().folios[id].state == FolioState::Gone ? "freed" : "kept as surplus";
  }
  return r;
}

OpResult op_free_folios(Model &md, const Op &op) {
  if (op.args[1] == 0 || op.args[1] > kMaxBatch || op.args[0] > UINT32_MAX)
    return refuse(EINVAL_);
  std::vector<FolioId> ids;
  for (uint64_t i = 0; i < op.args[1]; i++)
    ids.push_back(static_cast<FolioId>(op.args[0] + i));
  int ret = update_and_free_pages_bulk(md.machine(), ids);
  OpResult r{ret, {}, {}};
  for (FolioId id : ids)
    if (id < md.machine().folios.size())
      r.folios.push_back(id);
  return r;
}

OpResult op_get_folio(Model &md, const Op &op) {
  if (op.args[0] > UINT32_MAX)
    return refuse(EINVAL_);
  int ret = hugetlb_get_folio(md.machine(), static_cast<FolioId>(op.args[0]));
  return OpResult{ret, ret ? std::vector<FolioId>{} : std::vector<FolioId>{static_cast<FolioId>(op.args[0])}, {}};
}

OpResult op_put_folio(Model &md, const Op &op) {
  if (op.args[0] > UINT32_MAX)
    return refuse(EINVAL_);
  FolioId id = static_cast<FolioId>(op.args[0]);
  int ret = free_huge_folio(md.machine(), id);
  return OpResult{ret, ret ? std::vector<FolioId>{} : std::vector<FolioId>{id}, {}};
}

OpResult op_demote(Model &md, const Op &op) {
  if (op.args[0] > UINT32_MAX || op.args[1] > kMaxHugetlbOrder)
    return refuse(EINVAL_);
  std::vector<FolioId> ids;
  FolioId id = static_cast<FolioId>(op.args[0]);
  int ret = demote_free_hugetlb_folio(md.machine(), id, static_cast<unsigned>(op.args[1]), &ids);
  OpResult r = folios_result(ret, ids);
  if (id < md.machine().folios.size())
    r.folios.push_back(id);
  return r;
}

OpResult op_memory_failure(Model &md, const Op &op) {
  if (op.args[0] > UINT32_MAX)
    return refuse(EINVAL_);
  FolioId id = static_cast<FolioId>(op.args[0]);
  int ret = memory_failure_hugetlb(md.machine(), id, op.args[1]);
  OpResult r{ret, {}, {}};
  if (ret != -EINVAL_)
    r.folios.push_back(id);
  return r;
}

OpResult op_ref_add_unless(Model &md, const Op &op) {
  HugetlbFolio *f = folio_arg(md, op.args[0]);
  if (!f || op.args[1] >= (uint64_t{1} << f->order) || op.args[2] > INT32_MAX ||
      op.args[3] > UINT32_MAX)
    return refuse(EINVAL_);
  Machine &m = md.machine();
  uint64_t page = m.page(f->pfn + op.args[1]);
  bool ok = page_ref_add_unless(m, page, static_cast<int>(op.args[2]),
                                static_cast<uint32_t>(op.args[3]));
  return OpResult{ok ? 1 : 0, {f->id}, ok ? "got reference" : "refused"};
}

}  // namespace

std::vector<OpDescriptor> hugetlb_op_family() {
  const OpArgSpec folio{"folio", 0, 64, 0};
  return {
      {"alloc_folio", {{"order", 1, 18, 9}, {"node", 0, 3, 0}}, op_alloc_folio,
       "alloc_fresh_hugetlb_folio: allocate, prep and optimize one folio, into the pool"},
      {"alloc_folios", {{"order", 1, 18, 9}, {"node", 0, 3, 0}, {"count", 1, 16, 1}},
       op_alloc_folios,
       "alloc_pool_huge_folios: allocate count folios, batch-optimize, into the pool"},
      {"boot_gigantic", {{"order", 1, 18, 18}, {"node", 0, 3, 0}, {"count", 1, 4, 1}},
       op_boot_gigantic,
       "gather_bootmem_prealloc: memblock gigantic pages, first 64 struct pages initialised"},
      {"optimize", {folio}, op_optimize, "hugetlb_vmemmap_optimize_folio"},
      {"optimize_batch", {{"first", 0, 64, 0}, {"count", 1, 16, 1}}, op_optimize_batch,
       "hugetlb_vmemmap_optimize_folios on folios first..first+count-1"},
      {"restore", {folio}, op_restore, "hugetlb_vmemmap_restore_folio"},
      {"restore_batch", {{"first", 0, 64, 0}, {"count", 1, 16, 1}}, op_restore_batch,
       "hugetlb_vmemmap_restore_folios on folios first..first+count-1"},
      {"free_folio", {folio}, op_free_folio,
       "shrink the pool by one free folio: update_and_free_hugetlb_folio"},
      {"free_folios", {{"first", 0, 64, 0}, {"count", 1, 16, 1}}, op_free_folios,
       "update_and_free_pages_bulk on free folios first..first+count-1"},
      {"get_folio", {folio}, op_get_folio, "take a free folio from the pool (refcount 1)"},
      {"put_folio", {folio}, op_put_folio, "free_huge_folio: last reference dropped"},
      {"demote", {folio, {"order", 1, 18, 9}}, op_demote,
       "demote_free_hugetlb_folios: split a free folio into folios of a smaller order"},
      {"memory_failure", {folio, {"index", 0, 1u << 18, 0}}, op_memory_failure,
       "memory_failure on subpage index of a hugetlb folio (dissolves a free one)"},
      {"ref_add_unless",
       {folio, {"index", 0, 1u << 18, 0}, {"nr", 0, 4, 1}, {"unless", 0, 4, 0}},
       op_ref_add_unless,
       "page_ref_add_unless(page, nr, unless) on subpage index: a speculative get"},
  };
}

}  // namespace hvo
