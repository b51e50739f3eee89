// SPDX-License-Identifier: GPL-2.0-only
//
// Scale benchmark of the model (issue 2, section 4): a large machine filled
// with HugeTLB folios, all optimized, then all restored, through the same ops
// and oracle every other tool uses.  Prints wall time per phase and peak RSS.
//
//   hvo_bench_model_scale [--memory 1T] [--nodes 4] [--order 18] [--count N]
//                         [--variant D612|v6.12.0] [--batch N]
//
// --count N: allocate N folios in total (spread evenly over the nodes); each
// node gets enough extra memory for its memmap and page tables, so N folios
// of the order fit.  Without --count the machine is --memory and is filled
// with as many folios as fit.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hvo/model.h"
#include "hvo/ops.h"

using namespace hvo;

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// CPU time of this process (user + system): the machine the benchmark runs on
// may be shared, and wall time then measures the neighbours too.
double cpu_s() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

Op make(const char *name, std::initializer_list<uint64_t> args) {
  Op op;
  op.kind = static_cast<uint16_t>(find_op(name) - op_table().data());
  size_t i = 0;
  for (uint64_t a : args)
    op.args[i++] = a;
  return op;
}

int fail(const std::string &msg) {
  std::fprintf(stderr, "hvo_bench_model_scale: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char **argv) {
  uint64_t memory = 1ull << 40, count = 0, batch = 4096;
  unsigned nodes = 4, order = 18;
  Variant variant = Variant::D612;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return fail("option " + a + " needs a value");
    std::string v = argv[++i];
    if (a == "--memory") {
      auto s = parse_size(v);
      if (!s)
        return fail("bad --memory " + v);
      memory = *s;
    } else if (a == "--nodes") {
      nodes = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    } else if (a == "--order") {
      order = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    } else if (a == "--count") {
      count = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--batch") {
      batch = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--variant") {
      if (v == "D612")
        variant = Variant::D612;
      else if (v == "v6.12.0")
        variant = Variant::V6_12_0;
      else
        return fail("bad --variant " + v);
    } else {
      return fail("unknown option " + a);
    }
  }
  if (nodes == 0 || nodes > 64 || order < 1 || order > 24 || batch == 0)
    return fail("bad --nodes/--order/--batch");

  Config c;
  c.variant = variant;
  const uint64_t section = 1ull << c.section_size_bits;
  const uint64_t folio = 1ull << (order + c.page_shift);
  uint64_t per_node = memory / nodes;
  uint64_t per_node_folios = 0;
  if (count) {
    per_node_folios = (count + nodes - 1) / nodes;
    // The folios, plus the memmap (1/64 of memory) and PTE tables, plus slack.
    uint64_t data = per_node_folios * folio;
    per_node = data + data / 56 + 2 * section;
  }
  per_node = (per_node + section - 1) / section * section;
  c.nodes.assign(nodes, NodeSpec{{ZoneSpec{ZoneType::Normal, per_node >> c.page_shift}}});
  std::string err;
  double t0 = now_s();
  auto model = Model::create(c, &err);
  if (!model)
    return fail("impossible configuration: " + err);
  double t_boot = now_s() - t0;

  uint64_t violations = 0, folios = 0;
  auto run = [&](const Op &op) {
    StepResult r = model->apply(op);
    violations += r.violations.size();
    return r;
  };
  // Phase 1: fill the machine with folios, HVO switched off.
  run(make("sysctl_hvo", {0}));
  t0 = now_s();
  std::vector<std::pair<uint64_t, uint64_t>> runs;  // (first id, count) per node
  const uint64_t folio_pages = uint64_t{1} << order;
  // HVO needs memory to free memory (a PTE table per PMD, a head copy per
  // folio): like a real pool, leave a little of each node unallocated.
  const uint64_t slack_pages = (64ull << 20) >> c.page_shift;
  for (unsigned n = 0; n < nodes; n++) {
    uint64_t first = folios, got = 0;
    if (!count) {
      uint64_t free = model->machine().phys.node_free_pages(n);
      per_node_folios = free > slack_pages ? (free - slack_pages) / folio_pages : 0;
    }
    while (got < per_node_folios) {
      uint64_t want = std::min(batch, per_node_folios - got);
      StepResult r = run(make("alloc_folios", {order, n, want}));
      got += r.result.folios.size();
      folios += r.result.folios.size();
      if (r.result.folios.size() < want)
        break;  // the node is full
    }
    runs.emplace_back(first, got);
  }
  double t_alloc = now_s() - t0;
  if (count && folios < count)
    return fail("only " + std::to_string(folios) + " folios fit");
  run(make("sysctl_hvo", {1}));
  int64_t memmap_before = model->machine().phys.memmap_pages + model->machine().phys.memmap_boot_pages;

  // Phase 2: optimize all (hugetlb_vmemmap_optimize_folios per batch).
  double c0 = cpu_s();
  t0 = now_s();
  for (auto [first, n] : runs)
    for (uint64_t i = 0; i < n; i += batch)
      run(make("optimize_batch", {first + i, std::min(batch, n - i)}));
  double t_opt = now_s() - t0;
  int64_t memmap_opt = model->machine().phys.memmap_pages + model->machine().phys.memmap_boot_pages;
  long rss_opt = peak_rss_kib();

  // Phase 3: restore all (hugetlb_vmemmap_restore_folios per batch).
  t0 = now_s();
  for (auto [first, n] : runs)
    for (uint64_t i = 0; i < n; i += batch)
      run(make("restore_batch", {first + i, std::min(batch, n - i)}));
  double t_restore = now_s() - t0;
  double c_both = cpu_s() - c0;
  int64_t memmap_after = model->machine().phys.memmap_pages + model->machine().phys.memmap_boot_pages;

  std::printf("machine: %s in %u nodes, %s pages, variant %s\n",
              format_size(per_node * nodes).c_str(), nodes,
              format_size(c.page_size()).c_str(), variant == Variant::D612 ? "D612" : "v6.12.0");
  std::printf("folios: %llu of %s (order %u)\n", static_cast<unsigned long long>(folios),
              format_size(folio).c_str(), order);
  std::printf("memmap frames: %lld before, %lld optimized (saved %lld), %lld restored\n",
              static_cast<long long>(memmap_before), static_cast<long long>(memmap_opt),
              static_cast<long long>(memmap_before - memmap_opt),
              static_cast<long long>(memmap_after));
  std::printf("time: boot %.3f s, alloc %.3f s, optimize %.3f s, restore %.3f s, "
              "optimize+restore %.3f s\n",
              t_boot, t_alloc, t_opt, t_restore, t_opt + t_restore);
  std::printf("cpu: optimize+restore %.3f s (user+system)\n", c_both);
  std::printf("peak RSS: %.1f MiB after optimize, %.1f MiB at the end\n", rss_opt / 1024.0,
              peak_rss_kib() / 1024.0);
  std::printf("violations: %llu (the oracle ran after every op)\n",
              static_cast<unsigned long long>(violations));
  return 0;
}
