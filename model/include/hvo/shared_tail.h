// SPDX-License-Identifier: GPL-2.0-only
//
// The shared-tail era's shared tail pages: one frame of identical tail struct
// pages per (zone or node, order), mapped read-only behind every optimized
// folio of that order (Kiryl Shutsemau, "Eliminate fake head pages"; Muchun
// Song, "Generalize HVO").  Which shape runs is Config::variant:
//
//   kiryl-v6  per node (pglist_data.vmemmap_tails), prep_compound_tail only
//             (v6 12/14 as posted, seed 002);
//   kiryl-v7  per zone (zone.vmemmap_tails), init_compound_tail (v7 12/18,
//             as merged);
//   muchun    per zone, lazily allocated array, bound check, PG_reserved
//             for ZONE_DEVICE (mm tree vmemmap_shared_tail_page).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "hvo/config.h"
#include "hvo/phys_mem.h"
#include "hvo/violation.h"
#include "hvo/vmemmap_optimization.h"

namespace hvo {

class Machine;
struct HugetlbFolio;
struct InvariantInfo;

/// The vmemmap geometry of a configuration (see vmemmap_optimization.h).
VmemmapGeometry vmemmap_geometry(const Config &c);

/// Tails are mask-encoded: shared-tail era and a power-of-two struct page
/// (compound_info_has_mask()).
bool mask_encoding(const Config &c);

/// Whose tail array a pfn uses: a node (kiryl-v6) or a zone (kiryl-v7,
/// muchun), with the node and zone index the tail struct pages carry.
struct TailOwner {
  unsigned key = 0;   ///< index into SharedTailState::tails
  unsigned nid = 0;
  unsigned zone = 0;  ///< enum zone_type
  bool valid = false;
};
TailOwner tail_owner_of_pfn(const Machine &m, uint64_t pfn);
/// ZONE_DEVICE of node @nid (device DAX under muchun).
TailOwner tail_owner_device(const Machine &m, unsigned nid);

/// Per machine: the tail arrays.  Frames are allocated on first use and
/// never freed.
struct SharedTailState {
  std::vector<std::vector<FrameId>> tails;  ///< [owner key][order - VMEMMAP_TAIL_MIN_ORDER]
  /// kiryl-v7 boot: allocated by vmemmap_populate_hvo but not initialised
  /// until hugetlb_vmemmap_init (memmap_init would overwrite it).
  std::vector<std::vector<bool>> uninitialized;
  /// muchun: zone->vmemmap_tails array allocated (vmemmap_tails_alloc).
  std::vector<bool> array_allocated;
  uint64_t frames = 0;  ///< live tail frames; the kernel counts none in memmap_pages
  bool misaligned_reported = false;  ///< I11 for VMEMMAP_BASE, reported once (WARN_ONCE)
};

/// The tail frame for (@order, @owner), or kNoFrame (not allocated yet).
FrameId shared_tail_lookup(const Machine &m, unsigned order, const TailOwner &owner);

/// vmemmap_get_tail (kiryl-v6: mm/hugetlb_vmemmap.c of v6 12/14, per node;
/// kiryl-v7: v7 12/18, per zone) or vmemmap_shared_tail_page (muchun,
/// mm/sparse-vmemmap.c @028871b8): the existing tail, else a freshly
/// allocated and initialised one published by cmpxchg (the loser frees its
/// frame).  kNoFrame on allocation failure (or muchun's out-of-range WARN).
FrameId vmemmap_get_tail(Machine &m, unsigned order, const TailOwner &owner);

/// The two halves of vmemmap_get_tail that another CPU can separate, for the
/// deterministic-concurrency scenarios: allocate + initialise a candidate
/// frame (not yet visible), and cmpxchg it into the slot.  tail_publish
/// returns the winner and frees @candidate if it lost.
FrameId tail_alloc_and_init(Machine &m, unsigned order, const TailOwner &owner);
FrameId tail_publish(Machine &m, unsigned order, const TailOwner &owner, FrameId candidate);
/// The pre-cmpxchg shape (v1: a plain store): overwrites whatever is there.
void tail_publish_unlocked(Machine &m, unsigned order, const TailOwner &owner, FrameId candidate);

/// Writes the canonical tail struct pages of (@order, @owner) into @f through
/// the linear map (init_compound_tail / prep_compound_tail per variant).
void init_shared_tail_frame(Machine &m, FrameId f, unsigned order, const TailOwner &owner);

/// Shared-tail era oracle pieces, called by the core oracle.
const std::vector<InvariantInfo> &shared_tail_invariant_catalog();
/// I4 (an allocated, initialised tail frame holds the canonical tail for its
/// order and owner), for the tails among @frames (the frames the operation
/// touched, or all of them in full mode), and I11 (VMEMMAP_BASE aligned to
/// MAX_FOLIO_VMEMMAP_ALIGN; reported once, as sparse_init() warns once).
/// @frames_ascending: @frames is sorted ascending (a whole-machine check),
/// so membership is a binary search.
void check_shared_tails(Machine &m, const std::vector<FrameId> &frames, size_t max_per_id,
                        std::vector<Violation> &out, bool frames_ascending = false);
/// I1 / I5 / I10 / I11 for one HugeTLB folio in the shared-tail era: every
/// sampled slot decodes (mask) to the head, is PageTail, reports the head's
/// zone and node (kiryl-v6 reads the zone through the head); an optimized
/// folio maps vmemmap pages 1.. read-only to its owner's tail; the head is
/// aligned to its folio size.  @reference_paths: read every word through
/// translate() (the reference) instead of a vmemmap page at a time
/// (Oracle::reference_paths; same output, tests/fastpath).
void check_folio_shared_tail(Machine &m, const HugetlbFolio &f, bool flagged, size_t max_per_id,
                             std::vector<Violation> &out, bool reference_paths = false);
/// How many runs of tail slots check_folio_shared_tail has taken a vmemmap
/// page at a time from the frame's image (tests/fastpath counts them, so a
/// comparison with the reference cannot silently stop reaching that path).
inline uint64_t check_folio_shared_tail_uniform_runs = 0;

} // namespace hvo
