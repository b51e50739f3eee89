// SPDX-License-Identifier: GPL-2.0-only
//
// hvo-sim: run scenarios against the model, print vmemmap diagrams, and
// measure HVO savings per order.
//
//   hvo-sim run SCENARIO [--diagram FOLIO]... [--full-check] [--quiet]
//   hvo-sim savings [--page-size 4K|16K|64K] [--era legacy|shared-tail] [--json]
//   hvo-sim ops
//   hvo-sim diff SCENARIO [--legacy D612|v6.12.0] [--shared kiryl-v6|kiryl-v7|muchun] [--all-slots]
//
// Exit status: 0 clean, 1 the oracle reported violations, 2 usage or input error.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hvo/diagram.h"
#include "hvo/differential.h"
#include "hvo/model.h"
#include "hvo/ops.h"
#include "hvo/savings.h"

using namespace hvo;

namespace {

int usage(const char *msg) {
  if (msg)
    std::fprintf(stderr, "hvo-sim: %s\n", msg);
  std::fprintf(stderr,
               "usage: hvo-sim run SCENARIO [--diagram FOLIO]... [--full-check] [--quiet]\n"
               "       hvo-sim savings [--page-size 4K|16K|64K] [--era legacy|shared-tail] [--json]\n"
               "       hvo-sim ops\n"
               "       hvo-sim diff SCENARIO [--legacy D612|v6.12.0] [--shared kiryl-v6|kiryl-v7|muchun]"
               " [--all-slots]\n");
  return 2;
}

bool parse_uint(const std::string &s, uint64_t &v) {
  if (s.empty() || s.size() > 19)
    return false;
  v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9')
      return false;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  return true;
}

// Reads and parses a scenario file; on failure prints the one-line
// "file:line: problem" error and returns false (the caller exits 2).
bool load_scenario(const std::string &path, Scenario &sc) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s:0: cannot open file\n", path.c_str());
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string err;
  if (!parse_scenario(buf.str(), path, sc, err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return false;
  }
  return true;
}

int cmd_run(const std::vector<std::string> &args) {
  std::string path;
  std::vector<uint64_t> diagrams;
  bool full = false, quiet = false;
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "--diagram") {
      uint64_t id;
      if (i + 1 >= args.size() || !parse_uint(args[i + 1], id))
        return usage("--diagram needs a folio id");
      diagrams.push_back(id);
      i++;
    } else if (args[i] == "--full-check") {
      full = true;
    } else if (args[i] == "--quiet") {
      quiet = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      return usage(("unknown option " + args[i]).c_str());
    } else if (path.empty()) {
      path = args[i];
    } else {
      return usage("more than one scenario given");
    }
  }
  if (path.empty())
    return usage("run needs a scenario file");
  Scenario sc;
  if (!load_scenario(path, sc))
    return 2;
  std::string err;
  auto model = Model::create(sc.config, &err);
  if (!model) {
    std::fprintf(stderr, "%s:1: impossible configuration: %s\n", path.c_str(), err.c_str());
    return 2;
  }
  model->oracle().full = full;
  std::printf("%s\n", print_config(sc.config).c_str());
  std::map<std::string, uint64_t> by_id;
  uint64_t total = 0;
  for (size_t i = 0; i < sc.ops.size(); i++) {
    StepResult r = model->apply(sc.ops[i]);
    if (!quiet || !r.violations.empty()) {
      std::printf("[%zu] line %u: %s => %s", i, sc.lines[i], print_op(sc.ops[i]).c_str(),
                  format_ret(r.result.ret).c_str());
      if (!r.result.note.empty())
        std::printf(" (%s)", r.result.note.c_str());
      std::printf("\n");
    }
    for (const Violation &v : r.violations) {
      std::printf("  ! %s\n", format_violation(v).c_str());
      by_id[v.id]++;
      total++;
    }
  }
  for (uint64_t id : diagrams)
    std::printf("\n%s", vmemmap_diagram(model->machine(), static_cast<FolioId>(id)).c_str());
  const Machine &m = model->machine();
  std::printf("\n%zu operations, %llu violations", sc.ops.size(),
              static_cast<unsigned long long>(total));
  for (auto &[id, n] : by_id)
    std::printf(" %s=%llu", id.c_str(), static_cast<unsigned long long>(n));
  std::printf("\nmemmap_pages=%lld memmap_boot_pages=%lld static_key=%lld synchronize_rcu=%llu "
              "tlb_flush_range=%llu tlb_flush_all=%llu\n",
              static_cast<long long>(m.phys.memmap_pages),
              static_cast<long long>(m.phys.memmap_boot_pages),
              static_cast<long long>(m.hugetlb_optimize_vmemmap_key),
              static_cast<unsigned long long>(m.events.synchronize_rcu),
              static_cast<unsigned long long>(m.pt.tlb_counters().range_flushes),
              static_cast<unsigned long long>(m.pt.tlb_counters().full_flushes));
  return total ? 1 : 0;
}

int cmd_savings(const std::vector<std::string> &args) {
  unsigned shift = 12;
  bool json = false;
  Era era = Era::Legacy;
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--era") {
      if (i + 1 >= args.size())
        return usage("--era needs legacy or shared-tail");
      const std::string &v = args[++i];
      if (v == "legacy")
        era = Era::Legacy;
      else if (v == "shared-tail")
        era = Era::SharedTail;
      else
        return usage(("bad era '" + v + "' (legacy or shared-tail)").c_str());
    } else if (args[i] == "--page-size") {
      if (i + 1 >= args.size())
        return usage("--page-size needs 4K, 16K or 64K");
      const std::string &v = args[++i];
      if (v == "4K" || v == "4k")
        shift = 12;
      else if (v == "16K" || v == "16k")
        shift = 14;
      else if (v == "64K" || v == "64k")
        shift = 16;
      else
        return usage(("bad page size '" + v + "' (4K, 16K or 64K)").c_str());
    } else {
      return usage(("unknown option " + args[i]).c_str());
    }
  }
  SavingsReport r = compute_savings(shift, 64, era);
  if (!r.error.empty()) {
    std::fprintf(stderr, "hvo-sim: savings: %s\n", r.error.c_str());
    return 2;
  }
  std::fputs(json ? format_savings_json(r).c_str() : format_savings_table(r).c_str(), stdout);
  return 0;
}

int cmd_ops() {
  for (const OpDescriptor &d : op_table()) {
    std::string s(d.name);
    for (const OpArgSpec &a : d.args)
      s += " " + std::string(a.name) + "=" + std::to_string(a.def);
    std::printf("%-48s %s\n", s.c_str(), std::string(d.doc).c_str());
  }
  return 0;
}

}  // namespace

// The differential oracle over a scenario: the scenario's config with each
// era's variant, the ops on both, the first divergence (M2, differential.h).
int cmd_diff(const std::vector<std::string> &args) {
  std::string path;
  DiffOptions opt;
  for (size_t i = 0; i < args.size(); i++) {
    auto variant = [&](Era era, Variant &out) -> bool {
      if (i + 1 >= args.size())
        return false;
      const std::string &v = args[++i];
      for (Variant c : {Variant::D612, Variant::V6_12_0, Variant::KirylV6, Variant::KirylV7,
                        Variant::Muchun})
        if (v == variant_name(c) && variant_of_era(c, era)) {
          out = c;
          return true;
        }
      return false;
    };
    if (args[i] == "--legacy") {
      if (!variant(Era::Legacy, opt.legacy_variant))
        return usage("--legacy needs D612 or v6.12.0");
    } else if (args[i] == "--shared") {
      if (!variant(Era::SharedTail, opt.shared_variant))
        return usage("--shared needs kiryl-v6, kiryl-v7 or muchun");
    } else if (args[i] == "--all-slots") {
      opt.all_slots = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      return usage(("unknown option " + args[i]).c_str());
    } else if (path.empty()) {
      path = args[i];
    } else {
      return usage("more than one scenario given");
    }
  }
  if (path.empty())
    return usage("diff needs a scenario file");
  Scenario sc;
  if (!load_scenario(path, sc))
    return 2;
  const DiffResult r = run_differential(sc.config, sc.ops, opt);
  if (r.diverged && r.observable == "config") {
    std::fprintf(stderr, "%s:1: impossible configuration: legacy: %s; shared-tail: %s\n",
                 path.c_str(), r.legacy.c_str(), r.shared.c_str());
    return 2;
  }
  std::printf("legacy %s vs shared-tail %s\n", std::string(variant_name(opt.legacy_variant)).c_str(),
              std::string(variant_name(opt.shared_variant)).c_str());
  for (const DiffAllowance &a : r.allowed)
    std::printf("  allowed %s at op %llu (line %u): %s\n", a.id.c_str(),
                static_cast<unsigned long long>(a.op_index),
                a.op_index < sc.lines.size() ? sc.lines[a.op_index] : 0, a.detail.c_str());
  if (r.diverged && r.op_index < sc.lines.size())
    std::printf("%s:%u: ", path.c_str(), sc.lines[r.op_index]);
  std::printf("%s\n", r.format().c_str());
  return r.diverged ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage(nullptr);
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "run")
    return cmd_run(args);
  if (cmd == "savings")
    return cmd_savings(args);
  if (cmd == "diff")
    return cmd_diff(args);
  if (cmd == "ops")
    return cmd_ops();
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(nullptr);
    return 0;
  }
  return usage(("unknown command " + cmd).c_str());
}
