// The gdb remote stub (-g PORT, QEMU_GDB): gdb connects with
// `target remote :PORT` and debugs the guest as gdbserver would debug the
// native program, in all-stop mode.
//
// How it stops the guest. Breakpoints are never written into guest memory:
// a block is translated to end before any breakpoint address, a block that
// starts at one is never linked to nor entered from the lookup table, so
// every arrival at a breakpoint goes through the dispatcher loop, which
// checks (may_enter) before it enters translated code. Single-stepping and
// watchpoints translate one instruction per block without chaining, so the
// dispatcher sees every instruction boundary. When one thread stops, the
// others leave translated code at their next block exit (a flush of the code
// cache unlinks everything) and wait in their dispatcher loop; a thread in a
// system call counts as stopped and waits when the call returns. The thread
// that stopped talks to gdb until gdb resumes it; any thread may be that one.
//
// Not debugged: fork children and clone(CLONE_VM) child processes (they run
// on undisturbed), and programs started by execve (the connection is closed
// on exec; a followed program does not wait for gdb).
#pragma once

#include <atomic>
#include <cstdint>

namespace qplug::runtime {
struct ThreadState;
}

namespace qplug::gdb {

namespace detail {
extern std::atomic<bool> active;
extern std::atomic<bool> single_insn;
extern std::atomic<bool> have_breakpoints;
}  // namespace detail

// True while gdb is connected: every hook below is skipped otherwise.
inline bool active() { return detail::active.load(std::memory_order_relaxed); }
// Translate one instruction per block, and link nothing.
inline bool single_insn() { return detail::single_insn.load(std::memory_order_relaxed); }

// Listens on `where` (a TCP port number, else the path of a Unix socket),
// waits for gdb to connect and serves it with the calling (main) thread
// stopped at its first instruction; returns when gdb resumes it. Exits with a
// message if it cannot listen there.
void start(const char* where, runtime::ThreadState& main_thread);

// The dispatcher at the top of its loop, before pending signals are delivered:
// stops the thread here if it must (a stop in progress, a finished step, a
// breakpoint at its pc, a watched location changed).
void at_loop_top(runtime::ThreadState& ts);
// Under the dispatcher's lock, just before the thread enters translated code:
// false if it must not (it then goes round its loop again).
bool may_enter(runtime::ThreadState& ts);
// Under the dispatcher's lock: a breakpoint is set at `pc` (translation ends
// blocks before it; nothing links to a block that starts there).
bool is_breakpoint(uint64_t pc);

// The guest is about to get signal `sig` (a fault, int3, a signal another
// process sent): gdb is told and decides. Returns the signal to deliver, or 0
// to drop it.
int on_signal(runtime::ThreadState& ts, int sig);
// The process ends: exit_group(status), or death by signal `sig`.
void on_exit(int status);
void on_killed(int sig);
// A guest thread ends (not the last one).
void on_thread_exit(runtime::ThreadState& ts);
// In a fork child: the connection is the parent's.
void forget_in_child();

}  // namespace qplug::gdb
