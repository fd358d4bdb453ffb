// The legacy vsyscall page (0xffffffffff600000): old static binaries and old
// glibc call gettimeofday, time and getcpu there. Kernels map it execute-only
// (or not at all) and emulate a call to one of its three entries as the
// system call, so its bytes cannot be read and translated as code. qplug
// translates, in their place, what the page held when it was readable: each
// entry is `mov rax, NR; syscall; ret`, and any other address in it raises
// SIGSEGV as the kernel's emulation does.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplug::os {

inline constexpr uint64_t kVsyscallPage = 0xffffffffff600000ull;

// True if the kernel maps the page (read once from /proc/self/maps).
bool has_vsyscall_page();
inline bool in_vsyscall_page(uint64_t pc) { return pc - kVsyscallPage < 4096; }

// Copies up to `len` bytes of the page's code image from `pc` (inside the
// page) into `out`; returns the number of bytes copied.
size_t vsyscall_code(uint64_t pc, uint8_t* out, size_t len);

}  // namespace qplug::os
