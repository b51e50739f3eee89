// SPDX-License-Identifier: GPL-2.0-only
//
// What every hvo_fuzz_* target does with an input: decode it with the shared
// decoder, run the operations on a fresh Model, and turn the first invariant
// violation into a crash whose first line names the invariant:
//
//   ==HVO== VIOLATION I3-ro-write op=4 vaddr=0x... : ...
//   ==HVO== target hvo_fuzz_hugetlb, input 37 bytes, 6 ops decoded
//   ==HVO== decoded operation trace (a scenario hvo-sim can run):
//   config page-size=4K ...
//   alloc_folio order=9 node=0  # -> 0 folio 0
//   ...
//   ==HVO== end of trace
//
// followed by abort(), which libFuzzer reports as a deadly signal and saves
// as a crash input.  Nothing an input did survives to the next: besides the
// outcome digest (written after each input, read only by the replay
// driver's determinism check), what is kept is one booted machine per
// configuration, never run, that each input's Model is reset to
// (boot_cache.h; HVO_FUZZ_BOOT_CACHE=0 boots afresh every time).
//
// Bug switches come from the environment, never from the input bytes:
//   HVO_FUZZ_BUGS=name[,name...]   (names: hvo-sim bugs, docs/fuzzing.md)
// so the same corpus runs against the fixed model and against each
// historic bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hvo::fuzz {

// LLVMFuzzerInitialize's work: find the target's profile and read
// HVO_FUZZ_BUGS.  Exits with status 2 and a one-line message on an unknown
// target or bug name (a usage error, not a finding).
void initialize_target(std::string_view target);

// LLVMFuzzerTestOneInput's work.  Returns 0; aborts on a violation.
int run_target_input(std::string_view target, const uint8_t *data, size_t size);

// FNV-1a digest of everything the last input produced (return values,
// notes, folio ids, violation ids), for the replay driver's --twice.
uint64_t last_outcome_digest();

} // namespace hvo::fuzz

// Every target defines its entry points with this macro, so each target file
// stays two lines long and no target can forget the initializer.
#define HVO_FUZZ_TARGET(name)                                                          \
  extern "C" int LLVMFuzzerInitialize(int *, char ***) {                               \
    ::hvo::fuzz::initialize_target(name);                                              \
    return 0;                                                                          \
  }                                                                                    \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {            \
    return ::hvo::fuzz::run_target_input(name, data, size);                            \
  }
