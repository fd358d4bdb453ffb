// ThreadState: the per-thread record shared by translated code and the runtime.
//
// Invariant (owned here): translated code reaches this record only as
// %fs:(tls_offset() + field offset), with no register. That works because the
// record is an initial-exec thread_local of the qplug executable, so its
// distance from the thread pointer is the same in every thread, and because
// %fs always belongs to the host (the guest's FS lives in GS, see docs/guest-state.md rule 1).
// The field offsets below are read by the x86-64 emitter through offsetof, so
// fields may be added or moved freely; translated code never hard-codes them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qplug/vcpu_storage.h"

namespace qplug::runtime {

// Guest general registers in hardware encoding order, so that register number
// N of an instruction indexes gpr[N].
enum GuestReg : int {
  kRax,
  kRcx,
  kRdx,
  kRbx,
  kRsp,
  kRbp,
  kRsi,
  kRdi,
  kR8,
  kR9,
  kR10,
  kR11,
  kR12,
  kR13,
  kR14,
  kR15,
  kGprCount
};

// Why translated code returned to the dispatcher.
enum class ExitReason : uint64_t {
  kNone = 0,
  kLink,         // direct branch to a block not linked yet; exit_arg = ExitStub*
  kIndirect,     // indirect branch missed the lookup table; exit_arg = guest target
  kSyscall,      // guest `syscall`; exit_arg = guest pc after the instruction
  kSignal,       // a host signal is pending; guest state is at a block boundary
  kInterrupt,    // int3/ud2/hlt...: exit_arg = guest pc of the instruction
  kUnsupported,  // instruction qplug cannot run; exit_arg = guest pc
  kFault,        // a guest instruction faulted; the handler stored the guest state
  kCodeChanged,  // a guest store changed code later in its own block; the handler
                 // stored the guest state at the store, which runs alone next
};

// The indirect-branch lookup table maps a guest target to the host code that
// runs it, without leaving translated code and without touching the guest's
// flags (a `ret` may return to code that reads flags set before the call).
//
// Invariant: every entry holds the address of some block's checked entry
// (Block::host_code) or of the context switch's lookup_miss routine; never
// zero, never anything else. A site jumps through the entry its target's low
// 16 bits select without comparing anything: the checked entry compares its
// own guest pc with the target in r11 (lea + jrcxz) and sends a mismatch to
// lookup_miss, which leaves to the dispatcher. So a stale or colliding entry
// costs a round trip, never a wrong jump, and one hit is three host
// instructions at the site and five at the target. Entries are set to
// lookup_miss when a thread starts (attach_routines) and reset to it when
// their block is invalidated.
// 64 Ki entries (512 KiB per thread; glibc zeroes every thread's static TLS and
// attach_routines fills it, about 17 us per thread created): the index is then
// one movzx, and measured against 16 Ki entries indexed by three instructions,
// sqlite runs about 5% faster and python 3%.
inline constexpr size_t kLookupEntries = size_t{1} << 16;
inline constexpr size_t kScoreboardCache = 32;
inline size_t lookup_index(uint64_t guest_pc) { return guest_pc & (kLookupEntries - 1); }

struct alignas(64) ThreadState {
  // --- touched by translated code ---
  uint64_t spill_r11;      // guest r11 while r11 carries an exit argument or target
  uint64_t spill_rcx;      // guest rcx during the inline indirect-branch lookup
  uint64_t spill_scratch;  // guest value of the relocator's scratch register
  uint64_t spill_target;   // an indirect call's target while plugin actions run
  uint64_t jump_target;    // host address for the final indirect jump
  uint64_t exit_arg;
  ExitReason exit_reason;
  uint64_t host_rsp;        // host stack pointer saved by enter_cache
  uint64_t exit_common;     // host address of the common exit routine
  uint64_t lookup_miss;     // host address of the context switch's lookup_miss
  uint64_t host_mxcsr;      // MXCSR the host runs with (0x1f80)
  uint32_t signal_pending;  // non-zero when a host handler queued a guest signal
  uint32_t pad0;
  uint64_t gpr[kGprCount];
  uint64_t rip;
  uint64_t rflags;
  uint8_t* xsave_area;  // guest x87/SSE/AVX/AVX-512 state, 64-byte aligned
  // Plugin callouts from translated code: the Action to run, where to resume,
  // and the routine that saves guest state around the call.
  uint64_t callout_action;
  uint64_t callout_return;
  uint64_t callout_routine;
  uint64_t mem_addr[4];  // addresses of the current instruction's accesses, for memory callbacks
  uint32_t mem_info;     // the access a memory callback is running for (mem_get_value)
  uint32_t pad2;
  uint64_t mem_vaddr;
  uint64_t spill_rsp;  // guest rsp while a direct call runs on the runtime stack
  uint64_t spill_rax;  // guest rax while inserted code keeps the flags in ah/al
  // Registers (by hardware number) and flags an inlined callback body works
  // with (x86_64/callee_inliner.h), saved around it.
  uint64_t inline_save[kGprCount];
  uint64_t inline_flags;
  // This vCPU's element of each QEMU scoreboard with a cache slot.
  uint8_t* scoreboard_element[kScoreboardCache];

  // Vector registers a direct call's callee may change, saved around it
  // (32 x 64 bytes, then k0-k7, then MXCSR).
  alignas(64) uint8_t vector_save[32 * 64 + 8 * 8 + 8];

  // --- runtime only ---
  uint64_t vcpu_index;
  bool next_block_alone;  // translate the next block as that one instruction (kCodeChanged)
  // A clone(CLONE_VM) child process (os/linux/threads.h): it shares qplug's
  // memory with its parent, so it ends without the tool's at-exit work and is
  // not counted among its parent's threads.
  bool separate_process;
  // Whether the thread may be running translated code (set under the
  // dispatcher's lock before it enters, cleared when it leaves), and the
  // flush epoch it last left the code cache in: the code cache's quiescence.
  bool in_cache;
  uint64_t left_cache_epoch;
  uint32_t in_plugin_events;  // nesting of plugin event callbacks running on the thread
  // The number of the thread's latest system call (0 before the first), which
  // QEMU's linux-user reports as the register orig_rax.
  uint64_t orig_rax;

  // This vCPU's row of static-plugin storage (qplug/vcpu_storage.h), reached
  // by translated code as %fs:(tls_offset() + offsetof(vcpu_row) + offset).
  alignas(64) uint8_t vcpu_row[detail::kRowBytes];

  // Last, so that the fields above keep small offsets. Per thread, so that a
  // lookup never races with another thread replacing an entry.
  uint64_t lookup[kLookupEntries];
};

// The calling thread's record. The variable itself is visible so that code
// compiled for general registers only (direct-call thunks, which cannot
// inline ordinary functions) reaches it without a call.
extern constinit thread_local ThreadState tls_state __attribute__((tls_model("initial-exec")));
inline ThreadState& current_thread() { return tls_state; }
// Points the calling thread's record at the context switch's routines
// (exit_common, lookup_miss, callout) and every lookup entry at lookup_miss;
// each thread does it once, before its first guest instruction.
void attach_routines(ThreadState& ts);
// Points every lookup entry of `ts` at lookup_miss (an empty table).
void clear_lookup_table(ThreadState& ts);
// %fs-relative offset of the record (constant for every thread).
int64_t tls_offset();
// The same for any initial-exec thread_local of the executable, given the
// calling thread's instance.
int64_t tls_offset_of(const void* variable);

}  // namespace qplug::runtime
