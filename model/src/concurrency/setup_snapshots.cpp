// SPDX-License-Identifier: GPL-2.0-only
//
// Set-up scenario machines kept across runs (see setup_snapshots.h).
#include "hvo/concurrency/setup_snapshots.h"

#include <algorithm>
#include <stdexcept>

#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo::concurrency {

struct SetupSnapshots::Entry {
  Config config;                   // compared field by field (Config::operator==)
  std::vector<std::string> setup;  // the op lines, compared as text
  std::unique_ptr<Model> prepared;  // booted, setup applied, never runs anything else
  std::unique_ptr<Model> work;
  uint64_t last_use = 0;
  bool dirty = false;  // handed out since its last reset
};

SetupSnapshots::SetupSnapshots() = default;
SetupSnapshots::~SetupSnapshots() = default;

Model *SetupSnapshots::model_for(const Config &config, const std::vector<std::string> &setup,
                                 std::string *error) {
  ++clock_;
  last_ = nullptr;
  for (const std::unique_ptr<Entry> &e : entries_)
    if (e->config == config && e->setup == setup) {
      e->last_use = clock_;
      if (e->dirty)
        e->work->reset(*e->prepared);
      e->dirty = true;
      return last_ = e->work.get();
    }
  auto e = std::make_unique<Entry>();
  e->prepared = Model::create(config, error);
  if (!e->prepared)
    return nullptr;  // an invalid config is not kept: each call reports it
  for (const std::string &line : setup) {
    Op op;
    if (std::string err = parse_op(line, op); !err.empty())
      throw std::invalid_argument("scenario setup op '" + line + "': " + err);
    e->prepared->apply(op);
  }
  e->config = config;
  e->setup = setup;
  // The working copy is a copy of the prepared one (what booting it and
  // resetting it to `prepared` gives, without the boot); from here on it is
  // only ever reset.
  e->work = Model::copy_of_booted(*e->prepared);
  e->last_use = clock_;
  e->dirty = true;
  if (entries_.size() >= kMaxEntries)
    entries_.erase(std::min_element(entries_.begin(), entries_.end(),
                                    [](const std::unique_ptr<Entry> &a,
                                       const std::unique_ptr<Entry> &b) {
                                      return a->last_use < b->last_use;
                                    }));
  entries_.push_back(std::move(e));
  return last_ = entries_.back()->work.get();
}

void SetupSnapshots::release_all() {
  for (const std::unique_ptr<Entry> &e : entries_)
    if (e->dirty) {
      e->work->reset(*e->prepared);
      e->dirty = false;
    }
}

} // namespace hvo::concurrency
