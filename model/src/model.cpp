// SPDX-License-Identifier: GPL-2.0-only
//
// The Model facade (see model.h).
#include "hvo/model.h"

#include "hvo/dax_oracle.h"

namespace hvo {

std::unique_ptr<Model> Model::create(const Config &cfg, std::string *error) {
  std::string err = cfg.validate();
  if (!err.empty()) {
    if (error)
      *error = err;
    return nullptr;
  }
  return std::make_unique<Model>(cfg);
}

Model::Model(const Config &cfg) : requested_(cfg), m_(cfg), oracle_(m_) {}

Model::Model(const Model &booted, Machine::StateOf state)
    : requested_(state.as ? *state.as : booted.requested_), m_(state),
      oracle_(m_, booted.oracle_), index_(booted.index_) {}

std::unique_ptr<Model> Model::copy_of_booted(const Model &booted) {
  return std::unique_ptr<Model>(new Model(booted, Machine::StateOf{booted.m_}));
}

std::unique_ptr<Model> Model::copy_of_booted(const Model &booted, const Config &as,
                                             std::string *error) {
  std::string err = as.validate();
  if (err.empty() && !Machine::boots_alike(booted.requested_, as))
    err = "configuration does not boot like the copied machine's";
  if (!err.empty()) {
    if (error)
      *error = err;
    return nullptr;
  }
  return std::unique_ptr<Model>(new Model(booted, Machine::StateOf{booted.m_, &as}));
}

void Model::reset(const Model &booted) {
  requested_ = booted.requested_;
  m_.assign_state(booted.m_);
  oracle_.reset(booted.oracle_);
  index_ = booted.index_;
}

StepResult Model::apply(const Op &op) {
  StepResult r;
  auto table = op_table();
  if (op.kind >= table.size()) {
    r.result.ret = -22;  // -EINVAL: no such operation
    r.result.note = "unknown op kind";
  } else {
    r.result = table[op.kind].apply(*this, op);
  }
  r.violations = oracle_.check(index_, r.result.folios);
  append_dax_violations(r.violations, index_);
  index_++;
  return r;
}

std::vector<Violation> Model::check_all() {
  bool was = oracle_.full;
  oracle_.full = true;
  std::vector<Violation> v = oracle_.check(index_ == 0 ? 0 : index_ - 1, {});
  append_dax_violations(v, index_ == 0 ? 0 : index_ - 1);
  oracle_.full = was;
  return v;
}

// Device-DAX invariants (dax_oracle.h), once anything was hot-added.
void Model::append_dax_violations(std::vector<Violation> &out, uint64_t op_index) {
  if (!m_.hotplug.initialized)
    return;
  for (Violation &v : check_dax(m_, m_.hotplug, oracle_.max_per_id)) {
    v.op_index = op_index;
    out.push_back(std::move(v));
  }
}

void Model::poke(uint64_t vaddr, uint64_t value) {
  Pte p = m_.pt.ptep_get(vaddr & ~7ull);
  if (!p.present())
    return;
  m_.phys.write_word(p.frame, (vaddr & (m_.cfg.page_size() - 1)) / 8, value);
  m_.phys.touch(p.frame);
}

void Model::poke_pte(uint64_t vaddr, FrameId frame, bool ro) {
  size_t i = m_.pt.pmd_index(vaddr);
  if (m_.pt.pmd(i).kind != PmdKind::Table)
    return;
  m_.pt.set_pte_at(vaddr & ~(m_.cfg.page_size() - 1), Pte{frame, ro});
}

}  // namespace hvo
