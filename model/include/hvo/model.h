// SPDX-License-Identifier: GPL-2.0-only
//
// The facade every tool uses: a booted machine plus its oracle; apply() runs
// one operation and returns what the kernel returned and what the oracle
// found.  No state outside the Model: two Models given the same Config and
// the same ops produce the same results, byte for byte.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hvo/config.h"
#include "hvo/machine.h"
#include "hvo/oracle.h"
#include "hvo/ops.h"
#include "hvo/violation.h"

namespace hvo {

struct StepResult {
  OpResult result;
  std::vector<Violation> violations;
};

class Model {
public:
  // Validates `cfg`; on failure returns nullptr and sets *error (one line).
  static std::unique_ptr<Model> create(const Config &cfg, std::string *error);
  explicit Model(const Config &cfg);  // cfg must be valid

  // Back to the state `booted` (a Model that has not applied any op) is
  // in: the same results, byte for byte, for the same ops, as a fresh
  // Model(booted.config()), without booting again.
  void reset(const Model &booted);
  // A new Model in the state `booted` (a Model that has not applied any op)
  // is in: the same results, byte for byte, for the same ops, as a fresh
  // Model(booted.config()), made by copying instead of booting again
  // (Machine::StateOf; tests/fastpath/boot_snapshot_test.cpp).  For any
  // other `booted` (the race target's set-up machines) it is what
  // Model(booted.config()) then reset(booted) gives.
  static std::unique_ptr<Model> copy_of_booted(const Model &booted);
  // The same for another Config: a new Model in the state Model::create(as)
  // returns, made by copying `booted` (a Model that has not applied any op,
  // booted from a Config that Machine::boots_alike `as`) instead of booting.
  // nullptr with *error set when `as` is invalid (as Model::create) or does
  // not boot alike (then the caller boots).  Pinned by
  // BootCopy.RetargetedCopyEqualsFreshBoot (tests/fastpath/boot_snapshot_test.cpp).
  static std::unique_ptr<Model> copy_of_booted(const Model &booted, const Config &as,
                                               std::string *error);

  StepResult apply(const Op &op);
  // The oracle over everything (not only what the last op touched).
  std::vector<Violation> check_all();

  Machine &machine() { return m_; }
  const Machine &machine() const { return m_; }
  Oracle &oracle() { return oracle_; }
  const Config &config() const { return m_.cfg; }
  uint64_t ops_applied() const { return index_; }

  // --- test-only hooks: break the state on purpose ---------------------------
  // Writes a word of whatever frame the page table maps at `vaddr`, ignoring
  // permissions and the TLB (a stray store through the linear map).
  void poke(uint64_t vaddr, uint64_t value);
  // Changes a vmemmap PTE without any flush (a missing flush_tlb_*).
  void poke_pte(uint64_t vaddr, FrameId frame, bool ro);

private:
  Model(const Model &booted, Machine::StateOf state);
  // The Config `booted` was created with, before the layout (the base
  // Machine keeps may be moved: arch_vmemmap_layout).
  Config requested_;
  void append_dax_violations(std::vector<Violation> &out, uint64_t op_index);

  Machine m_;
  Oracle oracle_;
  uint64_t index_ = 0;
};

}  // namespace hvo
