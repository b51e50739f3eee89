// SPDX-License-Identifier: GPL-2.0-only
//
// What SARIF's tool.driver.rules says about each check: a short and a full
// description and a help URI (the check's page under docs/checks/ for hvo
// checks, clang-tidy's documentation for the others).
#ifndef HVO_SCAN_RULECATALOG_H
#define HVO_SCAN_RULECATALOG_H

#include <string>

namespace hvo::scan {

struct RuleDescription {
  std::string Id;
  std::string ShortDescription;
  std::string FullDescription;
  std::string HelpUri;
};

RuleDescription describeRule(const std::string &CheckName);

} // namespace hvo::scan

#endif
