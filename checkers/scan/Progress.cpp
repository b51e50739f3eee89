// SPDX-License-Identifier: GPL-2.0-only
#include "Progress.h"

#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

namespace hvo::scan {

Progress::Progress(size_t Total)
    : Total(Total), OnTerminal(llvm::sys::Process::StandardErrIsDisplayed()) {}

void Progress::unitDone(const std::string &Name) {
  std::lock_guard<std::mutex> Lock(Mutex);
  ++Done;
  if (OnTerminal)
    llvm::errs() << "\r\x1b[K[" << Done << '/' << Total << "] " << Name;
}

void Progress::finish() {
  std::lock_guard<std::mutex> Lock(Mutex);
  if (OnTerminal && Done)
    llvm::errs() << "\r\x1b[K";
}

} // namespace hvo::scan
