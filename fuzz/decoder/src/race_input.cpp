// SPDX-License-Identifier: GPL-2.0-only
//
// hvo_fuzz_race's input (see race_input.h).
#include "hvo/fuzz/race_input.h"

#include <array>
#include <cstdio>

#include "hvo/fuzz/byte_codec.h"

namespace hvo::fuzz {

namespace {

using concurrency::ScenarioKind;

constexpr std::array<std::string_view, 3> kKindNames = {"get-tail", "speculative-reader",
                                                        "optimize-vs-restore"};
// Shared-tail shapes a scenario can boot (kiryl-v6 is a historic bug of its own).
constexpr std::array<Variant, 2> kSharedVariants = {Variant::KirylV7, Variant::Muchun};

template <class IO> void race_schema(IO &io, RaceInput &in) {
  uint8_t kind = static_cast<uint8_t>(in.kind), variant = 0, era = in.era == Era::SharedTail;
  if (in.remap_steps)
    kind = static_cast<uint8_t>(kind + kKindNames.size());
  if constexpr (!IO::kDecoding) {
    variant = in.shared_variant == Variant::Muchun ? 1 : 0;
    if (in.shared_variant != Variant::KirylV7 && in.shared_variant != Variant::Muchun)
      io.fail("shared-variant must be kiryl-v7 or muchun");
    if (in.kind != ScenarioKind::SpeculativeReader && (in.era != Era::Legacy || in.restore))
      io.fail("era= and restore= only apply to scenario=speculative-reader");
    if (in.kind == ScenarioKind::SpeculativeReader && in.era == Era::Legacy &&
        in.shared_variant != Variant::KirylV7)
      io.fail("shared-variant only applies to the shared-tail era");
    if (in.kind == ScenarioKind::GetTailRace && in.remap_steps)
      io.fail("remap= only applies to speculative-reader and optimize-vs-restore");
    if (in.schedule.size() > kMaxScheduleBytes)
      io.fail("schedule longer than " + std::to_string(kMaxScheduleBytes) + " bytes");
  }
  io.choice(kind, 2 * kKindNames.size());
  in.kind = static_cast<ScenarioKind>(kind % kKindNames.size());
  in.remap_steps = kind >= kKindNames.size() && in.kind != ScenarioKind::GetTailRace;
  if (in.kind == ScenarioKind::SpeculativeReader) {
    io.choice(era, 2);
    in.era = era ? Era::SharedTail : Era::Legacy;
    io.flag(in.restore);
  }
  if (in.kind != ScenarioKind::SpeculativeReader || in.era == Era::SharedTail) {
    io.choice(variant, kSharedVariants.size());
    in.shared_variant = kSharedVariants[variant];
  }
  if constexpr (IO::kDecoding) {
    while (!io.exhausted() && in.schedule.size() < kMaxScheduleBytes) {
      uint8_t b = 0;
      io.range(b, 0, 255);
      in.schedule.push_back(b);
    }
  } else {
    for (uint8_t b : in.schedule)
      io.range(b, 0, 255);
  }
}

std::string_view variant_text(Variant v) { return v == Variant::Muchun ? "muchun" : "kiryl-v7"; }

} // namespace

RaceInput decode_race_input(std::span<const uint8_t> data) {
  ByteReader r(data);
  RaceInput in;
  race_schema(r, in);
  return in;
}

std::string encode_race_input(const RaceInput &in, std::vector<uint8_t> &bytes) {
  ByteWriter w;
  RaceInput copy = in;
  race_schema(w, copy);
  if (!w.error().empty())
    return w.error();
  bytes = w.bytes();
  return {};
}

concurrency::ScenarioOptions race_options(const RaceInput &in, const Config &bugs) {
  concurrency::ScenarioOptions o;
  o.shared_variant = in.shared_variant;
  o.era = in.era;
  o.restore = in.restore;
  o.remap_steps = in.remap_steps;
  o.cmpxchg_publish = !bugs.has(Bug::GetTailPlainStore);
  o.refcount_first = !bugs.has(Bug::SpeculativeRefFakeHeadFirst);
  o.synchronize_rcu = true;
  if (bugs.has(Bug::HvoNoSynchronizeRcu)) {
    // Before bd225530a4c7 HVO did not wait for readers, and the reader did
    // not have Yu Zhao's order either (that fix came later).
    o.synchronize_rcu = false;
    o.refcount_first = false;
  }
  return o;
}

std::string print_race_input(const RaceInput &in) {
  std::string s = "race scenario=" + std::string(kKindNames[static_cast<size_t>(in.kind)]);
  if (in.remap_steps)
    s += " remap=steps";
  if (in.kind == ScenarioKind::SpeculativeReader)
    s += std::string(" era=") + (in.era == Era::Legacy ? "legacy" : "shared-tail") +
         " restore=" + (in.restore ? "1" : "0");
  if (in.kind != ScenarioKind::SpeculativeReader || in.era == Era::SharedTail)
    s += " shared-variant=" + std::string(variant_text(in.shared_variant));
  s += " schedule=";
  char b[4];
  for (uint8_t c : in.schedule) {
    std::snprintf(b, sizeof b, "%02x", c);
    s += b;
  }
  return s;
}

std::string parse_race_input(std::string_view text, std::string_view name, RaceInput &out) {
  out = RaceInput{};
  unsigned lineno = 0;
  bool seen = false;
  size_t pos = 0;
  auto fail = [&](const std::string &msg) { return std::string(name) + ":" + std::to_string(lineno) + ": " + msg; };
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    if (size_t h = line.find('#'); h != std::string_view::npos)
      line = line.substr(0, h);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
      line.remove_prefix(1);
    if (line.empty())
      continue;
    if (seen)
      return fail("more than one race line");
    if (line.substr(0, 5) != "race " && line != "race")
      return fail("expected 'race scenario=... schedule=...'");
    seen = true;
    std::string_view rest = line.substr(4);
    bool have_kind = false;
    while (!rest.empty()) {
      while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
      size_t sp = rest.find(' ');
      std::string_view tok = rest.substr(0, sp);
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
      if (tok.empty())
        continue;
      size_t eq = tok.find('=');
      if (eq == std::string_view::npos)
        return fail("'" + std::string(tok) + "' is not key=value");
      std::string_view k = tok.substr(0, eq), v = tok.substr(eq + 1);
      if (k == "scenario") {
        size_t i = 0;
        while (i < kKindNames.size() && kKindNames[i] != v)
          ++i;
        if (i == kKindNames.size())
          return fail("scenario must be get-tail, speculative-reader or optimize-vs-restore");
        out.kind = static_cast<ScenarioKind>(i);
        have_kind = true;
      } else if (k == "era") {
        if (v != "legacy" && v != "shared-tail")
          return fail("era must be legacy or shared-tail");
        out.era = v == "legacy" ? Era::Legacy : Era::SharedTail;
      } else if (k == "restore") {
        if (v != "0" && v != "1")
          return fail("restore must be 0 or 1");
        out.restore = v == "1";
      } else if (k == "remap") {
        if (v != "call" && v != "steps")
          return fail("remap must be call or steps");
        out.remap_steps = v == "steps";
      } else if (k == "shared-variant") {
        if (v != "kiryl-v7" && v != "muchun")
          return fail("shared-variant must be kiryl-v7 or muchun");
        out.shared_variant = v == "muchun" ? Variant::Muchun : Variant::KirylV7;
      } else if (k == "schedule") {
        if (v.size() % 2)
          return fail("schedule must be hex byte pairs");
        for (size_t i = 0; i < v.size(); i += 2) {
          unsigned byte = 0;
          for (size_t j = i; j < i + 2; ++j) {
            const char c = v[j];
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
              return fail("schedule must be hex byte pairs");
            byte = byte * 16 + static_cast<unsigned>(d);
          }
          out.schedule.push_back(static_cast<uint8_t>(byte));
        }
      } else {
        return fail("unknown key '" + std::string(k) + "'");
      }
    }
    if (!have_kind)
      return fail("scenario= is missing");
    if (out.remap_steps && out.kind == ScenarioKind::GetTailRace)
      return fail("remap=steps only applies to speculative-reader and optimize-vs-restore");
  }
  if (!seen) {
    lineno = 1;
    return fail("no race line");
  }
  return {};
}

} // namespace hvo::fuzz
