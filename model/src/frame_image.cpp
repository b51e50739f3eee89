// SPDX-License-Identifier: GPL-2.0-only
//
// Copy-on-write frame contents (see frame_image.h).
#include "hvo/frame_image.h"

#include <algorithm>
#include <bit>
#include <optional>

namespace hvo {

namespace {
// Past this many overridden words a frame is cheaper as a dense array.
constexpr size_t kMaxOverrides = 96;
}  // namespace

ImagePool::ImagePool(ImageGeometry g)
    : geo_(g),
      bucket_shift_(static_cast<unsigned>(std::max(0, static_cast<int>(std::bit_width(g.words_per_page - 1)) - 6))) {
  images_.emplace_back();
  images_[0].refs = 1;  // kZero is pinned
  live_ = 1;
  is_interned_.push_back(1);
  interned_[hash(images_[0].fields)].push_back(0);
}

size_t ImagePool::hash(const Fields &fields) {
  size_t h = 1469598103934665603ull;
  for (const FieldSpec &f : fields) {
    h = (h ^ f.literal) * 1099511628211ull;
    h = (h ^ (static_cast<size_t>(f.rel) << 8 | f.order)) * 1099511628211ull;
  }
  return h;
}

uint32_t ImagePool::intern(const Fields &fields) {
  auto &bucket = interned_[hash(fields)];
  for (uint32_t id : bucket)
    if (images_[id].fields == fields && images_[id].pure()) {
      get(id);
      return id;
    }
  uint32_t id = create(fields);
  bucket.push_back(id);
  is_interned_[id] = 1;
  return id;
}

void ImagePool::unintern(uint32_t id) {
  if (!is_interned_[id])
    return;
  is_interned_[id] = 0;
  auto it = interned_.find(hash(images_[id].fields));
  if (it == interned_.end())
    return;
  auto &b = it->second;
  b.erase(std::remove(b.begin(), b.end(), id), b.end());
  if (b.empty())
    interned_.erase(it);
}

uint32_t ImagePool::with_field(uint32_t id, unsigned f, uint64_t mask, FieldSpec value) {
  const Image &im = images_[id];
  if (!im.pure())
    return kNone;
  Fields fields = im.fields;
  if (!store_into_fields(fields, f, mask, value))
    return kNone;
  return intern(fields);
}

bool ImagePool::store_into_fields(Fields &fields, unsigned f, uint64_t mask, FieldSpec value) {
  FieldSpec &fs = fields[f];
  if (mask == ~uint64_t{0})
    fs = value;
  else if (fs.rel == FieldRel::None && value.rel == FieldRel::None)
    fs.literal = (fs.literal & ~mask) | (value.literal & mask);
  else
    return false;
  return true;
}

uint32_t ImagePool::create(const Fields &fields_in) {
  Fields fields = fields_in;  // images_ may move below
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<uint32_t>(images_.size());
    images_.emplace_back();
    is_interned_.push_back(0);
  }
  Image &im = images_[id];
  im.refs = 1;
  im.fields = fields;
  im.overrides.clear();
  im.override_buckets = 0;
  im.dense.clear();
  live_++;
  return id;
}

void ImagePool::put(uint32_t id) {
  if (id == kZero)
    return;
  Image &im = images_[id];
  if (--im.refs == 0) {
    unintern(id);
    im.overrides = {};
    im.override_buckets = 0;
    im.dense = {};
    free_ids_.push_back(id);
    live_--;
  }
}

uint64_t ImagePool::eval(const FieldSpec &fs, uint64_t slot) const {
  switch (fs.rel) {
  case FieldRel::None:
    return fs.literal;
  case FieldRel::Self:
    return fs.literal + geo_.vmemmap_base + slot * geo_.struct_page_size;
  case FieldRel::FolioHead:
    return fs.literal + geo_.vmemmap_base +
           (slot & ~((uint64_t{1} << fs.order) - 1)) * geo_.struct_page_size;
  }
  return fs.literal;
}

uint64_t ImagePool::word(uint32_t id, uint64_t origin_vpn, uint64_t w) const {
  const Image &im = images_[id];
  if (w >= geo_.words_per_page)
    return 0;  // not a word of this frame: callers must split at page boundaries
  if (!im.dense.empty())
    return im.dense[w];
  if (im.override_buckets & bucket_bit(w)) {
    auto it = std::lower_bound(im.overrides.begin(), im.overrides.end(),
                               std::pair<uint32_t, uint64_t>(static_cast<uint32_t>(w), 0),
                               [](auto &a, auto &b) { return a.first < b.first; });
    if (it != im.overrides.end() && it->first == w)
      return it->second;
  }
  const uint64_t g = origin_vpn * geo_.words_per_page + w;
  // A 64-byte struct page (8 words) is the common case: shift and mask
  // instead of two 64-bit divisions, which dominate this hot function.
  if (geo_.words_per_struct_page == 8)
    return eval(im.fields[g & 7], g >> 3);
  return eval(im.fields[g % geo_.words_per_struct_page], g / geo_.words_per_struct_page);
}

bool ImagePool::same_page(uint32_t a, uint64_t origin_a, uint32_t b, uint64_t origin_b,
                          std::vector<uint64_t> &scratch) const {
  // same_page_words says "equal" only of pages whose every word is equal
  // (tests/fastpath/same_page_words_test.cpp), so where it says so the
  // comparison below would too.  It decides a shifted copy -- what
  // Mmu::rebase checks on every restored vmemmap page a demote or a restore
  // writes -- from the field descriptions and the overrides, instead of
  // evaluating both pages word by word (two page reads per vmemmap page were
  // 10% of a demote-heavy input).  Where it cannot say, the words decide.
  if (!same_page_materialized_reference && same_page_words(a, origin_a, b, origin_b))
    return true;
  const uint64_t n = geo_.words_per_page;
  scratch.resize(2 * n);
  read_page(a, origin_a, scratch.data());
  read_page(b, origin_b, scratch.data() + n);
  return std::equal(scratch.begin(), scratch.begin() + n, scratch.begin() + n);
}

void ImagePool::read_page(uint32_t id, uint64_t origin_vpn, uint64_t *out) const {
  const Image &im = images_[id];
  const uint64_t n = geo_.words_per_page, W = geo_.words_per_struct_page;
  if (!im.dense.empty()) {
    std::copy(im.dense.begin(), im.dense.begin() + static_cast<std::ptrdiff_t>(n), out);
    return;
  }
  // word()'s evaluation, walking (slot, field) instead of dividing each g.
  const uint64_t g = origin_vpn * n;
  uint64_t slot = g / W, f = g % W;
  for (uint64_t w = 0; w < n; w++) {
    out[w] = eval(im.fields[f], slot);
    if (++f == W) {
      f = 0;
      slot++;
    }
  }
  for (const auto &[w, v] : im.overrides)
    if (w < n)
      out[w] = v;
}

namespace {

// How one field's value varies over the struct page slots [s0, s1] of a
// page: the same value in every slot (a literal, or the head of the one
// folio the page lies in), the slot's own address plus a constant (Self, or
// FolioHead of order 0), or the head of each of several folios.
struct FieldForm {
  enum Kind : uint8_t { Constant, Affine, Stepped } kind;
  uint64_t value;  // Constant: the value; otherwise the literal
  uint8_t order;   // Stepped
};

}  // namespace

bool ImagePool::same_page_words(uint32_t a, uint64_t origin_a, uint32_t b, uint64_t origin_b,
                                uint32_t ignored_fields) const {
  const Image &x = images_[a], &y = images_[b];
  const uint64_t n = geo_.words_per_page, W = geo_.words_per_struct_page;
  // Word w of a frame is field (origin * n + w) % W of its struct page.  The
  // two frames put the same field at the same w only when their word
  // offsets differ by whole struct pages; then slot_b = slot_a + D.
  const uint64_t ga = origin_a * n, gb = origin_b * n;
  const uint64_t dist = gb >= ga ? gb - ga : ga - gb;
  if (dist % W != 0)
    return false;
  auto ignored = [&](uint64_t w) { return (ignored_fields >> ((ga + w) % W)) & 1; };
  // Word g (counted from the vmemmap base) of a frame holding `im`, from its
  // fields alone: word()'s evaluation below its override search.
  auto field_word = [&](const Image &im, uint64_t g) {
    return W == 8 ? eval(im.fields[g & 7], g >> 3) : eval(im.fields[g % W], g / W);
  };
  if (!x.dense.empty() || !y.dense.empty()) {
    if (x.dense.empty() || y.dense.empty())
      return false;
    for (uint64_t w = 0; w < n; w++)
      if (x.dense[w] != y.dense[w] && !ignored(w))
        return false;
    return true;
  }
  // The slot delta, signed, in the modular arithmetic eval() uses.
  const uint64_t D = gb >= ga ? dist / W : 0 - dist / W;
  const uint64_t S = geo_.struct_page_size;
  const uint64_t sa0 = ga / W, sa1 = (ga + n - 1) / W, sb0 = gb / W, sb1 = (gb + n - 1) / W;
  auto form = [&](const FieldSpec &fs, uint64_t s0, uint64_t s1) -> std::optional<FieldForm> {
    switch (fs.rel) {
    case FieldRel::None:
      return FieldForm{FieldForm::Constant, fs.literal, 0};
    case FieldRel::Self:
      return FieldForm{FieldForm::Affine, fs.literal, 0};
    case FieldRel::FolioHead:
      if (fs.order >= 64)
        return std::nullopt;
      if (fs.order == 0)
        return FieldForm{FieldForm::Affine, fs.literal, 0};
      if ((s0 >> fs.order) == (s1 >> fs.order))
        return FieldForm{FieldForm::Constant, eval(fs, s0), 0};
      return FieldForm{FieldForm::Stepped, fs.literal, fs.order};
    }
    return std::nullopt;
  };
  for (unsigned f = 0; f < W; f++) {
    const FieldSpec &p = x.fields[f], &q = y.fields[f];
    // Equal fields agree at every slot when the two frames lie at the same
    // address, or at once when they do not depend on it (a literal: the
    // Constant case below; the reference takes that way).
    if (((D == 0 || (p.rel == FieldRel::None && !same_page_words_reference)) && p == q) ||
        ((ignored_fields >> f) & 1))
      continue;
    const std::optional<FieldForm> u = form(p, sa0, sa1), v = form(q, sb0, sb1);
    if (!u || !v || u->kind != v->kind)
      return false;
    switch (u->kind) {
    case FieldForm::Constant:
      if (u->value != v->value)
        return false;
      break;
    case FieldForm::Affine:
      // u.lit + base + s*S == v.lit + base + (s + D)*S for every slot s.
      if (u->value != v->value + D * S)
        return false;
      break;
    case FieldForm::Stepped:
      // D whole folios: (s + D) & ~m == (s & ~m) + D.
      if (u->order != v->order || (D & ((uint64_t{1} << u->order) - 1)) != 0 ||
          u->value != v->value + D * S)
        return false;
      break;
    }
  }
  // The fields agree everywhere; the overridden words are compared as words.
  // One merged walk over the two sorted override lists: at each overridden
  // word the other frame's word is its own override there if it has one,
  // else its field's value, which is what word() returns (a word both
  // override is compared once, not twice; the comparison is symmetric).
  // The rule that compared each list against word() is kept as the
  // reference (same_page_words_reference, tests/fastpath).
  if (same_page_words_reference) [[unlikely]] {
    for (const auto &[w, val] : x.overrides)
      if (w < n && !ignored(w) && val != word(b, origin_b, w))
        return false;
    for (const auto &[w, val] : y.overrides)
      if (w < n && !ignored(w) && val != word(a, origin_a, w))
        return false;
    return true;
  }
  const auto &xo = x.overrides, &yo = y.overrides;
  for (size_t i = 0, j = 0; i < xo.size() || j < yo.size();) {
    uint64_t w, vx, vy;
    if (j == yo.size() || (i < xo.size() && xo[i].first < yo[j].first)) {
      w = xo[i].first;
      vx = xo[i++].second;
      vy = field_word(y, gb + w);
    } else if (i == xo.size() || yo[j].first < xo[i].first) {
      w = yo[j].first;
      vy = yo[j++].second;
      vx = field_word(x, ga + w);
    } else {
      w = xo[i].first;
      vx = xo[i++].second;
      vy = yo[j++].second;
    }
    if (w >= n)
      break;  // sorted: every later override lies past the page too
    if (vx != vy && !ignored(w))
      return false;
  }
  return true;
}

uint32_t ImagePool::unshare(uint32_t id) {
  if (id != kZero && images_[id].refs == 1 && !is_interned_[id])
    return id;
  // An interned image is shared by contents: a write makes a private copy.
  uint32_t copy = create(images_[id].fields);
  images_[copy].overrides = images_[id].overrides;
  images_[copy].override_buckets = images_[id].override_buckets;
  images_[copy].dense = images_[id].dense;
  put(id);
  return copy;
}

void ImagePool::densify(uint32_t id, uint64_t origin_vpn) {
  std::vector<uint64_t> d(geo_.words_per_page);
  read_page(id, origin_vpn, d.data());
  Image &im = images_[id];
  im.dense = std::move(d);
  im.overrides = {};
  im.override_buckets = 0;
}

void ImagePool::store_word(uint32_t id, uint64_t origin_vpn, uint64_t w, uint64_t value) {
  Image &im = images_[id];
  if (!im.dense.empty()) {
    im.dense[w] = value;
    return;
  }
  auto it = std::lower_bound(im.overrides.begin(), im.overrides.end(),
                             std::pair<uint32_t, uint64_t>(static_cast<uint32_t>(w), 0),
                             [](auto &a, auto &b) { return a.first < b.first; });
  const bool overridden = it != im.overrides.end() && it->first == w;
  // A value the word's field already gives it at this origin needs no
  // override (the image has one owner, so one origin: word() reads the
  // same either way).  Keeping the overrides to the words that differ
  // from the fields lets whole-page comparisons of a restored page (a copy
  // with its first struct pages rewritten to what they were) compare a few
  // words instead of every rewritten one.  keep_equal_overrides records
  // every store, the representation this replaces (tests/fastpath).
  if (!keep_equal_overrides && w < geo_.words_per_page) {
    const uint64_t g = origin_vpn * geo_.words_per_page + w;
    const uint64_t field_value = eval(im.fields[g % geo_.words_per_struct_page],
                                      g / geo_.words_per_struct_page);
    if (value == field_value) {
      // A stale bucket bit only costs word() a search that finds nothing.
      if (overridden)
        im.overrides.erase(it);
      return;
    }
  }
  if (overridden)
    it->second = value;
  else
    im.overrides.insert(it, {static_cast<uint32_t>(w), value});
  im.override_buckets |= bucket_bit(w);
  if (im.overrides.size() > kMaxOverrides)
    densify(id, origin_vpn);
}

void ImagePool::store_field_all(uint32_t id, uint64_t origin_vpn, unsigned f, uint64_t mask,
                                FieldSpec value) {
  Image &im = images_[id];
  const uint64_t W = geo_.words_per_struct_page;
  auto merged = [&](uint64_t old) { return (old & ~mask) | (value.literal & mask); };
  if (im.dense.empty()) {
    FieldSpec &fs = im.fields[f];
    if (mask == ~uint64_t{0}) {
      fs = value;
    } else if (fs.rel == FieldRel::None && value.rel == FieldRel::None) {
      fs.literal = merged(fs.literal);
    } else {
      densify(id, origin_vpn);
    }
  }
  Image &im2 = images_[id];
  uint64_t g0 = origin_vpn * geo_.words_per_page;
  if (!im2.dense.empty()) {
    for (uint64_t w = 0; w < geo_.words_per_page; w++)
      if ((g0 + w) % W == f)
        im2.dense[w] = mask == ~uint64_t{0} ? eval(value, (g0 + w) / W) : merged(im2.dense[w]);
    return;
  }
  for (auto &[w, v] : im2.overrides)
    if ((g0 + w) % W == f)
      v = mask == ~uint64_t{0} ? eval(value, (g0 + w) / W) : merged(v);
}

}  // namespace hvo
