// SPDX-License-Identifier: GPL-2.0-only
//
// The two directions of the fuzz input format, behind one interface, so that
// a single "schema" function per operation describes the byte layout and is
// run both ways:
//
//   ByteReader: bytes -> values.  Never fails: a value is read from the next
//               byte(s) and mapped into its range by modulo; past the end of
//               the input every read yields 0 (the range's lowest value), so
//               every byte string, the empty one included, decodes.
//   ByteWriter: values -> bytes.  Writes the canonical bytes that the reader
//               maps back to the same value; a value outside the range is an
//               encoding error (recorded, first one wins), never a silent
//               clamp, because a seed that decodes to something else than
//               its text scenario would test the wrong thing.
//
// A schema is written as
//   template <class IO> void schema(IO &io, Thing &t) { io.range(t.order, 0, 22); ... }
// and IO::kDecoding tells the few places that must construct objects which
// direction they run in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hvo::fuzz {

class ByteReader {
public:
  static constexpr bool kDecoding = true;

  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  bool exhausted() const { return pos_ >= data_.size(); }
  size_t consumed() const { return pos_ < data_.size() ? pos_ : data_.size(); }

  // v := lo + (next 1 or 2 bytes) % (hi - lo + 1).  Two bytes (little
  // endian) only when the range has more than 256 values; none when it has
  // a single value.
  template <class T> void range(T &v, uint64_t lo, uint64_t hi) {
    if (lo == hi) {
      v = static_cast<T>(lo);
      return;
    }
    const uint64_t span = hi - lo; // hi >= lo; span + 1 overflows only for the full range
    const uint64_t r = raw(width(lo, hi));
    v = static_cast<T>(lo + (span == UINT64_MAX ? r : r % (span + 1)));
  }
  // v := one of n choices, 0 <= v < n (n >= 1).
  template <class T> void choice(T &v, uint64_t n) { range(v, 0, n - 1); }
  void flag(bool &b) {
    uint8_t v = 0;
    range(v, 0, 1);
    b = v != 0;
  }
  // A raw 64-bit value (8 bytes, little endian), for seeds and masks.
  void u64(uint64_t &v) { v = raw(8); }

  static unsigned width(uint64_t lo, uint64_t hi) { return hi - lo < 256 ? 1 : hi - lo < 65536 ? 2 : 8; }

private:
  uint64_t raw(unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i, ++pos_)
      if (pos_ < data_.size())
        v |= static_cast<uint64_t>(data_[pos_]) << (8 * i);
    return v;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

class ByteWriter {
public:
  static constexpr bool kDecoding = false;

  // Context for error messages, e.g. "op 3 (optimize)".
  void set_context(std::string ctx) { context_ = std::move(ctx); }

  template <class T> void range(T &v, uint64_t lo, uint64_t hi) {
    const uint64_t x = static_cast<uint64_t>(v);
    if (x < lo || x > hi) {
      fail("value " + std::to_string(x) + " outside the encodable range [" + std::to_string(lo) +
           ", " + std::to_string(hi) + "]");
      put(0, lo == hi ? 0 : ByteReader::width(lo, hi));
      return;
    }
    if (lo != hi)
      put(x - lo, ByteReader::width(lo, hi));
  }
  template <class T> void choice(T &v, uint64_t n) { range(v, 0, n - 1); }
  void flag(bool &b) {
    uint8_t v = b ? 1 : 0;
    range(v, 0, 1);
  }
  void u64(uint64_t &v) { put(v, 8); }

  // For schema code that finds a value it cannot express at all.
  void fail(const std::string &why) {
    if (error_.empty())
      error_ = (context_.empty() ? "" : context_ + ": ") + why;
  }

  const std::vector<uint8_t> &bytes() const { return bytes_; }
  const std::string &error() const { return error_; }

private:
  void put(uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i)
      bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }

  std::vector<uint8_t> bytes_;
  std::string context_;
  std::string error_;
};

} // namespace hvo::fuzz
