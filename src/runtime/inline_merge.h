// Inline-add merging: the per-instruction inline adds of a block (an
// instruction counter, say) summed into one add per counter at the block's
// entry. A counter bumped before every instruction is a chain of dependent
// read-modify-writes on one address, one store-to-load forwarding each; a
// block of eight instructions paid eight of them.
//
// Invariant (owned here): the counters read the same as with one add per
// instruction wherever anyone can look at them. Merging is done only when
// nothing in the block can look in between: every per-instruction action of
// the block is an inline add and it has no memory actions; block-entry
// actions run before the merged adds, as before the first instruction's. A
// block leaves early only by a guest fault (signals wait for the end of the
// block, exits are at its end): the fault handler takes back the adds of the
// instructions after the faulting one (undo_merged_adds), as if they had
// never run.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "runtime/instrumentation.h"

namespace qplug::runtime {

struct ThreadState;

struct MergedAdd {
  SlotRef slot;
  // For each instruction (by its offset from the block's pc): what the
  // merged adds of the instructions after it total.
  std::vector<std::pair<uint16_t, uint64_t>> after;
};

// Merges `instr` in place when the block allows it (see above) and returns
// what a fault must take back; returns nothing and leaves `instr` alone
// otherwise. `insn_offsets` are the instructions' offsets from the block pc.
std::vector<MergedAdd> merge_inline_adds(BlockInstrumentation& instr,
                                         std::span<const uint16_t> insn_offsets);

// After a fault at the instruction at `fault_offset`: subtracts from the
// calling thread's counters the merged adds of the instructions after it.
void undo_merged_adds(const std::vector<MergedAdd>& merged, uint16_t fault_offset, ThreadState& ts);

}  // namespace qplug::runtime
