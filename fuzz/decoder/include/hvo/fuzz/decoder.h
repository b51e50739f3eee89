// SPDX-License-Identifier: GPL-2.0-only
//
// The shared fuzz input decoder: bytes -> a Scenario (a Config plus a list of
// the model's typed operations), and its inverse, the encoder, which turns a
// text scenario into the bytes a seed corpus holds.  Every fuzz target, the
// replay drivers, hvo-fuzz-encode and hvo-triage use these two functions, so
// they all see the same operations for the same bytes.
//
// Byte format (docs/fuzzing.md, "Input format"), read front to back:
//
//   config header   page size with struct page size, node count, per node a zone
//                   layout and per zone a size in sections, vmemmap base,
//                   era with walk variant, HVO boot switch, memory hotplug;
//                   each field one byte taken modulo its table of choices
//   operations      repeated until the input ends or the profile's op limit:
//                   one selector byte (modulo the target's op family) and
//                   then the op's arguments, each mapped into the range that
//                   means something for it (folio ids 0..31, nodes that
//                   exist plus one that does not, struct page indices biased
//                   to vmemmap page boundaries, folio orders, counts and DAX
//                   sizes from weighted tables that favour the cheap sizes
//                   where HVO acts, ...)
//
// Reads past the end yield zero, so every byte string decodes to a valid
// configuration and a (possibly empty) op list: the fuzzer never spends an
// execution on a rejected input.  A target's profile names its op family and
// its configuration space; ops or shapes that the model does not have yet are
// left out at run time (their bytes then select something else).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hvo/config.h"
#include "hvo/ops.h"

namespace hvo::fuzz {

// An era with one of its walk variants (Config::era / Config::variant).
struct Shape {
  Era era;
  Variant variant;
  bool operator==(const Shape &) const = default;
};
// Left out: D612 and kiryl-v6 (see ConfigSpace::shapes).
inline const std::vector<Shape> kDefaultShapes = {
    {Era::Legacy, Variant::V6_12_0},
    {Era::SharedTail, Variant::KirylV7},
    {Era::SharedTail, Variant::Muchun},
};

// What a target's configuration space allows besides the common choices.
struct ConfigSpace {
  unsigned max_nodes = 2;             // 1..4
  bool vary_page_size = true;         // 4K, 16K, 64K (4K weighted 10 in 16)
  bool vary_struct_page = true;       // 64, 72, 80 (64 weighted 12 in 16)
  bool vary_vmemmap_base = false;     // default base or one PMD above it
  bool device_zone = false;           // zone layouts with ZONE_DEVICE
  // x86-64 or ppc64-radix (Config::arch), 3 to 1.  ppc64-radix takes 4K
  // geometries, the legacy shapes and zones of 8..64 of its 16 MiB
  // sections, so the boot memmap ends on a PMD (docs/fuzzing.md, "powerpc").
  bool vary_arch = false;
  // The (era, walk variant) pairs to run, each checked against
  // Config::validate at run time so a shape the model lacks drops out.
  // D612 is left out by default: as ported, its restore copies the head
  // vmemmap page into every restored page (the 2026 rollback fix
  // backported onto a fake-head kernel, where vmemmap_tail ==
  // vmemmap_head), which the oracle reports as I7-restore-fidelity on every
  // restore; a target that crashes on any restore finds nothing else.
  // kiryl-v6 is left out because it is a historic bug in itself: its shared
  // tails carry no node, zone or mapcount (David Hildenbrand's review of
  // seed 002), reported as I4 the first time a tail is used.  See
  // docs/fuzzing.md, "Shapes".
  std::vector<Shape> shapes = kDefaultShapes;
};

// What a target does with a decoded input.
enum class Runner : uint8_t {
  Ops,   // a Scenario (config + ops) on one Model, the oracle after each op
  Race,  // a concurrency scenario under a schedule (race_input.h)
  // The same input as Ops, run on both eras through the differential oracle
  // (hvo/differential.h): a divergence is the finding.
  Differential,
};

struct TargetProfile {
  std::string_view name;                 // the fuzz target, e.g. "hvo_fuzz_hugetlb"
  std::vector<std::string_view> ops;     // op names the target draws from
  ConfigSpace config;
  unsigned max_ops = 48;                 // bounds the work per input
  Runner runner = Runner::Ops;
};

// Every profile, in a fixed order; and lookup by target name.
std::span<const TargetProfile> profiles();
const TargetProfile *find_profile(std::string_view target);

// The op kinds of `p` that the linked model provides, in profile order.
std::vector<uint16_t> profile_kinds(const TargetProfile &p);
// The shapes of `p` that the linked model accepts (Config::validate).
std::vector<Shape> profile_shapes(const TargetProfile &p);

// Total: every byte string gives a Scenario whose config validates.  Bug
// switches are never read from the bytes (they are the caller's to set).
Scenario decode_input(const TargetProfile &p, std::span<const uint8_t> data);

// The bytes that decode_input maps back to `s` (config and ops; comments
// and line numbers are not part of the format).  Returns an empty string on
// success, else one line saying what cannot be expressed (an op outside the
// target's family, an argument outside its decodable range, a config that
// is not in the target's space, bug switches, too many ops).
std::string encode_scenario(const TargetProfile &p, const Scenario &s,
                            std::vector<uint8_t> &bytes);

} // namespace hvo::fuzz
