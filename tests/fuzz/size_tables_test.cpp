// SPDX-License-Identifier: GPL-2.0-only
//
// The weighted size arguments of the fuzz input format (docs/fuzzing.md,
// "Input format"; fuzz/decoder/src/weighted_table.h): folio orders, folio
// counts, device-DAX shifts and lengths.  Checked from outside, through
// decode_input / encode_scenario: an input is a configuration header (the
// encoding of a config with no ops), a selector byte, then the op's
// arguments in decode order.  The promises: every value of the argument's
// range decodes from some byte string and every one encodes back exactly;
// most first bytes give the cheap sizes where HVO acts, and those move
// with the page size; the sizes the historic bugs need (orders 12, 16, 18)
// have bytes of their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"

namespace {

using hvo::Scenario;
using hvo::fuzz::TargetProfile;

const TargetProfile &profile(std::string_view name) { return *hvo::fuzz::find_profile(name); }

Scenario parse(const std::string &text) {
  Scenario s;
  std::string error;
  EXPECT_TRUE(hvo::parse_scenario(text, "test", s, error)) << error;
  return s;
}

// A machine as fuzz input: the header bytes of `config` (no ops).
struct Machine {
  const TargetProfile &p;
  std::vector<uint8_t> header;

  Machine(const TargetProfile &prof, const std::string &config) : p(prof) {
    EXPECT_EQ(hvo::fuzz::encode_scenario(p, parse(config + "\n"), header), "") << config;
  }

  // The op `name` decoded from its selector and `args` (decode order).
  hvo::Op decode(std::string_view name, const std::vector<uint8_t> &args) const {
    const std::vector<uint16_t> kinds = hvo::fuzz::profile_kinds(p);
    const hvo::OpDescriptor *d = hvo::find_op(name);
    auto sel = std::find(kinds.begin(), kinds.end(), static_cast<uint16_t>(d - hvo::op_table().data()));
    EXPECT_NE(sel, kinds.end()) << name;
    std::vector<uint8_t> in = header;
    in.push_back(static_cast<uint8_t>(sel - kinds.begin()));
    in.insert(in.end(), args.begin(), args.end());
    Scenario s = hvo::fuzz::decode_input(p, in);
    EXPECT_GE(s.ops.size(), 1u);  // unread trailing bytes start a second op
    EXPECT_EQ(s.ops.empty() ? 0 : s.ops[0].kind, d - hvo::op_table().data());
    return s.ops.empty() ? hvo::Op{} : s.ops[0];
  }

  // The value an argument decodes to from first byte `b` and then `follow`
  // (two bytes, little endian, as an "any" entry of up to 1,024 values reads).
  uint64_t value(std::string_view name, unsigned arg, const std::vector<uint8_t> &before, unsigned b,
                 unsigned follow) const {
    std::vector<uint8_t> in = before;
    in.insert(in.end(), {static_cast<uint8_t>(b), static_cast<uint8_t>(follow), static_cast<uint8_t>(follow >> 8)});
    return decode(name, in).args[arg];
  }

  // How many of the 256 first bytes decode to each value whatever follows
  // them; the bytes of the "any" entry, whose value is read from the bytes
  // after it, are not counted.
  std::map<uint64_t, unsigned> first_byte_histogram(std::string_view name, unsigned arg,
                                                    const std::vector<uint8_t> &before) const {
    std::map<uint64_t, unsigned> h;
    for (unsigned b = 0; b < 256; ++b) {
      const uint64_t v = value(name, arg, before, b, 0);
      if (v == value(name, arg, before, b, 0x7f55) && v == value(name, arg, before, b, 0x0203))
        ++h[v];
    }
    return h;
  }

  // Every value the argument decodes to from some first byte and the two
  // bytes after it.
  std::set<uint64_t> reachable(std::string_view name, unsigned arg, const std::vector<uint8_t> &before) const {
    std::set<uint64_t> out;
    for (unsigned b = 0; b < 256; ++b) {
      const uint64_t v = value(name, arg, before, b, 0);
      out.insert(v);
      if (v != value(name, arg, before, b, 0x7f55) || v != value(name, arg, before, b, 0x0203))
        for (unsigned follow = 1; follow < 1024; ++follow)
          out.insert(value(name, arg, before, b, follow));
    }
    return out;
  }

  // encode(text) decodes back to the same config and op; with this
  // machine's config, the result is how many argument bytes the op took.
  size_t round_trip(const std::string &config, const std::string &op_text) const {
    const Scenario s = parse(config + "\n" + op_text + "\n");
    std::vector<uint8_t> bytes;
    EXPECT_EQ(hvo::fuzz::encode_scenario(p, s, bytes), "") << op_text;
    const Scenario back = hvo::fuzz::decode_input(p, bytes);
    EXPECT_EQ(back.ops, s.ops) << op_text;
    EXPECT_EQ(hvo::print_config(back.config), hvo::print_config(s.config)) << config;
    return bytes.size() - header.size() - 1;
  }
};

std::set<uint64_t> interval(uint64_t lo, uint64_t hi) {
  std::set<uint64_t> s;
  for (uint64_t v = lo; v <= hi; ++v)
    s.insert(v);
  return s;
}

unsigned bytes_giving(const std::map<uint64_t, unsigned> &h, uint64_t lo, uint64_t hi) {
  unsigned n = 0;
  for (const auto &[v, count] : h)
    n += v >= lo && v <= hi ? count : 0;
  return n;
}

uint64_t most_frequent(const std::map<uint64_t, unsigned> &h) {
  return std::max_element(h.begin(), h.end(), [](auto &a, auto &b) { return a.second < b.second; })->first;
}

const std::string k4K = "config variant=v6.12.0";
const std::string k16K = "config page-size=16K mem=0:Normal:1G variant=v6.12.0";
const std::string k64K = "config page-size=64K mem=0:Normal:1G variant=v6.12.0";

TEST(SizeTablesTest, EveryOrderDecodesAndEncodesAtEveryPageSize) {
  for (const std::string &cfg : {k4K, k16K, k64K}) {
    const Machine m(profile("hvo_fuzz_hugetlb"), cfg);
    EXPECT_EQ(m.reachable("alloc_folio", 0, {}), interval(1, 18)) << cfg;
    for (unsigned o = 1; o <= 18; ++o) {
      m.round_trip(cfg, "alloc_folio order=" + std::to_string(o) + " node=0");
      m.round_trip(cfg, "demote folio=3 order=" + std::to_string(o));
    }
  }
  // boot_gigantic_at starts at order 2.
  const Machine boot(profile("hvo_fuzz_boot"), k4K);
  EXPECT_EQ(boot.reachable("boot_gigantic_at", 0, {}), interval(2, 18));
  for (unsigned o = 2; o <= 18; ++o)
    boot.round_trip(k4K, "boot_gigantic_at order=" + std::to_string(o) + " slot=1");
}

TEST(SizeTablesTest, MostOrderBytesGiveTheCheapOrdersWhereHvoActs) {
  // PMD order and the smallest optimized order move with the page size:
  // 9 and 7 at 4K, 11 and 9 at 16K, 13 and 11 at 64K.
  const struct {
    const std::string &cfg;
    unsigned pmd_order;
  } cases[] = {{k4K, 9}, {k16K, 11}, {k64K, 13}};
  for (const auto &c : cases) {
    const Machine m(profile("hvo_fuzz_hugetlb"), c.cfg);
    const auto h = m.first_byte_histogram("alloc_folio", 0, {});
    EXPECT_EQ(most_frequent(h), c.pmd_order) << c.cfg;
    // Smallest HVO order - 1 .. PMD order + 2: at least 80% of the bytes.
    EXPECT_GE(bytes_giving(h, c.pmd_order - 3, c.pmd_order + 2), 256u * 8 / 10) << c.cfg;
  }
  // The large orders the historic bugs and the gigantic paths need have
  // first bytes of their own, at 4K: 12 (a pool spilling into the next
  // zone), 16 (vmemmap over two PMDs, the mask alignment), 18 (1 GiB).
  const auto h = Machine(profile("hvo_fuzz_hugetlb"), k4K).first_byte_histogram("alloc_folio", 0, {});
  for (unsigned o : {12u, 16u, 18u}) {
    EXPECT_GE(h.count(o) ? h.at(o) : 0, 1u) << "order " << o;
    EXPECT_LE(h.count(o) ? h.at(o) : 0, 8u) << "order " << o;
  }
}

TEST(SizeTablesTest, TableOrdersEncodeToOneByteOthersToTwo) {
  const Machine m(profile("hvo_fuzz_hugetlb"), k4K);
  // order (1 byte) + node (1 byte); order 13 takes "any" and one more byte.
  EXPECT_EQ(m.round_trip(k4K, "alloc_folio order=9 node=0"), 2u);
  EXPECT_EQ(m.round_trip(k4K, "alloc_folio order=18 node=0"), 2u);
  EXPECT_EQ(m.round_trip(k4K, "alloc_folio order=13 node=0"), 3u);
}

TEST(SizeTablesTest, CountsAreMostlyOneToFourAndAllReachable) {
  const Machine m(profile("hvo_fuzz_hugetlb"), k4K);
  // alloc_folios: order, node, count.
  const std::vector<uint8_t> before = {0, 0};
  EXPECT_EQ(m.reachable("alloc_folios", 2, before), interval(1, 16));
  EXPECT_GE(bytes_giving(m.first_byte_histogram("alloc_folios", 2, before), 1, 4), 256u * 8 / 10);
  for (unsigned n = 1; n <= 16; ++n) {
    m.round_trip(k4K, "alloc_folios order=9 node=0 count=" + std::to_string(n));
    m.round_trip(k4K, "optimize_batch first=0 count=" + std::to_string(n));
  }
  // boot_gigantic's count stops at 4: the entries above drop out.
  const Machine boot(profile("hvo_fuzz_boot"), k4K);
  EXPECT_EQ(boot.reachable("boot_gigantic", 2, before), interval(1, 4));
}

TEST(SizeTablesTest, DaxShiftsAreMostlyPmdSizedAndAllReachable) {
  const std::string cfg = k4K + " mem=0:Normal:128M";
  const Machine m(profile("hvo_fuzz_dax"), cfg);
  // dax_add decodes shift first; the DAX header has an architecture byte,
  // x86-64 here.
  EXPECT_EQ(m.reachable("dax_add", 2, {}), interval(0, 19));
  const auto h = m.first_byte_histogram("dax_add", 2, {});
  EXPECT_EQ(most_frequent(h), 9u);
  EXPECT_GE(bytes_giving(h, 0, 10), 256u * 8 / 10);
  EXPECT_GE(h.count(18) ? h.at(18) : 0, 1u);  // 1 GiB compound pages
}

TEST(SizeTablesTest, DaxLengthsAreMostlyAFewUnitsAndAllReachable) {
  const std::string cfg = k4K + " mem=0:Normal:128M";
  const Machine m(profile("hvo_fuzz_dax"), cfg);
  // shift byte 0: the PMD shift, unit = 512 pages; pfn: "after", k = 0.
  const std::vector<uint8_t> before = {0, 0, 0};
  const uint64_t unit = 512;
  ASSERT_EQ(m.decode("dax_add", {0, 0, 0, 0}).args[2], 9u);
  std::set<uint64_t> units;
  for (uint64_t v : m.reachable("dax_add", 1, before))
    units.insert(v / unit);
  EXPECT_EQ(units, interval(1, 1024));
  std::map<uint64_t, unsigned> h;
  for (const auto &[pages, count] : m.first_byte_histogram("dax_add", 1, before))
    h[pages / unit] += count;
  EXPECT_GE(bytes_giving(h, 1, 4), 256u * 7 / 10);
  EXPECT_GE(bytes_giving(h, 64, 64), 1u);  // a section's worth at 4K
  for (unsigned k : {1u, 2u, 5u, 64u, 100u, 1023u, 1024u})
    m.round_trip(cfg, "dax_add pfn=32768 pages=" + std::to_string(k * unit) + " shift=9 node=0");
}

}  // namespace

namespace {

// The machine: the hugetlb header starts geometry (byte 0: 4K, 64-byte
// struct page), node count, then per node a layout (byte 0: Normal only)
// and its zones' sizes.
Scenario decode_header(const std::vector<uint8_t> &bytes) {
  return hvo::fuzz::decode_input(profile("hvo_fuzz_hugetlb"), bytes);
}

TEST(SizeTablesTest, MachinesAreMostlySmallAndEverySizeIsReachable) {
  std::map<uint64_t, unsigned> nodes, sections;
  for (unsigned b = 0; b < 256; ++b) {
    ++nodes[decode_header({0, static_cast<uint8_t>(b), 0xff, 0xff}).config.nodes.size()];
    const Scenario s = decode_header({0, 0, 0, static_cast<uint8_t>(b), 0xff});
    ASSERT_EQ(s.config.nodes.size(), 1u);
    ++sections[s.config.nodes[0].zones[0].pages / s.config.pages_per_section()];
  }
  EXPECT_GE(bytes_giving(nodes, 1, 2), 256u * 7 / 10);
  EXPECT_GE(bytes_giving(sections, 1, 1), 256u / 2);
  EXPECT_EQ(nodes.size(), 4u);     // 1..4, through "any" if not directly
  EXPECT_EQ(sections.size(), 4u);  // 1, 2, 4, 8 sections
  // Every node count and zone size encodes back exactly.
  const Machine m(profile("hvo_fuzz_hugetlb"), k4K);
  std::string mem = "0:Normal:128M";
  for (unsigned n = 2; n <= 4; ++n) {
    mem += "," + std::to_string(n - 1) + ":DMA32:1G," + std::to_string(n - 1) + ":Normal:256M";
    m.round_trip("config variant=v6.12.0 mem=" + mem, "flush_tlb_all");
  }
  for (const char *size : {"128M", "256M", "512M", "1G"})
    m.round_trip(std::string("config variant=v6.12.0 mem=0:Normal:") + size, "flush_tlb_all");
}

}  // namespace
