// Guest signals: the guest's dispositions, host handlers that queue signals
// until the guest is at a consistent point, and delivery of those signals by
// building the frame the kernel would build on the guest stack.
#pragma once

#include <signal.h>

#include <cstdint>

#include "runtime/thread_state.h"

namespace qplug::os {

void install_signal_handlers();  // once, before the guest runs; sets up the altstack too
void init_thread_signals();      // per thread: the host alternate signal stack
// The host libc installs its own handlers for SIGCANCEL and SIGSETXID when the
// process creates its first thread; puts the guest's dispositions back.
void reinstall_reserved_signals();

// The calling thread's table of guest dispositions (opaque), shared by the
// threads of one guest process. A clone(CLONE_VM) child without
// CLONE_SIGHAND is a process of its own and gets a copy.
// The calling thread's signal mask, as the kernel keeps it.
uint64_t signal_mask();
void set_signal_mask(uint64_t mask);

void* signal_actions();
void use_signal_actions(void* table);
void* copy_signal_actions();
void free_signal_actions(void* table);

// Syscall emulation entry points; return the guest-visible result.
int64_t guest_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t sigsetsize);
int64_t guest_sigaltstack(runtime::ThreadState& ts, uint64_t ss, uint64_t old_ss);
void guest_rt_sigreturn(runtime::ThreadState& ts);

// True if a queued signal's guest handler asked for SA_RESTART (used to decide
// whether an interrupted syscall restarts).
bool pending_signal_restarts();
// Delivers every queued signal to the guest (frames on the guest stack, pc at
// the handler). Called by the dispatcher at block boundaries.
void deliver_pending_signals(runtime::ThreadState& ts);
// Delivers the fault a guest instruction raised (recorded by the host
// handler, with the guest state already in `ts`) to the guest's handler.
void deliver_fault(runtime::ThreadState& ts);
// A guest instruction at `fault_pc` raised `sig` synchronously (ud2, int3,
// hlt, undecodable bytes): deliver it to the guest handler or die of it as
// natively. `ts.rip` is where the signal frame says it happened (after int3).
void raise_synchronous(runtime::ThreadState& ts, int sig, int si_code, uint64_t fault_pc,
                       uint64_t addr);

// The fault that last stopped one of this thread's reads of guest memory
// (Dispatcher::read_guest): SIGSEGV, or SIGBUS for a file page past the end of
// its file.
struct CopyFault {
  int sig = SIGSEGV;
  int code = SEGV_MAPERR;
  uint64_t addr = 0;
};
CopyFault last_copy_fault();

}  // namespace qplug::os
