// Instrumentation: execution-time actions that plugins attach to a block at
// translation time, and that the emitter generates into the block.
//
// Points: block entry, and before each guest instruction. Actions at one point
// run in registration order (QEMU's rule), inline operations and callbacks
// interleaved as registered.
#pragma once

#include <cstdint>
#include <vector>

namespace qplug::runtime {

// Callback with the QEMU exec-callback shape, unchanged since API v0.
using VcpuCallback = void (*)(unsigned int vcpu_index, void* userdata);

enum class ActionKind : uint8_t {
  kCall,            // fn(vcpu, userdata), through the callout routine
  kInlineAdd,       // *slot += imm
  kInlineStore,     // *slot = imm
  kCondCall,        // if (*slot <cond> imm) fn(vcpu, userdata); unsigned compare, inline
  kMemCall,         // mem_fn(vcpu, mem_info, address in ThreadState::mem_addr[mem_slot], userdata)
  kDirectCall,      // direct(vcpu, arg), a direct call with a minimal save set
  kDirectCondCall,  // if (*slot <cond> imm) direct(vcpu, arg)
  kMemDirectCall,   // mem_direct(vcpu, mem_info, address, arg)
  kRecord,          // append imm to the row buffer `record`
  kMemRecord,       // append the access's address to the row buffer `record`
};

using MemCallback = void (*)(unsigned int vcpu_index, uint32_t info, uint64_t vaddr,
                             void* userdata);

using DirectCallback = void (*)(unsigned int vcpu_index, uint64_t arg);
using MemDirectCallback = void (*)(unsigned int vcpu_index, uint32_t info, uint64_t vaddr,
                                   uint64_t arg);

struct Action;
// Runs a callout action with the guest state saved (ThreadState holds it);
// returns 1 if the guest must continue at ThreadState::rip (set_pc), else 0.
using CalloutRunner = int (*)(const Action& action);

// QEMU's enum qemu_plugin_cond values.
enum class Condition : uint8_t { kNever, kAlways, kEq, kNe, kLt, kLe, kGt, kGe };

// Where an inline operation or condition reads its 64-bit slot: either a fixed
// address (API v1 raw pointers) or a scoreboard entry (v2+): the address is
// *base_holder + vcpu_index * stride + offset, read when the code runs, so a
// scoreboard that grows (and moves) needs no retranslation of the base.
// A third form, `row_offset` >= 0, is a static plugin's per-vCPU counter in
// the thread's TLS row (qplug/vcpu_storage.h): %fs-relative, no base load.
// A scoreboard entry may also name `cache_slot` >= 0: the thread's own element
// address is then ThreadState::scoreboard_element[cache_slot].
struct SlotRef {
  int32_t row_offset = -1;
  int32_t cache_slot = -1;
  uint64_t* fixed = nullptr;
  uint8_t* const* base_holder = nullptr;
  uint64_t stride = 0;
  uint64_t offset = 0;
};

struct Action {
  ActionKind kind = ActionKind::kCall;
  void* owner = nullptr;  // the plugin that registered it (for per-plugin API behaviour)
  Condition cond = Condition::kAlways;
  VcpuCallback fn = nullptr;
  void* userdata = nullptr;
  SlotRef slot;
  uint64_t imm = 0;
  MemCallback mem_fn = nullptr;
  uint32_t mem_info = 0;  // filled per access by the emitter
  uint8_t mem_slot = 0;
  CalloutRunner runner = nullptr;  // for callouts (kCall, kCondCall, kMemCall, buffer flushes)
  // A QEMU callback registered with QEMU_PLUGIN_CB_NO_REGS does not read or
  // write guest registers, so it can run as a direct call (qemu/fast_callbacks.cpp).
  bool needs_guest_state = true;
  // Direct calls: the target, its argument, and what it may clobber beyond the
  // SysV caller-saved general registers.
  DirectCallback direct = nullptr;
  MemDirectCallback mem_direct = nullptr;
  uint64_t arg = 0;
  bool touches_vector = true;
  // A QEMU callback called directly: `context` (its plugin) is stored in the
  // thread-local word at EmitEnv::plugin_context_tls during the call, the
  // resume address in ThreadState::callout_return, and for memory callbacks
  // the access in ThreadState::mem_info/mem_vaddr (qemu_plugin_mem_get_value).
  bool qemu_callback = false;
  const void* context = nullptr;
  bool touches_flags = true;
  // Records: the buffer's row offsets (cursor, end) and the flush callout.
  uint32_t record_cursor = 0;
  uint32_t record_end = 0;
  const Action* record_flush = nullptr;
};

// A memory action and the accesses it wants (QEMU_PLUGIN_MEM_R = 1, W = 2, RW = 3).
struct MemAction {
  Action action;
  uint8_t rw = 3;
};

struct BlockInstrumentation {
  std::vector<Action> at_entry;
  std::vector<std::vector<Action>> before_insn;     // indexed like the block's instructions
  std::vector<std::vector<MemAction>> mem_of_insn;  // after each access of that instruction
};

}  // namespace qplug::runtime
