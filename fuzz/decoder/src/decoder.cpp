// SPDX-License-Identifier: GPL-2.0-only
//
// The fuzz input format (see decoder.h).  One schema per part of the input,
// written once as a template over ByteReader/ByteWriter, so decoding and
// encoding cannot disagree about the layout.
#include "hvo/fuzz/decoder.h"

#include <algorithm>
#include <array>
#include <numeric>
#include <optional>

#include "hvo/fuzz/byte_codec.h"
#include "weighted_table.h"

namespace hvo::fuzz {

namespace {

// ---------------------------------------------------------------------------
// Configuration: a few small indices ("ConfigCode") that materialize into a
// Config.  Tables repeat an entry to weight it: most fuzz time goes to the
// configurations where HVO does something (4K pages, 64-byte struct pages).
// ---------------------------------------------------------------------------

// Page size and sizeof(struct page) together: 64 KiB pages with a 72- or
// 80-byte struct page give a section memmap that is not a whole number of
// pages (2048 * 72 bytes), which no kernel builds.
struct Geometry {
  unsigned page_shift;
  unsigned struct_page_size;
};
constexpr std::array<Geometry, 16> kGeometries = {{
    {12, 64}, {12, 64}, {12, 64}, {12, 64}, {12, 64}, {12, 64}, {12, 64}, {12, 64},
    {12, 72}, {12, 80}, {14, 64}, {14, 64}, {14, 72}, {14, 80}, {16, 64}, {16, 64},
}};
constexpr unsigned kMaxNodes = 4;
constexpr unsigned kMaxZonesPerNode = 3;
// Zone sizes in sections (128 MiB each with the default section bits): one
// section holds a few 2 MiB folios, eight hold a 1 GiB gigantic page.
constexpr std::array<unsigned, 4> kZoneSections = {1, 2, 4, 8};

using W = WeightedEntry;

// Machine sizes (weighted_table.h).  Booting and resetting a machine is
// per struct page too, and a uniform header made the mean machine 19
// sections (600,000 struct pages, the largest 96); a fuzzer that mutates
// header bytes boots a new one at every cache miss.  Most inputs get one
// or two nodes of small zones; every size stays reachable.  Values are
// node counts minus one and indices into kZoneSections (kPpcZoneSections).
constexpr std::array<WeightedEntry, 5> kNodesMinus1Table = {{
    {W::Absolute, 0, 128},
    {W::Absolute, 1, 64},
    {W::Absolute, 2, 24},
    {W::Absolute, 3, 24},
    {W::Any, 0, 16},
}};
constexpr std::array<WeightedEntry, 5> kZoneSizeTable = {{
    {W::Absolute, 0, 144},  // one section: a few 2 MiB folios, a 128 MiB one
    {W::Absolute, 1, 48},   // two: a 256 MiB folio
    {W::Absolute, 2, 24},
    {W::Absolute, 3, 24},   // eight: a 1 GiB gigantic page
    {W::Any, 0, 16},
}};
static_assert(weights_fill_a_byte(kNodesMinus1Table) && weights_fill_a_byte(kZoneSizeTable));
constexpr std::array<bool, 4> kHvoEnabled = {true, true, true, false};
// The architecture, first byte of the header when the space varies it.
constexpr std::array<Arch, 4> kArches = {Arch::X86_64, Arch::X86_64, Arch::X86_64, Arch::Ppc64Radix};
// ppc64-radix zone sizes in its 16 MiB sections: multiples of 8 sections, so
// the boot memmap (PMD leaves of 2 MiB = 128 MiB of memory) ends on a PMD and
// no device range shares a boot leaf (a finding of its own, pinned by
// PpcRadixDax.BootLeafSharedWithDeviceRangeLeavesTailsUninitialised).
constexpr std::array<unsigned, 4> kPpcZoneSections = {8, 16, 32, 64};

struct ZoneLayout {
  unsigned nr;
  std::array<ZoneType, kMaxZonesPerNode> types;
};
// Layouts without ZONE_DEVICE, then those with it (ConfigSpace::device_zone).
constexpr std::array<ZoneLayout, 4> kLayouts = {{
    {1, {ZoneType::Normal}},
    {2, {ZoneType::DMA32, ZoneType::Normal}},
    {2, {ZoneType::Normal, ZoneType::Movable}},
    {3, {ZoneType::DMA, ZoneType::DMA32, ZoneType::Normal}},
}};
constexpr std::array<ZoneLayout, 2> kDeviceLayouts = {{
    {2, {ZoneType::Normal, ZoneType::Device}},
    {3, {ZoneType::DMA32, ZoneType::Normal, ZoneType::Device}},
}};

struct ConfigCode {
  uint8_t arch = 0;
  uint8_t geometry = 0, nodes_minus_1 = 0;
  std::array<uint8_t, kMaxNodes> layout{};
  std::array<std::array<uint8_t, kMaxZonesPerNode>, kMaxNodes> size{};
  uint8_t base = 0, shape = 0, hvo = 0;
  bool hotplug = true;
};

// The context a schema needs that is not in the bytes.  It depends only on
// the profile and the linked model, so each profile's is built once
// (profile_tables below) and the lists are kept per architecture.
struct ConfigContext {
  const ConfigSpace &space;
  // [0] x86-64: the space's shapes the model accepts (never empty) and
  // kGeometries narrowed to the space.  [1] ppc64-radix narrows both to
  // what the model ports for it: the legacy era (Config::validate), and
  // 4K pages with a 64-byte struct page (with 72 or 80 bytes nothing is
  // optimized and the boot memmap does not end on a PMD).
  std::array<std::vector<Shape>, 2> shapes;
  std::array<std::vector<Geometry>, 2> geometries;

  ConfigContext(const ConfigSpace &sp, const std::vector<Shape> &accepted, std::vector<Geometry> geoms)
      : space(sp) {
    shapes[0] = accepted;
    for (const Shape &sh : accepted)
      if (sh.era == Era::Legacy)
        shapes[1].push_back(sh);
    if (shapes[1].empty())
      shapes[1].push_back(Shape{Era::Legacy, Variant::V6_12_0});
    geometries[0] = std::move(geoms);
    geometries[1] = {Geometry{12, 64}};
  }
  unsigned nr_layouts() const {
    return kLayouts.size() + (space.device_zone ? kDeviceLayouts.size() : 0);
  }
  const std::vector<Shape> &arch_shapes(Arch a) const { return shapes[a == Arch::X86_64 ? 0 : 1]; }
  const std::vector<Geometry> &arch_geometries(Arch a) const {
    return geometries[a == Arch::X86_64 ? 0 : 1];
  }
};

Arch arch_of(const ConfigCode &c, const ConfigContext &ctx) {
  return ctx.space.vary_arch ? kArches[c.arch] : Arch::X86_64;
}

const ZoneLayout &layout_at(unsigned i) {
  return i < kLayouts.size() ? kLayouts[i] : kDeviceLayouts[i - kLayouts.size()];
}

template <class IO> void config_schema(IO &io, ConfigCode &c, const ConfigContext &ctx) {
  if (ctx.space.vary_arch)
    io.choice(c.arch, kArches.size());
  const Arch arch = arch_of(c, ctx);
  const std::vector<Shape> &shapes = ctx.arch_shapes(arch);
  io.choice(c.geometry, ctx.arch_geometries(arch).size());
  weighted_schema(io, c.nodes_minus_1, kNodesMinus1Table, 0, 0, ctx.space.max_nodes - 1);
  for (unsigned n = 0; n <= c.nodes_minus_1; ++n) {
    io.choice(c.layout[n], ctx.nr_layouts());
    for (unsigned z = 0; z < layout_at(c.layout[n]).nr; ++z)
      weighted_schema(io, c.size[n][z], kZoneSizeTable, 0, 0, kZoneSections.size() - 1);
  }
  io.choice(c.shape, shapes.size());
  // A base one PMD above the default is aligned for the boot PMD mapping but
  // not to MAX_FOLIO_VMEMMAP_ALIGN: harmless for the pointer encoding, fatal
  // for the mask encoding (sparse_init warns, Kiryl v7 08/18), so only the
  // legacy era gets it; the shared-tail era's version of this is the
  // historic bug switch for the missing alignment check.
  if (ctx.space.vary_vmemmap_base && shapes[c.shape].era == Era::Legacy)
    io.choice(c.base, 4);  // 0..2: the default base; 3: one PMD above it
  io.choice(c.hvo, kHvoEnabled.size());
  io.flag(c.hotplug);
}

// Zone sizes in sections for the architecture.
const std::array<unsigned, 4> &zone_sections(Arch a) {
  return a == Arch::Ppc64Radix ? kPpcZoneSections : kZoneSections;
}

Config materialize(const ConfigCode &c, const ConfigContext &ctx) {
  Config cfg;
  const Arch arch = arch_of(c, ctx);
  const std::vector<Geometry> &geometries = ctx.arch_geometries(arch);
  const std::vector<Shape> &shapes = ctx.arch_shapes(arch);
  if (arch == Arch::Ppc64Radix) {
    cfg.arch = arch;
    cfg.section_size_bits = kPpcSectionSizeBits;
    cfg.vmemmap_base = kPpcRadixVmemmapStart;
  }
  cfg.page_shift = geometries[c.geometry].page_shift;
  cfg.struct_page_size = geometries[c.geometry].struct_page_size;
  cfg.nodes.clear();
  for (unsigned n = 0; n <= c.nodes_minus_1; ++n) {
    NodeSpec node;
    const ZoneLayout &l = layout_at(c.layout[n]);
    for (unsigned z = 0; z < l.nr; ++z)
      node.zones.push_back(
          ZoneSpec{l.types[z], zone_sections(arch)[c.size[n][z]] * cfg.pages_per_section()});
    cfg.nodes.push_back(std::move(node));
  }
  if (c.base == 3)
    cfg.vmemmap_base += cfg.pmd_size();
  cfg.era = shapes[c.shape].era;
  cfg.variant = shapes[c.shape].variant;
  cfg.hvo_enabled = kHvoEnabled[c.hvo];
  cfg.memory_hotplug = c.hotplug;
  return cfg;
}

template <class Table, class T> std::optional<uint8_t> index_of(const Table &t, T v) {
  auto it = std::find(t.begin(), t.end(), v);
  if (it == t.end())
    return std::nullopt;
  return static_cast<uint8_t>(it - t.begin());
}

// The inverse of materialize(), or an error naming the first field that the
// target's configuration space cannot express.
std::string find_code(const Config &cfg, const ConfigContext &ctx, ConfigCode &c) {
  Config def;
  if (cfg.arch != Arch::X86_64) {
    if (!ctx.space.vary_arch)
      return "arch " + std::string(arch_name(cfg.arch)) + " is not in this target's space";
    c.arch = *index_of(kArches, cfg.arch);
    def.section_size_bits = kPpcSectionSizeBits;
    def.vmemmap_base = kPpcRadixVmemmapStart;
  } else {
    c.arch = 0;
  }
  const std::vector<Geometry> &geometries = ctx.arch_geometries(cfg.arch);
  const std::vector<Shape> &shapes = ctx.arch_shapes(cfg.arch);
  std::optional<uint8_t> g;
  for (size_t i = 0; i < geometries.size() && !g; ++i)
    if (geometries[i].page_shift == cfg.page_shift &&
        geometries[i].struct_page_size == cfg.struct_page_size)
      g = static_cast<uint8_t>(i);
  if (!g)
    return "page-size " + format_size(cfg.page_size()) + " with struct-page " +
           std::to_string(cfg.struct_page_size) + " is not in this target's space";
  c.geometry = *g;
  if (cfg.section_size_bits != def.section_size_bits ||
      cfg.subsection_size_bits != def.subsection_size_bits)
    return "section-bits/subsection-bits must be the defaults (" +
           std::to_string(def.section_size_bits) + "/" + std::to_string(def.subsection_size_bits) + ")";
  if (cfg.nodes.empty() || cfg.nodes.size() > ctx.space.max_nodes)
    return "this target takes 1.." + std::to_string(ctx.space.max_nodes) + " nodes";
  c.nodes_minus_1 = static_cast<uint8_t>(cfg.nodes.size() - 1);
  for (unsigned n = 0; n < cfg.nodes.size(); ++n) {
    const NodeSpec &node = cfg.nodes[n];
    std::optional<uint8_t> found;
    for (unsigned i = 0; i < ctx.nr_layouts() && !found; ++i) {
      const ZoneLayout &l = layout_at(i);
      bool same = l.nr == node.zones.size();
      for (unsigned z = 0; same && z < l.nr; ++z)
        same = l.types[z] == node.zones[z].type;
      if (same)
        found = static_cast<uint8_t>(i);
    }
    if (!found)
      return "node " + std::to_string(n) + ": zone layout is not one the decoder makes";
    c.layout[n] = *found;
    for (unsigned z = 0; z < node.zones.size(); ++z) {
      const uint64_t sections = node.zones[z].pages / cfg.pages_per_section();
      auto k = index_of(zone_sections(cfg.arch), static_cast<unsigned>(sections));
      if (!k || node.zones[z].pages % cfg.pages_per_section() != 0 || sections > UINT32_MAX)
        return "node " + std::to_string(n) + ": zone size " +
               format_size(node.zones[z].pages * cfg.page_size()) +
               (cfg.arch == Arch::X86_64 ? " is not 1, 2, 4 or 8 sections"
                                         : " is not 8, 16, 32 or 64 sections");
      c.size[n][z] = *k;
    }
  }
  auto sh = index_of(shapes, Shape{cfg.era, cfg.variant});
  if (!sh)
    return "era=" + std::string(cfg.era == Era::Legacy ? "legacy" : "shared-tail") + " variant=" +
           std::string(variant_name(cfg.variant)) +
           " is not one this target runs (or the model does not have it)";
  c.shape = *sh;
  if (cfg.vmemmap_base == def.vmemmap_base)
    c.base = 0;
  else if (ctx.space.vary_vmemmap_base && cfg.era == Era::Legacy &&
           cfg.vmemmap_base == def.vmemmap_base + cfg.pmd_size())
    c.base = 3;
  else
    return "vmemmap-base must be the default" +
           std::string(ctx.space.vary_vmemmap_base ? " (or, in the legacy era, one PMD above it)" : "");
  c.hvo = cfg.hvo_enabled ? 0 : 3;
  c.hotplug = cfg.memory_hotplug;
  if (cfg.bugs.any())
    return "bug switches are not part of the fuzz input (set HVO_FUZZ_BUGS instead)";
  return {};
}

// ---------------------------------------------------------------------------
// Operation arguments.  The model's OpArgSpec gives the range the kernel
// accepts; the decoder narrows it to where the interesting behaviour is, and
// keeps the edges (one node that does not exist, folio ids past the live
// ones) so refusals are still exercised.
// ---------------------------------------------------------------------------

constexpr uint64_t kMaxFolioId = 31;

// Size arguments, weighted (weighted_table.h).  Every value of the op's
// range stays reachable through the "any" entry; most of the byte space
// goes where HVO acts and the model's per-struct-page work is small.
// Geometry entries are written at 4K pages (smallest HVO order 7, PMD
// order 9) and move with the page size (9 and 11 at 16K, 11 and 13 at 64K).

// Folio orders (alloc_folio, alloc_folios, demote, boot_gigantic,
// boot_gigantic_at).  At 4K, 78% of the bytes give orders 7-11 (128-2,048
// struct pages); the mean folio is ~9,400 struct pages (~5,500 of them from
// the 2% of 1 GiB folios) against ~29,000 for a uniform 1..18.
constexpr std::array<WeightedEntry, 10> kOrderTable = {{
    {W::Geometry, 9, 80},   // PMD order: the 2 MiB hstate, 7 vmemmap pages freed
    {W::Geometry, 7, 48},   // the smallest order HVO optimizes: two vmemmap pages
    {W::Geometry, 8, 32},   // DAX-6.12's smallest (V = 4 > 2)
    {W::Geometry, 10, 24},  // 4 MiB: 15 vmemmap pages freed, still cheap
    {W::Geometry, 6, 20},   // one vmemmap page: HVO leaves it alone
    {W::Geometry, 11, 8},
    {W::Absolute, 12, 8},   // 16 MiB: a pool of a few fills a zone and spills into the next
    {W::Absolute, 16, 8},   // 256 MiB: vmemmap over two PMDs (rollback), MAX_FOLIO_VMEMMAP_ALIGN
    {W::Absolute, 18, 4},   // 1 GiB: gigantic pages
    {W::Any, 0, 24},        // 1..18, orders 1-5 included
}};

// Folio counts (alloc_folios, boot_gigantic, the batch ops): a batch of one
// to four folios shows what batching does; larger ones mostly cost more.
constexpr std::array<WeightedEntry, 7> kCountTable = {{
    {W::Absolute, 1, 96},
    {W::Absolute, 2, 64},
    {W::Absolute, 3, 32},
    {W::Absolute, 4, 24},
    {W::Absolute, 8, 8},
    {W::Absolute, 16, 8},
    {W::Any, 0, 24},
}};

// Device-DAX vmemmap_shift (0..19): the compound page size of a range.
constexpr std::array<WeightedEntry, 8> kDaxShiftTable = {{
    {W::Geometry, 9, 88},   // PMD: device-dax's usual 2 MiB alignment
    {W::Absolute, 0, 48},   // no compound pages: nothing shared
    {W::Geometry, 8, 24},   // V = 4: the smallest DAX-6.12 optimizes
    {W::Geometry, 7, 24},   // V = 2: optimized after Muchun's series only
    {W::Geometry, 6, 16},   // one vmemmap page per compound page
    {W::Geometry, 10, 16},
    {W::Absolute, 18, 8},   // 1 GiB compound pages (PUD at 4K)
    {W::Any, 0, 32},
}};

// Device-DAX range lengths in units (dax_unit, 1..1024): one to a few
// units, a section's worth (64 units of 2 MiB at 4K) now and then.
constexpr std::array<WeightedEntry, 10> kDaxUnitsTable = {{
    {W::Absolute, 1, 100},
    {W::Absolute, 2, 56},
    {W::Absolute, 3, 24},
    {W::Absolute, 4, 24},
    {W::Absolute, 8, 16},
    {W::Absolute, 16, 8},
    {W::Absolute, 32, 8},
    {W::Absolute, 64, 8},
    {W::Absolute, 128, 8},
    {W::Any, 0, 4},
}};

static_assert(weights_fill_a_byte(kOrderTable) && weights_fill_a_byte(kCountTable) &&
              weights_fill_a_byte(kDaxShiftTable) && weights_fill_a_byte(kDaxUnitsTable));

struct ArgContext {
  const Config &cfg;
  // The op's vmemmap_shift once decoded (0 before): device-DAX ranges are
  // aligned to their compound page size, as device-dax aligns them.
  unsigned dax_shift = 0;
};

// The order arguments of an op are decoded in: "shift" first, because the
// alignment of a DAX range's pfn and length depends on it.
std::vector<size_t> arg_order(const OpDescriptor &d) {
  std::vector<size_t> order;
  for (size_t a = 0; a < d.args.size(); ++a)
    if (d.args[a].name == "shift")
      order.push_back(a);
  for (size_t a = 0; a < d.args.size(); ++a)
    if (d.args[a].name != "shift")
      order.push_back(a);
  return order;
}

// A struct page index inside a folio: small indices (head, the first tails
// that hold folio metadata), the slots around each vmemmap page boundary
// (where fake heads and shared tails start), or anything.
template <class IO> void index_schema(IO &io, uint64_t &v, const OpArgSpec &spec, const ArgContext &ctx) {
  const uint64_t spp = ctx.cfg.spp();
  uint8_t cls = 0;
  if constexpr (!IO::kDecoding) {
    const uint64_t k = spp ? v / spp : 0, d = spp ? v % spp : 0;
    if (v < 256 && v >= spec.min)
      cls = 0;
    else if (spp && k < 256 && (d == 0 || d == 1 || d == spp - 1) && v >= spec.min && v <= spec.max)
      cls = 1;
    else
      cls = 2;
  }
  io.choice(cls, 3);
  if (cls == 0) {
    io.range(v, spec.min, std::min<uint64_t>(spec.max, spec.min + 255));
  } else if (cls == 1) {
    uint8_t k = 0, d = 0;
    if constexpr (!IO::kDecoding) {
      k = static_cast<uint8_t>(v / spp);
      d = v % spp == 0 ? 0 : v % spp == 1 ? 1 : 2;
    }
    io.range(k, 0, 255);
    io.choice(d, 3);
    if constexpr (IO::kDecoding) {
      const uint64_t off = d == 0 ? 0 : d == 1 ? 1 : spp - 1;
      v = std::clamp<uint64_t>(static_cast<uint64_t>(k) * spp + off, spec.min, spec.max);
    }
  } else {
    io.range(v, spec.min, spec.max);
  }
}

// The granularity of a device-DAX range: memremap_pages takes subsection
// aligned ranges (__add_pages WARNs and fails otherwise), and the generic
// vmemmap_populate_range() BUGs unless the range's memmap is whole pages,
// which with 16K/64K pages or a 72/80-byte struct page takes more than one
// subsection.  Device-dax aligns its ranges to both, so the decoder does.
uint64_t dax_unit(const ArgContext &ctx) {
  const Config &cfg = ctx.cfg;
  const uint64_t sub = cfg.pages_per_subsection();
  const uint64_t whole_pages = cfg.page_size() / std::gcd(cfg.page_size(), uint64_t{cfg.struct_page_size});
  const uint64_t unit = std::lcm(std::lcm(sub, whole_pages), uint64_t{1} << ctx.dax_shift);
  // ppc64-radix: whole vmemmap PMDs (128 MiB of memory).  Smaller ranges
  // share a PMD block that radix__vmemmap_populate maps for the first of
  // them, which gives the two radix findings (docs/findings-model.md,
  // "powerpc radix") on nearly every input; they are pinned by tests, and
  // the fuzz space stays on the population paths themselves.
  if (cfg.arch == Arch::Ppc64Radix)
    return std::lcm(unit, cfg.pmd_size() / cfg.struct_page_size);
  return unit;
}

// A device-DAX range start: right after boot memory, or reaching back into
// boot memory (refused: it overlaps System RAM), in units.
template <class IO> void dax_pfn_schema(IO &io, uint64_t &v, const OpArgSpec &spec, const ArgContext &ctx) {
  const uint64_t unit = dax_unit(ctx), end = ctx.cfg.total_pages();
  const uint64_t kmax_before = std::min<uint64_t>(255, end / unit ? end / unit - 1 : 0);
  const uint64_t kmax_after = std::min<uint64_t>(255, spec.max > end ? (spec.max - end) / unit : 0);
  bool before = false;
  uint8_t k = 0;
  if constexpr (!IO::kDecoding) {
    before = v < end;
    const uint64_t dist = before ? end - v : v - end;
    const uint64_t kk = before ? dist / unit - 1 : dist / unit;
    if (dist % unit != 0 || (before && (dist == 0 || end / unit == 0)) ||
        kk > (before ? kmax_before : kmax_after)) {
      io.fail("pfn " + std::to_string(v) + " is not the end of boot memory (" + std::to_string(end) +
              ") plus or minus a multiple of " + std::to_string(unit) + " pages in the decodable range");
      return;
    }
    k = static_cast<uint8_t>(kk);
  }
  io.flag(before);
  if (before && end / unit == 0)
    before = false;  // no room before: decodes as "after"
  io.range(k, 0, before ? kmax_before : kmax_after);
  if constexpr (IO::kDecoding)
    v = before ? end - (k + uint64_t{1}) * unit : end + k * unit;
}

// A device-DAX range length: 1..1024 units, weighted to a few units.
template <class IO> void dax_pages_schema(IO &io, uint64_t &v, const OpArgSpec &spec, const ArgContext &ctx) {
  const uint64_t unit = dax_unit(ctx);
  const uint64_t max_units = std::clamp<uint64_t>(spec.max / unit, 1, 1024);
  uint16_t k = 0;
  if constexpr (!IO::kDecoding) {
    if (v % unit != 0 || v / unit < 1 || v / unit > max_units) {
      io.fail("pages " + std::to_string(v) + " is not 1.." + std::to_string(max_units) + " units of " +
              std::to_string(unit) + " pages");
      return;
    }
    k = static_cast<uint16_t>(v / unit);
  }
  weighted_schema(io, k, kDaxUnitsTable, 0, 1, max_units);
  if constexpr (IO::kDecoding)
    v = k * unit;
}

// page_shift - 12: how far the Geometry entries of the size tables move.
int geometry_delta(const ArgContext &ctx) { return static_cast<int>(ctx.cfg.page_shift) - 12; }

template <class IO> void arg_schema(IO &io, uint64_t &v, const OpArgSpec &spec, const ArgContext &ctx) {
  const std::string_view name = spec.name;
  if (name == "folio" || name == "first") {
    io.range(v, spec.min, std::min(spec.max, kMaxFolioId));
  } else if (name == "node") {
    // Every node that exists, and the first one that does not.
    io.range(v, spec.min, std::min<uint64_t>(spec.max, ctx.cfg.nodes.size()));
  } else if (name == "index") {
    index_schema(io, v, spec, ctx);
  } else if (name == "unless") {
    // page_ref_add_unless(page, nr, u) has two callers, folio_ref_try_add()
    // and get_page_unless_zero(), and both pass u = 0: a speculative get
    // never takes a reference on a page whose count is zero.
    io.range(v, 0, 0);
  } else if (name == "order") {
    weighted_schema(io, v, kOrderTable, geometry_delta(ctx), spec.min, spec.max);
  } else if (name == "count") {
    weighted_schema(io, v, kCountTable, 0, spec.min, spec.max);
  } else if (name == "shift") {
    // At most the largest compound page a range of spec.max("pages") holds.
    weighted_schema(io, v, kDaxShiftTable, geometry_delta(ctx), spec.min, std::min<uint64_t>(spec.max, 19));
  } else if (name == "pfn") {
    dax_pfn_schema(io, v, spec, ctx);
  } else if (name == "pages") {
    dax_pages_schema(io, v, spec, ctx);
  } else if (name == "pgmap") {
    io.range(v, spec.min, std::min<uint64_t>(spec.max, 7));
  } else if (name == "nr") {
    io.range(v, std::max<uint64_t>(spec.min, 1), spec.max);  // no caller adds 0
  } else {
    io.range(v, spec.min, spec.max);
  }
}

std::vector<Geometry> space_geometries(const ConfigSpace &space) {
  std::vector<Geometry> out;
  for (const Geometry &g : kGeometries)
    if ((space.vary_page_size || g.page_shift == 12) && (space.vary_struct_page || g.struct_page_size == 64))
      out.push_back(g);
  return out;
}

// The op kinds of the profile that the linked model provides, in profile order.
std::vector<uint16_t> model_kinds(const TargetProfile &p) {
  std::vector<uint16_t> kinds;
  const auto table = op_table();
  for (std::string_view name : p.ops)
    if (const OpDescriptor *d = find_op(name))
      kinds.push_back(static_cast<uint16_t>(d - table.data()));
  return kinds;
}

// The profile's shapes that Config::validate accepts (never empty).
std::vector<Shape> model_shapes(const TargetProfile &p) {
  std::vector<Shape> shapes;
  for (const Shape &sh : p.config.shapes) {
    Config probe;
    probe.era = sh.era;
    probe.variant = sh.variant;
    if (probe.validate().empty())
      shapes.push_back(sh);
  }
  if (shapes.empty())
    shapes.push_back(Shape{Era::Legacy, Variant::V6_12_0});
  return shapes;
}

// What decoding needs from a profile besides the bytes.  Building it looks
// ops up by name and validates a Config per shape, which was ~15% of an
// empty input's time when it was done per input: cached per profile.
struct ProfileTables {
  ConfigContext config;
  std::vector<uint16_t> kinds;
};

ProfileTables make_profile_tables(const TargetProfile &p) {
  return ProfileTables{ConfigContext(p.config, model_shapes(p), space_geometries(p.config)), model_kinds(p)};
}

// The tables of a profile from profile_list(), built on first use; nullptr
// for a profile the caller made itself.
const ProfileTables *cached_profile_tables(const TargetProfile &p);

template <class IO> void input_schema(IO &io, const TargetProfile &p, Scenario &s) {
  std::optional<ProfileTables> own;
  const ProfileTables *tables = cached_profile_tables(p);
  if (!tables)
    tables = &own.emplace(make_profile_tables(p));
  const ConfigContext &cctx = tables->config;
  ConfigCode code;
  if constexpr (!IO::kDecoding) {
    std::string err = find_code(s.config, cctx, code);
    if (!err.empty()) {
      io.fail("config: " + err);
      return;
    }
  }
  config_schema(io, code, cctx);
  if constexpr (IO::kDecoding)
    s.config = materialize(code, cctx);

  const std::vector<uint16_t> &kinds = tables->kinds;
  if (kinds.empty())
    return;
  ArgContext actx{s.config};
  const auto table = op_table();
  if constexpr (IO::kDecoding) {
    while (!io.exhausted() && s.ops.size() < p.max_ops) {
      uint16_t sel = 0;
      io.choice(sel, kinds.size());
      Op op;
      op.kind = kinds[sel];
      const OpDescriptor &d = table[op.kind];
      actx.dax_shift = 0;
      for (size_t a : arg_order(d)) {
        arg_schema(io, op.args[a], d.args[a], actx);
        if (d.args[a].name == "shift")
          actx.dax_shift = static_cast<unsigned>(op.args[a]);
      }
      s.ops.push_back(op);
    }
  } else {
    if (s.ops.size() > p.max_ops) {
      io.fail(std::to_string(s.ops.size()) + " operations; " + std::string(p.name) +
              " decodes at most " + std::to_string(p.max_ops));
      return;
    }
    for (size_t i = 0; i < s.ops.size(); ++i) {
      Op op = s.ops[i];
      const std::string where = "op " + std::to_string(i + 1) +
                                (i < s.lines.size() && s.lines[i] ? " (line " + std::to_string(s.lines[i]) + ")" : "");
      io.set_context(where);
      auto sel = index_of(kinds, op.kind);
      if (!sel || op.kind >= table.size()) {
        io.fail("'" + print_op(op) + "' is not in " + std::string(p.name) + "'s op family");
        return;
      }
      io.choice(*sel, kinds.size());
      const OpDescriptor &d = table[op.kind];
      actx.dax_shift = 0;
      for (size_t a : arg_order(d)) {
        io.set_context(where + " argument " + std::string(d.args[a].name));
        arg_schema(io, op.args[a], d.args[a], actx);
        if (d.args[a].name == "shift")
          actx.dax_shift = static_cast<unsigned>(std::min<uint64_t>(op.args[a], 19));
      }
      for (size_t a = d.args.size(); a < kMaxOpArgs; ++a)
        if (op.args[a] != 0)
          io.fail("unused argument slot holds a value");
    }
  }
}

// ---------------------------------------------------------------------------
// Profiles.  Appending an op to a family changes the meaning of existing
// binary corpora; the checked-in seeds are text and are re-encoded at build
// time, so only fuzzer-grown corpora are affected (docs/fuzzing.md).
// ---------------------------------------------------------------------------

const std::vector<TargetProfile> &profile_list() {
  static const std::vector<TargetProfile> list = {
      {"hvo_fuzz_compound_head",
       {"alloc_folio", "alloc_folios", "optimize", "restore", "demote", "free_folio",
        "ref_add_unless", "memory_failure", "compound_head"},
       ConfigSpace{.max_nodes = 1, .vary_vmemmap_base = true},
       32},
      {"hvo_fuzz_hugetlb",
       {"alloc_folio", "alloc_folios", "optimize", "optimize_batch", "restore", "restore_batch",
        "free_folio", "free_folios", "get_folio", "put_folio", "demote", "memory_failure",
        "ref_add_unless", "sysctl_hvo", "flush_tlb_all", "fail_nth", "fail_node",
        // muchun's CONFIG_FAIL_HUGETLB_VMEMMAP (partial HVO; -EINVAL elsewhere)
        "fail_vmemmap_pte", "fail_vmemmap_pmd"},
       ConfigSpace{.max_nodes = 4},
       48},
      {"hvo_fuzz_dax",
       {"dax_add", "dax_add_altmap", "dax_remove", "fail_nth", "fail_node", "flush_tlb_all"},
       ConfigSpace{.max_nodes = 2, .vary_arch = true},
       32},
      {"hvo_fuzz_boot",
       {"boot_gigantic", "alloc_folio", "optimize", "optimize_batch", "restore", "restore_batch",
        "free_folio", "free_folios", "demote", "memory_failure", "sysctl_hvo", "fail_nth",
        "fail_node", "boot_gigantic_at"},
       ConfigSpace{.max_nodes = 4, .vary_page_size = false},
       32},
      {"hvo_fuzz_differential",
       {"alloc_folio", "alloc_folios", "optimize", "optimize_batch", "restore", "restore_batch",
        "free_folio", "free_folios", "get_folio", "put_folio", "demote", "memory_failure",
        "fail_nth"},
       ConfigSpace{.max_nodes = 2, .shapes = {{Era::Legacy, Variant::V6_12_0}}},
       32, Runner::Differential},
      // Its input is a RaceInput (race_input.h), not ops.
      {"hvo_fuzz_race", {}, ConfigSpace{}, 0, Runner::Race},
  };
  return list;
}

const ProfileTables *cached_profile_tables(const TargetProfile &p) {
  // A function-local static: built once, thread-safe (C++11 magic statics).
  static const std::vector<ProfileTables> cache = [] {
    std::vector<ProfileTables> out;
    for (const TargetProfile &q : profile_list())
      out.push_back(make_profile_tables(q));
    return out;
  }();
  const std::vector<TargetProfile> &list = profile_list();
  for (size_t i = 0; i < list.size(); ++i)
    if (&list[i] == &p)
      return &cache[i];
  return nullptr;
}

}  // namespace

std::span<const TargetProfile> profiles() { return profile_list(); }

const TargetProfile *find_profile(std::string_view target) {
  for (const TargetProfile &p : profile_list())
    if (p.name == target)
      return &p;
  return nullptr;
}

std::vector<uint16_t> profile_kinds(const TargetProfile &p) {
  const ProfileTables *t = cached_profile_tables(p);
  return t ? t->kinds : model_kinds(p);
}

std::vector<Shape> profile_shapes(const TargetProfile &p) {
  const ProfileTables *t = cached_profile_tables(p);
  return t ? t->config.shapes[0] : model_shapes(p);
}

Scenario decode_input(const TargetProfile &p, std::span<const uint8_t> data) {
  ByteReader r(data);
  Scenario s;
  input_schema(r, p, s);
  return s;
}

std::string encode_scenario(const TargetProfile &p, const Scenario &s, std::vector<uint8_t> &bytes) {
  ByteWriter w;
  Scenario copy = s;
  input_schema(w, p, copy);
  if (!w.error().empty())
    return w.error();
  bytes = w.bytes();
  return {};
}

} // namespace hvo::fuzz
