// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_hugetlb's finding of 22 Nov 2026 (docs/findings-model.md, "Bulk
// free under ENOMEM warns on a folio that is no longer hugetlb"):
// update_and_free_pages_bulk on a list whose optimized folio cannot get its
// vmemmap back, followed by a folio that was never optimized.
// remove_hugetlb_folio (mm/hugetlb.c 6.12 l.1623-1629) already cleared the
// second folio's hugetlb type, and bulk_vmemmap_restore_error's fallback
// (l.1808-1834) hands it to hugetlb_vmemmap_restore_folio, whose first line
// is VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb) (mm/hugetlb_vmemmap.c 6.12
// l.400).  The model ports both faithfully, so the warning is the kernel's.
// If this test starts failing, the port changed: update the finding, do not
// loosen the test.
#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>

#include "model_test_util.h"

namespace hvo {
namespace {

using test::apply_text;
using test::count_id;
using test::dump;

std::string config(const char *era_variant) {
  return std::string("page-size=4K struct-page=64 mem=0:Normal:128M ") + era_variant;
}

// Boots the variant's machine and runs the set-up ops, each of which must
// succeed.
std::unique_ptr<Model> set_up(const char *era_variant, std::initializer_list<const char *> ops) {
  std::unique_ptr<Model> md = test::boot_text(config(era_variant));
  for (const char *op : ops)
    if (md)
      EXPECT_EQ(apply_text(*md, op).result.ret, 0) << op;
  return md;
}

class BulkFreeUnderEnomem : public ::testing::TestWithParam<const char *> {};

// Folio 0 optimized, folio 1 allocated with the sysctl off; every vmemmap
// allocation on node 0 fails.
TEST_P(BulkFreeUnderEnomem, OptimizedFolioFirstWarnsOnTheNonOptimizedOne) {
  std::unique_ptr<Model> md =
      set_up(GetParam(), {"alloc_folio order=9 node=0", "sysctl_hvo value=0",
                          "alloc_folio order=9 node=0", "fail_node node=0 on=1"});
  ASSERT_NE(md, nullptr);
  StepResult r = apply_text(*md, "free_folios first=0 count=2");
  EXPECT_EQ(r.result.ret, 0);
  ASSERT_EQ(r.violations.size(), 1u) << dump(r.violations);
  const Violation &v = r.violations[0];
  EXPECT_EQ(v.id, "K-VM_WARN_ON");
  EXPECT_EQ(v.pfn, 0x200u) << "the head of folio 1, the one never optimized";
  EXPECT_NE(v.message.find("VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb)"), std::string::npos)
      << v.message;
  // A warning, nothing worse: every other invariant holds afterwards.
  EXPECT_TRUE(md->check_all().empty()) << dump(md->check_all());
}

// The same two folios in the other order: the non-optimized one reaches
// non_hvo_folios before the restore fails, so the error path frees it from
// there and never asks hugetlb_vmemmap_restore_folio about it.
TEST_P(BulkFreeUnderEnomem, NonOptimizedFolioFirstDoesNotWarn) {
  std::unique_ptr<Model> md =
      set_up(GetParam(), {"sysctl_hvo value=0", "alloc_folio order=9 node=0", "sysctl_hvo value=1",
                          "alloc_folio order=9 node=0", "fail_node node=0 on=1"});
  ASSERT_NE(md, nullptr);
  StepResult r = apply_text(*md, "free_folios first=0 count=2");
  EXPECT_EQ(r.result.ret, 0);
  EXPECT_EQ(count_id(r.violations, "K-"), 0u) << dump(r.violations);
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
}

// Without the allocation failure the bulk restore succeeds and nothing warns.
TEST_P(BulkFreeUnderEnomem, WithoutTheFailureNothingWarns) {
  std::unique_ptr<Model> md =
      set_up(GetParam(), {"alloc_folio order=9 node=0", "sysctl_hvo value=0", "alloc_folio order=9 node=0"});
  ASSERT_NE(md, nullptr);
  StepResult r = apply_text(*md, "free_folios first=0 count=2");
  EXPECT_EQ(r.result.ret, 0);
  EXPECT_TRUE(r.violations.empty()) << dump(r.violations);
}

// Debian 6.12's own code and the two shared-tail trees the model ports
// without a bug switch: the bulk path is the same in all of them.
INSTANTIATE_TEST_SUITE_P(Variants, BulkFreeUnderEnomem,
                         ::testing::Values("era=legacy variant=v6.12.0",
                                           "era=shared-tail variant=kiryl-v7",
                                           "era=shared-tail variant=muchun"),
                         [](const ::testing::TestParamInfo<const char *> &i) {
                           std::string n = std::string(i.param).substr(std::string(i.param).rfind('=') + 1);
                           for (char &c : n)
                             if (c == '.' || c == '-')
                               c = '_';
                           return n;
                         });

}  // namespace
}  // namespace hvo
