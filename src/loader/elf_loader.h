// ElfLoader: maps a guest x86-64 ELF program and its PT_INTERP into this
// process, the way the kernel's binfmt_elf would, so that the translator can
// start at the interpreter's (or static program's) first instruction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qplug/result.h"

namespace qplug::loader {

// One mapped ELF image (the program or its interpreter).
struct LoadedImage {
  std::string path;               // as opened (after -L prefix resolution for the interpreter)
  uint64_t load_bias = 0;         // 0 for ET_EXEC; mapping base - first PT_LOAD vaddr for ET_DYN
  uint64_t entry = 0;             // e_entry + load_bias
  uint64_t phdr_addr = 0;         // guest address of the program headers (AT_PHDR)
  uint16_t phnum = 0;             // AT_PHNUM
  uint16_t phentsize = 0;         // AT_PHENT
  uint64_t start_code = 0;        // lowest executable PT_LOAD vaddr + bias (QEMU's image_info)
  uint64_t end_code = 0;          // end of the highest executable PT_LOAD's file data + bias
  uint64_t start_data = 0;        // lowest writable PT_LOAD vaddr + bias (end_code if none)
  uint64_t end_data = 0;          // end of the highest writable PT_LOAD's file data + bias
  uint64_t lowest = 0;            // page-aligned span of all PT_LOADs, biased (0 if none maps)
  uint64_t highest = 0;           // page-aligned end (exclusive), including bss
  bool executable_stack = false;  // PT_GNU_STACK has PF_X
  // What the loader reserved for the image: its span if it was placed
  // anywhere, else the pages its PT_LOADs cover (gaps between them are left
  // to the guest, as the kernel leaves them).
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  // The parts of `ranges` the kernel would leave unmapped (the gaps between
  // the PT_LOADs of an image placed anywhere, the guard below a program):
  // they stay reserved PROT_NONE, but the guest must find holes there.
  std::vector<std::pair<uint64_t, uint64_t>> holes;
};

struct GuestProgram {
  LoadedImage main;
  std::optional<LoadedImage> interp;  // present when main has PT_INTERP
  std::string interp_name;            // PT_INTERP string as written in the file
  uint64_t first_pc = 0;              // interp->entry if interp, else main.entry
  // The guest brk starts at brk_start, a page after main.highest: the kernel
  // leaves at least that gap (unmapped) between the bss and the brk.
  // [brk_start, brk_reserved_end) is a PROT_NONE reservation held for it (so
  // that the interpreter, the stack and host allocations never land there):
  // the brk emulation takes pages from it with MAP_FIXED, and gives them back
  // by remapping them PROT_NONE. brk_reserved_end <= brk_start when nothing
  // could be reserved (both are 0 when the program maps nothing).
  uint64_t brk_start = 0;
  uint64_t brk_reserved_end = 0;
};

struct LoadOptions {
  std::string interp_prefix;  // -L: tried first as prefix + PT_INTERP path
  // Size of the brk reservation after the main image (0: none). A PIE placed
  // by mmap(NULL) would otherwise usually sit right below another mapping.
  uint64_t brk_reserve = uint64_t{1} << 30;
};

// Checks and maps `path` as binfmt_elf would (docs/user-guide.md, "How
// programs are loaded"). Every failure is an Error whose message is one line
// naming the file and the problem, e.g.
//   "qplug: /tmp/x: not an ELF file"
//   "qplug: /tmp/x: 32-bit ELF (ELFCLASS32) is not supported, only x86-64"
//   "qplug: /tmp/x: ELF for machine 183 (aarch64) is not supported, only x86-64"
//   "qplug: /tmp/x: No such file or directory"
//   "qplug: /tmp/x: Is a directory" / "Permission denied"
//   "qplug: /tmp/x: corrupt ELF header: <what>"
//   "qplug: /tmp/x: cannot find interpreter /lib64/ld-linux-x86-64.so.2: No such file or directory"
// Exit status 1 for ordinary errors (QEMU uses 1 too), 126/127-like codes are
// not used: the caller decides. Where the kernel's execve would fail after
// the point of no return (a PT_LOAD it cannot map, p_filesz > p_memsz, an
// interpreter that is not ET_EXEC or ET_DYN...), the Error's `signal` is
// SIGSEGV: the kernel kills the process with it.
Result<GuestProgram> load_program(const std::string& path, const LoadOptions& options);

// The checks load_program makes before the point of no return (the ones for
// which execve returns an error): ok if the kernel would get past them.
Result<void> check_exec(const std::string& path, const LoadOptions& options);

// Pure header check used both by load_program and by execve following: returns
// ok if `bytes` (the first bytes of a file, at least 64 if the file has them)
// start a valid x86-64 ELF executable or shared object header.
Result<void> check_elf_header(const std::string& path, const uint8_t* bytes, size_t size);

// Builds the initial guest stack the kernel would build: argc, argv, envp,
// auxv (AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY,
// AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP, AT_HWCAP2,
// AT_CLKTCK, AT_PLATFORM, AT_EXECFN, AT_SYSINFO_EHDR (host's vDSO, passed
// through), AT_MINSIGSTKSZ, AT_NULL), the strings and the 16 random bytes.
// Maps a fresh stack region (size from RLIMIT_STACK, at least 8 MiB, at most
// 256 MiB, or the request's; grows down) and returns the initial guest %rsp.
struct StackRequest {
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::string execfn;       // AT_EXECFN string (the program path as given)
  uint64_t stack_size = 0;  // -s: the mapping's size instead of RLIMIT_STACK's
};
Result<uint64_t> build_initial_stack(const GuestProgram& program, const StackRequest& request);

// The same, also returning where the stack mapping is (for /proc/self/maps
// emulation, thread stacks, tests).
struct InitialStack {
  uint64_t sp = 0;           // initial %rsp, 16-byte aligned, points at argc
  uint64_t base = 0;         // lowest address of the stack mapping
  uint64_t size = 0;         // its size in bytes (the stack may grow below base)
  uint64_t random_addr = 0;  // AT_RANDOM
  uint64_t execfn_addr = 0;  // AT_EXECFN
};
Result<InitialStack> build_initial_stack_ex(const GuestProgram& program,
                                            const StackRequest& request);

// Unmaps everything load_program mapped for `program` (images and the brk
// reservation). For failed execs and tests; the guest must not be running.
void unmap_program(const GuestProgram& program);

// The first address of [lo, hi) in one of the images' holes, else `hi`.
uint64_t first_hole(const GuestProgram& program, uint64_t lo, uint64_t hi);
// The guest mapped or unmapped [lo, hi): no holes remain there. Both may be
// called from any thread.
void forget_holes(GuestProgram& program, uint64_t lo, uint64_t hi);

}  // namespace qplug::loader
