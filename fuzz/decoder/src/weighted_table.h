// SPDX-License-Identifier: GPL-2.0-only
//
// Weighted tables for sizes (folio orders, counts, DAX shifts and lengths;
// node counts and zone sizes of the machine), run in both directions like
// every other schema.
//
// The model does real per-struct-page work, so an op costs in proportion
// to its size: a uniform order byte makes the average folio ~29,000 struct
// pages, most of them in sizes where HVO does nothing new.  A table spends
// most of the 256 byte values on the cheap sizes where HVO acts and keeps
// every value of the argument's range reachable through one "any" entry.
//
// One selector byte, taken modulo the total weight of the entries whose
// value lies in [lo, hi], picks an entry:
//   Absolute  the entry's value
//   Geometry  the entry's value at 4K pages, shifted by page_shift - 12:
//             the smallest HVO order (page_shift - 5) and the PMD order
//             (page_shift - 3) move together with the page size
//   Any       a further value read uniformly from [lo, hi]
// The encoder writes the first entry that decodes to the value, or "any".
// A range with a single value reads no byte, as io.range does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace hvo::fuzz {

struct WeightedEntry {
  enum Kind : uint8_t { Absolute, Geometry, Any };
  Kind kind;
  uint16_t value;  // unused for Any
  uint16_t weight; // out of kWeightTotal byte values
};

inline constexpr unsigned kWeightTotal = 256;

template <size_t N> constexpr bool weights_fill_a_byte(const std::array<WeightedEntry, N> &t) {
  unsigned sum = 0, any = 0;
  for (const WeightedEntry &e : t) {
    sum += e.weight;
    any += e.kind == WeightedEntry::Any ? 1 : 0;
  }
  return sum == kWeightTotal && any == 1;
}

// The value a fixed entry stands for (an Any entry stands for none), or
// false when it falls outside [lo, hi] and so drops out of the table.
inline bool weighted_value(const WeightedEntry &e, int delta, uint64_t lo, uint64_t hi, uint64_t &v) {
  if (e.kind == WeightedEntry::Any)
    return true;
  const int64_t x = static_cast<int64_t>(e.value) + (e.kind == WeightedEntry::Geometry ? delta : 0);
  if (x < 0 || static_cast<uint64_t>(x) < lo || static_cast<uint64_t>(x) > hi)
    return false;
  v = static_cast<uint64_t>(x);
  return true;
}

// v in [lo, hi] through `table`; delta = page_shift - 12 for Geometry entries.
template <class IO, size_t N, class T>
void weighted_schema(IO &io, T &v, const std::array<WeightedEntry, N> &table, int delta, uint64_t lo,
                     uint64_t hi) {
  if (lo == hi) {
    io.range(v, lo, hi);  // one possible value: no byte, as for io.range
    return;
  }
  unsigned total = 0;
  for (const WeightedEntry &e : table) {
    uint64_t x = 0;
    if (weighted_value(e, delta, lo, hi, x))
      total += e.weight;
  }
  uint16_t pos = 0;
  if constexpr (!IO::kDecoding) {
    // The first fixed entry with this value, else "any" (which reports a
    // value outside [lo, hi] as an encoding error).
    unsigned start = 0, any_start = 0;
    bool found = false;
    for (const WeightedEntry &e : table) {
      uint64_t x = 0;
      if (!weighted_value(e, delta, lo, hi, x))
        continue;
      if (e.kind == WeightedEntry::Any)
        any_start = start;
      else if (x == static_cast<uint64_t>(v) && !found) {
        pos = static_cast<uint16_t>(start);
        found = true;
      }
      start += e.weight;
    }
    if (!found)
      pos = static_cast<uint16_t>(any_start);
  }
  io.choice(pos, total);
  unsigned start = 0;
  for (const WeightedEntry &e : table) {
    uint64_t x = 0;
    if (!weighted_value(e, delta, lo, hi, x))
      continue;
    if (pos < start + e.weight) {
      if (e.kind == WeightedEntry::Any)
        io.range(v, lo, hi);
      else if constexpr (IO::kDecoding)
        v = static_cast<T>(x);
      return;
    }
    start += e.weight;
  }
}

}  // namespace hvo::fuzz
