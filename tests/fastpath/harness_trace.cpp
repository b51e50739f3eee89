// SPDX-License-Identifier: GPL-2.0-only
//
// A run as a harness sees it (see harness_trace.h).
#include "harness_trace.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <gtest/gtest.h>

#include "hvo/fuzz/trace.h"
#include "hvo/ops.h"

namespace hvo::test {

std::string harness_trace(Model &md, const Scenario &s,
                          const std::function<void(const Op &, const StepResult &)> &after_op) {
  std::string out;
  for (const Op &op : s.ops) {
    StepResult r = md.apply(op);
    out += fuzz::format_result(r) + "\n";
    for (const Violation &v : r.violations)
      out += "  " + format_violation(v) + "\n";
    if (after_op)
      after_op(op, r);
  }
  for (const Violation &v : md.check_all())
    out += "final " + format_violation(v) + "\n";
  return out;
}

Scenario random_fuzz_scenario(const fuzz::TargetProfile &p, std::mt19937 &rng, size_t min_len,
                              size_t spread) {
  std::vector<uint8_t> bytes(min_len + rng() % spread);
  for (uint8_t &b : bytes)
    b = static_cast<uint8_t>(rng());
  return fuzz::decode_input(p, bytes);
}

Scenario planted_scenario(const std::string &text) {
  Scenario s;
  std::string error;
  EXPECT_TRUE(parse_scenario(text, "plant", s, error)) << error;
  return s;
}

std::string violations_text(const std::vector<Violation> &vs) {
  std::string s;
  for (const Violation &v : vs)
    s += format_violation(v) + "\n";
  return s;
}

std::string faults_text(const std::vector<Fault> &fs) {
  std::string s;
  for (const Fault &f : fs)
    s += std::to_string(static_cast<int>(f.kind)) + " " + std::to_string(f.vaddr) + " " +
         std::to_string(f.frame) + " " + std::to_string(f.old_value) + " " +
         std::to_string(f.new_value) + " " + f.who + "\n";
  return s;
}

std::string faults_and_changed_text(Model &md) {
  std::string out = "faults:\n" + faults_text(md.machine().mmu.faults);
  out += "changed:";
  for (FrameId f : md.machine().phys.changed_frames())
    out += " " + std::to_string(f);
  return out + "\n";
}

std::string raw_op_trace(Model &md, const Scenario &s) {
  std::string out;
  Machine &m = md.machine();
  for (const Op &op : s.ops) {
    const OpResult r = op_table()[op.kind].apply(md, op);
    out += print_op(op) + " -> " + std::to_string(r.ret) + " " + r.note + "\n";
    out += faults_text(m.mmu.faults);
    m.mmu.faults.clear();
    out += "touched";
    for (FrameId f : m.phys.take_touched())
      out += " " + std::to_string(f);
    out += "\n";
  }
  return out;
}

std::vector<Scenario> corpus_and_mutants(const fuzz::TargetProfile &p, unsigned mutants,
                                         std::mt19937 &rng) {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir = std::filesystem::path(HVO_FUZZ_CORPUS_DIR) / std::string(p.name);
  for (const auto &e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".hvo")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());  // directory order is not deterministic
  std::vector<Scenario> out;
  for (const auto &f : files) {
    std::ifstream in(f);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Scenario s;
    std::string error;
    EXPECT_TRUE(parse_scenario(text, f.string(), s, error)) << error;
    std::vector<uint8_t> bytes;
    EXPECT_EQ(fuzz::encode_scenario(p, s, bytes), "") << f;
    out.push_back(fuzz::decode_input(p, bytes));
    for (unsigned k = 0; k < mutants && !bytes.empty(); k++) {
      std::vector<uint8_t> m = bytes;
      for (unsigned j = 0, n = 1 + rng() % 3; j < n; j++)
        m[rng() % m.size()] = static_cast<uint8_t>(rng());
      out.push_back(fuzz::decode_input(p, m));
    }
  }
  return out;
}

}  // namespace hvo::test
