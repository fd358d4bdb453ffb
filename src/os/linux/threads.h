// Guest threads: a guest clone(CLONE_VM | CLONE_THREAD ...) becomes a host
// pthread (so qplug's own TLS, ThreadState and lookup table exist for it)
// that runs the dispatcher loop with the guest's registers, stack and TLS.
// The kernel semantics that the guest's libc relies on are emulated:
// CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID and
// set_tid_address (the futex wake at thread exit that pthread_join waits on).
#pragma once

#include <cstdint>

#include "runtime/thread_state.h"

namespace qplug::os {

// Returns the new thread's tid, or -errno.
int64_t create_guest_thread(runtime::ThreadState& parent, uint64_t flags, uint64_t stack,
                            uint64_t ptid, uint64_t ctid, uint64_t tls);

// clone(CLONE_VM) without CLONE_THREAD, vfork included: a child process that
// shares the guest's (and qplug's) memory, translated on a host thread record
// of its own. Returns its pid, or -errno; with CLONE_VFORK, once it has
// exec'd or exited.
int64_t create_vm_child(runtime::ThreadState& parent, uint64_t flags, uint64_t stack, uint64_t ptid,
                        uint64_t ctid, uint64_t tls);

// The guest's exit(2) from one thread: the last thread's exit ends the process.
[[noreturn]] void exit_guest_thread(runtime::ThreadState& ts, int status);

// set_tid_address: recorded per thread, cleared and woken at thread exit.
int64_t guest_set_tid_address(runtime::ThreadState& ts, uint64_t address);

// vCPU indices, as QEMU numbers them: a new thread gets max(live) + 1.
unsigned allocate_vcpu();
unsigned max_vcpus_seen();  // highest index ever used + 1 (qemu_plugin_num_vcpus)

}  // namespace qplug::os
