// SPDX-License-Identifier: GPL-2.0-only
//
// Fault attributes that are not allocations: Muchun's tree
// (linux-mm 0454b15e mm/hugetlb_vmemmap.c l.54-103, CONFIG_FAIL_HUGETLB_VMEMMAP)
// can fail the PTE updates and the PMD population of the HVO walk, as if an
// in-place update lost a race too many times.  The ops arm those attributes
// the way `fail_hugetlb_vmemmap_pte=1,100,<space>,<times>` does on the kernel
// command line (interval 1, probability 100): calls 1..nth-1 pass, then
// `times` calls fail with -EAGAIN.  They are a separate counter from
// fail_nth's allocation attempts, so reproducers numbered by allocations
// keep their meaning.  Only variant=muchun has these sites; elsewhere the
// attribute does not exist and the op is refused.
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo {

namespace {

OpResult arm(Model &md, const Op &op, FaultInjection::Attr &attr) {
  const Config &c = md.machine().cfg;
  if (c.era != Era::SharedTail || c.variant != Variant::Muchun)
    return OpResult{-EINVAL_, {}, "no CONFIG_FAIL_HUGETLB_VMEMMAP in this tree"};
  if (op.args[0] > (uint64_t{1} << 32) || op.args[1] > (uint64_t{1} << 32))
    return OpResult{-EINVAL_, {}, {}};
  const bool off = op.args[0] == 0 || op.args[1] == 0;
  attr.space = off ? 0 : op.args[0] - 1;
  attr.times = off ? 0 : op.args[1];
  return OpResult{};
}

OpResult op_fail_vmemmap_pte(Model &md, const Op &op) {
  return arm(md, op, md.machine().phys.fault.hvo_pte);
}

OpResult op_fail_vmemmap_pmd(Model &md, const Op &op) {
  return arm(md, op, md.machine().phys.fault.hvo_pmd);
}

}  // namespace

std::vector<OpDescriptor> fault_attr_op_family() {
  return {
      {"fail_vmemmap_pte", {{"nth", 0, 64, 1}, {"times", 0, 4, 1}}, op_fail_vmemmap_pte,
       "muchun: hvo_update_vmemmap_pte calls nth.. nth+times-1 from now fail (-EAGAIN); 0: off"},
      {"fail_vmemmap_pmd", {{"nth", 0, 16, 1}, {"times", 0, 4, 1}}, op_fail_vmemmap_pmd,
       "muchun: hvo_populate_vmemmap_pmd calls nth.. nth+times-1 from now fail (-EAGAIN); 0: off"},
  };
}

}  // namespace hvo
