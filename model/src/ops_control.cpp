// SPDX-License-Identifier: GPL-2.0-only
//
// The control op family: the knobs around the kernel code rather than the
// kernel code itself (the HVO sysctl, a global TLB flush, fault injection).
#include "hvo/hugetlb_vmemmap.h"
#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo {

namespace {

constexpr uint64_t kMaxNode = 63;

OpResult refuse(int err) { return OpResult{-err, {}, {}}; }

OpResult op_sysctl_hvo(Model &md, const Op &op) {
  if (op.args[0] > 1)
    return refuse(EINVAL_);
  md.machine().vmemmap_optimize_enabled = op.args[0] != 0;
  return OpResult{};
}

OpResult op_flush_tlb_all(Model &md, const Op &) {
  md.machine().pt.flush_tlb_all();
  return OpResult{};
}

OpResult op_fail_nth(Model &md, const Op &op) {
  FaultInjection &fi = md.machine().phys.fault;
  fi.fail_nth = op.args[0];
  fi.attempts_since_arm = 0;
  return OpResult{};
}

OpResult op_fail_node(Model &md, const Op &op) {
  if (op.args[0] > kMaxNode || op.args[1] > 1)
    return refuse(EINVAL_);
  uint64_t bit = uint64_t{1} << op.args[0];
  FaultInjection &fi = md.machine().phys.fault;
  fi.node_mask = op.args[1] ? fi.node_mask | bit : fi.node_mask & ~bit;
  return OpResult{};
}

}  // namespace

std::vector<OpDescriptor> control_op_family() {
  return {
      {"sysctl_hvo", {{"value", 0, 1, 1}}, op_sysctl_hvo, "vm.hugetlb_optimize_vmemmap = value"},
      {"flush_tlb_all", {}, op_flush_tlb_all, "flush_tlb_all()"},
      {"fail_nth", {{"n", 0, 64, 1}}, op_fail_nth,
       "fault injection: the n-th allocation attempt from now fails (0: off)"},
      {"fail_node", {{"node", 0, 3, 0}, {"on", 0, 1, 1}}, op_fail_node,
       "fault injection: every allocation on node fails while on=1"},
  };
}

}  // namespace hvo
