// SPDX-License-Identifier: GPL-2.0-only
//
// Config validation and its one-line text form.
#include "hvo/config.h"

#include <array>
#include <charconv>
#include <cinttypes>
#include <cstdio>

namespace hvo {

namespace {

constexpr std::array<std::string_view, kNrZoneTypes> kZoneNames = {"DMA", "DMA32", "Normal",
                                                                   "Movable", "Device"};

// Historic bug switches (issue 5).  Index = bit in BugSet = enum Bug.
constexpr std::array<std::string_view, 10> kBugNames = {
    "get-tail-plain-store",
    "tail-init-no-node-mapcount",
    "zonenum-per-node-tail",
    "memmap-init-shared-tail",
    "rollback-flush-wrong-start",
    "no-memmap-alignment-check",
    "speculative-ref-fake-head-first",
    "hvo-no-synchronize-rcu",
    "restore-no-reset-struct-pages",
    "ppc-compound-wrong-pfn",
};
static_assert(kBugNames.size() == static_cast<unsigned>(Bug::PpcCompoundWrongPfn) + 1);

// The model keeps one small record per frame that backs the memmap; this
// bounds host memory (64 Mi frames ~ 1 GiB of records).
constexpr uint64_t kMaxMemmapFrames = 1ull << 26;

std::optional<uint64_t> parse_u64(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty())
    return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size())
    return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos
                                                                 : pos - start));
    if (pos == std::string_view::npos)
      break;
    start = pos + 1;
  }
  return out;
}

bool parse_mem(std::string_view v, Config &c, std::string &err) {
  std::vector<NodeSpec> nodes;
  for (std::string_view item : split(v, ',')) {
    auto parts = split(item, ':');
    if (parts.size() != 3) {
      err = "mem entry '" + std::string(item) + "' is not NODE:ZONE:SIZE";
      return false;
    }
    auto nid = parse_u64(parts[0]);
    auto zt = parse_zone_type(parts[1]);
    auto size = parse_size(parts[2]);
    if (!nid || *nid > 63) {
      err = "mem entry '" + std::string(item) + "': node must be 0..63";
      return false;
    }
    if (!zt) {
      err = "mem entry '" + std::string(item) + "': unknown zone '" + std::string(parts[1]) +
            "' (DMA, DMA32, Normal, Movable, Device)";
      return false;
    }
    if (!size || *size == 0) {
      err = "mem entry '" + std::string(item) + "': bad size '" + std::string(parts[2]) + "'";
      return false;
    }
    if (*nid == nodes.size())
      nodes.emplace_back();
    else if (*nid + 1 != nodes.size()) {
      err = "mem entry '" + std::string(item) + "': nodes must be listed in order 0, 1, ...";
      return false;
    }
    if (*size % c.page_size() != 0) {
      err = "mem entry '" + std::string(item) + "': size is not a multiple of the page size";
      return false;
    }
    nodes.back().zones.push_back(ZoneSpec{*zt, *size / c.page_size()});
  }
  c.nodes = std::move(nodes);
  return true;
}

}  // namespace

std::string_view zone_type_name(ZoneType t) { return kZoneNames[static_cast<unsigned>(t)]; }

std::optional<ZoneType> parse_zone_type(std::string_view name) {
  for (unsigned i = 0; i < kZoneNames.size(); i++)
    if (kZoneNames[i] == name)
      return static_cast<ZoneType>(i);
  return std::nullopt;
}

std::string_view bug_switch_name(unsigned bit) {
  return bit < kBugNames.size() ? kBugNames[bit] : std::string_view("?");
}

std::optional<unsigned> parse_bug_switch(std::string_view name) {
  for (unsigned i = 0; i < kBugNames.size(); i++)
    if (kBugNames[i] == name)
      return i;
  return std::nullopt;
}

unsigned bug_switch_count() { return kBugNames.size(); }

uint64_t Config::total_pages() const {
  uint64_t n = 0;
  for (const NodeSpec &node : nodes)
    for (const ZoneSpec &z : node.zones)
      n += z.pages;
  return n;
}

std::string_view variant_name(Variant v) {
  switch (v) {
  case Variant::V6_12_0:
    return "v6.12.0";
  case Variant::D612:
    return "D612";
  case Variant::KirylV6:
    return "kiryl-v6";
  case Variant::KirylV7:
    return "kiryl-v7";
  case Variant::Muchun:
    return "muchun";
  }
  return "?";
}

std::string_view arch_name(Arch a) { return a == Arch::Ppc64Radix ? "ppc64-radix" : "x86-64"; }

Variant default_variant(Era e) { return e == Era::Legacy ? Variant::D612 : Variant::KirylV7; }

bool variant_of_era(Variant v, Era e) {
  const bool legacy = v == Variant::V6_12_0 || v == Variant::D612;
  return legacy == (e == Era::Legacy);
}

std::string Config::validate() const {
  if (page_shift != 12 && page_shift != 14 && page_shift != 16)
    return "page size must be 4K, 16K or 64K";
  if (arch == Arch::Ppc64Radix) {
    // Radix at 64K has 2M PMDs over 32-entry PTE tables and a section
    // memmap of a quarter page; the model's page table has neither.
    if (page_shift != 12)
      return "arch ppc64-radix is modelled at 4K pages only (64K radix has 32-entry PTE tables "
             "and sub-page section memmaps)";
    if (section_size_bits != kPpcSectionSizeBits || subsection_size_bits != 21)
      return "arch ppc64-radix has section-bits 24 and subsection-bits 21";
    if (era != Era::Legacy)
      return "arch ppc64-radix ports Debian 6.12's radix_pgtable.c: era must be legacy";
    if (vmemmap_base != kPpcRadixVmemmapStart)
      return "arch ppc64-radix has its vmemmap at RADIX_VMEMMAP_START (0xc00c000000000000)";
  }
  if (struct_page_size != 64 && struct_page_size != 72 && struct_page_size != 80)
    return "struct page size must be 64, 72 or 80 bytes";
  if (subsection_size_bits < page_shift || subsection_size_bits > section_size_bits)
    return "subsection size must be at least a page and at most a section";
  if (section_size_bits > 40)
    return "section size must be at most 1 TiB (section-bits <= 40)";
  if (nodes.empty())
    return "no memory: mem= lists no node";
  if (!variant_of_era(variant, era))
    return "variant " + std::string(variant_name(variant)) + " does not belong to era " +
           (era == Era::Legacy ? "legacy (D612, v6.12.0)" : "shared-tail (kiryl-v6, kiryl-v7, muchun)");
  uint64_t total = 0;
  for (size_t n = 0; n < nodes.size(); n++) {
    if (nodes[n].zones.empty())
      return "node " + std::to_string(n) + " has no zone";
    int last = -1;
    for (const ZoneSpec &z : nodes[n].zones) {
      if (static_cast<int>(z.type) <= last)
        return "node " + std::to_string(n) + ": zones must be listed in ascending zone order, once each";
      last = static_cast<int>(z.type);
      if (z.pages % pages_per_section() != 0)
        return "node " + std::to_string(n) + " zone " + std::string(zone_type_name(z.type)) +
               ": size " + format_size(z.pages * page_size()) +
               " is not a multiple of the section size " +
               format_size(pages_per_section() * page_size());
      total += z.pages;
      if (total > (1ull << 40))
        return "more than 2^40 pages of memory";
    }
  }
  if (vmemmap_base % page_size() != 0)
    return "vmemmap base is not page aligned";
  if (vmemmap_base % pmd_size() != 0)
    return "vmemmap base must be aligned to the PMD size " + format_size(pmd_size()) +
           " (the boot memmap is PMD mapped)";
  uint64_t memmap_bytes = total * struct_page_size;
  if (vmemmap_base + memmap_bytes < vmemmap_base)
    return "vmemmap range wraps around the address space";
  for (size_t n = 0; n < nodes.size(); n++) {
    uint64_t node_pages = 0;
    for (const ZoneSpec &z : nodes[n].zones)
      node_pages += z.pages;
    // The boot memmap (PMD blocks at 4K) comes out of the node's own memory.
    uint64_t need = (node_pages * struct_page_size + pmd_size() - 1) / pmd_size() *
                    (page_shift == 12 ? ptrs_per_pte() : 1);
    if (page_shift != 12)
      need = (node_pages * struct_page_size + page_size() - 1) / page_size() + 1;
    if (need >= node_pages)
      return "node " + std::to_string(n) + " is too small to hold its own memmap";
  }
  if ((pages_per_section() * struct_page_size) % page_size() != 0)
    return "a section's memmap is not a whole number of pages";
  if (memmap_bytes / page_size() > kMaxMemmapFrames)
    return "memmap needs " + std::to_string(memmap_bytes / page_size()) +
           " frames; the model supports at most " + std::to_string(kMaxMemmapFrames);
  return {};
}

std::optional<uint64_t> parse_size(std::string_view s) {
  if (s.empty())
    return std::nullopt;
  uint64_t mult = 1;
  switch (s.back()) {
  case 'K': case 'k': mult = 1ull << 10; break;
  case 'M': case 'm': mult = 1ull << 20; break;
  case 'G': case 'g': mult = 1ull << 30; break;
  case 'T': case 't': mult = 1ull << 40; break;
  default: break;
  }
  if (mult != 1)
    s.remove_suffix(1);
  auto v = parse_u64(s);
  if (!v || (*v != 0 && *v > UINT64_MAX / mult))
    return std::nullopt;
  return *v * mult;
}

std::string format_size(uint64_t bytes) {
  static constexpr std::array<const char *, 5> units = {"", "K", "M", "G", "T"};
  unsigned u = 0;
  while (u + 1 < units.size() && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    u++;
  }
  return std::to_string(bytes) + units[u];
}

std::string print_config(const Config &c) {
  std::string s = "config page-size=" + format_size(c.page_size()) +
                  " struct-page=" + std::to_string(c.struct_page_size) + " mem=";
  bool first = true;
  for (size_t n = 0; n < c.nodes.size(); n++)
    for (const ZoneSpec &z : c.nodes[n].zones) {
      if (!first)
        s += ',';
      first = false;
      s += std::to_string(n) + ":" + std::string(zone_type_name(z.type)) + ":" +
           format_size(z.pages * c.page_size());
    }
  char base[32];
  std::snprintf(base, sizeof(base), "0x%" PRIx64, c.vmemmap_base);
  s += " section-bits=" + std::to_string(c.section_size_bits) +
       " subsection-bits=" + std::to_string(c.subsection_size_bits) + " vmemmap-base=" + base +
       " era=" + (c.era == Era::Legacy ? "legacy" : "shared-tail") +
       " variant=" + std::string(variant_name(c.variant)) +
       " hvo=" + (c.hvo_enabled ? "on" : "off") + " hotplug=" + (c.memory_hotplug ? "on" : "off");
  // Only a non-default arch is printed, so x86-64 lines stay as they were.
  if (c.arch != Arch::X86_64)
    s += " arch=" + std::string(arch_name(c.arch));
  if (c.bugs.any()) {
    s += " bugs=";
    bool f = true;
    for (unsigned i = 0; i < kMaxBugSwitches; i++)
      if (c.bugs.test(i)) {
        if (!f)
          s += ',';
        f = false;
        s += bug_switch_name(i);
      }
  }
  return s;
}

std::string parse_config_args(std::string_view args, Config &c) {
  // page-size first: mem sizes are checked against it.
  std::vector<std::pair<std::string_view, std::string_view>> kv;
  for (std::string_view tok : split(args, ' ')) {
    if (tok.empty())
      continue;
    size_t eq = tok.find('=');
    if (eq == std::string_view::npos)
      return "config: '" + std::string(tok) + "' is not key=value";
    kv.emplace_back(tok.substr(0, eq), tok.substr(eq + 1));
  }
  auto on_off = [](std::string_view v) -> std::optional<bool> {
    if (v == "on" || v == "1")
      return true;
    if (v == "off" || v == "0")
      return false;
    return std::nullopt;
  };
  // arch next: it sets the architecture's section size and vmemmap base,
  // which explicit section-bits / vmemmap-base keys then override.
  for (auto &[k, v] : kv)
    if (k == "arch") {
      if (v == arch_name(Arch::X86_64)) {
        c.arch = Arch::X86_64;
      } else if (v == arch_name(Arch::Ppc64Radix)) {
        c.arch = Arch::Ppc64Radix;
        c.section_size_bits = kPpcSectionSizeBits;
        c.vmemmap_base = kPpcRadixVmemmapStart;
      } else {
        return "config: arch must be x86-64 or ppc64-radix, not '" + std::string(v) + "'";
      }
    }
  for (auto &[k, v] : kv)
    if (k == "page-size") {
      auto sz = parse_size(v);
      if (sz == 4096u)
        c.page_shift = 12;
      else if (sz == 16384u)
        c.page_shift = 14;
      else if (sz == 65536u)
        c.page_shift = 16;
      else
        return "config: page-size must be 4K, 16K or 64K, not '" + std::string(v) + "'";
    }
  bool variant_given = false;
  for (auto &[k, v] : kv) {
    std::string bad = "config: bad value '" + std::string(v) + "' for " + std::string(k);
    if (k == "page-size" || k == "arch") {
      continue;
    } else if (k == "struct-page") {
      auto n = parse_u64(v);
      if (!n || *n > 4096)
        return bad;
      c.struct_page_size = static_cast<unsigned>(*n);
    } else if (k == "mem") {
      std::string err;
      if (!parse_mem(v, c, err))
        return "config: " + err;
    } else if (k == "section-bits" || k == "subsection-bits") {
      auto n = parse_u64(v);
      if (!n || *n > 63)
        return bad;
      (k == "section-bits" ? c.section_size_bits : c.subsection_size_bits) =
          static_cast<unsigned>(*n);
    } else if (k == "vmemmap-base") {
      auto n = parse_u64(v);
      if (!n)
        return bad;
      c.vmemmap_base = *n;
    } else if (k == "era") {
      if (v == "legacy")
        c.era = Era::Legacy;
      else if (v == "shared-tail")
        c.era = Era::SharedTail;
      else
        return "config: era must be legacy or shared-tail";
    } else if (k == "variant") {
      bool found = false;
      for (Variant cand : {Variant::D612, Variant::V6_12_0, Variant::KirylV6, Variant::KirylV7,
                           Variant::Muchun})
        if (v == variant_name(cand)) {
          c.variant = cand;
          found = true;
        }
      if (!found)
        return "config: variant must be D612, v6.12.0, kiryl-v6, kiryl-v7 or muchun";
      variant_given = true;
    } else if (k == "hvo" || k == "hotplug") {
      auto b = on_off(v);
      if (!b)
        return bad;
      (k == "hvo" ? c.hvo_enabled : c.memory_hotplug) = *b;
    } else if (k == "bugs") {
      c.bugs.reset();
      if (v.empty())
        continue;
      for (std::string_view name : split(v, ',')) {
        auto bit = parse_bug_switch(name);
        if (!bit)
          return "config: unknown bug switch '" + std::string(name) + "'";
        c.bugs.set(*bit);
      }
    } else {
      return "config: unknown key '" + std::string(k) + "'";
    }
  }
  // An era without a variant gets that era's default shape.
  if (!variant_given)
    c.variant = default_variant(c.era);
  return {};
}

}  // namespace hvo
