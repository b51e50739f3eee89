// SPDX-License-Identifier: GPL-2.0-only
//
// Savings per order, by running the model (see savings.h).
#include "hvo/savings.h"

#include <set>
#include <utility>

#include "hvo/hugetlb.h"
#include "hvo/model.h"
#include "hvo/page_flags.h"

namespace hvo {

namespace {

// MAX_FOLIO_ORDER with hugetlb: log2(16 GiB) - PAGE_SHIFT (kernel-reference 3.1).
unsigned max_folio_order(unsigned page_shift) { return 34 - page_shift; }

HugetlbSavings measure(unsigned page_shift, unsigned S, unsigned order, std::string &err,
                       Era era) {
  HugetlbSavings s;
  s.order = order;
  s.folio_bytes = uint64_t{1} << (order + page_shift);
  uint64_t num = (uint64_t{1} << order) * S, den = uint64_t{1} << page_shift;
  while (num % 2 == 0 && den % 2 == 0 && den > 1) {
    num /= 2;
    den /= 2;
  }
  s.vmemmap_num = num;
  s.vmemmap_den = den;

  Config c;
  c.page_shift = page_shift;
  c.struct_page_size = S;
  c.era = era;
  c.variant = era == Era::SharedTail ? Variant::Muchun : default_variant(era);
  // Room for the folio and its memmap: twice the folio, at least a section.
  uint64_t section = uint64_t{1} << c.section_size_bits;
  uint64_t mem = std::max<uint64_t>(2 * s.folio_bytes, 2 * section);
  c.nodes = {NodeSpec{{ZoneSpec{ZoneType::Normal, mem >> page_shift}}}};
  auto model = Model::create(c, &err);
  if (!model)
    return s;
  Machine &m = model->machine();
  uint64_t frames_before = m.phys.live_memmap_boot_frames() + m.phys.live_memmap_buddy_frames();
  uint64_t tables_before = m.phys.live_pagetable_frames();
  uint64_t freed_before = m.phys.frames_freed();
  StepResult r = model->apply(Op{static_cast<uint16_t>(find_op("alloc_folio") - op_table().data()),
                                 {order, 0, 0, 0}});
  if (r.result.ret != 0) {
    err = "allocating an order-" + std::to_string(order) + " folio failed: " +
          format_ret(r.result.ret);
    return s;
  }
  HugetlbFolio &f = m.folios[r.result.folios.front()];
  uint64_t head = m.page(f.pfn);
  s.optimized = folio_test_hugetlb_vmemmap_optimized(m, head);
  uint64_t ps = c.page_size();
  uint64_t first = head & ~(ps - 1), end = (head + (uint64_t{1} << order) * S + ps - 1) & ~(ps - 1);
  std::set<FrameId> frames;
  for (uint64_t a = first; a < end; a += ps) {
    Pte p = m.pt.ptep_get(a);
    if (std::as_const(m.phys).frame(p.frame).map_count > 1)
      s.shares++;
    if (std::as_const(m.phys).frame(p.frame).attrs & kFrameSharedTail)
      continue;  // counted apart: one per (zone, order), for every folio
    frames.insert(p.frame);
  }
  s.keeps = frames.size();
  s.frees = m.phys.frames_freed() - freed_before;
  uint64_t frames_after = m.phys.live_memmap_boot_frames() + m.phys.live_memmap_buddy_frames();
  // Shared tails are a lifetime cost per (zone, order), reported apart.
  s.shared_tails = m.shared_tails.frames;
  s.saved = static_cast<int64_t>(frames_before) - static_cast<int64_t>(frames_after) +
            static_cast<int64_t>(s.shared_tails);
  s.allocates = s.frees - static_cast<uint64_t>(s.saved);
  s.pte_tables = m.phys.live_pagetable_frames() - tables_before;
  return s;
}

std::string fraction(uint64_t num, uint64_t den) {
  return den == 1 ? std::to_string(num) : std::to_string(num) + "/" + std::to_string(den);
}

std::string size_name(uint64_t bytes) {
  static const char *u[] = {"", "K", "M", "G", "T"};
  unsigned i = 0;
  while (bytes >= 1024 && bytes % 1024 == 0 && i < 4) {
    bytes /= 1024;
    i++;
  }
  return std::to_string(bytes) + u[i];
}

}  // namespace

SavingsReport compute_savings(unsigned page_shift, unsigned struct_page_size, Era era) {
  SavingsReport rep;
  rep.page_shift = page_shift;
  rep.era = era;
  // First order with V >= 1/8: 2^o * S >= PAGE_SIZE / 8.
  unsigned first = 1;
  while ((uint64_t{1} << first) * struct_page_size * 8 < (uint64_t{1} << page_shift))
    first++;
  for (unsigned o = first; o <= max_folio_order(page_shift); o++) {
    HugetlbSavings s = measure(page_shift, struct_page_size, o, rep.error, era);
    if (!rep.error.empty())
      return rep;
    rep.hugetlb.push_back(s);
  }
  rep.dax = compute_dax_savings(page_shift, struct_page_size, rep.error, era);
  return rep;
}

std::string format_savings_table(const SavingsReport &r) {
  std::string out = "HugeTLB vmemmap per folio, PAGE_SIZE " + size_name(1ull << r.page_shift) +
                    ", struct page 64 bytes, era " +
                    (r.era == Era::Legacy ? "legacy (D612)" : "shared-tail (muchun)") +
                    " (measured by running the model)\n";
  char line[200];
  std::snprintf(line, sizeof(line), "%5s %6s %8s %10s %6s %6s %6s %7s %7s %6s\n", "order",
                "size", "vmemmap", "optimized", "keeps", "frees", "alloc", "shares", "saved",
                "ptes");
  out += line;
  for (const HugetlbSavings &s : r.hugetlb) {
    std::snprintf(line, sizeof(line), "%5u %6s %8s %10s %6llu %6llu %6llu %7llu %7lld %6llu\n",
                  s.order, size_name(s.folio_bytes).c_str(),
                  fraction(s.vmemmap_num, s.vmemmap_den).c_str(), s.optimized ? "yes" : "no",
                  static_cast<unsigned long long>(s.keeps), static_cast<unsigned long long>(s.frees),
                  static_cast<unsigned long long>(s.allocates),
                  static_cast<unsigned long long>(s.shares), static_cast<long long>(s.saved),
                  static_cast<unsigned long long>(s.pte_tables));
    out += line;
  }
  if (r.era == Era::SharedTail && !r.hugetlb.empty())
    out += "shared tails: one read-only frame per (zone, order) for every folio of the order, "
           "allocated on first use and never freed, not in keeps/saved\n";
  out += "keeps: frames mapping the folio's vmemmap after HVO; frees/alloc: frames returned / "
         "allocated by HVO; shares: vmemmap pages aliasing another page's frame; ptes: PTE "
         "tables allocated by the PMD split (not shared)\n";
  out += "\nDevice DAX vmemmap per compound page, memremap_pages of one range (measured)\n";
  std::snprintf(line, sizeof(line), "%5s %6s %8s %10s %6s %7s %7s %8s %6s\n", "order", "size",
                "vmemmap", "optimized", "keeps", "shares", "saved", "range", "ptes");
  out += line;
  for (const DaxSavings &s : r.dax) {
    std::snprintf(line, sizeof(line), "%5u %6s %8llu %10s %6llu %7llu %7lld %8s %6llu\n", s.order,
                  size_name(s.folio_bytes).c_str(), static_cast<unsigned long long>(s.vmemmap_pages),
                  s.optimized ? "yes" : "no", static_cast<unsigned long long>(s.keeps),
                  static_cast<unsigned long long>(s.shares), static_cast<long long>(s.saved),
                  size_name(s.range_pages << r.page_shift).c_str(),
                  static_cast<unsigned long long>(s.pte_tables));
    out += line;
  }
  out += r.era == Era::Legacy
             ? "keeps: frames mapping one compound page's vmemmap (head page + reused tail page "
               "when optimized); shares: vmemmap pages aliasing the reused frame; ptes: PTE "
               "tables of the whole range\n"
             : "keeps: private frames of one compound page (the head page when optimized; the "
               "device zone's read-only shared tail is counted apart, one per order); shares: "
               "vmemmap pages mapping the shared tail; ptes: PTE tables of the whole range\n";
  return out;
}

std::string format_savings_json(const SavingsReport &r) {
  std::string out = "{\"era\": \"" + std::string(r.era == Era::Legacy ? "legacy" : "shared-tail") +
                    "\", \"page_size\": " + std::to_string(1ull << r.page_shift) +
                    ", \"struct_page_size\": 64, \"hugetlb\": [";
  for (size_t i = 0; i < r.hugetlb.size(); i++) {
    const HugetlbSavings &s = r.hugetlb[i];
    out += std::string(i ? ", " : "") + "{\"order\": " + std::to_string(s.order) +
           ", \"folio_bytes\": " + std::to_string(s.folio_bytes) +
           ", \"vmemmap_pages\": \"" + fraction(s.vmemmap_num, s.vmemmap_den) +
           "\", \"optimized\": " + (s.optimized ? "true" : "false") +
           ", \"keeps\": " + std::to_string(s.keeps) + ", \"frees\": " + std::to_string(s.frees) +
           ", \"allocates\": " + std::to_string(s.allocates) +
           ", \"shares\": " + std::to_string(s.shares) + ", \"saved\": " + std::to_string(s.saved) +
           ", \"pte_tables\": " + std::to_string(s.pte_tables) +
           ", \"shared_tails\": " + std::to_string(s.shared_tails) + "}";
  }
  out += "], \"dax\": [";
  for (size_t i = 0; i < r.dax.size(); i++) {
    const DaxSavings &s = r.dax[i];
    out += std::string(i ? ", " : "") + "{\"order\": " + std::to_string(s.order) +
           ", \"folio_bytes\": " + std::to_string(s.folio_bytes) +
           ", \"vmemmap_pages\": " + std::to_string(s.vmemmap_pages) +
           ", \"optimized\": " + (s.optimized ? "true" : "false") +
           ", \"keeps\": " + std::to_string(s.keeps) + ", \"shares\": " + std::to_string(s.shares) +
           ", \"saved\": " + std::to_string(s.saved) +
           ", \"range_pages\": " + std::to_string(s.range_pages) +
           ", \"shared_tails\": " + std::to_string(s.shared_tails) +
           ", \"pte_tables\": " + std::to_string(s.pte_tables) + "}";
  }
  return out + "]}\n";
}

}  // namespace hvo
