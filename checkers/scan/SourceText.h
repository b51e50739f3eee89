// SPDX-License-Identifier: GPL-2.0-only
//
// Line, column and line text of a byte offset in a source file, read once
// per file.  Findings carry offsets; reports and fingerprints need lines.
#ifndef HVO_SCAN_SOURCETEXT_H
#define HVO_SCAN_SOURCETEXT_H

#include "llvm/Support/MemoryBuffer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hvo::scan {

struct TextPosition {
  unsigned Line = 0;   // 1-based; 0 when the file cannot be read
  unsigned Column = 0; // 1-based byte column, as clang counts
  std::string LineText;
};

class SourceText {
public:
  TextPosition position(const std::string &File, unsigned Offset);

private:
  struct LoadedFile {
    std::unique_ptr<llvm::MemoryBuffer> Buffer;
    std::vector<unsigned> LineStarts;
  };
  std::map<std::string, LoadedFile> Files;
};

// Whitespace runs collapsed to one space, ends trimmed: a re-indented line
// keeps its fingerprint.
std::string normalizedLineText(const std::string &Line);

} // namespace hvo::scan

#endif
