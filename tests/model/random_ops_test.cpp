// SPDX-License-Identifier: GPL-2.0-only
//
// Totality: random op sequences (a fixed-seed generator, so every run is the
// same) over small machines of every page size, struct page size and walk
// variant.  Every op returns; every result prints and parses back; the full
// oracle agrees with the incremental one about the frame counters; and two
// runs of the same sequence give the same output byte for byte.
#include <gtest/gtest.h>

#include <random>

#include "model_test_util.h"

namespace hvo {
namespace {

struct RandomCase {
  unsigned page_shift;
  unsigned struct_page;
  Variant variant;
  uint32_t seed;
};

std::string run_sequence(const RandomCase &c, bool check_full) {
  Config cfg = test::machine_config(c.page_shift, 2ull << 30, 2, c.variant);
  cfg.struct_page_size = c.struct_page;
  Model md(cfg);
  std::mt19937 rng(c.seed);
  auto table = op_table();
  std::string trace;
  unsigned did_work = 0;  // ops that ran on a folio and were not refused
  const unsigned min_order = c.page_shift - 5;  // V == 2
  // Mostly the HugeTLB family with arguments that name real folios, so the
  // sequence reaches the kernel code; now and then any op with any values.
  const std::vector<std::pair<const char *, unsigned>> weights = {
      {"alloc_folio", 4},  {"alloc_folios", 2},   {"boot_gigantic", 1}, {"optimize", 3},
      {"optimize_batch", 2}, {"restore", 3},      {"restore_batch", 2}, {"free_folio", 2},
      {"free_folios", 1},  {"get_folio", 2},      {"put_folio", 2},     {"demote", 2},
      {"memory_failure", 1}, {"ref_add_unless", 3}, {"sysctl_hvo", 1},  {"flush_tlb_all", 1},
      {"fail_nth", 2},     {"fail_node", 1}};
  unsigned total = 0;
  for (auto &w : weights)
    total += w.second;
  for (unsigned i = 0; i < 120; i++) {
    Op op;
    const size_t nfolios = md.machine().folios.size();
    if (rng() % 20 == 0) {
      op.kind = static_cast<uint16_t>(rng() % table.size());
      for (size_t a = 0; a < table[op.kind].args.size(); a++)
        op.args[a] = rng() % 64 == 0 ? UINT64_MAX - rng() % 3 : rng() % 1024;
    } else {
      unsigned pick = rng() % total;
      const char *name = nullptr;
      for (auto &w : weights) {
        if (pick < w.second) {
          name = w.first;
          break;
        }
        pick -= w.second;
      }
      op = test::make_op(name);
      const OpDescriptor &d = table[op.kind];
      uint64_t folio = rng() % (nfolios + 2);
      for (size_t a = 0; a < d.args.size(); a++) {
        std::string_view n = d.args[a].name;
        uint64_t &v = op.args[a];
        if (n == "order")
          v = min_order - 1 + rng() % 7;
        else if (n == "node")
          v = rng() % 2;
        else if (n == "folio" || n == "first")
          v = folio;
        else if (n == "count")
          v = 1 + rng() % 4;
        else if (n == "index")
          v = folio < nfolios ? rng() % (uint64_t{1} << md.machine().folios[folio].order) : rng();
        else if (n == "nr")
          v = 1 + rng() % 2;
        else if (n == "unless")
          v = rng() % 2;
        else if (n == "n")
          v = 1 + rng() % 30;
        else if (n == "on")
          v = rng() % 3 == 0;  // fault injection on a node: rarely
        else if (n == "value")
          v = rng() % 3 != 0;  // the HVO sysctl: mostly on
      }
      if (std::string_view(name) == "fail_node" && rng() % 2)
        op.args[1] = 0;
    }
    StepResult r = md.apply(op);
    did_work += r.result.ret >= 0 && !r.result.folios.empty();
    std::string text = print_op(op);
    Op back;
    EXPECT_EQ(parse_op(text, back), "") << text;
    EXPECT_EQ(back, op) << text;
    trace += text + " => " + format_ret(r.result.ret) + "\n";
    for (const Violation &v : r.violations)
      trace += "  " + format_violation(v) + "\n";
  }
  // Not vacuous: a good share of the sequence reached the kernel code.
  EXPECT_GE(did_work, 15u) << trace;
  if (check_full) {
    // The incremental oracle already checked the counters after every op;
    // the full pass may find more (it looks at every folio), never a
    // counter disagreement the incremental one missed.
    for (const Violation &v : md.check_all())
      if (v.message.find("memmap_pages is off") != std::string::npos ||
          v.message.find("memmap_boot_pages is off") != std::string::npos)
        ADD_FAILURE() << "full check found a counter the incremental one missed: "
                      << format_violation(v);
  }
  return trace;
}

class RandomOps : public testing::TestWithParam<RandomCase> {};

TEST_P(RandomOps, EveryOpReturnsAndRunsAreReproducible) {
  std::string a = run_sequence(GetParam(), true);
  std::string b = run_sequence(GetParam(), false);
  EXPECT_EQ(a, b);
}

std::vector<RandomCase> cases() {
  std::vector<RandomCase> v;
  for (unsigned shift : {12u, 14u, 16u})
    for (unsigned sp : {64u, 72u})
      for (Variant var : {Variant::D612, Variant::V6_12_0})
        for (uint32_t seed : {1u, 2u, 3u})
          v.push_back({shift, sp, var, seed});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Model, RandomOps, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<RandomCase> &i) {
                           const RandomCase &c = i.param;
                           return std::to_string(1u << (c.page_shift - 10)) + "K_sp" +
                                  std::to_string(c.struct_page) +
                                  (c.variant == Variant::D612 ? "_D612" : "_v6120") + "_seed" +
                                  std::to_string(c.seed);
                         });

}  // namespace
}  // namespace hvo
