// SPDX-License-Identifier: GPL-2.0-only
#include "RuleCatalog.h"

#include "llvm/ADT/StringRef.h"

#include <array>

namespace hvo::scan {

namespace {

struct KnownRule {
  const char *Id;
  const char *Short;
  const char *Full;
};

// Kept next to the checks' own pages (docs/checks/<id>.md); the pages are
// the reference, these are their first sentences.
constexpr std::array<KnownRule, 4> HvoRules = {{
    {"hvo-stale-fake-head",
     "Code relies on HVO fake heads or the old tail-page pointer encoding",
     "Flags uses of page_fixed_fake_head, page_is_fake_head, the "
     "hugetlb_optimize_vmemmap_key static key, synchronize_rcu() fences for "
     "vmemmap remapping and open-coded decoding of compound_head, which the "
     "shared-tail HVO design removed; use compound_head(), page_folio() or PageTail()."},
    {"hvo-shared-tail-write",
     "Store into a struct page that may be a shared read-only tail of an optimized huge page",
     "Flags field stores and setter calls on tail struct pages of a folio whose "
     "vmemmap may map the shared read-only tail frame, unless the index is below "
     "the kept struct pages or the folio is provably not vmemmap-optimized."},
    {"hvo-tail-metadata-read",
     "Per-page metadata read from a struct page that may be a shared tail slot",
     "Flags reads of per-page metadata (zone, node, per-page flags, mapcount) "
     "from tail struct pages of optimized huge pages, whose shared tails carry "
     "only the canonical tail contents; read through the head page or the folio."},
    {"hvo-vmemmap-bug-on",
     "BUG_ON in a vmemmap remap or populate path",
     "Flags BUG_ON/VM_BUG_ON in vmemmap remapping and population paths, which "
     "review asked to turn into warnings and error returns."},
}};

} // namespace

RuleDescription describeRule(const std::string &CheckName) {
  RuleDescription Rule;
  Rule.Id = CheckName;
  for (const KnownRule &Known : HvoRules)
    if (CheckName == Known.Id) {
      Rule.ShortDescription = Known.Short;
      Rule.FullDescription = Known.Full;
      Rule.HelpUri = std::string(HVO_SCAN_DOCS_BASE_URL) + CheckName + ".md";
      return Rule;
    }
  llvm::StringRef Name = CheckName;
  if (Name.starts_with("clang-diagnostic-")) {
    Rule.ShortDescription = "Compiler diagnostic " + Name.drop_front(17).str();
    Rule.FullDescription = "A diagnostic of the clang front end; the unit did not "
                           "parse cleanly, so its findings may be incomplete.";
    Rule.HelpUri = "https://clang.llvm.org/docs/DiagnosticsReference.html";
    return Rule;
  }
  // clang-tidy's own checks: <module>-<check> is documented at
  // checks/<module>/<check>.html.
  auto [Module, Check] = Name.split('-');
  Rule.ShortDescription = "clang-tidy check " + CheckName;
  Rule.FullDescription = "The clang-tidy check " + CheckName + "; see its documentation.";
  Rule.HelpUri = "https://clang.llvm.org/extra/clang-tidy/checks/" + Module.str() + "/" +
                 Check.str() + ".html";
  return Rule;
}

} // namespace hvo::scan
