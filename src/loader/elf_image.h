// Internal pieces of the ELF loader: reading one image's headers, planning
// where its PT_LOADs go and mapping them, each step following fs/binfmt_elf.c.
// Error messages here are the part after "qplug: <file>: " so that the caller
// can name the program or its interpreter as it sees fit.
//
// binfmt_elf has two kinds of failure. Before the point of no return
// (begin_new_exec) execve returns an error: bad headers, an unreadable
// PT_INTERP, a missing interpreter. After it the old program is gone and the
// kernel kills the process with SIGSEGV: a PT_LOAD it cannot map, one with
// p_filesz > p_memsz or outside the address space, an interpreter of the wrong
// type. parse_image checks the first kind; plan_image and map_plan the second,
// and their errors carry SIGSEGV (exec_failure).
#pragma once

#include <elf.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "loader/elf_loader.h"
#include "qplug/result.h"

namespace qplug::loader::detail {

// TASK_SIZE with 4-level paging: the kernel's BAD_ADDR bound.
inline constexpr uint64_t kUserSpaceEnd = 0x7ffffffff000ULL;
// load_elf_phdrs refuses program header tables larger than 64 KiB (kernels
// before 6.x also refused more than a page, ELF_MIN_ALIGN).
inline constexpr uint64_t kMaxPhdrTableBytes = 65536;
// PATH_MAX, the kernel's bound on PT_INTERP.
inline constexpr uint64_t kMaxInterpBytes = 4096;

uint64_t page_size();
inline uint64_t page_down(uint64_t v) { return v & ~(page_size() - 1); }
inline uint64_t page_offset(uint64_t v) { return v & (page_size() - 1); }
// Wraps near 2^64 like the kernel's ELF_PAGEALIGN; callers check first.
inline uint64_t page_up(uint64_t v) { return page_down(v + page_size() - 1); }

// snprintf into a std::string (messages here are short).
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// An error of the second kind: qplug reports it and dies of SIGSEGV.
Error exec_failure(std::string message);

enum class Role { kProgram, kInterpreter };

// "" when the first `size` bytes of a file of `file_size` bytes start an ELF
// header binfmt_elf takes (for `role`), else the problem. As in the kernel,
// which reads a zeroed buffer, bytes past the end of a short file count as 0;
// and EI_CLASS, EI_DATA and the versions are not looked at. An interpreter's
// e_type is checked later (after the point of no return).
std::string header_problem(const uint8_t* bytes, size_t size, uint64_t file_size,
                           Role role = Role::kProgram);

struct ParsedImage {
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  uint64_t file_size = 0;
  bool has_interp = false;
  std::string interp;  // the first PT_INTERP, up to its first NUL
  bool executable_stack = false;
};

// Reads and checks the headers of the open file `fd` (the first kind of failure).
Result<ParsedImage> parse_image(int fd, Role role);

using Range = std::pair<uint64_t, uint64_t>;  // [first, second), page-aligned

// Where an image goes. `fixed`: at `bias`, in `ranges`. Otherwise anywhere
// with a free `span`: the image's reference page (the first PT_LOAD's) then
// lies `ref_offset` bytes into it, and bias = base + ref_offset - ref_page.
struct MapPlan {
  bool fixed = true;
  uint64_t bias = 0;
  std::vector<Range> ranges;  // fixed: the pages the PT_LOADs cover, merged
  uint64_t span = 0;
  uint64_t ref_offset = 0;
  uint64_t ref_page = 0;
  uint64_t align = 0;         // power of two, at least a page
  uint64_t first_map = 0;     // bytes the first PT_LOAD's file mapping covers (total size)
  uint64_t guard_below = 0;   // bytes kept free (reserved) below an image placed anywhere
  std::vector<size_t> loads;  // indices of the PT_LOADs, in program header order
};

struct PlanContext {
  Role role = Role::kProgram;
  bool program_has_interp = false;  // kProgram: an ET_DYN with PT_INTERP goes anywhere
  uint64_t program_bias = 0;        // kInterpreter: the program's (the kernel's no_base)
};

// Decides the placement and checks every PT_LOAD as load_elf_binary and
// load_elf_interp would after the point of no return.
Result<MapPlan> plan_image(const ParsedImage& image, const PlanContext& context);

// Maps `image` by `plan`, one PT_LOAD after the other in program header order
// (later ones replace earlier ones where they overlap, as with the kernel's
// MAP_FIXED), and fills every LoadedImage field but `path`. Fixed pages inside
// `replaceable` (the program's, for an interpreter) may be mapped over; any
// other page in use fails. With `brk->size`, that many bytes are reserved
// PROT_NONE for the brk, a page after the image (as many as possible for a
// fixed image, where the space may be taken), and `brk` gets where.
struct BrkReservation {
  uint64_t size = 0;
  uint64_t start = 0, end = 0;  // out
};
Result<LoadedImage> map_plan(int fd, const ParsedImage& image, const MapPlan& plan,
                             const std::vector<Range>& replaceable, BrkReservation* brk);

// Sorted, non-overlapping ranges covering the same addresses.
std::vector<Range> merge_ranges(std::vector<Range> ranges);
// The parts of `ranges` outside every range of `minus`.
std::vector<Range> subtract_ranges(const std::vector<Range>& ranges,
                                   const std::vector<Range>& minus);

}  // namespace qplug::loader::detail
