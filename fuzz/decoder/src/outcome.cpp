// SPDX-License-Identifier: GPL-2.0-only
#include "hvo/fuzz/outcome.h"

namespace hvo::fuzz {

std::string parse_bug_list(std::string_view text, BugSet &out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view name =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (name.empty())
      continue;
    auto bit = parse_bug_switch(name);
    if (!bit) {
      std::string known;
      for (unsigned i = 0; i < bug_switch_count(); ++i)
        known += (i ? ", " : "") + std::string(bug_switch_name(i));
      return "unknown bug switch '" + std::string(name) + "' (known: " +
             (known.empty() ? "none" : known) + ")";
    }
    out.set(*bit);
  }
  return "";
}

} // namespace hvo::fuzz
