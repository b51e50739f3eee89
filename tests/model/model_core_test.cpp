// SPDX-License-Identifier: GPL-2.0-only
//
// The model core: configuration, the page table and its TLB, struct page
// access through the MMU, compound pages, and the op text form.
#include <gtest/gtest.h>

#include <vector>

#include "hvo/compound.h"
#include "hvo/config.h"
#include "hvo/frame_image.h"
#include "hvo/hugetlb.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/page_flags.h"
#include "hvo/struct_page.h"

namespace hvo {
namespace {

Config small_config(unsigned page_shift = 12) {
  Config c;
  c.page_shift = page_shift;
  c.nodes = {NodeSpec{{ZoneSpec{ZoneType::Normal, (uint64_t{1} << 32) >> page_shift}}},
             NodeSpec{{ZoneSpec{ZoneType::Normal, (uint64_t{1} << 32) >> page_shift}}}};
  return c;
}

TEST(Config, DefaultIsValid) { EXPECT_EQ(Config{}.validate(), ""); }

TEST(Config, RejectsImpossibleMachines) {
  Config c;
  c.page_shift = 13;
  EXPECT_NE(c.validate(), "");
  c = Config{};
  c.struct_page_size = 56;
  EXPECT_NE(c.validate(), "");
  c = Config{};
  c.nodes[0].zones[0].pages = 1000;  // not a multiple of a section
  EXPECT_NE(c.validate().find("section"), std::string::npos);
  c = Config{};
  c.vmemmap_base += 4096;  // not PMD aligned
  EXPECT_NE(c.validate(), "");
  c = Config{};
  c.nodes.clear();
  EXPECT_NE(c.validate(), "");
}

TEST(Config, TextFormRoundTrips) {
  Config c = small_config();
  c.struct_page_size = 72;
  c.variant = Variant::V6_12_0;
  c.hvo_enabled = false;
  std::string text = print_config(c);
  ASSERT_EQ(text.substr(0, 7), "config ");
  Config back;
  EXPECT_EQ(parse_config_args(text.substr(6), back), "");
  EXPECT_EQ(print_config(back), text);
}

TEST(Config, ParseErrorsNameTheProblem) {
  Config c;
  EXPECT_NE(parse_config_args(" page-size=8K", c).find("page-size"), std::string::npos);
  EXPECT_NE(parse_config_args(" mem=0:Bogus:1G", c).find("unknown zone"), std::string::npos);
  EXPECT_NE(parse_config_args(" mem=1:Normal:1G", c).find("in order"), std::string::npos);
  EXPECT_NE(parse_config_args(" frobnicate=1", c).find("unknown key"), std::string::npos);
  EXPECT_NE(parse_config_args(" bugs=nope", c).find("unknown bug switch"), std::string::npos);
}

TEST(Ops, EveryOpPrintsAndParsesBack) {
  for (size_t k = 0; k < op_table().size(); k++) {
    Op op;
    op.kind = static_cast<uint16_t>(k);
    for (size_t i = 0; i < op_table()[k].args.size(); i++)
      op.args[i] = 7 + i;
    Op back;
    ASSERT_EQ(parse_op(print_op(op), back), "") << print_op(op);
    EXPECT_EQ(back, op) << print_op(op);
  }
}

TEST(Ops, ScenarioErrorsCarryFileAndLine) {
  Scenario s;
  std::string err;
  EXPECT_FALSE(parse_scenario("# x\nalloc_folio order=9\nbogus_op\n", "t.hvo", s, err));
  EXPECT_EQ(err, "t.hvo:3: unknown operation 'bogus_op'");
  EXPECT_FALSE(parse_scenario("alloc_folio order=x\n", "t.hvo", s, err));
  EXPECT_EQ(err.substr(0, 8), "t.hvo:1:");
  EXPECT_FALSE(parse_scenario("config page-size=4K mem=0:Normal:100M\n", "t.hvo", s, err));
  EXPECT_NE(err.find("t.hvo:1: impossible configuration"), std::string::npos);
  EXPECT_FALSE(parse_scenario("alloc_folio\nconfig page-size=4K\n", "t.hvo", s, err));
  EXPECT_EQ(err, "t.hvo:2: config must come before the first operation");
  EXPECT_FALSE(parse_scenario("optimize folio=1 folio=2\n", "t.hvo", s, err));
  EXPECT_EQ(err, "t.hvo:1: argument 'folio' given twice");
}

TEST(Ops, ScenarioRoundTrips) {
  Scenario s;
  std::string err;
  ASSERT_TRUE(parse_scenario("config page-size=16K mem=0:Normal:2G\nalloc_folio order=11\n"
                             "optimize folio=0 # again\nrestore_batch first=0 count=1\n",
                             "t.hvo", s, err))
      << err;
  Scenario back;
  ASSERT_TRUE(parse_scenario(print_scenario(s), "u.hvo", back, err)) << err;
  EXPECT_EQ(print_scenario(back), print_scenario(s));
  EXPECT_EQ(back.ops, s.ops);
}

TEST(Ops, OpsOnMissingFoliosAreRefusedNotCrashed) {
  Model md(small_config());
  for (size_t k = 0; k < op_table().size(); k++) {
    Op op;
    op.kind = static_cast<uint16_t>(k);
    op.args = {999999, UINT64_MAX, UINT64_MAX, UINT64_MAX};
    StepResult r = md.apply(op);
    (void)r;  // totality: it returned
  }
  Op bad;
  bad.kind = 60000;
  EXPECT_EQ(md.apply(bad).result.ret, -22);
}

TEST(PageTable, BootMemmapIsPmdMappedAndAccounted) {
  Model md(small_config());
  Machine &m = md.machine();
  // 8 GiB at 4K: 2 Mi struct pages, 128 MiB of memmap, 64 PMDs of 512 frames.
  EXPECT_EQ(m.pt.nr_pmds(), 64u);
  EXPECT_TRUE(m.pt.pmd_leaf(0));
  EXPECT_EQ(m.phys.memmap_boot_pages, 64 * 512);
  EXPECT_EQ(m.phys.live_memmap_boot_frames(), 64u * 512);
  EXPECT_TRUE(md.check_all().empty());
}

TEST(PageTable, StaleTranslationIsVisibleUntilFlushed) {
  Model md(small_config());
  Machine &m = md.machine();
  FolioId id = 0;
  ASSERT_EQ(alloc_fresh_hugetlb_folio(m, 9, 0, &id), 0);  // splits the PMD
  uint64_t page = m.page(m.folios[id].pfn) + 3 * m.cfg.page_size();
  Pte before = m.pt.ptep_get(page);
  auto other = m.phys.alloc_frame(0, AllocPurpose::Memmap);
  ASSERT_TRUE(other);
  m.pt.set_pte_at(page, Pte{*other, false});
  Translation t = m.pt.translate(page);
  EXPECT_TRUE(t.stale);
  EXPECT_EQ(t.pte.frame, before.frame);  // the old frame is still used
  m.pt.flush_tlb_kernel_range(page, page + m.cfg.page_size());
  EXPECT_EQ(m.pt.translate(page).pte.frame, *other);
  EXPECT_FALSE(m.pt.translate(page).stale);
}

TEST(Mmu, WriteThroughReadOnlyMappingFaultsAndLeavesMemory) {
  Model md(small_config());
  Machine &m = md.machine();
  FolioId id = 0;
  ASSERT_EQ(alloc_fresh_hugetlb_folio(m, 9, 0, &id), 0);  // optimized: tails RO
  uint64_t tail = m.page(m.folios[id].pfn + 100);
  uint64_t addr = Machine::field(tail, sp::kIndex);
  uint64_t old = m.mmu.read(addr, "test");
  EXPECT_FALSE(m.mmu.write(addr, 0x1234, "test_writer"));
  EXPECT_EQ(m.mmu.read(addr, "test"), old);
  ASSERT_EQ(m.mmu.faults.size(), 1u);
  EXPECT_EQ(m.mmu.faults[0].kind, Fault::Kind::RoWrite);
  EXPECT_EQ(m.mmu.faults[0].vaddr, addr);
  EXPECT_STREQ(m.mmu.faults[0].who, "test_writer");
}

TEST(Compound, FreshFolioResolvesEveryTailToItsHead) {
  Config c = small_config();
  c.hvo_enabled = false;
  Model md(c);
  Machine &m = md.machine();
  FolioId id = 0;
  ASSERT_EQ(alloc_fresh_hugetlb_folio(m, 10, 1, &id), 0);
  uint64_t head = m.page(m.folios[id].pfn);
  EXPECT_TRUE(PageHead(m, head));
  EXPECT_FALSE(PageTail(m, head));
  for (uint64_t i = 1; i < 1024; i++) {
    uint64_t p = head + i * m.cfg.struct_page_size;
    ASSERT_EQ(compound_head(m, p), head) << i;
    ASSERT_TRUE(PageTail(m, p)) << i;
  }
  EXPECT_EQ(page_to_nid(m, head), 1u);
  EXPECT_TRUE(m.mmu.faults.empty());
}

TEST(Compound, ImagesAreSharedAcrossIdenticalFrames) {
  Model md(small_config());
  Machine &m = md.machine();
  uint32_t live_before = m.phys.images().live();
  std::vector<FolioId> ids;
  ASSERT_EQ(alloc_pool_huge_folios(m, 18, 0, 2, &ids), 0);
  // Two 1 GiB folios: a handful of images, not thousands.
  EXPECT_LT(m.phys.images().live() - live_before, 16u);
}

// read_page is the oracle's fast path for whole-page comparisons; it must
// hold exactly what word() reads, for pure, overridden and dense images, and
// for struct page sizes that do and do not divide the page (80 bytes: slots
// straddle frames).
TEST(Images, ReadPageMatchesWordByWord) {
  for (unsigned words_per_struct_page : {8u, 10u}) {
    ImagePool pool(ImageGeometry{0xffffea0000000000ull, words_per_struct_page * 8ull, 512,
                                 words_per_struct_page});
    ImagePool::Fields fields{};
    fields[0] = FieldSpec{0x1234, FieldRel::None, 0};
    fields[1] = FieldSpec{1, FieldRel::FolioHead, 9};
    fields[2] = FieldSpec{0, FieldRel::Self, 0};
    fields[words_per_struct_page - 1] = FieldSpec{8, FieldRel::Self, 0};
    const uint32_t pure = pool.intern(fields);
    pool.get(pure);
    uint32_t overridden = pool.unshare(pure);
    pool.store_word(overridden, 3, 5, 0xdead);
    pool.store_word(overridden, 3, 511, 0xbeef);
    pool.get(overridden);
    uint32_t dense = pool.unshare(overridden);
    pool.make_dense(dense, 3);
    pool.store_word(dense, 3, 17, 0xf00d);
    std::vector<uint64_t> page(512);
    for (uint32_t id : {pure, overridden, dense})
      for (uint64_t origin : {0ull, 1ull, 3ull, 77ull}) {
        pool.read_page(id, origin, page.data());
        for (uint64_t w = 0; w < 512; w++)
          ASSERT_EQ(page[w], pool.word(id, origin, w))
              << "image " << id << " origin " << origin << " word " << w;
      }
  }
}

}  // namespace
}  // namespace hvo
