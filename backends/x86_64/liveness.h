// Flags liveness: where inserted code may clobber the guest's status flags.
#pragma once

#include <span>
#include <vector>

#include "x86_64/decoder.h"

namespace qplug::x86_64 {

// live[i] is true if a status flag (CF PF AF ZF SF OF) may be read, before
// being written, by guest code from the start of insns[i] on; live[n] is the
// end of the block, where flags are always live (the next block may read
// them). Conservative: transfers, unknown instructions and shifts by a
// register (a zero count leaves the flags alone) count as not writing. A
// block with std or popf is live everywhere, so inserted calls keep DF and AC.
std::vector<bool> status_flags_live(std::span<const DecodedInsn> insns);

}  // namespace qplug::x86_64
