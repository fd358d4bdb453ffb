// ActionEmitter: generates plugin actions (runtime/instrumentation.h) into a
// block, for the block emitter. Internal to the x86-64 backend (includes
// xbyak).
//
// Invariant: every sequence leaves the guest's general registers, stack and
// red zone as it found them, and its flags too unless the caller says they
// are dead there (flags liveness); the vector state is touched only by
// callouts and by direct calls to functions that may use it, which save it.
#pragma once

#include <vector>

#include "runtime/block.h"
#include "runtime/instrumentation.h"
#include "x86_64/asm_util.h"
#include "x86_64/callee_analysis.h"
#include "x86_64/emitter.h"

namespace qplug::x86_64 {

class ActionEmitter {
 public:
  ActionEmitter(Xbyak::CodeGenerator& g, const EmitEnv& env, runtime::Block& block)
      : g_(g), env_(env), block_(block) {}

  // The guest pc that the following actions run at (what plugins see as rip).
  void set_pc(uint64_t pc) { pc_ = pc; }

  // Actions at one point, in order; `flags_live`: the guest's status flags
  // must survive.
  void emit(const std::vector<runtime::Action>& actions, bool flags_live);
  // One action for the memory access whose address is in mem_addr[a.mem_slot].
  void emit_mem(const runtime::Action& a, bool flags_live);
  // A call through the callout routine (complete guest state saved).
  void callout(const runtime::Action& a);

  // Upper bound of the bytes one action takes.
  static constexpr size_t kMaxBytes =
      2048;  // a direct call to unknown code: two call paths, 32 zmm and 8 k saved

 private:
  Xbyak::Address tls(size_t field) { return x86_64::tls(g_, env_.tls, field); }
  Xbyak::Address row(uint32_t offset);
  Xbyak::Address row_indexed(const Xbyak::Reg64& index, uint32_t offset);

  void inline_op(const runtime::Action& a, bool flags_live);
  static bool on_fixed_slot(const runtime::Action& a);
  void fixed_slot_ops(const runtime::Action* actions, size_t n, bool flags_live);
  static bool on_cached_element(const runtime::Action& a, bool flags_live);
  void cached_element_ops(const runtime::Action* actions, size_t n);
  void load_slot_address(const runtime::SlotRef& slot);
  // Emits the condition test; jumps to `skip` when it does not hold. Leaves
  // the guest's registers and (live) flags intact on both paths.
  void test_condition(const runtime::Action& a, bool flags_live, Xbyak::Label& skip);
  void direct_call(const runtime::Action& a, bool flags_live, bool mem, bool allow_inline = true);
  void record(const runtime::Action& a, bool mem);
  void save_flags_in_rax();
  void restore_flags_from_rax();
  // Saves (or restores) the registers `use` names in ThreadState::vector_save.
  // A callback copied into the block instead of called; false if it cannot be.
  bool inline_call(const runtime::Action& a, bool flags_live, bool mem);
  // `flags_free`: the guest's flags are saved or dead here, and rax is saved.
  void save_vector_registers(const Clobbers& use, bool restore, bool flags_free);

  Xbyak::CodeGenerator& g_;
  const EmitEnv& env_;
  runtime::Block& block_;
  uint64_t pc_ = 0;
};

}  // namespace qplug::x86_64
