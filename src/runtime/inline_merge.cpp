#include "runtime/inline_merge.h"

#include "runtime/thread_state.h"

namespace qplug::runtime {
namespace {

bool same_slot(const SlotRef& a, const SlotRef& b) {
  return a.row_offset == b.row_offset && a.cache_slot == b.cache_slot && a.fixed == b.fixed &&
         a.base_holder == b.base_holder && a.stride == b.stride && a.offset == b.offset;
}

// The calling thread's instance of `slot`, as the emitter computes it.
uint64_t* slot_address(const SlotRef& slot, ThreadState& ts) {
  if (slot.row_offset >= 0) return reinterpret_cast<uint64_t*>(ts.vcpu_row + slot.row_offset);
  if (slot.cache_slot >= 0)
    return reinterpret_cast<uint64_t*>(ts.scoreboard_element[slot.cache_slot] + slot.offset);
  if (slot.fixed) return slot.fixed;
  return reinterpret_cast<uint64_t*>(*slot.base_holder + ts.vcpu_index * slot.stride + slot.offset);
}

}  // namespace

std::vector<MergedAdd> merge_inline_adds(BlockInstrumentation& instr,
                                         std::span<const uint16_t> insn_offsets) {
  size_t n_adds = 0;
  for (const auto& accesses : instr.mem_of_insn)
    if (!accesses.empty()) return {};
  for (const auto& actions : instr.before_insn) {
    for (const Action& a : actions)
      if (a.kind != ActionKind::kInlineAdd) return {};
    n_adds += actions.size();
  }
  if (n_adds < 2) return {};  // nothing to gain

  std::vector<MergedAdd> merged;
  std::vector<Action> entry_adds;
  const size_t n = instr.before_insn.size();
  for (size_t i = 0; i < n; ++i) {
    for (const Action& a : instr.before_insn[i]) {
      size_t m = 0;
      while (m < merged.size() && !same_slot(merged[m].slot, a.slot)) ++m;
      if (m == merged.size()) {
        merged.push_back({a.slot, {}});
        entry_adds.push_back(a);
        entry_adds.back().imm = 0;
      }
      entry_adds[m].imm += a.imm;  // wraps as the separate adds would
    }
  }
  // after[i] per counter: the adds of instructions i+1 .. n-1.
  for (size_t m = 0; m < merged.size(); ++m) {
    merged[m].after.resize(n);
    uint64_t later = 0;
    for (size_t i = n; i-- > 0;) {
      merged[m].after[i] = {insn_offsets[i], later};
      for (const Action& a : instr.before_insn[i])
        if (same_slot(a.slot, merged[m].slot)) later += a.imm;
    }
  }
  for (auto& actions : instr.before_insn) actions.clear();
  instr.at_entry.insert(instr.at_entry.end(), entry_adds.begin(), entry_adds.end());
  return merged;
}

void undo_merged_adds(const std::vector<MergedAdd>& merged, uint16_t fault_offset,
                      ThreadState& ts) {
  for (const MergedAdd& m : merged) {
    for (const auto& [offset, later] : m.after) {
      if (offset != fault_offset) continue;
      *slot_address(m.slot, ts) -= later;
      break;
    }
  }
}

}  // namespace qplug::runtime
