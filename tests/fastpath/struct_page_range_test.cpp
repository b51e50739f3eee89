// SPDX-License-Identifier: GPL-2.0-only
//
// store_struct_pages (a vmemmap page at a time: whole pages in one store,
// pages with a few struct pages outside the range in one store that leaves
// those alone, the rest struct page by struct page) against the kernel's
// loop it replaces, store_struct_pages_one_by_one: same memory, same frames
// touched, and on a page that faults the same first fault, with every fault
// the fast path records also recorded by the loop, in the same order (the
// loop goes on storing after an oops; the kernel would not, so the fast
// path records the first fault of each page and stops there).  For every
// struct page size on read-write boot memory and past the memmap, and with
// 64-byte struct pages (HVO needs a power of two) on a read-only remapped
// page.  Then whole inputs with that store against its reference switch
// (StructPageBulkExcept).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/struct_page.h"
#include "hvo/struct_page_range.h"
#include "harness_trace.h"
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

std::string fault_text(const Fault &f) {
  return std::to_string(static_cast<int>(f.kind)) + " " + std::to_string(f.vaddr) + " " +
         std::to_string(f.frame) + " " + std::to_string(f.old_value) + " " +
         std::to_string(f.new_value) + " " + f.who;
}

// Whether `sub` is `all` with some entries left out (same order).
bool is_subsequence(const std::vector<Fault> &sub, const std::vector<Fault> &all) {
  size_t j = 0;
  for (const Fault &f : sub) {
    while (j < all.size() && fault_text(all[j]) != fault_text(f))
      j++;
    if (j++ == all.size())
      return false;
  }
  return true;
}

// Whether every fault of `sub` is also in `all`.
bool is_subset(const std::vector<Fault> &sub, const std::vector<Fault> &all) {
  std::set<std::string> in_all;
  for (const Fault &f : all)
    in_all.insert(fault_text(f));
  for (const Fault &f : sub)
    if (!in_all.count(fault_text(f)))
      return false;
  return true;
}

enum class Where { ReadWrite, ReadOnly, Unmapped, Restored };

struct Case {
  unsigned struct_page;
  Where where;
};

// The store sets of the model's callers: one masked bit (SetPageReserved),
// __init_single_page's whole struct page with self pointers, and
// prep_compound_tail's with compound_head relative to the folio head.
// `salt` makes each range's values differ from the previous range's, so a
// store that reaches a struct page outside its range shows.
std::vector<std::vector<Mmu::FieldStore>> store_sets(uint64_t salt) {
  constexpr uint64_t kAll = ~uint64_t{0};
  const uint64_t reserved = uint64_t{1} << sp::PG_reserved, s = salt << 40;
  return {
      {{sp::kFlags, reserved, FieldSpec{salt & 1 ? reserved : 0}}},
      {{sp::kFlags, kAll, FieldSpec{sp::page_links(1, 0) + s}},
       {sp::kCompoundHead, kAll, FieldSpec{8 + s, FieldRel::Self}},
       {sp::kLruPrev, kAll, FieldSpec{8, FieldRel::Self}},
       {sp::kMapping, kAll, FieldSpec{s}},
       {sp::kCounts, 0xffffffff00000000ull, FieldSpec{s}}},
      {{sp::kMapping, kAll, FieldSpec{sp::TAIL_MAPPING + s}},
       {sp::kCompoundHead, kAll, FieldSpec{1 + s, FieldRel::FolioHead, 9}},
       {sp::kPrivate, kAll, FieldSpec{s}}},
  };
}

std::string case_name(const testing::TestParamInfo<Case> &i) {
  const char *where = i.param.where == Where::ReadWrite  ? "_rw"
                      : i.param.where == Where::ReadOnly ? "_ro"
                      : i.param.where == Where::Restored ? "_restored"
                                                         : "_unmapped";
  return "sp" + std::to_string(i.param.struct_page) + where;
}

class StructPageRange : public testing::TestWithParam<Case> {};

TEST_P(StructPageRange, EqualsTheLoop) {
  const Case c = GetParam();
  Config cfg;
  cfg.struct_page_size = c.struct_page;
  cfg.variant = Variant::V6_12_0;
  Model fast(cfg), loop(cfg);
  for (Model *md : {&fast, &loop}) {
    ASSERT_EQ(md->apply(op_named("alloc_folio", {9, 0})).result.ret, 0);
    if (c.where == Where::ReadOnly || c.where == Where::Restored)
      md->apply(op_named("optimize", {0}));
    if (c.where == Where::Restored)
      md->apply(op_named("restore", {0}));
    md->machine().phys.take_touched();
  }
  Machine &mf = fast.machine(), &ml = loop.machine();
  const uint64_t spp = cfg.spp();
  // The first struct page of a vmemmap page somewhere in the middle.
  uint64_t base = 3 * 512 + 2 * spp;
  if (c.where == Where::ReadOnly) {
    base = mf.folios[0].pfn + 2 * spp;  // the folio's third vmemmap page: a read-only tail
    ASSERT_TRUE(mf.pt.ptep_get(mf.page(base + 1)).ro);
  } else if (c.where == Where::Restored) {
    // Restored vmemmap pages are copies of the head's: frames that share one
    // image with overrides, which the bulk store may share again (Mmu::
    // store_fields_page's memo).
    base = mf.folios[0].pfn + 2 * spp;
    const FrameId f1 = mf.pt.ptep_get(mf.page(base)).frame;
    const FrameId f2 = mf.pt.ptep_get(mf.page(base + spp)).frame;
    ASSERT_NE(f1, f2);
    const uint32_t image = std::as_const(mf.phys).frame(f1).image;
    ASSERT_EQ(image, std::as_const(mf.phys).frame(f2).image);
    ASSERT_FALSE(mf.phys.images().at(image).pure());
  } else if (c.where == Where::Unmapped) {
    base = mf.page_to_pfn(mf.pt.end()) + spp;
  }
  // Whole pages; one struct page outside; kMaxOutsideSlots (8) outside; 9
  // outside; a range ending inside a page; a few struct pages; an empty one.
  const std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {base, base + 3 * spp},     {base + 1, base + 2 * spp}, {base + 8, base + spp},
      {base + 9, base + spp + 3}, {base, base + spp - 1},     {base + 5, base + 7},
      {base + 4, base + 4}};
  unsigned checked = 0, faulted = 0;
  uint64_t salt = 0;
  for (size_t set = 0; set < store_sets(0).size(); set++)
    for (auto [a, b] : ranges) {
      const std::vector<Mmu::FieldStore> st = store_sets(++salt)[set];
      store_struct_pages(mf, a, b, st, "test");
      store_struct_pages_one_by_one(ml, a, b, st, "test");
      if (c.where == Where::Restored && set == 0 && a == base && b == base + 3 * spp) {
        // The literal store over whole restored pages kept them sharing
        // one image (the memo took the shared path, not a copy per frame).
        const FrameId f1 = mf.pt.ptep_get(mf.page(base)).frame;
        const FrameId f2 = mf.pt.ptep_get(mf.page(base + spp)).frame;
        EXPECT_EQ(std::as_const(mf.phys).frame(f1).image, std::as_const(mf.phys).frame(f2).image);
      }
      const std::string where = "pfns [" + std::to_string(a) + ", " + std::to_string(b) +
                                "), " + std::to_string(st.size()) + " stores";
      const std::vector<Fault> ff = std::move(mf.mmu.faults), fl = std::move(ml.mmu.faults);
      mf.mmu.faults.clear();
      ml.mmu.faults.clear();
      // The fast path describes a page by field, the loop word by word:
      // compare what the words hold, not how the images say it.
      EXPECT_EQ(test::machine_state_diff(mf, ml, test::Representation::Contents), "") << where;
      EXPECT_EQ(mf.phys.take_touched(), ml.phys.take_touched()) << where;
      EXPECT_EQ(ff.empty(), fl.empty()) << where;
      if (!ff.empty() && !fl.empty()) {
        if (cfg.struct_page_pow2()) {
          EXPECT_EQ(fault_text(ff[0]), fault_text(fl[0])) << where;
          EXPECT_TRUE(is_subsequence(ff, fl)) << where;
        } else {
          // A struct page that straddles two vmemmap pages may have its
          // first field in the second: the loop faults there first, the
          // fast path takes the pages in address order.  Same faults.
          EXPECT_TRUE(is_subset(ff, fl)) << where;
        }
        faulted++;
      }
      checked++;
    }
  EXPECT_EQ(checked, 21u);
  if (c.where == Where::ReadWrite || c.where == Where::Restored)
    EXPECT_EQ(faulted, 0u);
  else
    EXPECT_EQ(faulted, 18u) << "every non-empty range must fault here";
}

// compose_field_stores (memmap_init_zone_device's composed tail stores):
// on pages that cannot fault, the composed list stored over a range leaves
// the memory and touched frames that the two lists stored one after the
// other by the loop leave, for every pair of the store sets above (masked
// literals under and over whole-word and address-relative stores).  One
// memo is shared by the two ranges of each pair, as memmap_init_zone_device
// shares it between compound pages.
TEST(StructPageRangeCompose, EqualsBothListsInTurn) {
  for (unsigned struct_page : {64u, 72u, 80u}) {
    Config cfg;
    cfg.struct_page_size = struct_page;
    cfg.variant = Variant::V6_12_0;
    Model fast(cfg), loop(cfg);
    Machine &mf = fast.machine(), &ml = loop.machine();
    const uint64_t spp = cfg.spp(), base = 3 * 512 + 2 * spp;
    const std::vector<std::pair<uint64_t, uint64_t>> ranges = {{base, base + 3 * spp},
                                                               {base + 3 * spp + 1, base + 5 * spp - 2}};
    ASSERT_TRUE(struct_pages_writable(mf, base, base + 5 * spp));
    unsigned composed = 0;
    uint64_t salt = 0;
    for (size_t i = 0; i < store_sets(0).size(); i++)
      for (size_t j = 0; j < store_sets(0).size(); j++) {
        const auto first = store_sets(++salt)[i], second = store_sets(++salt)[j];
        const auto both = compose_field_stores(first, second);
        if (!both) {
          // Only a masked store over or under an address-relative one.
          bool relative_under_mask = false;
          for (const auto &a : first)
            for (const auto &b : second)
              relative_under_mask |= a.field == b.field && b.mask != ~uint64_t{0} &&
                                     (a.value.rel != FieldRel::None || b.value.rel != FieldRel::None);
          EXPECT_TRUE(relative_under_mask) << i << " then " << j;
          continue;
        }
        Mmu::StoreMemo memo;
        for (auto [a, b] : ranges) {
          store_struct_pages(mf, a, b, *both, "test", memo);
          store_struct_pages_one_by_one(ml, a, b, first, "test");
          store_struct_pages_one_by_one(ml, a, b, second, "test");
        }
        mf.mmu.release_memo(memo);
        const std::string where = "sp" + std::to_string(struct_page) + " sets " +
                                  std::to_string(i) + " then " + std::to_string(j);
        EXPECT_EQ(test::machine_state_diff(mf, ml, test::Representation::Contents), "") << where;
        EXPECT_EQ(mf.phys.take_touched(), ml.phys.take_touched()) << where;
        EXPECT_TRUE(mf.mmu.faults.empty() && ml.mmu.faults.empty()) << where;
        composed++;
      }
    EXPECT_GE(composed, 7u) << "sp" << struct_page;
  }
}

// A read-only page in the range: not writable, so the composed store is
// never used there (memmap_init_zone_device checks this first).
TEST(StructPageRangeCompose, ReadOnlyPageIsNotWritable) {
  Config cfg;
  cfg.variant = Variant::V6_12_0;
  Model md(cfg);
  ASSERT_EQ(md.apply(op_named("alloc_folio", {9, 0})).result.ret, 0);
  md.apply(op_named("optimize", {0}));
  Machine &m = md.machine();
  const uint64_t head = m.folios[0].pfn, spp = cfg.spp();
  EXPECT_TRUE(struct_pages_writable(m, head, head + spp));
  EXPECT_FALSE(struct_pages_writable(m, head, head + spp + 1));
  EXPECT_FALSE(struct_pages_writable(m, head + 2 * spp, head + 2 * spp + 1));
  EXPECT_TRUE(struct_pages_writable(m, head + 5, head + 5));  // empty
}

// Whole inputs with the bulk store of partly covered 72/80-byte struct
// page vmemmap pages against bulk_except_reference (those pages struct page
// by struct page): the corpus, mutants and random inputs of the targets
// whose ops store struct page ranges (device DAX: memmap_init_zone_device,
// memmap_init_range; HugeTLB and compound pages: prep_compound_page and
// the free path), then planted 72/80-byte scenarios: compound pgmaps whose
// pages start inside a vmemmap page, a 16K-page one, an altmap, and folios.
// Same step results and violations, same faults and touched frames in
// order, same machine (by contents).
std::string bulk_both_ways(const Scenario &s) {
  struct Reference : test::ScopedSwitch {
    explicit Reference(bool on) : ScopedSwitch(bulk_except_reference, on) {}
  };
  std::string a, b, ra, rb, da, dr;
  {
    Model fast(s.config), slow(s.config);
    {
      Reference mode(false);
      a = test::harness_trace(fast, s);
    }
    {
      Reference mode(true);
      b = test::harness_trace(slow, s);
    }
    da = test::machine_state_diff(fast.machine(), slow.machine(), test::Representation::Contents);
  }
  {
    Model fast(s.config), slow(s.config);
    {
      Reference mode(false);
      ra = test::raw_op_trace(fast, s);
    }
    {
      Reference mode(true);
      rb = test::raw_op_trace(slow, s);
    }
    dr = test::machine_state_diff(fast.machine(), slow.machine(), test::Representation::Contents);
  }
  if (a != b)
    return "step results and violations differ:\n--- bulk\n" + a + "--- reference\n" + b;
  if (ra != rb)
    return "faults and touched frames differ:\n--- bulk\n" + ra + "--- reference\n" + rb;
  if (!da.empty() || !dr.empty())
    return "machine states differ: " + da + dr;
  return "";
}

TEST(StructPageBulkExcept, InputsBothWays) {
  std::mt19937 rng(7272);
  std::vector<Scenario> inputs;
  for (const char *target : {"hvo_fuzz_dax", "hvo_fuzz_hugetlb", "hvo_fuzz_compound_head"}) {
    const fuzz::TargetProfile *p = fuzz::find_profile(target);
    ASSERT_NE(p, nullptr) << target;
    for (Scenario &s : test::corpus_and_mutants(*p, 1, rng))
      inputs.push_back(std::move(s));
    for (unsigned k = 0; k < 24; k++)
      inputs.push_back(test::random_fuzz_scenario(*p, rng, 8, 40));
  }
  for (const char *text : {
           "config struct-page=72 variant=v6.12.0 hvo=off\n"
           "dax_add pfn=262144 pages=8192 shift=9 node=0\ndax_remove pgmap=0\n",
           "config struct-page=80 variant=v6.12.0 hvo=off\n"
           "dax_add pfn=262144 pages=8192 shift=4 node=0\n"
           "dax_add_altmap pfn=294912 pages=32768 shift=9 free=1000\n",
           // 16K pages: a compound page is 10 vmemmap pages, 204.8 struct
           // pages each (a libFuzzer mutant's configuration).
           "config page-size=16K struct-page=80 mem=0:DMA32:512M,0:Normal:512M,1:DMA32:128M,"
           "1:Normal:128M section-bits=27 subsection-bits=21 vmemmap-base=0xffffea0000000000 "
           "era=legacy variant=v6.12.0 hvo=on hotplug=on\n"
           "dax_add pfn=81920 pages=131072 shift=11 node=0\ndax_remove pgmap=0\n",
           // Compound pages that start inside a vmemmap page (7 per 8 pages).
           "config struct-page=72 variant=v6.12.0 hvo=off\n"
           "dax_add pfn=262144 pages=4096 shift=6 node=0\n",
           "config struct-page=72 variant=v6.12.0 hvo=off\n"
           "alloc_folio order=9 node=0\nalloc_folio order=3 node=0\nfree_folio folio=0\n",
       })
    inputs.push_back(test::planted_scenario(text));
  const uint64_t before = bulk_except_nonpow2_pages;
  unsigned i = 0;
  for (const Scenario &s : inputs) {
    EXPECT_EQ(bulk_both_ways(s), "") << "input " << i;
    i++;
  }
  const uint64_t pages = bulk_except_nonpow2_pages - before;
  RecordProperty("bulk_pages", static_cast<int>(std::min<uint64_t>(pages, INT32_MAX)));
  EXPECT_GE(pages, 100u) << "the bulk store hardly ran: the comparison is nearly vacuous";
}

INSTANTIATE_TEST_SUITE_P(Pages, StructPageRange,
                         testing::Values(Case{64, Where::ReadWrite}, Case{72, Where::ReadWrite},
                                         Case{80, Where::ReadWrite}, Case{64, Where::ReadOnly},
                                         Case{72, Where::Unmapped}, Case{64, Where::Unmapped},
                                         Case{80, Where::Unmapped}, Case{64, Where::Restored}),
                         case_name);

}  // namespace
}  // namespace hvo
