// SPDX-License-Identifier: GPL-2.0-only
//
// The kernel's loops that make the same stores into every struct page of a
// pfn range (__init_single_page over a zone, prep_compound_tail over a
// folio, set_page_count, SetPageReserved, ...), done a vmemmap page at a
// time: a vmemmap page whose struct pages all lie in the range takes the
// stores through the one translation they share (Mmu::store_fields_page),
// a page with a few struct pages outside the range takes them with those
// slots' words left alone (Mmu::store_fields_page_except), and anything
// else is stored struct page by struct page.  The memory effect is that of
// the per-struct-page loop; tests/fastpath/struct_page_range_test.cpp pins
// it to that loop.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "hvo/machine.h"

namespace hvo {

// The stores `st` into every struct page of pfns [a, b).
void store_struct_pages(Machine &m, uint64_t a, uint64_t b,
                        const std::vector<Mmu::FieldStore> &st, const char *who);
// The same with a memo the caller keeps across calls (and releases with
// Mmu::release_memo): every call that shares `memo` must pass the same `st`,
// so that one vmemmap page's (old image -> new image) result serves the
// pages of later calls too (a memmap_init_zone_device over many compound
// pages).  Purely a speed-up: the memory effect is the one above.
void store_struct_pages(Machine &m, uint64_t a, uint64_t b,
                        const std::vector<Mmu::FieldStore> &st, const char *who,
                        Mmu::StoreMemo &memo);

// Whether every vmemmap page that holds a word of the struct pages of pfns
// [a, b) is mapped read-write: then no store into them faults, and stores
// into different words may be made in any order with the same result.
bool struct_pages_writable(const Machine &m, uint64_t a, uint64_t b);

// The stores `first` then `second` make into one struct page, as at most one
// store per field (ascending field order), or nullopt when a field's stores
// do not merge into one (a partial-mask store on top of, or under, an
// address-relative value).  Stores into different words commute and each
// word ends with its last store over the bits of earlier ones, so where no
// store faults (struct_pages_writable) storing the result into a range
// leaves the memory that storing `first` then `second` into it leaves.
std::optional<std::vector<Mmu::FieldStore>> compose_field_stores(
    const std::vector<Mmu::FieldStore> &first, const std::vector<Mmu::FieldStore> &second);

// Every word of every struct page of pfns [a, b) set to `word` (a memset of
// whole struct pages with a repeating 8-byte pattern).
void fill_struct_pages(Machine &m, uint64_t a, uint64_t b, uint64_t word, const char *who);

// The read side, for the oracles that read a few fields of many struct
// pages: how many of the `count` struct pages from address `p0` (wholly in
// the vmemmap page at `va`), from the first on, provably hold the same
// value in each of `fields`, decided once for the vmemmap page from its
// frame's image (no per-struct-page read), with those values in `values`
// (read through the page's one translation, as a read of each word
// would).  Returns 0 when it shows nothing (unmapped, a dense frame, a
// field that varies from slot to slot, an override at the first struct
// page); the run stops before the struct page holding the first override
// in [p0, p0 + count * struct_page_size).
uint64_t uniform_struct_page_words(const Machine &m, uint64_t va, uint64_t p0, uint64_t count,
                                   std::span<const unsigned> fields, uint64_t *values);

// Tests (tests/fastpath/struct_page_range_test.cpp) turn this on: a
// vmemmap page at least half in the range, with a struct page size that is
// not a power of two, is then stored struct page by struct page (the code
// before this switch) instead of in one bulk store that leaves the words of
// the struct pages outside the range alone.  Process-wide; off by default.
inline bool bulk_except_reference = false;
/// How many such pages were stored in bulk (the tests check that it runs).
inline uint64_t bulk_except_nonpow2_pages = 0;

// The reference: the same stores struct page by struct page, field by field
// (Mmu::write_masked), as the kernel's loop makes them.
void store_struct_pages_one_by_one(Machine &m, uint64_t a, uint64_t b,
                                   const std::vector<Mmu::FieldStore> &st, const char *who);

}  // namespace hvo
