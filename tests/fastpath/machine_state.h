// SPDX-License-Identifier: GPL-2.0-only
//
// A deep comparison of two machines through everything the model exposes:
// every frame record and every word of its contents, every PMD and vmemmap
// PTE, the TLB, the counters, the folios, the hotplug and shared-tail state.
// The fast-path tests use it to pin an optimisation to the slow path it
// replaces: "the same state" means no reader of the model can tell them apart.
#pragma once

#include <string>

#include "hvo/machine.h"

namespace hvo::test {

// What a comparison includes besides what the model's readers see.
enum class Representation {
  Same,      // also the frame images' bookkeeping: origins, live image count
  Contents,  // only contents (two paths may describe the same words differently)
};

// The first difference between `a` and `b`, or "" when there is none.
std::string machine_state_diff(const Machine &a, const Machine &b,
                               Representation r = Representation::Same);

}  // namespace hvo::test
