// SPDX-License-Identifier: GPL-2.0-only
//
// The oracle: the invariants of kernel-reference section 5 that apply to the
// legacy era, checked after every operation, returned as Violations.
//
// Incremental by default: after an operation only the folios it touched and
// the frames it touched are examined, plus O(1) global counters (frame
// accounting, static key count, stale TLB entries).  `full` examines every
// live folio and every frame (tests, debugging).  Restore fidelity (I7) and
// failure atomicity (I9) are decided from inside the port, through
// HvoHooks, at the moment the kernel function returns.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "hvo/machine.h"
#include "hvo/violation.h"

namespace hvo {

struct InvariantInfo {
  std::string_view id;
  std::string_view doc;
};
// Every id the oracle can report, with its one-line description.
const std::vector<InvariantInfo> &invariant_catalog();

class Oracle final : public HvoHooks {
public:
  explicit Oracle(Machine &m);
  // The oracle of `m`, a machine made equal to the one `booted` watches
  // (Machine::StateOf), in the state reset(booted) leaves: the frames are
  // not scanned again, booted's record of them is copied.
  Oracle(Machine &m, const Oracle &booted);
  ~Oracle() override;
  Oracle(const Oracle &) = delete;
  Oracle &operator=(const Oracle &) = delete;

  // Cap on violations of one id per operation (the rest are counted in the
  // last one's message), so a broken 16 GiB folio does not print 2^22 lines.
  size_t max_per_id = 8;
  bool full = false;
  // The slow paths the fast ones replace, kept as their reference
  // (tests/fastpath): a whole-machine check over every frame, every
  // restored page compared word by word, and the list of frames to check
  // built in a fresh vector rather than the one kept from the last check.
  // Same output either way.
  bool reference_paths = false;
  // The construction's scan of every frame (which could report already) as
  // the per-frame frame_may_report loop instead of one pass over the frame
  // table.  Process-wide: it runs before a test could set a member.
  static inline bool mark_scan_reference = false;

  // Forgets what it saw and becomes what `booted` (the oracle of a model
  // that has not run anything) was when constructed; settings `max_per_id`
  // and `full` stay.  For Model::reset.
  void reset(const Oracle &booted);

  // Check after operation `op_index`, which involved `folios`.
  std::vector<Violation> check(uint64_t op_index, const std::vector<FolioId> &folios);

  // HvoHooks
  void optimize_done(Machine &m, HugetlbFolio &f, int ret) override;
  void restore_done(Machine &m, HugetlbFolio &f, int ret) override;

  // The frames that could report when the oracle was made (ascending).
  const std::vector<FrameId> &reporting_at_mark() const { return reporting_at_mark_; }

  // The static key must count the optimized folios; kept incrementally.
  int64_t optimized_folios() const { return optimized_count_; }

private:
  void check_folio(HugetlbFolio &f, std::vector<Violation> &out);
  void check_frames(const std::vector<FrameId> &frames, std::vector<Violation> &out);
  // Whether check_frames or check_shared_tails could say anything about `f`
  // as its record is now.
  bool frame_may_report(FrameId f) const;
  static bool record_may_report(const FrameRec &r);
  void scan_frames_at_mark();
  // check_frames over every frame, looking only at those that changed
  // since the mark (construction), were created since, or could report
  // already then: the rest still hold the records they had, which said
  // nothing.  The same reports, in the same order, as check_frames over
  // every frame (tests/fastpath/whole_check_test.cpp).
  void check_frames_since_mark(std::vector<Violation> &out);
  // The shared tail frames among those, ascending: everything
  // check_shared_tails looks for in a whole-machine check's frame list.
  void tails_since_mark(std::vector<FrameId> &tails) const;
  // keep_shared_tail: a vmemmap page that maps the folio's shared tail
  // read-only is accepted (muchun's partial HVO, VMEMMAP_REMAP_INCOMPLETE).
  void check_fidelity(HugetlbFolio &f, uint64_t first_page, const char *id,
                      std::vector<Violation> &out, bool keep_shared_tail = false);
  bool flagged(HugetlbFolio &f);
  void track(HugetlbFolio &f);

  Machine &m_;
  std::vector<uint8_t> optimized_;  // per folio: flag as last seen
  int64_t optimized_count_ = 0;
  std::vector<Violation> pending_;  // from the hooks, stamped in check()
  std::vector<FrameId> reporting_at_mark_;  // frame_may_report at construction
  std::vector<uint64_t> reporting_bits_;    // the same, a bit per frame below the mark
  std::vector<uint64_t> page_was_, page_now_;  // check_fidelity's page buffers, reused
  // The frames check() examines, kept across calls: after a PMD split it
  // lists PTRS_PER_PTE frames, and a buffer grown afresh per op costs
  // fresh pages under ASan (PhysMem::take_touched).
  std::vector<FrameId> frames_;
};

}  // namespace hvo
