// SPDX-License-Identifier: GPL-2.0-only
//
// Booted machines kept across fuzz inputs, one per configuration.
//
// Booting (sparse_init + memmap_init over every section) is the largest fixed
// cost of an input: most inputs run a handful of ops on a 1 GiB or larger
// machine.  The cache boots each distinct Config once and keeps that machine
// untouched; the working Model starts as a copy of it (Model::copy_of_booted:
// one boot per miss, not two), and each later input gets it reset to the
// booted one (Model::reset), which
// copies the booted state into storage the working Model already owns.  The
// result is the state a fresh boot produces, byte for byte
// (tests/model/boot_snapshot_test.cpp; ctest fuzz.bootcache.* replays every
// corpus with and without the cache and compares the outcome digests).
//
// Every input hands its working Models back (release_all) before it returns,
// reset to the booted state there and then: what the input allocated is
// freed within the same input.  libFuzzer counts mallocs and frees per
// input, and an input that leaves more allocated than it found (a bigger
// machine state left for the next input's reset to free) is run a second
// time and followed by a whole-heap LeakSanitizer scan (-detect_leaks=1,
// the default), which halved the executions per second of short runs.
//
// HVO_FUZZ_BOOT_CACHE=0 turns the cache off: every input boots a fresh Model.
// It also turns off the race target's set-up machines
// (model/include/hvo/concurrency/setup_snapshots.h), which keep the state
// after a scenario's setup ops rather than after the boot: with the cache
// off, each race input boots and applies its setup ops afresh.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hvo/model.h"

namespace hvo::fuzz {

class BootCache {
public:
  // At most this many configurations are kept; the least recently used one
  // is dropped first.  libFuzzer changes the config bytes often: the
  // corpora it grows in 30 s hold one configuration per 3-4 inputs, 150-230
  // of them, drawn in no particular order, so 8 entries hit about one
  // input in seven.  Memory is not the limit: the replay drivers' peak RSS
  // over those corpora (ASan's quarantine is most of it) was 230-360 MB with
  // 32 entries against 295-355 MB with 8; OSS-Fuzz allows 2,560 MB.
  static constexpr size_t kMaxEntries = 32;
  static_assert(kMaxEntries >= 2, "the differential target holds two models at once");
  // A configuration is kept only when it is asked for a second time while
  // among the last kSeen first sightings: the first time it gets a plain
  // boot, freed at release_all.  Keeping costs a copy of the booted machine
  // on top of the boot, wasted on the many configurations a fuzzer tries
  // once.
  static constexpr size_t kSeen = 256;

  explicit BootCache(bool enabled) : enabled_(enabled) {}

  // A Model in the state Model::create(cfg) returns, or nullptr with *error
  // set when `cfg` is invalid.  With the cache on it stays valid until
  // release_all or until kMaxEntries - 1 other configurations have been
  // asked for (an entry just used is never the one dropped), so the
  // differential target can hold one per era; with it off, until the next
  // call.
  Model *model_for(const Config &cfg, std::string *error);

  // Resets every Model handed out since the last call to the booted state
  // (with the cache off, frees the uncached one).  The Models stay valid
  // and model_for does not reset them again.  Call at the end of an input.
  void release_all();

  bool enabled() const { return enabled_; }

  // The reference a miss used to take (tests/fastpath): boot the working
  // Model as well as the kept one, instead of copying the kept one, and
  // boot every miss rather than copy a machine that boots alike
  // (Model::copy_of_booted with another Config).
  static inline bool boot_twice_reference = false;

private:
  struct Entry {
    Config config;  // compared field by field (Config::operator==)
    std::unique_ptr<Model> booted;  // never applies an op
    std::unique_ptr<Model> work;
    uint64_t last_use = 0;
    bool dirty = false;  // handed out since its last reset
  };
  // Whether `cfg` was seen once before (and forgets it: it is kept now);
  // otherwise remembers it.
  bool seen_before(const Config &cfg);
  // A Model in a freshly booted state whose machine boots alike `cfg`
  // (Machine::boots_alike), to copy on a miss; nullptr if none.
  const Model *alike_booted(const Config &cfg) const;
  struct Once {
    Config config;
    std::unique_ptr<Model> model;
  };

  bool enabled_;
  std::vector<Entry> entries_;
  std::vector<Config> seen_;  // first sightings, oldest first, at most kSeen
  std::vector<Once> once_;  // this input's first sightings
  std::unique_ptr<Model> uncached_;
  uint64_t clock_ = 0;
};

} // namespace hvo::fuzz
