// SPDX-License-Identifier: GPL-2.0-only
//
// Booted machines per configuration (see boot_cache.h).
#include "hvo/fuzz/boot_cache.h"

#include <algorithm>

namespace hvo::fuzz {

Model *BootCache::model_for(const Config &cfg, std::string *error) {
  if (!enabled_) {
    uncached_.reset();  // free the previous input's machine before booting
    uncached_ = Model::create(cfg, error);
    return uncached_.get();
  }
  ++clock_;
  for (Entry &e : entries_)
    if (e.config == cfg) {
      e.last_use = clock_;
      if (e.dirty)
        e.work->reset(*e.booted);
      e.dirty = true;
      return e.work.get();
    }
  // A machine that boots alike (another era, variant, hvo or hotplug
  // setting of the same memory; Machine::boots_alike) is copied with the
  // Config retargeted instead of booting again: the differential target's
  // second era always, and libFuzzer's mutants of those config bytes.
  const Model *alike = boot_twice_reference ? nullptr : alike_booted(cfg);
  std::unique_ptr<Model> booted =
      alike ? Model::copy_of_booted(*alike, cfg, error) : Model::create(cfg, error);
  if (!booted)
    return nullptr;  // invalid configs are not cached: each is reported
  if (!seen_before(cfg)) {
    once_.push_back(Once{cfg, std::move(booted)});
    return once_.back().model.get();
  }
  // One boot per miss: the working Model is a copy of the booted one, not a
  // second boot (Model::copy_of_booted; the reference boots both).
  std::unique_ptr<Model> work =
      boot_twice_reference ? std::make_unique<Model>(cfg) : Model::copy_of_booted(*booted);
  if (entries_.size() >= kMaxEntries) {
    auto lru = std::min_element(entries_.begin(), entries_.end(),
                                [](const Entry &a, const Entry &b) { return a.last_use < b.last_use; });
    entries_.erase(lru);
  }
  entries_.push_back(Entry{cfg, std::move(booted), std::move(work), clock_, true});
  return entries_.back().work.get();
}

// Kept booted machines first (never run), then this input's first
// sightings that have not run an op yet (the harness changes a Model only
// through apply: the differential target asks for its second era before
// its first op).
const Model *BootCache::alike_booted(const Config &cfg) const {
  for (const Entry &e : entries_)
    if (Machine::boots_alike(e.config, cfg))
      return e.booted.get();
  for (const Once &o : once_)
    if (o.model->ops_applied() == 0 && Machine::boots_alike(o.config, cfg))
      return o.model.get();
  return nullptr;
}

bool BootCache::seen_before(const Config &cfg) {
  auto it = std::find(seen_.begin(), seen_.end(), cfg);
  if (it != seen_.end()) {
    seen_.erase(it);
    return true;
  }
  if (seen_.size() >= kSeen)
    seen_.erase(seen_.begin());
  seen_.push_back(cfg);
  return false;
}

void BootCache::release_all() {
  uncached_.reset();
  once_.clear();
  for (Entry &e : entries_)
    if (e.dirty) {
      e.work->reset(*e.booted);
      e.dirty = false;
    }
}

} // namespace hvo::fuzz
