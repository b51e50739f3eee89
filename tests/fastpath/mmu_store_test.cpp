// SPDX-License-Identifier: GPL-2.0-only
//
// Mmu::write_masked_each (one translation for a run of stores in one
// vmemmap page, used by memmap_init_zone_device's partial pages) against
// the separate write_masked calls it replaces: same memory, same faults,
// same frames touched in the same order -- on read-write boot memory, on a
// read-only remapped page and on an unmapped one, for every struct page size.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hvo/model.h"
#include "hvo/ops.h"
#include "machine_state.h"

namespace hvo {
namespace {

Op op_named(const char *name, std::vector<uint64_t> args) {
  const OpDescriptor *d = find_op(name);
  EXPECT_NE(d, nullptr) << name;
  Op op;
  op.kind = static_cast<uint16_t>(d - op_table().data());
  for (size_t i = 0; i < d->args.size(); i++)
    op.args[i] = i < args.size() ? args[i] : d->args[i].def;
  return op;
}

std::string faults_text(const std::vector<Fault> &fs) {
  std::string s;
  for (const Fault &f : fs)
    s += std::to_string(static_cast<int>(f.kind)) + " " + std::to_string(f.vaddr) + " " +
         std::to_string(f.frame) + " " + std::to_string(f.old_value) + " " +
         std::to_string(f.new_value) + " " + f.who + "\n";
  return s;
}

struct Case {
  unsigned struct_page;
  bool read_only;  // the page was remapped read-only by HVO
  bool unmapped;   // an address past the memmap
};

class WriteMaskedEach : public testing::TestWithParam<Case> {};

TEST_P(WriteMaskedEach, EqualsTheSeparateStores) {
  const Case c = GetParam();
  Config cfg;
  cfg.struct_page_size = c.struct_page;
  cfg.variant = Variant::V6_12_0;
  Model one(cfg), each(cfg);
  uint64_t base_pfn = 3 * 512 + 5;  // boot memory, PMD-mapped read-write
  for (Model *md : {&one, &each}) {
    ASSERT_EQ(md->apply(op_named("alloc_folio", {9, 0})).result.ret, 0);
    if (c.read_only)
      md->apply(op_named("optimize", {0}));
    md->machine().phys.take_touched();
  }
  Machine &m1 = one.machine(), &m2 = each.machine();
  if (c.read_only) {
    ASSERT_EQ(m1.folios.size(), 1u);
    base_pfn = m1.folios[0].pfn + 2 * m1.cfg.spp() + 1;  // inside a read-only tail page
    ASSERT_TRUE(m1.pt.ptep_get(m1.page(base_pfn)).ro);
  }
  const uint64_t ps = cfg.page_size(), S = cfg.struct_page_size;
  for (unsigned field : {0u, 1u, 6u}) {
    for (uint64_t mask : {~uint64_t{0}, uint64_t{0xff00}, uint64_t{1} << 10}) {
      uint64_t first = c.unmapped ? m1.pt.end() + ps + 8 * field
                                  : Machine::field(m1.page(base_pfn), field);
      // As many struct pages as fit in the page from here.
      const uint64_t n = ((first & ~(ps - 1)) + ps - first + S - 1) / S;
      const uint64_t value = 0x1234567800000000ull | (field * 0x1111) | mask;
      for (uint64_t i = 0; i < n; i++)
        m1.mmu.write_masked(first + i * S, mask, value, "test");
      m2.mmu.write_masked_each(first, S, n, mask, value, "test");
      EXPECT_EQ(faults_text(m1.mmu.faults), faults_text(m2.mmu.faults));
      EXPECT_EQ(m1.phys.take_touched(), m2.phys.take_touched());
      EXPECT_EQ(test::machine_state_diff(m1, m2), "") << "field " << field << " mask " << mask;
      if (c.read_only || c.unmapped)
        EXPECT_FALSE(m1.mmu.faults.empty()) << "the fault case took no fault";
      m1.mmu.faults.clear();
      m2.mmu.faults.clear();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Pages, WriteMaskedEach,
                         testing::Values(Case{64, false, false}, Case{72, false, false},
                                         Case{80, false, false}, Case{64, true, false},
                                         Case{64, false, true}),
                         [](const testing::TestParamInfo<Case> &i) {
                           return "sp" + std::to_string(i.param.struct_page) +
                                  (i.param.read_only ? "_ro" : i.param.unmapped ? "_unmapped" : "_rw");
                         });

}  // namespace
}  // namespace hvo
