// SPDX-License-Identifier: GPL-2.0-only
//
// Operation-level delta debugging (see minimize.h).
#include "hvo/triage/minimize.h"

#include <algorithm>

namespace hvo::triage {

namespace {

class Reducer {
public:
  Reducer(const Scenario &s, const Admissible &admissible)
      : best_(s), admissible_(admissible) {
    RunOutcome r = run_scenario(s);
    want_ = signature_of(s, r);
    failing_op_ = r.failing_op;
    in_final_check_ = r.in_final_check;
  }

  const Signature &signature() const { return want_; }
  const Scenario &best() const { return best_; }
  size_t replays() const { return replays_; }

  // Keeps `c` if it still crashes the same way.
  bool try_candidate(const Scenario &c) {
    if (admissible_ && !admissible_(c))
      return false;
    ++replays_;
    RunOutcome r = run_scenario(c);
    if (!r.crashed || !(signature_of(c, r) == want_))
      return false;
    best_ = c;
    // Ops after the failing one never ran: drop them right away.
    if (!r.in_final_check && r.failing_op + 1 < best_.ops.size())
      truncate(r.failing_op + 1);
    return true;
  }

  void truncate(size_t n) {
    best_.ops.resize(n);
    if (best_.lines.size() > n)
      best_.lines.resize(n);
  }

  void drop_tail() {
    if (!in_final_check_ && failing_op_ + 1 < best_.ops.size())
      truncate(failing_op_ + 1);
  }

  // ddmin over best_.ops: try removing each of n chunks (complements); on
  // success restart at the coarser granularity, else refine.
  bool ddmin() {
    bool progress = false;
    size_t n = 2;
    while (best_.ops.size() >= 2) {
      const size_t len = best_.ops.size();
      const size_t chunk = (len + n - 1) / n;
      bool removed = false;
      for (size_t start = 0; start < len; start += chunk) {
        Scenario c = without(best_, start, std::min(len, start + chunk));
        if (try_candidate(c)) {
          removed = true;
          progress = true;
          n = std::max<size_t>(n - 1, 2);
          break;
        }
      }
      if (removed)
        continue;
      if (n >= len)
        break;
      n = std::min(len, n * 2);
    }
    // A single remaining op may itself be unnecessary (a final-check crash).
    if (best_.ops.size() == 1 && try_candidate(without(best_, 0, 1)))
      progress = true;
    return progress;
  }

  // ddmin cannot drop an op that created a folio later ops name: folio ids
  // are allocation order, so every later id would have to shift down.  Try
  // exactly that, one op at a time from the end: remove op i and decrement
  // every nonzero folio/first argument after it.
  bool remove_with_renumber() {
    bool progress = false;
    const auto table = op_table();
    for (size_t i = best_.ops.size(); i-- > 0;) {
      if (i >= best_.ops.size())
        continue;
      Scenario c = without(best_, i, i + 1);
      bool renumbered = false;
      for (size_t k = i; k < c.ops.size(); ++k) {
        Op &op = c.ops[k];
        if (op.kind >= table.size())
          continue;
        const OpDescriptor &d = table[op.kind];
        for (size_t a = 0; a < d.args.size(); ++a)
          if ((d.args[a].name == "folio" || d.args[a].name == "first") && op.args[a] > d.args[a].min) {
            --op.args[a];
            renumbered = true;
          }
      }
      if (renumbered && try_candidate(c))
        progress = true;
    }
    return progress;
  }

  // Each argument toward the small end of its range.
  bool simplify_args() {
    bool progress = false;
    const auto table = op_table();
    for (size_t i = 0; i < best_.ops.size(); ++i) {
      const Op op = best_.ops[i];
      if (op.kind >= table.size())
        continue;
      const OpDescriptor &d = table[op.kind];
      for (size_t a = 0; a < d.args.size(); ++a) {
        const uint64_t cur = best_.ops[i].args[a];
        std::vector<uint64_t> candidates = {d.args[a].min, d.args[a].def, cur / 2, cur - 1};
        std::sort(candidates.begin(), candidates.end());
        candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
        for (uint64_t v : candidates) {
          if (v >= cur || v < d.args[a].min)
            continue;
          Scenario c = best_;
          c.ops[i].args[a] = v;
          if (try_candidate(c)) {
            progress = true;
            break;
          }
        }
      }
    }
    return progress;
  }

  // Default vmemmap base and hotplug setting, fewer nodes, fewer zones,
  // smaller zones (whole sections).
  bool simplify_config() {
    bool progress = false;
    const Config def;
    if (best_.config.vmemmap_base != def.vmemmap_base) {
      Scenario c = best_;
      c.config.vmemmap_base = def.vmemmap_base;
      progress |= try_candidate(c);
    }
    if (best_.config.memory_hotplug != def.memory_hotplug) {
      Scenario c = best_;
      c.config.memory_hotplug = def.memory_hotplug;
      progress |= try_candidate(c);
    }
    while (best_.config.nodes.size() > 1) {
      Scenario c = best_;
      c.config.nodes.pop_back();
      if (!try_candidate(c))
        break;
      progress = true;
    }
    const uint64_t section = best_.config.pages_per_section();
    for (size_t n = 0; n < best_.config.nodes.size(); ++n) {
      for (size_t z = best_.config.nodes[n].zones.size(); z-- > 0;) {
        if (best_.config.nodes[n].zones.size() > 1) {
          Scenario c = best_;
          c.config.nodes[n].zones.erase(c.config.nodes[n].zones.begin() + static_cast<long>(z));
          if (try_candidate(c)) {
            progress = true;
            continue;
          }
        }
        for (;;) {
          const uint64_t pages = best_.config.nodes[n].zones[z].pages;
          const uint64_t half = pages / 2 / section * section;
          if (half == 0 || half == pages)
            break;
          Scenario c = best_;
          c.config.nodes[n].zones[z].pages = half;
          if (!try_candidate(c))
            break;
          progress = true;
        }
      }
    }
    return progress;
  }

private:
  static Scenario without(const Scenario &s, size_t from, size_t to) {
    Scenario c = s;
    c.ops.erase(c.ops.begin() + static_cast<long>(from), c.ops.begin() + static_cast<long>(to));
    if (c.lines.size() >= to)
      c.lines.erase(c.lines.begin() + static_cast<long>(from), c.lines.begin() + static_cast<long>(to));
    return c;
  }

  Scenario best_;
  Admissible admissible_;
  Signature want_;
  size_t failing_op_ = 0;
  bool in_final_check_ = false;
  size_t replays_ = 0;
};

}  // namespace

MinimizeResult minimize(const Scenario &s, const Admissible &admissible) {
  MinimizeResult out;
  out.ops_before = s.ops.size();
  Reducer r(s, admissible);
  out.signature = r.signature();
  if (out.signature.invariant.empty()) {
    out.scenario = s;
    out.ops_after = s.ops.size();
    return out;
  }
  r.drop_tail();
  // Each pass can enable the others (a smaller order frees an op that only
  // made room); stop at a fixpoint, bounded in case of oscillation.
  for (out.rounds = 1; out.rounds <= 8; ++out.rounds) {
    bool progress = r.ddmin();
    progress |= r.remove_with_renumber();
    progress |= r.simplify_args();
    progress |= r.simplify_config();
    if (!progress)
      break;
  }
  out.scenario = r.best();
  out.scenario.lines.clear();
  out.ops_after = out.scenario.ops.size();
  out.replays = r.replays();
  return out;
}

RaceMinimizeResult minimize_race(const fuzz::RaceInput &in, const BugSet &bugs) {
  RaceMinimizeResult out;
  out.race = in;
  out.bytes_before = in.schedule.size();
  out.signature = race_signature_of(in, bugs, run_race(in, bugs));
  if (out.signature.invariant.empty()) {
    out.bytes_after = out.bytes_before;
    return out;
  }
  auto keeps = [&](const fuzz::RaceInput &c) {
    ++out.replays;
    return race_signature_of(c, bugs, run_race(c, bugs)) == out.signature;
  };
  std::vector<uint8_t> &sched = out.race.schedule;
  for (bool progress = true; progress;) {
    progress = false;
    // ddmin over schedule bytes.
    for (size_t n = 2; sched.size() >= 1;) {
      const size_t len = sched.size(), chunk = (len + n - 1) / n;
      bool removed = false;
      for (size_t start = 0; start < len && !removed; start += chunk) {
        fuzz::RaceInput c = out.race;
        c.schedule.erase(c.schedule.begin() + static_cast<long>(start),
                         c.schedule.begin() + static_cast<long>(std::min(len, start + chunk)));
        if (keeps(c)) {
          out.race = c;
          removed = progress = true;
          n = std::max<size_t>(n - 1, 2);
        }
      }
      if (!removed) {
        if (n >= len)
          break;
        n = std::min(len, n * 2);
      }
    }
    // Each byte toward 0.
    for (size_t i = 0; i < sched.size(); ++i) {
      for (uint8_t v : {uint8_t{0}, uint8_t{1}}) {
        if (v >= sched[i])
          continue;
        fuzz::RaceInput c = out.race;
        c.schedule[i] = v;
        if (keeps(c)) {
          out.race = c;
          progress = true;
          break;
        }
      }
    }
  }
  out.bytes_after = sched.size();
  return out;
}

}  // namespace hvo::triage
