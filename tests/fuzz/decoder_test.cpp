// SPDX-License-Identifier: GPL-2.0-only
//
// The decoder's promises (fuzz/decoder/include/hvo/fuzz/decoder.h), for
// every target profile: every byte string decodes to a valid configuration
// and ops of the target's family; the printed trace is a scenario the
// hvo-sim parser reads back unchanged; encoding a decoded scenario gives
// bytes that decode to it again; the checked-in seeds round-trip; and the
// encoder refuses, with a reason, what the format cannot express.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hvo/fuzz/byte_codec.h"
#include "hvo/fuzz/decoder.h"
#include "hvo/fuzz/race_input.h"
#include "hvo/fuzz/trace.h"

namespace {

using hvo::Scenario;
using hvo::fuzz::TargetProfile;

// splitmix64: a fixed, portable stream of test inputs.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

std::vector<std::vector<uint8_t>> sample_inputs() {
  std::vector<std::vector<uint8_t>> inputs;
  inputs.push_back({});
  for (unsigned b = 0; b < 256; ++b)
    inputs.push_back({static_cast<uint8_t>(b)});
  Rng rng{42};
  for (unsigned i = 0; i < 600; ++i) {
    std::vector<uint8_t> in(rng.next() % 300);
    for (uint8_t &b : in)
      b = static_cast<uint8_t>(rng.next());
    inputs.push_back(std::move(in));
  }
  // All 0xff: every choice at its modulo wrap.
  inputs.push_back(std::vector<uint8_t>(400, 0xff));
  return inputs;
}

class DecoderTest : public ::testing::TestWithParam<std::string> {
protected:
  const TargetProfile &profile() const { return *hvo::fuzz::find_profile(GetParam()); }
};

TEST_P(DecoderTest, EveryByteStringDecodesToAValidConfigAndFamilyOps) {
  const std::vector<uint16_t> kinds = hvo::fuzz::profile_kinds(profile());
  for (const auto &in : sample_inputs()) {
    Scenario s = hvo::fuzz::decode_input(profile(), in);
    ASSERT_EQ(s.config.validate(), "") << hvo::print_config(s.config);
    EXPECT_FALSE(s.config.bugs.any());
    EXPECT_LE(s.ops.size(), profile().max_ops);
    for (const hvo::Op &op : s.ops)
      EXPECT_NE(std::find(kinds.begin(), kinds.end(), op.kind), kinds.end());
  }
}

TEST_P(DecoderTest, EmptyInputIsTheSmallestDefaultMachineWithNoOps) {
  Scenario s = hvo::fuzz::decode_input(profile(), {});
  EXPECT_TRUE(s.ops.empty());
  EXPECT_EQ(s.config.page_shift, 12u);
  EXPECT_EQ(s.config.struct_page_size, 64u);
  ASSERT_EQ(s.config.nodes.size(), 1u);
  EXPECT_EQ(s.config.nodes[0].zones.size(), 1u);
}

TEST_P(DecoderTest, DecodedTraceParsesBackToTheSameScenario) {
  for (const auto &in : sample_inputs()) {
    Scenario s = hvo::fuzz::decode_input(profile(), in);
    // The crash report prints results as comments; the parser must skip them.
    std::vector<hvo::StepResult> results(s.ops.size() / 2);
    for (auto &r : results)
      r.result.note = "note # with a hash";
    const std::string text = hvo::fuzz::format_trace(s, results);
    Scenario back;
    std::string error;
    ASSERT_TRUE(hvo::parse_scenario(text, "trace", back, error)) << error << "\n" << text;
    EXPECT_EQ(hvo::print_scenario(back), hvo::print_scenario(s));
    EXPECT_EQ(back.ops, s.ops);
  }
}

TEST_P(DecoderTest, EncodingADecodedScenarioDecodesToItAgain) {
  for (const auto &in : sample_inputs()) {
    Scenario s = hvo::fuzz::decode_input(profile(), in);
    std::vector<uint8_t> bytes;
    ASSERT_EQ(hvo::fuzz::encode_scenario(profile(), s, bytes), "") << hvo::print_scenario(s);
    Scenario again = hvo::fuzz::decode_input(profile(), bytes);
    EXPECT_EQ(hvo::print_scenario(again), hvo::print_scenario(s));
    EXPECT_EQ(again.ops, s.ops);
  }
}

TEST_P(DecoderTest, CheckedInSeedsRoundTrip) {
  const std::filesystem::path dir = std::filesystem::path(HVO_FUZZ_CORPUS_DIR) / GetParam();
  if (!std::filesystem::exists(dir))
    GTEST_SKIP() << "no seeds for " << GetParam() << " (target not built yet)";
  std::vector<std::filesystem::path> files;
  for (const auto &e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".hvo")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto &f : files) {
    std::ifstream in(f);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Scenario s;
    std::string error;
    ASSERT_TRUE(hvo::parse_scenario(text, f.string(), s, error)) << error;
    std::vector<uint8_t> bytes;
    ASSERT_EQ(hvo::fuzz::encode_scenario(profile(), s, bytes), "") << f;
    Scenario back = hvo::fuzz::decode_input(profile(), bytes);
    EXPECT_EQ(hvo::print_scenario(back), hvo::print_scenario(s)) << f;
  }
}

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  for (const TargetProfile &p : hvo::fuzz::profiles())
    if (!hvo::fuzz::profile_kinds(p).empty())
      names.emplace_back(p.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Profiles, DecoderTest, ::testing::ValuesIn(profile_names()),
                         [](const auto &info) { return info.param; });

const TargetProfile &hugetlb() { return *hvo::fuzz::find_profile("hvo_fuzz_hugetlb"); }

// Scenarios in these tests run the v6.12.0 walk, the one the profiles use,
// unless they bring their own config line.
Scenario parse(std::string text) {
  if (text.rfind("config", 0) != 0)
    text = "config variant=v6.12.0\n" + text;
  Scenario s;
  std::string error;
  EXPECT_TRUE(hvo::parse_scenario(text, "test", s, error)) << error;
  return s;
}

std::string encode_error(const std::string &text) {
  std::vector<uint8_t> bytes;
  return hvo::fuzz::encode_scenario(hugetlb(), parse(text), bytes);
}

TEST(EncoderTest, RefusesAnOpOutsideTheTargetsFamily) {
  // boot_gigantic belongs to hvo_fuzz_boot, not to hvo_fuzz_hugetlb.
  EXPECT_NE(encode_error("boot_gigantic order=18 node=0 count=1\n").find("op family"), std::string::npos);
}

TEST(EncoderTest, RefusesAnArgumentOutsideItsDecodableRange) {
  EXPECT_NE(encode_error("optimize folio=32\n").find("outside the encodable range [0, 31]"),
            std::string::npos);
  // node 1 does not exist on a one-node machine; only node 1 is decodable
  // as the "missing node", node 2 is not.
  EXPECT_EQ(encode_error("alloc_folio order=9 node=1\n"), "");
  EXPECT_NE(encode_error("alloc_folio order=9 node=2\n"), "");
}

TEST(EncoderTest, RefusesConfigsOutsideTheTargetsSpace) {
  EXPECT_NE(encode_error("config mem=0:Normal:2G variant=v6.12.0\nflush_tlb_all\n")
                .find("not 1, 2, 4 or 8 sections"),
            std::string::npos);
  EXPECT_NE(encode_error("config section-bits=28 mem=0:Normal:256M variant=v6.12.0\n").find("section-bits"),
            std::string::npos);
  // hvo_fuzz_boot keeps 4K pages.
  std::vector<uint8_t> bytes;
  EXPECT_NE(hvo::fuzz::encode_scenario(*hvo::fuzz::find_profile("hvo_fuzz_boot"),
                                       parse("config page-size=16K variant=v6.12.0\n"), bytes)
                .find("page-size 16K with struct-page 64 is not in this target's space"),
            std::string::npos);
  EXPECT_NE(encode_error("config variant=D612\n").find("variant=D612 is not one this target runs"),
            std::string::npos);
}

TEST(EncoderTest, RefusesMoreOpsThanTheProfileDecodes) {
  std::string text;
  for (unsigned i = 0; i <= hugetlb().max_ops; ++i)
    text += "flush_tlb_all\n";
  EXPECT_NE(encode_error(text).find("decodes at most"), std::string::npos);
}

TEST(EncoderTest, StructPageIndicesNearVmemmapPageBoundariesAreShort) {
  // index 4097 = 64 * 64 + 1: class "boundary" costs 1 + 1 + 1 bytes, not 8.
  std::vector<uint8_t> near, far;
  ASSERT_EQ(hvo::fuzz::encode_scenario(hugetlb(), parse("memory_failure folio=0 index=4097\n"), near), "");
  ASSERT_EQ(hvo::fuzz::encode_scenario(hugetlb(), parse("memory_failure folio=0 index=4099\n"), far), "");
  EXPECT_EQ(far.size() - near.size(), 8u - 2u);
}

TEST(ByteCodecTest, ReaderYieldsTheLowestValuePastTheEnd) {
  const uint8_t data[] = {7};
  hvo::fuzz::ByteReader r(data);
  unsigned a = 0, b = 99;
  r.range(a, 0, 3);
  r.range(b, 5, 9);
  EXPECT_EQ(a, 3u);
  EXPECT_EQ(b, 5u);
  EXPECT_TRUE(r.exhausted());
}

TEST(ByteCodecTest, WidthGrowsWithTheRange) {
  hvo::fuzz::ByteWriter w;
  uint64_t small = 255, mid = 256, big = 1u << 20;
  w.range(small, 0, 255);
  w.range(mid, 0, 65535);
  w.range(big, 0, 1u << 20);
  EXPECT_EQ(w.bytes().size(), 1u + 2u + 8u);
  EXPECT_EQ(w.error(), "");
}

TEST(ByteCodecTest, FullRangeDoesNotDivideByZero) {
  const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  hvo::fuzz::ByteReader r(data);
  uint64_t v = 0;
  r.range(v, 0, UINT64_MAX);
  EXPECT_EQ(v, 0x0807060504030201ull);
}

}  // namespace

namespace {

TEST(RaceInputTest, EveryByteStringDecodesAndRoundTrips) {
  for (const auto &in : sample_inputs()) {
    const hvo::fuzz::RaceInput race = hvo::fuzz::decode_race_input(in);
    EXPECT_LE(race.schedule.size(), hvo::fuzz::kMaxScheduleBytes);
    std::vector<uint8_t> bytes;
    ASSERT_EQ(hvo::fuzz::encode_race_input(race, bytes), "") << hvo::fuzz::print_race_input(race);
    EXPECT_EQ(hvo::fuzz::decode_race_input(bytes), race);
    hvo::fuzz::RaceInput back;
    ASSERT_EQ(hvo::fuzz::parse_race_input(hvo::fuzz::print_race_input(race), "t", back), "");
    EXPECT_EQ(back, race) << hvo::fuzz::print_race_input(race);
  }
}

TEST(RaceInputTest, CheckedInSeedsRoundTrip) {
  const std::filesystem::path dir = std::filesystem::path(HVO_FUZZ_CORPUS_DIR) / "hvo_fuzz_race";
  size_t n = 0;
  for (const auto &e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path());
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    hvo::fuzz::RaceInput race;
    ASSERT_EQ(hvo::fuzz::parse_race_input(text, e.path().string(), race), "");
    std::vector<uint8_t> bytes;
    ASSERT_EQ(hvo::fuzz::encode_race_input(race, bytes), "") << e.path();
    EXPECT_EQ(hvo::fuzz::decode_race_input(bytes), race) << e.path();
    ++n;
  }
  EXPECT_GT(n, 0u);
}

TEST(RaceInputTest, ParseErrorsNameTheLine) {
  hvo::fuzz::RaceInput race;
  EXPECT_EQ(hvo::fuzz::parse_race_input("# c\nrace scenario=nope\n", "f", race),
            "f:2: scenario must be get-tail, speculative-reader or optimize-vs-restore");
  EXPECT_EQ(hvo::fuzz::parse_race_input("race scenario=get-tail schedule=0g\n", "f", race),
            "f:1: schedule must be hex byte pairs");
  EXPECT_EQ(hvo::fuzz::parse_race_input("\n\n", "f", race), "f:1: no race line");
}

TEST(RaceInputTest, BugSwitchesSelectTheOlderKernelsCode) {
  hvo::fuzz::RaceInput race;
  hvo::Config fixed, plain, order, no_rcu;
  EXPECT_TRUE(hvo::fuzz::race_options(race, fixed).cmpxchg_publish);
  EXPECT_TRUE(hvo::fuzz::race_options(race, fixed).refcount_first);
  EXPECT_TRUE(hvo::fuzz::race_options(race, fixed).synchronize_rcu);
  plain.bugs.set(static_cast<unsigned>(hvo::Bug::GetTailPlainStore));
  EXPECT_FALSE(hvo::fuzz::race_options(race, plain).cmpxchg_publish);
  order.bugs.set(static_cast<unsigned>(hvo::Bug::SpeculativeRefFakeHeadFirst));
  EXPECT_FALSE(hvo::fuzz::race_options(race, order).refcount_first);
  EXPECT_TRUE(hvo::fuzz::race_options(race, order).synchronize_rcu);
  no_rcu.bugs.set(static_cast<unsigned>(hvo::Bug::HvoNoSynchronizeRcu));
  EXPECT_FALSE(hvo::fuzz::race_options(race, no_rcu).synchronize_rcu);
}

}  // namespace
