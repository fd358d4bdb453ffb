// Context switch between the host (dispatcher) and translated guest code.
//
// enter() saves the host's callee-saved registers and stack pointer in the
// ThreadState, restores the guest's vector state, flags and registers, and
// jumps to ThreadState::jump_target. Translated code returns to the host by
// jumping through ThreadState::exit_common with the exit argument in r11 (guest
// r11 parked in spill_r11) and exit_reason set; that routine stores every guest
// register, the flags and the vector state, and returns from enter().
//
// Signals: between `critical_begin` and `critical_end` enter() has started
// loading guest state but has not reached guest code. A host signal handler
// that interrupts it there moves the PC to `bail`, which returns from enter()
// with ExitReason::kSignal; the ThreadState still holds the complete guest
// state because enter() only reads it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplug::x86_64 {

struct ContextSwitch {
  void (*enter)() = nullptr;
  uint8_t* exit_common = nullptr;
  // An indirect branch whose lookup entry is empty or names another block's
  // entry: r11 = guest target, guest r11 and rcx in spill_r11 and spill_rcx.
  // Leaves to the dispatcher with ExitReason::kIndirect.
  uint8_t* lookup_miss = nullptr;
  // Plugin callbacks: entered by a jump with guest r11 parked, the Action in
  // ThreadState::callout_action and the resume address in callout_return.
  uint8_t* callout = nullptr;
  uint8_t* critical_begin = nullptr;
  uint8_t* critical_end = nullptr;
  uint8_t* bail = nullptr;
  // Where a fault handler sends a thread whose guest instruction faulted,
  // after storing the guest state: returns from enter() with kFault.
  uint8_t* fault_exit = nullptr;
  // Where a write fault handler sends a thread whose write changed guest code
  // that its running block was about to run: returns with kCodeChanged.
  uint8_t* code_changed_exit = nullptr;
  // safe_syscall(nr, a1..a6): a syscall that does not start if a signal is
  // pending: if a handler interrupts it before the `syscall` instruction, it
  // moves the PC to `syscall_interrupted`, which returns -512 (ERESTARTSYS)
  // without entering the kernel, so the dispatcher always restarts it. Once in the kernel, the
  // syscall returns -EINTR itself because host handlers have no SA_RESTART.
  long (*safe_syscall)(long nr, long a1, long a2, long a3, long a4, long a5, long a6) = nullptr;
  uint8_t* syscall_begin = nullptr;  // first instruction that checks the flag
  uint8_t* syscall_end = nullptr;    // the `syscall` instruction itself (exclusive)
  uint8_t* syscall_interrupted = nullptr;
  // safe_copy(dst, src, n): memcpy that survives a fault on `src`. Returns
  // the number of bytes NOT copied (0 on success). A fault handler that finds
  // the PC in [copy_begin, copy_end) moves it to `copy_fault`.
  size_t (*safe_copy)(void* dst, const void* src, size_t n) = nullptr;
  uint8_t* copy_begin = nullptr;
  uint8_t* copy_end = nullptr;
  uint8_t* copy_fault = nullptr;
};

// Generates the routines into `where` (at most `capacity` bytes, executable).
// `run_callout(const Action*)` is called by the callout routine on the host
// stack with the guest's state saved in the ThreadState; a non-zero result
// means the guest pc changed (set_pc): the routine then leaves to the
// dispatcher instead of resuming the block.
ContextSwitch generate_context_switch(uint8_t* where, size_t capacity, int64_t tls,
                                      int (*run_callout)(const void* action));

}  // namespace qplug::x86_64
