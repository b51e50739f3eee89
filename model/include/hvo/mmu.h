// SPDX-License-Identifier: GPL-2.0-only
//
// Every read and write of a struct page goes through here: the vmemmap
// address is translated by the TLB (stale entries first) or the page table,
// then the word is read from / written to the frame.  A write through a
// read-only translation, or any access to an unmapped vmemmap address, is
// recorded as a Fault with its context and does not touch memory; the model
// never aborts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hvo/pgtable.h"

namespace hvo {

struct Fault {
  enum class Kind : uint8_t { RoWrite, Unmapped };
  Kind kind;
  uint64_t vaddr;
  FrameId frame;       // kNoFrame when unmapped
  uint64_t old_value;  // what the word held (RoWrite)
  uint64_t new_value;  // what was to be written
  const char *who;     // the kernel function that made the access
};

class Mmu {
public:
  Mmu(const Config &cfg, PhysMem &phys, VmemmapPageTable &pt)
      : cfg_(cfg), phys_(phys), pt_(pt) {}

  // READ_ONCE of the 8-byte word at `vaddr` (8-byte aligned).
  uint64_t read(uint64_t vaddr, const char *who);
  // WRITE_ONCE; false when it faulted (nothing was written).
  bool write(uint64_t vaddr, uint64_t value, const char *who);
  // Read-modify-write of the bits under `mask` (a 32-bit atomic, a bit op).
  bool write_masked(uint64_t vaddr, uint64_t mask, uint64_t value, const char *who);
  // Stores `value` under `mask` into word `field` of every struct page of the
  // vmemmap page at `page_vaddr`: the same stores a loop over those struct
  // pages makes, through the one translation they share.
  bool store_field_page(uint64_t page_vaddr, unsigned field, uint64_t mask, FieldSpec value,
                        const char *who);

  // Several such stores at once; `memo` remembers the last (old image ->
  // new image) result so a loop over many vmemmap pages with the same
  // contents hash-conses once (purely a speed-up: same result).
  struct FieldStore {
    unsigned field;
    uint64_t mask;
    FieldSpec value;
  };
  struct StoreMemo {
    uint32_t old_image = UINT32_MAX;
    uint32_t new_image = UINT32_MAX;
  };
  bool store_fields_page(uint64_t page_vaddr, const std::vector<FieldStore> &stores,
                         StoreMemo &memo, const char *who);
  void release_memo(StoreMemo &memo);
  // The stores of store_fields_page into the struct pages of the vmemmap page
  // at `page_vaddr` except those whose words are listed in `untouched` (word
  // indices within the page): one memory effect, equal to storing slot by
  // slot, with no access to the untouched words.
  bool store_fields_page_except(uint64_t page_vaddr, const std::vector<FieldStore> &stores,
                                const std::vector<uint32_t> &untouched, const char *who);

  // The frame an access to `vaddr` would use right now (kNoFrame: unmapped).
  Translation translate(uint64_t vaddr) const { return pt_.translate(vaddr); }

  std::vector<Fault> faults;  // drained by the oracle after every operation

  // Tests (tests/fastpath/mmu_rebase_test.cpp) turn this on: a store that
  // computes values for where it lands then always moves a frame made for
  // another vmemmap page with PhysMem::rebase (a dense copy of its words),
  // the reference rebase() is pinned to.  Process-wide; off by default.
  static inline bool rebase_reference = false;
  // How often rebase() moved an image by shifting it (the tests check that it runs).
  static inline uint64_t pure_rebases = 0;

private:
  // PhysMem::rebase(f, vpn): the frame keeps every word it holds and takes
  // `vpn` as its origin.  An image that is not dense is moved by shifting its
  // address-relative fields instead of being made dense (see mmu.cpp).
  void rebase(FrameId f, uint64_t vpn);

  // store_fields_page's stores into a frame whose image is pure, as one
  // new field description; false (nothing done) when the image is not pure
  // or a store is not expressible per field.
  bool store_fields_pure(FrameRec &r, const std::vector<FieldStore> &stores);

  const Config &cfg_;
  PhysMem &phys_;
  VmemmapPageTable &pt_;
  // Scratch kept across calls (under ASan every fresh buffer costs page faults):
  std::vector<uint64_t> page_words_;                     // rebase()'s check
  std::vector<std::pair<uint32_t, uint64_t>> kept_words_;  // store_fields_page_except
};

}  // namespace hvo
