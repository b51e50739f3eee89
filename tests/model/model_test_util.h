// SPDX-License-Identifier: GPL-2.0-only
//
// Small helpers shared by the model's tests: build ops by name, run them,
// and ask questions about violations.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo::test {

inline Op make_op(const char *name, std::initializer_list<uint64_t> args = {}) {
  const OpDescriptor *d = find_op(name);
  EXPECT_NE(d, nullptr) << name;
  Op op;
  op.kind = static_cast<uint16_t>(d - op_table().data());
  for (size_t i = 0; i < d->args.size(); i++)
    op.args[i] = d->args[i].def;
  size_t i = 0;
  for (uint64_t a : args)
    op.args[i++] = a;
  return op;
}

inline StepResult run(Model &md, const char *name, std::initializer_list<uint64_t> args = {}) {
  return md.apply(make_op(name, args));
}

// A model booted from a scenario `config` line's arguments
// ("page-size=4K mem=...").
inline std::unique_ptr<Model> boot_text(const std::string &config) {
  Config c;
  EXPECT_EQ(parse_config_args(config, c), "") << config;
  std::string err;
  std::unique_ptr<Model> md = Model::create(c, &err);
  EXPECT_NE(md, nullptr) << err;
  return md;
}

// One op in the scenario text form ("alloc_folio order=9 node=0").
inline StepResult apply_text(Model &md, const std::string &line) {
  Op o;
  EXPECT_EQ(parse_op(line, o), "") << line;
  return md.apply(o);
}

inline size_t count_id(const std::vector<Violation> &v, std::string_view prefix) {
  return static_cast<size_t>(std::count_if(v.begin(), v.end(), [&](const Violation &x) {
    return std::string_view(x.id).substr(0, prefix.size()) == prefix;
  }));
}

inline std::string dump(const std::vector<Violation> &v) {
  std::string s;
  for (const Violation &x : v)
    s += format_violation(x) + "\n";
  return s;
}

// A machine with `nodes` nodes of `bytes` each (one Normal zone).
inline Config machine_config(unsigned page_shift, uint64_t bytes, unsigned nodes = 2,
                             Variant variant = Variant::D612) {
  Config c;
  c.page_shift = page_shift;
  c.variant = variant;
  c.nodes.assign(nodes, NodeSpec{{ZoneSpec{ZoneType::Normal, bytes >> page_shift}}});
  return c;
}

}  // namespace hvo::test
