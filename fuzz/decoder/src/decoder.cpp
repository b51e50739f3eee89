// SPDX-License-Identifier: GPL-2.0-only
//
// The fuzz input format (see decoder.h).  One schema per part of the input,
// written once as a template over ByteReader/ByteWriter, so decoding and
// encoding cannot disagree about the layout.
#include "hvo/fuzz/decoder.h"

#include <algorithm>
#include <array>
#include <optional>

#include "hvo/fuzz/byte_codec.h"

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
constexpr std::array<bool, 4> kHvoEnabled = {true, true, true, false};

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
  uint8_t geometry = 0, nodes_minus_1 = 0;
  std::array<uint8_t, kMaxNodes> layout{};
  std::array<std::array<uint8_t, kMaxZonesPerNode>, kMaxNodes> size{};
  uint8_t base = 0, era = 0, variant = 0, hvo = 0;
  bool hotplug = true;
};

// The context a schema needs that is not in the bytes.
struct ConfigContext {
  const ConfigSpace &space;
  std::vector<Era> eras;  // the space's eras the model accepts, never empty
  std::vector<Geometry> geometries;  // kGeometries narrowed to the space
  unsigned nr_layouts() const {
    return kLayouts.size() + (space.device_zone ? kDeviceLayouts.size() : 0);
  }
};

const ZoneLayout &layout_at(unsigned i) {
  return i < kLayouts.size() ? kLayouts[i] : kDeviceLayouts[i - kLayouts.size()];
}

template <class IO> void config_schema(IO &io, ConfigCode &c, const ConfigContext &ctx) {
  io.choice(c.geometry, ctx.geometries.size());
  io.range(c.nodes_minus_1, 0, ctx.space.max_nodes - 1);
  for (unsigned n = 0; n <= c.nodes_minus_1; ++n) {
    io.choice(c.layout[n], ctx.nr_layouts());
    for (unsigned z = 0; z < layout_at(c.layout[n]).nr; ++z)
      io.choice(c.size[n][z], kZoneSections.size());
  }
  if (ctx.space.vary_vmemmap_base)
    io.choice(c.base, 4);  // 0..2: the default base; 3: one PMD above it
  io.choice(c.era, ctx.eras.size());
  io.choice(c.variant, ctx.space.variants.size());
  io.choice(c.hvo, kHvoEnabled.size());
  io.flag(c.hotplug);
}

Config materialize(const ConfigCode &c, const ConfigContext &ctx) {
  Config cfg;
  cfg.page_shift = ctx.geometries[c.geometry].page_shift;
  cfg.struct_page_size = ctx.geometries[c.geometry].struct_page_size;
  cfg.nodes.clear();
  for (unsigned n = 0; n <= c.nodes_minus_1; ++n) {
    NodeSpec node;
    const ZoneLayout &l = layout_at(c.layout[n]);
    for (unsigned z = 0; z < l.nr; ++z)
      node.zones.push_back(ZoneSpec{l.types[z], kZoneSections[c.size[n][z]] * cfg.pages_per_section()});
    cfg.nodes.push_back(std::move(node));
  }
  if (c.base == 3)
    cfg.vmemmap_base += cfg.pmd_size();
  cfg.era = ctx.eras[c.era];
  cfg.variant = ctx.space.variants[c.variant];
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
  const Config def;
  std::optional<uint8_t> g;
  for (size_t i = 0; i < ctx.geometries.size() && !g; ++i)
    if (ctx.geometries[i].page_shift == cfg.page_shift &&
        ctx.geometries[i].struct_page_size == cfg.struct_page_size)
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
      auto k = index_of(kZoneSections, static_cast<unsigned>(sections));
      if (!k || node.zones[z].pages % cfg.pages_per_section() != 0 || sections > UINT32_MAX)
        return "node " + std::to_string(n) + ": zone size " +
               format_size(node.zones[z].pages * cfg.page_size()) +
               " is not 1, 2, 4 or 8 sections";
      c.size[n][z] = *k;
    }
  }
  if (cfg.vmemmap_base == def.vmemmap_base)
    c.base = 0;
  else if (ctx.space.vary_vmemmap_base && cfg.vmemmap_base == def.vmemmap_base + cfg.pmd_size())
    c.base = 3;
  else
    return "vmemmap-base must be the default" +
           std::string(ctx.space.vary_vmemmap_base ? " or one PMD above it" : "");
  auto e = index_of(ctx.eras, cfg.era);
  if (!e)
    return "era is not one this target runs (or the model does not have it yet)";
  c.era = *e;
  auto v = index_of(ctx.space.variants, cfg.variant);
  if (!v)
    return std::string("variant=") + (cfg.variant == Variant::D612 ? "D612" : "v6.12.0") +
           " is not one this target runs";
  c.variant = *v;
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

struct ArgContext {
  const Config &cfg;
};

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

template <class IO> void input_schema(IO &io, const TargetProfile &p, Scenario &s) {
  ConfigContext cctx{p.config, profile_eras(p), space_geometries(p.config)};
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

  const std::vector<uint16_t> kinds = profile_kinds(p);
  if (kinds.empty())
    return;
  const ArgContext actx{s.config};
  const auto table = op_table();
  if constexpr (IO::kDecoding) {
    while (!io.exhausted() && s.ops.size() < p.max_ops) {
      uint16_t sel = 0;
      io.choice(sel, kinds.size());
      Op op;
      op.kind = kinds[sel];
      const OpDescriptor &d = table[op.kind];
      for (size_t a = 0; a < d.args.size(); ++a)
        arg_schema(io, op.args[a], d.args[a], actx);
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
      for (size_t a = 0; a < d.args.size(); ++a) {
        io.set_context(where + " argument " + std::string(d.args[a].name));
        arg_schema(io, op.args[a], d.args[a], actx);
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
       ConfigSpace{.max_nodes = 1, .vary_vmemmap_base = true, .eras = {Era::Legacy, Era::SharedTail}},
       32},
      {"hvo_fuzz_hugetlb",
       {"alloc_folio", "alloc_folios", "optimize", "optimize_batch", "restore", "restore_batch",
        "free_folio", "free_folios", "get_folio", "put_folio", "demote", "memory_failure",
        "ref_add_unless", "sysctl_hvo", "flush_tlb_all", "fail_nth", "fail_node"},
       ConfigSpace{.max_nodes = 4, .eras = {Era::Legacy, Era::SharedTail}},
       48},
      {"hvo_fuzz_dax",
       {"dax_add", "dax_remove", "dax_memory_failure", "ref_add_unless", "fail_nth", "fail_node",
        "flush_tlb_all"},
       ConfigSpace{.max_nodes = 2, .device_zone = true, .eras = {Era::Legacy, Era::SharedTail}},
       32},
      {"hvo_fuzz_boot",
       {"boot_gigantic", "alloc_folio", "optimize", "optimize_batch", "restore", "restore_batch",
        "free_folio", "free_folios", "demote", "memory_failure", "sysctl_hvo", "fail_nth",
        "fail_node"},
       ConfigSpace{.max_nodes = 4, .vary_page_size = false, .eras = {Era::Legacy, Era::SharedTail}},
       32},
      {"hvo_fuzz_differential",
       {"alloc_folio", "alloc_folios", "optimize", "optimize_batch", "restore", "restore_batch",
        "free_folio", "free_folios", "get_folio", "put_folio", "demote", "memory_failure",
        "fail_nth"},
       ConfigSpace{.max_nodes = 2, .eras = {Era::Legacy}},
       32},
      {"hvo_fuzz_race",
       {"alloc_folio", "optimize", "restore", "free_folio", "ref_add_unless", "race"},
       ConfigSpace{.max_nodes = 2, .eras = {Era::Legacy, Era::SharedTail}},
       24},
  };
  return list;
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
  std::vector<uint16_t> kinds;
  const auto table = op_table();
  for (std::string_view name : p.ops)
    if (const OpDescriptor *d = find_op(name))
      kinds.push_back(static_cast<uint16_t>(d - table.data()));
  return kinds;
}

std::vector<Era> profile_eras(const TargetProfile &p) {
  std::vector<Era> eras;
  for (Era e : p.config.eras) {
    Config probe;
    probe.era = e;
    if (probe.validate().empty())
      eras.push_back(e);
  }
  if (eras.empty())
    eras.push_back(Era::Legacy);
  return eras;
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
