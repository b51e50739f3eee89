// SPDX-License-Identifier: GPL-2.0-only
//
// The progress line on stderr: rewritten in place on a terminal, silent
// otherwise (logs get the summary, not one line per unit in thread order).
#ifndef HVO_SCAN_PROGRESS_H
#define HVO_SCAN_PROGRESS_H

#include <mutex>
#include <string>

namespace hvo::scan {

class Progress {
public:
  explicit Progress(size_t Total);
  void unitDone(const std::string &Name);
  void finish();

private:
  std::mutex Mutex;
  size_t Total;
  size_t Done = 0;
  bool OnTerminal;
};

} // namespace hvo::scan

#endif
