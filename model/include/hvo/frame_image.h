// SPDX-License-Identifier: GPL-2.0-only
//
// Copy-on-write contents of the frames that back the memmap.
//
// A 1 TiB machine has 4 Mi memmap frames; storing each as 4 KiB of bytes
// would cost 16 GiB.  Most of them hold struct pages that differ only in
// values derived from their own address (lru self pointers) or from their
// folio's head address (compound_head), so an Image describes a frame as
//
//   * one FieldSpec per struct page word: a literal, optionally plus the
//     address of the struct page itself or of its folio's head, and
//   * sparse per-word overrides on top (what stores to single struct pages
//     leave behind), or, past a threshold, a dense array of words.
//
// A frame refers to an Image plus the vmemmap page number the contents were
// produced for (its "origin"); copy_page copies both, so a copy keeps the
// byte-for-byte meaning of the source (an lru self pointer still points at
// the source slot, as memcpy would leave it).  Images are reference counted
// and shared by every frame with the same contents until one is written.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hvo {

inline constexpr unsigned kMaxStructPageWords = 10;  // 80-byte struct page

enum class FieldRel : uint8_t {
  None,       // literal
  Self,       // literal + address of this struct page
  FolioHead,  // literal + address of the head struct page of the aligned order-`order` folio
};

struct FieldSpec {
  uint64_t literal = 0;
  FieldRel rel = FieldRel::None;
  uint8_t order = 0;
  bool operator==(const FieldSpec &) const = default;
};

struct Image {
  uint32_t refs = 0;
  std::array<FieldSpec, kMaxStructPageWords> fields{};
  std::vector<std::pair<uint32_t, uint64_t>> overrides;  // sorted by word index
  // Bit b set: some override lies in the b-th 64th of the page (a word read
  // outside every marked bucket skips the search of `overrides`).
  uint64_t override_buckets = 0;
  std::vector<uint64_t> dense;                           // non-empty: the whole frame
  bool pure() const { return overrides.empty() && dense.empty(); }
};

// Geometry the images need to evaluate a word.
struct ImageGeometry {
  uint64_t vmemmap_base = 0;
  uint64_t struct_page_size = 64;
  uint64_t words_per_page = 512;
  unsigned words_per_struct_page = 8;
};

class ImagePool {
public:
  static constexpr uint32_t kZero = 0;  // the all-zero image, never freed

  explicit ImagePool(ImageGeometry g);

  const ImageGeometry &geometry() const { return geo_; }
  using Fields = std::array<FieldSpec, kMaxStructPageWords>;
  static constexpr uint32_t kNone = UINT32_MAX;

  // A pure image with these fields, shared with every frame that already has
  // the same contents (hash-consed); the caller owns one reference.
  uint32_t intern(const Fields &fields);
  // The pure image equal to `id` with field `f` stored under `mask`, or kNone
  // when `id` is not pure or the store cannot be expressed per field.
  uint32_t with_field(uint32_t id, unsigned f, uint64_t mask, FieldSpec value);
  // with_field's rule on a field description: stores `value` under `mask`
  // into `fields[f]`, false (leaving it alone) when that cannot be
  // expressed per field.  Several stores applied this way and interned once
  // give the image a chain of with_field calls ends with.
  static bool store_into_fields(Fields &fields, unsigned f, uint64_t mask, FieldSpec value);
  void get(uint32_t id) { images_[id].refs++; }
  void put(uint32_t id);
  const Image &at(uint32_t id) const { return images_[id]; }
  uint32_t live() const { return live_; }

  // Word `w` of a frame holding image `id` produced for vmemmap page `origin`.
  uint64_t word(uint32_t id, uint64_t origin_vpn, uint64_t w) const;
  // All words_per_page words of that frame into `out`, equal to word() for
  // every w, without a division per word (whole-page comparisons).
  void read_page(uint32_t id, uint64_t origin_vpn, uint64_t *out) const;
  // True exactly when every word of the frame (a, origin_a) equals the same
  // word of (b, origin_b): both pages materialised into `scratch` (kept by
  // the caller, two pages long after the call) and compared.  Unlike
  // same_page_words it always decides; the guards of fast paths that
  // rewrite a frame's description use it.
  bool same_page(uint32_t a, uint64_t origin_a, uint32_t b, uint64_t origin_b,
                 std::vector<uint64_t> &scratch) const;
  // Tests (tests/fastpath/image_same_page_test.cpp) set this: same_page then
  // always materialises both pages, the rule its same_page_words shortcut
  // replaces.  Process-wide; off by default.
  static inline bool same_page_materialized_reference = false;
  // True only when every word of the frame (a, origin_a) equals the same
  // word of (b, origin_b), decided from the field descriptions and the
  // overrides without materialising the pages; false when they differ or
  // when that cannot be decided this way (the caller then compares words).
  // Words of the struct page fields in `ignored_fields` (bit f: field f)
  // are left out; frames whose word offsets do not put the same field at
  // the same word are never equal this way.
  bool same_page_words(uint32_t a, uint64_t origin_a, uint32_t b, uint64_t origin_b,
                       uint32_t ignored_fields = 0) const;
  // Tests (tests/fastpath/image_same_words_test.cpp) set this: the
  // overridden words are then compared each list against word(), the rule
  // the merged walk replaces, and equal literal fields go through the
  // per-field forms.  Process-wide; off by default.
  static inline bool same_page_words_reference = false;
  // Makes `id` exclusively owned by the caller (clone if shared) and returns
  // the id to use from now on; the caller's reference moves to the result.
  uint32_t unshare(uint32_t id);
  // Turns an exclusively owned image into a dense copy of what it holds at
  // `origin_vpn` (its words no longer depend on the origin).
  void make_dense(uint32_t id, uint64_t origin_vpn) { densify(id, origin_vpn); }
  // Stores into an exclusively owned image.  A word stored with the value
  // its field gives it there leaves no override (and drops an earlier one).
  void store_word(uint32_t id, uint64_t origin_vpn, uint64_t w, uint64_t value);
  // Tests (tests/fastpath/image_same_words_test.cpp) set this: every store
  // is then kept as an override, equal to the field or not (the
  // representation before equal stores were dropped).  Process-wide; off
  // by default.
  static inline bool keep_equal_overrides = false;
  // Stores `value` under `mask` into field `f` of every struct page slot of an
  // exclusively owned image (N identical stores through one translation).
  void store_field_all(uint32_t id, uint64_t origin_vpn, unsigned f, uint64_t mask,
                       FieldSpec value);

private:
  uint64_t eval(const FieldSpec &fs, uint64_t slot) const;
  // The 64th of the page word `w` lies in (a shift: this is on every read).
  uint64_t bucket_bit(uint64_t w) const { return uint64_t{1} << (w >> bucket_shift_); }
  void densify(uint32_t id, uint64_t origin_vpn);
  uint32_t create(const Fields &fields);  // a private (unshared) image
  static size_t hash(const Fields &fields);
  void unintern(uint32_t id);

  ImageGeometry geo_;
  unsigned bucket_shift_ = 0;  // ceil(log2(words_per_page)) - 6, at least 0
  std::vector<Image> images_;
  std::vector<uint32_t> free_ids_;
  uint32_t live_ = 0;
  std::unordered_map<size_t, std::vector<uint32_t>> interned_;  // lookup only, never iterated
  std::vector<uint8_t> is_interned_;
};

}  // namespace hvo
