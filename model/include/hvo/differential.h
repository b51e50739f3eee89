// SPDX-License-Identifier: GPL-2.0-only
//
// The differential oracle: one operation sequence on two models, one per era,
// and the results a caller of the kernel could observe compared after every
// operation.  The two eras must agree on
//
//   * each operation's return value and the folios it created or touched;
//   * for every live HugeTLB folio and device-DAX compound page, on sampled
//     struct pages: compound_head(), PageHead(), PageTail(), page_to_nid(),
//     page_zonenum(), page_ref_count() and the tail's _mapcount;
//   * the folio metadata read through the head: flags, refcount, order,
//     nr_pages, entire / large mapcount, pincount, page type, hugetlb flags
//     other than HPG_vmemmap_optimized (whether HVO happened is not
//     observable: it is what both eras must hide);
//
// except for the documented differences (docs/model.md, "Differential
// rules"), which are recorded as allowances.  Anything else is a divergence,
// reported with the first diverging operation and struct page.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hvo/config.h"
#include "hvo/model.h"
#include "hvo/ops.h"

namespace hvo {

struct DiffOptions {
  Variant legacy_variant = Variant::D612;
  Variant shared_variant = Variant::KirylV7;
  /// Compare every struct page of every folio instead of a sample.
  bool all_slots = false;
};

/// A documented difference met on the way (docs/model.md, "Differential rules").
struct DiffAllowance {
  std::string id;  ///< "fault-injection-target", "memory-budget", "dax-section-order"
  uint64_t op_index = 0;
  std::string detail;
};

struct DiffResult {
  bool diverged = false;
  uint64_t op_index = 0;       ///< the first diverging operation
  std::string op;              ///< its text form
  std::string observable;      ///< "ret", "folios", "compound_head", "PageTail", ...
  uint64_t pfn = UINT64_MAX;   ///< the struct page, when the observable is per page
  std::string legacy, shared;  ///< what each era showed
  /// The comparison stopped without a divergence because an allowed
  /// difference made the two machines hold different folios.
  bool stopped = false;
  std::vector<DiffAllowance> allowed;
  uint64_t ops_compared = 0;
  /// One line: "diverged at op N (text) pfn P: observable legacy=.. shared=.."
  /// or "agreed on N ops (allowed: ...)".
  std::string format() const;
};

/// Runs both eras side by side.  The stepwise form is what fuzzers call: one
/// op at a time, stop at the first divergence.
class Differential {
public:
  Differential(const Config &base, const DiffOptions &opt = {});
  /// The same, with the two models taken from @model_for instead of booted
  /// here: it must return a Model in the state Model::create(config) gives
  /// (or nullptr and an error), which stays valid while this object is used
  /// (the fuzz harness's boot cache, fuzz/harness/include/hvo/fuzz/boot_cache.h).
  using ModelSource = std::function<Model *(const Config &, std::string *)>;
  Differential(const Config &base, const DiffOptions &opt, const ModelSource &model_for);
  ~Differential();
  Differential(const Differential &) = delete;
  Differential &operator=(const Differential &) = delete;

  /// Applies @op to both models and compares; false once diverged (or
  /// stopped).  Ops after that are ignored.
  bool step(const Op &op);
  const DiffResult &result() const { return r_; }
  /// What the legacy model returned for the last op @step applied (for
  /// traces: the fuzz harness prints it beside each op).
  const StepResult &last_legacy_step() const { return last_legacy_; }

  Model &legacy() { return *legacy_; }
  Model &shared() { return *shared_; }

private:
  void compare_state(const std::string &op_text);
  bool differ(const std::string &what, uint64_t pfn, uint64_t a, uint64_t b,
              const std::string &op_text);

  void set_models(Model *legacy, const std::string &e1, Model *shared, const std::string &e2);
  // compare_state's memo of the folios it found equal (differential.cpp):
  // whether folio @id, at @pfn and @order, still reads as it did, and
  // remembering what it read.
  bool folio_unchanged(size_t id, uint64_t pfn, unsigned order);
  void remember_folio(size_t id, uint64_t pfn, unsigned order);
  bool record_pages(Machine &m, uint64_t head_pfn);

  // One vmemmap page a folio's comparison read, and how it was translated.
  struct PageSeen {
    uint64_t vaddr;
    Translation t;
  };
  // What a folio's last comparison (which found no difference) read on
  // each side: seen_pages_[first, first + legacy_pages) on the legacy side,
  // the next shared_pages on the shared-tail side.
  struct FolioSeen {
    bool valid = false;
    bool key_legacy = false, key_shared = false;  // static_key_enabled()
    uint8_t order = 0;
    uint64_t pfn = 0;
    size_t first = 0, legacy_pages = 0, shared_pages = 0;
  };
  std::vector<FolioSeen> seen_;
  std::vector<PageSeen> seen_pages_;  // append-only within this object

  DiffOptions opt_;
  std::unique_ptr<Model> owned_legacy_, owned_shared_;  // unless borrowed from a ModelSource
  Model *legacy_ = nullptr, *shared_ = nullptr;
  DiffResult r_;
  StepResult last_legacy_;
  uint64_t index_ = 0;
  // compare_state's sample of struct pages, kept across calls (allocation
  // only, no state).
  std::vector<uint64_t> sample_;
};

/// Tests (tests/fastpath/differential_compare_test.cpp) set this: the
/// struct pages compare_state samples are then each read through the
/// page_flags accessors (compound_head(), PageHead(), ...), the reference
/// the run-at-a-time comparison is pinned to; and every live folio is
/// compared after every op, rather than skipping those whose memo shows
/// that nothing they read can have changed.  Process-wide; off by default.
inline bool differential_compare_reference = false;
/// How many runs of sampled tail struct pages compare_state has compared
/// from words decided once per vmemmap page (tests count them, so the
/// comparison with the reference cannot silently stop reaching that path).
inline uint64_t differential_uniform_runs = 0;
/// How many folio comparisons compare_state skipped on its memo (tests
/// count them, so the pin cannot silently stop reaching that path).
inline uint64_t differential_memo_hits = 0;

/// The whole sequence at once.  A config that one era cannot boot yields a
/// divergence at op 0 with observable "config".
DiffResult run_differential(const Config &base, std::span<const Op> ops,
                            const DiffOptions &opt = {});

} // namespace hvo
