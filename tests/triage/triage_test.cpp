// SPDX-License-Identifier: GPL-2.0-only
//
// hvo-triage's building blocks: content detection, artifact names, target
// inference, bad input as one-line errors, signatures, JSON.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hvo/fuzz/decoder.h"
#include "hvo/triage/input.h"
#include "hvo/triage/json.h"
#include "hvo/triage/minimize.h"
#include "hvo/triage/regress.h"
#include "hvo/triage/run.h"

namespace hvo::triage {
namespace {

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Detection, ScenarioTextIsRecognisedByItsFirstStatement) {
  EXPECT_TRUE(looks_like_scenario(bytes_of("# a comment\n\nconfig page-size=4K\nalloc_folio\n")));
  EXPECT_TRUE(looks_like_scenario(bytes_of("alloc_folio order=9 node=0\n")));
  EXPECT_TRUE(looks_like_scenario(bytes_of("# only a comment\n")));
  EXPECT_FALSE(looks_like_scenario(bytes_of("configure the thing\n")));
  EXPECT_FALSE(looks_like_scenario(bytes_of("ZZZZZZZZ")));
  EXPECT_FALSE(looks_like_scenario(bytes_of("config page-size=4K\x01\n")));
  EXPECT_FALSE(looks_like_scenario({}));
}

TEST(Detection, ArtifactKindComesFromTheLibFuzzerPrefix) {
  EXPECT_EQ(artifact_kind("out/crash-da39a3ee"), "crash");
  EXPECT_EQ(artifact_kind("leak-1"), "leak");
  EXPECT_EQ(artifact_kind("/x/timeout-2"), "timeout");
  EXPECT_EQ(artifact_kind("oom-3"), "oom");
  EXPECT_EQ(artifact_kind("clusterfuzz-testcase-minimized-hvo_fuzz_dax-123"), "testcase");
  EXPECT_EQ(artifact_kind("crashes/scenario.hvo"), "");
}

TEST(Detection, TargetNameInThePathWinsLongestFirst) {
  EXPECT_EQ(target_from_path("clusterfuzz-testcase-minimized-hvo_fuzz_hugetlb-5120"), "hvo_fuzz_hugetlb");
  EXPECT_EQ(target_from_path("artifacts/hvo_fuzz_dax/crash-1"), "hvo_fuzz_dax");
  EXPECT_EQ(target_from_path("crash-1"), "");
}

TEST(BadInput, EveryErrorIsOneLineNamingTheFile) {
  LoadOptions opts;
  TriageInput in;
  for (const std::string path : {"/nonexistent/crash-1", "/"}) {
    std::string err = load_input(path, opts, in);
    EXPECT_FALSE(err.empty()) << path;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    EXPECT_EQ(err.rfind(path, 0), 0u) << err;
  }
  std::string err = load_input_bytes("broken.hvo", bytes_of("config page-size=5K\nalloc_folio\n"), opts, in);
  EXPECT_EQ(err.rfind("broken.hvo:1:", 0), 0u) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  opts.target = "hvo_fuzz_nope";
  err = load_input_bytes("crash-1", bytes_of("\x01\x02"), opts, in);
  EXPECT_NE(err.find("no fuzz target named 'hvo_fuzz_nope'"), std::string::npos) << err;
}

TEST(BadInput, EmptyAndTruncatedBytesAreACleanVerdict) {
  LoadOptions opts;
  TriageInput in;
  ASSERT_EQ(load_input_bytes("crash-empty", {}, opts, in), "");
  EXPECT_EQ(in.format, InputFormat::Bytes);
  EXPECT_FALSE(run_scenario(in.scenario).crashed);
  EXPECT_EQ(in.target_source, "default (no target crashes on these bytes)");
  for (const fuzz::TargetProfile &p : fuzz::profiles()) {
    opts.target = std::string(p.name);
    const std::vector<uint8_t> one = {0xff};
    ASSERT_EQ(load_input_bytes("crash-1", one, opts, in), "") << p.name;
    EXPECT_EQ(in.target, p.name);
    EXPECT_TRUE(run_scenario(in.scenario).model_error.empty()) << p.name;
  }
}

TEST(BadInput, UnknownBugSwitchIsNamed) {
  BugSet b;
  std::string err = parse_bug_list("no-such-bug", b);
  EXPECT_NE(err.find("unknown bug switch 'no-such-bug'"), std::string::npos) << err;
  EXPECT_EQ(parse_bug_list("", b), "");
  EXPECT_FALSE(b.any());
}

TEST(Signature, ConfigClassNamesPageSizeStructPageClassVariantAndHvo) {
  Config c;
  EXPECT_EQ(config_class(c), "4K sp64 D612 hvo=on");
  c.struct_page_size = 72;
  c.page_shift = 14;
  c.variant = Variant::V6_12_0;
  c.hvo_enabled = false;
  EXPECT_EQ(config_class(c), "16K sp-not-pow2 v6.12.0 hvo=off");
  c.struct_page_size = 80;
  EXPECT_EQ(config_class(c), "16K sp-not-pow2 v6.12.0 hvo=off") << "72 and 80 bytes are one class";
}

TEST(Signature, CleanRunHasNoSignature) {
  Scenario s;
  ASSERT_TRUE([&] {
    std::string err;
    return parse_scenario("config variant=v6.12.0\nalloc_folio order=9 node=0\nrestore folio=0\n", "t", s, err);
  }());
  RunOutcome r = run_scenario(s);
  EXPECT_FALSE(r.crashed);
  EXPECT_TRUE(signature_of(s, r).invariant.empty());
  MinimizeResult m = minimize(s);
  EXPECT_EQ(m.ops_after, m.ops_before) << "nothing to minimize without a crash";
}

TEST(Signature, GroupByKeepsOnlyTheNamedParts) {
  Signature s{"I3-ro-write", "optimize", "legacy", "4K sp64 D612 hvo=on"};
  unsigned parts = 0;
  ASSERT_EQ(parse_signature_parts("op,invariant", parts), "");
  EXPECT_EQ(coarsen(s, parts).key(), "I3-ro-write | optimize | * | *");
  EXPECT_EQ(coarsen(s, kPartAll).key(), s.key());
  EXPECT_NE(parse_signature_parts("invariant,stack", parts).find("unknown signature part 'stack'"),
            std::string::npos);
  EXPECT_NE(parse_signature_parts("", parts), "");
}

TEST(Json, EscapesControlAndHighBytes) {
  EXPECT_EQ(json_escape("a\"b\\c\n\x01\xff"), "\"a\\\"b\\\\c\\n\\u0001\\u00ff\"");
  JsonWriter j;
  j.begin_object().key("a").value(uint64_t{1}).key("b").begin_array().value("x").null().value(true).end_array().end_object();
  EXPECT_EQ(j.str(), "{\"a\":1,\"b\":[\"x\",null,true]}\n");
}

TEST(Regression, HeaderRoundTrips) {
  Scenario s;
  std::string err;
  ASSERT_TRUE(parse_scenario("config variant=D612\nalloc_folio order=7 node=0\nfree_folio folio=0\n", "t", s, err)) << err;
  RunOutcome r = run_scenario(s);
  ASSERT_TRUE(r.crashed);
  Signature sig = signature_of(s, r);
  const std::string text = format_regression(s, sig, "from a test\nsecond line");
  EXPECT_EQ(text.rfind("# SPDX-License-Identifier: GPL-2.0-only\n", 0), 0u);
  EXPECT_EQ(read_expect_line(text), sig.key());
  RegressionVerdict v = check_regression(text, "t.hvo");
  EXPECT_EQ(v.error, "");
  EXPECT_TRUE(v.reproduces());
  EXPECT_FALSE(v.holds()) << "no switch: the D612 port behaviour is present either way";
  EXPECT_NE(check_regression("config\n", "n.hvo").error.find("no '# expect:' line"), std::string::npos);
}

}  // namespace
}  // namespace hvo::triage
