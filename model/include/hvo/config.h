// SPDX-License-Identifier: GPL-2.0-only
//
// The machine the model simulates: page size, sizeof(struct page), NUMA nodes
// with zones, sparsemem section geometry, vmemmap base, HVO era and variant,
// and the historic bug switches.  A Config is plain data; validate() says
// whether it describes a machine the kernel could boot.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hvo {

// Which generation of HVO the model runs.  Legacy = Linux 6.12 (fake heads,
// static key, RCU in page_ref_add_unless).  SharedTail = Kiryl Shutsemau's
// mask-encoded compound_info with per-zone shared tail pages (issue 4).
enum class Era : uint8_t { Legacy, SharedTail };

// The two shapes of the legacy walk (kernel-reference 2.3/2.4):
// V6_12_0 = v6.12.0 mainline (reuse_page/reuse_addr, reset_struct_pages),
// D612    = Debian 6.12.117 (vmemmap_head/vmemmap_tail, plain copy restore).
//
// Shared-tail era shapes (M2, docs/model.md "Shared-tail era"):
// KirylV6 = Kiryl Shutsemau v3-v6: tails per node (pglist_data), filled by
//           prep_compound_tail only;
// KirylV7 = Kiryl v7 / as merged: tails per zone, init_compound_tail;
// Muchun  = Muchun Song's section-based generic HVO (mm tree): per-zone
//           vmemmap_shared_tail_page, DAX on the same path (saves V-1),
//           partial-HVO state when a rollback fails.
enum class Variant : uint8_t { V6_12_0, D612, KirylV6, KirylV7, Muchun };
std::string_view variant_name(Variant v);
// The variant an era uses when the config does not name one.
Variant default_variant(Era e);
// Whether `v` is one of `e`'s shapes.
bool variant_of_era(Variant v, Era e);

// include/linux/mmzone.h enum zone_type, the zones a 64-bit x86 machine has.
enum class ZoneType : uint8_t { DMA, DMA32, Normal, Movable, Device };
inline constexpr unsigned kNrZoneTypes = 5;

std::string_view zone_type_name(ZoneType t);
std::optional<ZoneType> parse_zone_type(std::string_view name);

struct ZoneSpec {
  ZoneType type = ZoneType::Normal;
  uint64_t pages = 0;  // present pages, a multiple of the section size
  bool operator==(const ZoneSpec &) const = default;
};

struct NodeSpec {
  std::vector<ZoneSpec> zones;  // in ascending pfn order
  bool operator==(const NodeSpec &) const = default;
};

// Named historic bug switches (issue 5).  Off by default; when off they cost
// nothing: the ported code tests one bit.  The table of names lives in
// config.cpp; adding a switch means adding one name there and one test where
// the kernel once got it wrong.
inline constexpr unsigned kMaxBugSwitches = 32;
using BugSet = std::bitset<kMaxBugSwitches>;
// One enumerator per switch, in the order of the name table; each sits at
// the line where the kernel once got it wrong (docs/fuzzing.md has the
// table with sources and the fuzz target that finds each).
enum class Bug : uint8_t {
  GetTailPlainStore,          // Kiryl v1 vmemmap_get_tail: plain store, both CPUs publish
  TailInitNoNodeMapcount,     // Kiryl v6 (seed 002 review): tails lack node, zone, mapcount
  ZonenumPerNodeTail,         // Kiryl v1/v2: per-node tails, page_zonenum reads the tail
  MemmapInitSharedTail,       // Muchun: memmap_init still initialises 2 * SPP struct pages
  RollbackFlushWrongStart,    // Kiryl v2: vmemmap_remap_free rollback from the wrong start
  NoMemmapAlignmentCheck,     // Kiryl v7 05-08/18: unaligned vmemmap base, no check
  SpeculativeRefFakeHeadFirst,  // 6.12 page_ref_add_unless: fake-head test before refcount
  HvoNoSynchronizeRcu,        // before bd225530a4c7: HVO does not wait for RCU readers
  RestoreNoResetStructPages,  // before reset_struct_pages: restore copies head metadata
  PpcCompoundWrongPfn,        // powerpc radix: addr_pfn stepped by 1 per vmemmap page (Muchun v2 03/69)
};
std::string_view bug_switch_name(unsigned bit);
std::optional<unsigned> parse_bug_switch(std::string_view name);
unsigned bug_switch_count();

// The architecture whose vmemmap population the model runs.  X86_64 is the
// generic mm/sparse-vmemmap.c path with x86's vmemmap_populate (arm64's at
// 16K/64K).  Ppc64Radix is Book3S-64 with the radix MMU: its own
// vmemmap_populate and DAX compound population (arch/powerpc/mm/book3s64/
// radix_pgtable.c, ppc_radix_vmemmap.h), SECTION_SIZE_BITS 24, vmemmap at
// RADIX_VMEMMAP_START; modelled at 4K pages only (docs/model.md, "powerpc").
enum class Arch : uint8_t { X86_64, Ppc64Radix };
std::string_view arch_name(Arch a);
// arch/powerpc/include/asm/sparsemem.h (6.12 l.11) and book3s/64/radix.h
// (l.116-133): RADIX_VMEMMAP_START = 0xc008000000000000 + 2 * 2^49.
inline constexpr unsigned kPpcSectionSizeBits = 24;
inline constexpr uint64_t kPpcRadixVmemmapStart = 0xc00c000000000000ull;

struct Config {
  Arch arch = Arch::X86_64;
  unsigned page_shift = 12;         // 12, 14 or 16
  unsigned struct_page_size = 64;   // sizeof(struct page): 64, 72 or 80
  std::vector<NodeSpec> nodes = {NodeSpec{{ZoneSpec{ZoneType::Normal, 1u << 18}}}};
  unsigned section_size_bits = 27;     // x86-64 SECTION_SIZE_BITS
  unsigned subsection_size_bits = 21;  // SUBSECTION_SHIFT
  uint64_t vmemmap_base = 0xffffea0000000000ull;
  Era era = Era::Legacy;
  Variant variant = Variant::D612;
  bool hvo_enabled = true;     // boot parameter hugetlb_free_vmemmap=
  bool memory_hotplug = true;  // CONFIG_MEMORY_HOTPLUG (self-hosted check)
  BugSet bugs;
  bool has(Bug b) const { return bugs.test(static_cast<unsigned>(b)); }
  bool operator==(const Config &) const = default;

  // Derived geometry.
  uint64_t page_size() const { return 1ull << page_shift; }
  uint64_t spp() const { return page_size() / struct_page_size; }  // struct pages per vmemmap page
  uint64_t words_per_page() const { return page_size() / 8; }
  unsigned words_per_struct_page() const { return struct_page_size / 8; }
  bool struct_page_pow2() const { return (struct_page_size & (struct_page_size - 1)) == 0; }
  uint64_t ptrs_per_pte() const { return page_size() / 8; }
  unsigned pmd_shift() const { return page_shift + (page_shift - 3); }
  uint64_t pmd_size() const { return 1ull << pmd_shift(); }
  uint64_t pages_per_section() const { return 1ull << (section_size_bits - page_shift); }
  uint64_t pages_per_subsection() const { return 1ull << (subsection_size_bits - page_shift); }
  uint64_t total_pages() const;
  uint64_t vmemmap_of_pfn(uint64_t pfn) const { return vmemmap_base + pfn * struct_page_size; }

  // Every reason this configuration cannot describe a bootable machine, or
  // empty.  Errors are one line each, without file/line prefix.
  std::string validate() const;
};

// Text form: the scenario's "config" line (docs/scenario-format.md).
// parse_config_line takes the text after the "config" keyword.
std::string print_config(const Config &c);
// Returns an error message (empty on success).
std::string parse_config_args(std::string_view args, Config &out);
// Sizes like 4K, 2M, 1G, 1T or plain numbers (bytes).
std::optional<uint64_t> parse_size(std::string_view s);
std::string format_size(uint64_t bytes);

}  // namespace hvo
