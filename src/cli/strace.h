// `-strace` output in the style of qemu-x86_64's, e.g.
//   12345 openat(AT_FDCWD,"/etc/ld.so.cache",O_RDONLY|O_CLOEXEC) = 3
// A caller prints format_syscall_entry() before the syscall runs and
// format_syscall_return() after it; the two together make one line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qplug::cli {

// "read" for 0; "syscall_NNN" for a number the kernel header does not name.
// The view stays valid for the life of the process.
std::string_view syscall_name(long nr);

// "PID name(arg,...)" with no newline, except for exit and exit_group, which
// never return and so end their line themselves ("PID exit_group(0)\n").
// Pointer arguments are read from this process's memory (the guest shares
// it) without ever faulting: an unreadable string prints as its address.
std::string format_syscall_entry(int pid, long nr, const uint64_t args[6]);

// " = 3\n", or " = -1 errno=2 (No such file or directory)\n" for -4095..-1.
std::string format_syscall_return(long ret);

// Like the above, but prints the result of address-returning syscalls
// (mmap, mremap, brk, shmat) in hex.
std::string format_syscall_return(long nr, long ret);

// Copies up to `size` bytes at guest address `addr` into `out` with
// process_vm_readv, so a bad address yields a short count instead of SIGSEGV.
// Returns the number of bytes copied (a prefix of the range).
size_t read_guest_memory(uint64_t addr, void* out, size_t size);

}  // namespace qplug::cli
