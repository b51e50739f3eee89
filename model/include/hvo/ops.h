// SPDX-License-Identifier: GPL-2.0-only
//
// Operations: the unit the model, hvo-sim, the fuzzers and the triage tool
// share.  An Op is a kind plus up to kMaxOpArgs integers.  Every op is total:
// any argument values are either executed or refused with the kernel's errno
// (a folio id that does not exist is -EINVAL, not a parse error).
//
// Op kinds come from a table of descriptors (name, argument names and
// ranges, apply function, one doc line).  Families live in their own files
// (ops_hugetlb.cpp, ...) and are listed once in ops.cpp; the kind of an op is
// its index in that table.
//
// Text form, one op per line (docs/scenario-format.md):
//   # comment
//   config page-size=4K struct-page=64 mem=0:Normal:4G ...
//   alloc_folio order=9 node=0
//   optimize folio=0
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hvo/config.h"
#include "hvo/machine.h"

namespace hvo {

inline constexpr unsigned kMaxOpArgs = 4;

struct Op {
  uint16_t kind = 0;
  std::array<uint64_t, kMaxOpArgs> args{};
  bool operator==(const Op &) const = default;
};

// What an operation did: the kernel's return value (0 or -errno, or a count
// for the batch calls that return one) and the folios it involved or created.
struct OpResult {
  int64_t ret = 0;
  std::vector<FolioId> folios;
  std::string note;  // short, deterministic
};

class Model;

struct OpArgSpec {
  std::string_view name;
  uint64_t min = 0;  // the range a decoder should draw from; apply refuses
  uint64_t max = 0;  // anything outside what the kernel accepts
  uint64_t def = 0;  // value when the text omits the key
};

struct OpDescriptor {
  std::string_view name;
  std::vector<OpArgSpec> args;
  OpResult (*apply)(Model &, const Op &);
  std::string_view doc;
};

// Every op kind, in kind order.
std::span<const OpDescriptor> op_table();
// Families (each in its own file).
std::vector<OpDescriptor> hugetlb_op_family();
std::vector<OpDescriptor> control_op_family();
std::vector<OpDescriptor> dax_op_family();  // ops_dax.cpp (device DAX, M2)
std::vector<OpDescriptor> fault_attr_op_family();  // ops_fault_attr.cpp (muchun's PTE/PMD faults)
std::vector<OpDescriptor> boot_op_family();  // ops_boot.cpp (memblock placement)

const OpDescriptor *find_op(std::string_view name);
std::string print_op(const Op &op);
// Parses one op line (no comment, no "config"); returns an error or "".
std::string parse_op(std::string_view line, Op &out);

struct Scenario {
  Config config;
  std::vector<Op> ops;
  std::vector<unsigned> lines;  // source line of each op (0 if built in code)
};

// Parses a scenario; errors are "NAME:LINE: problem" (exactly one line).
// An impossible configuration is reported at the config line.
bool parse_scenario(std::string_view text, std::string_view name, Scenario &out,
                    std::string &error);
std::string print_scenario(const Scenario &s);

// "-ENOMEM", "0", "3" ...
std::string format_ret(int64_t ret);

}  // namespace hvo
