// SPDX-License-Identifier: GPL-2.0-only
//
// Living with findings without suppression comments in kernel code: a
// baseline lists the fingerprints of accepted findings; a later scan against
// it reports only findings whose fingerprint is not listed.
#ifndef HVO_SCAN_BASELINE_H
#define HVO_SCAN_BASELINE_H

#include "Findings.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <set>
#include <string>
#include <vector>

namespace hvo::scan {

llvm::Expected<std::set<std::string>> readBaseline(const std::string &Path);

// One line per finding: fingerprint, check, file:line (the latter two for
// people reading the file; only the fingerprint is matched).
void writeBaseline(llvm::raw_ostream &OS, const std::vector<Finding> &Findings);

// Removes the findings whose fingerprint is in Known; returns how many.
size_t dropKnownFindings(std::vector<Finding> &Findings, const std::set<std::string> &Known);

} // namespace hvo::scan

#endif
