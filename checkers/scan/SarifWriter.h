// SPDX-License-Identifier: GPL-2.0-only
//
// SARIF 2.1.0 as GitHub code scanning takes it: one run, the enabled checks as
// tool.driver.rules, results with ruleId/ruleIndex, tree-relative artifact
// URIs against the SRCROOT base, notes as relatedLocations, and
// partialFingerprints that stay the same when lines move.
#ifndef HVO_SCAN_SARIFWRITER_H
#define HVO_SCAN_SARIFWRITER_H

#include "Findings.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace hvo::scan {

// RuleIds: the enabled checks; rules for other ids in Findings (compiler
// diagnostics) are appended.
void writeSarif(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
                const std::vector<std::string> &RuleIds, const std::string &TreeRoot);

} // namespace hvo::scan

#endif
