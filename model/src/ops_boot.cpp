// SPDX-License-Identifier: GPL-2.0-only
//
// Boot-time placement the allocator of the other ops never chooses: a
// gigantic bootmem page at a given position.  memblock places a gigantic
// page anywhere on its node, aligned to its size and blind to zones
// (alloc_bootmem_huge_page, mm/hugetlb.c l.3140-3191, Debian 6.12), so a
// page can straddle a zone boundary that is not aligned to its size (e.g.
// DMA32 ending at 640 MiB, or a Movable zone from kernelcore=).  The model's
// own placement is first fit inside one zone; this op lets a scenario put
// the page where memblock may.
#include "hvo/hugetlb.h"
#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo {

namespace {

OpResult op_boot_gigantic_at(Model &md, const Op &op) {
  if (op.args[0] > kMaxHugetlbOrder || op.args[1] > (uint64_t{1} << 40))
    return OpResult{-EINVAL_, {}, {}};
  const unsigned order = static_cast<unsigned>(op.args[0]);
  std::vector<FolioId> ids;
  const int ret = gather_bootmem_prealloc_at(md.machine(), op.args[1] << order, order, &ids);
  OpResult r{ret, ids, {}};
  if (!ids.empty())
    r.note = "folio " + std::to_string(ids.front());
  else if (ret == -ENOMEM_)
    r.note = "not used (spans zones or not free)";
  return r;
}

}  // namespace

std::vector<OpDescriptor> boot_op_family() {
  return {
      {"boot_gigantic_at", {{"order", 2, 18, 18}, {"slot", 0, 64, 0}}, op_boot_gigantic_at,
       "gather_bootmem_prealloc for one memblock gigantic page at pfn slot << order"},
  };
}

}  // namespace hvo
