// SPDX-License-Identifier: GPL-2.0-only
//
// The op table and the text form of ops and scenarios.
#include "hvo/ops.h"

#include <charconv>

namespace hvo {

namespace {

std::vector<OpDescriptor> build_table() {
  std::vector<OpDescriptor> t;
  // One line per family; a new family appends here (never reorder: the
  // kind numbers are what fuzz corpora store).
  for (auto family : {hugetlb_op_family, control_op_family, dax_op_family, fault_attr_op_family,
                      boot_op_family})
    for (OpDescriptor &d : family())
      t.push_back(std::move(d));
  return t;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool parse_number(std::string_view s, uint64_t &v) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty())
    return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::span<const OpDescriptor> op_table() {
  static const std::vector<OpDescriptor> table = build_table();
  return table;
}

const OpDescriptor *find_op(std::string_view name) {
  for (const OpDescriptor &d : op_table())
    if (d.name == name)
      return &d;
  return nullptr;
}

std::string print_op(const Op &op) {
  auto table = op_table();
  if (op.kind >= table.size())
    return "invalid_op kind=" + std::to_string(op.kind);
  const OpDescriptor &d = table[op.kind];
  std::string s(d.name);
  for (size_t i = 0; i < d.args.size(); i++)
    s += " " + std::string(d.args[i].name) + "=" + std::to_string(op.args[i]);
  return s;
}

std::string parse_op(std::string_view line, Op &out) {
  line = trim(line);
  size_t sp = line.find_first_of(" \t");
  std::string_view name = line.substr(0, sp);
  const OpDescriptor *d = find_op(name);
  if (!d)
    return "unknown operation '" + std::string(name) + "'";
  out = Op{};
  out.kind = static_cast<uint16_t>(d - op_table().data());
  std::array<bool, kMaxOpArgs> seen{};
  for (size_t i = 0; i < d->args.size(); i++)
    out.args[i] = d->args[i].def;
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp);
  while (!(rest = trim(rest)).empty()) {
    size_t end = rest.find_first_of(" \t");
    std::string_view tok = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    size_t eq = tok.find('=');
    if (eq == std::string_view::npos)
      return "'" + std::string(tok) + "' is not key=value";
    std::string_view key = tok.substr(0, eq), val = tok.substr(eq + 1);
    size_t idx = d->args.size();
    for (size_t i = 0; i < d->args.size(); i++)
      if (d->args[i].name == key)
        idx = i;
    if (idx == d->args.size())
      return std::string(name) + " has no argument '" + std::string(key) + "'";
    if (seen[idx])
      return "argument '" + std::string(key) + "' given twice";
    seen[idx] = true;
    if (!parse_number(val, out.args[idx]))
      return "argument '" + std::string(key) + "': '" + std::string(val) +
             "' is not an unsigned integer";
  }
  return {};
}

bool parse_scenario(std::string_view text, std::string_view name, Scenario &out,
                    std::string &error) {
  out = Scenario{};
  unsigned lineno = 0;
  bool have_config = false, have_op = false;
  auto fail = [&](const std::string &msg) {
    error = std::string(name) + ":" + std::to_string(lineno) + ": " + msg;
    return false;
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    lineno++;
    if (line.find('\0') != std::string_view::npos)
      return fail("NUL byte in scenario text");
    size_t hash = line.find('#');
    if (hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty())
      continue;
    if (line.substr(0, 6) == "config" && (line.size() == 6 || line[6] == ' ' || line[6] == '\t')) {
      if (have_config)
        return fail("second config line");
      if (have_op)
        return fail("config must come before the first operation");
      have_config = true;
      std::string err = parse_config_args(line.substr(6), out.config);
      if (!err.empty())
        return fail(err);
      err = out.config.validate();
      if (!err.empty())
        return fail("impossible configuration: " + err);
      continue;
    }
    Op op;
    std::string err = parse_op(line, op);
    if (!err.empty())
      return fail(err);
    have_op = true;
    out.ops.push_back(op);
    out.lines.push_back(lineno);
  }
  if (!have_config) {
    std::string err = out.config.validate();
    if (!err.empty()) {
      lineno = 1;
      return fail("impossible default configuration: " + err);
    }
  }
  return true;
}

std::string print_scenario(const Scenario &s) {
  std::string out = print_config(s.config) + "\n";
  for (const Op &op : s.ops)
    out += print_op(op) + "\n";
  return out;
}

std::string format_ret(int64_t ret) {
  switch (ret) {
  case -12: return "-ENOMEM";
  case -22: return "-EINVAL";
  case -16: return "-EBUSY";
  case -524: return "-ENOTSUPP";
  case -133: return "-EHWPOISON";
  default: return std::to_string(ret);
  }
}

}  // namespace hvo
