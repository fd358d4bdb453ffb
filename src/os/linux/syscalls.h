// Guest syscalls: passed through to the kernel except those that touch what
// qplug virtualises (FS, brk, signals, threads, exec, /proc/self/exe, memory
// that holds translated code).
#pragma once

#include "runtime/thread_state.h"

namespace qplug::os {

// Performs the syscall described by the guest registers of `ts` (rax, rdi,
// rsi, rdx, r10, r8, r9) and writes the result to rax, rcx and r11 as the
// `syscall` instruction would. ts.rip is the pc after the instruction.
void handle_syscall(runtime::ThreadState& ts);

// Runs the guest's exit path (logs, plugin atexit later) and exits the process.
[[noreturn]] void exit_group(int status);

}  // namespace qplug::os
