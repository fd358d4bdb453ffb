// Internal pieces of the ELF loader: parsing and validating one image's
// program headers, and mapping it. Error messages here are the part after
// "qplug: <file>: " so that the caller can name the program or its
// interpreter as it sees fit.
#pragma once

#include <elf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "loader/elf_loader.h"
#include "qplug/result.h"

namespace qplug::loader::detail {

// Userspace ends here with 4-level paging; mmap(NULL) never returns more.
inline constexpr uint64_t kUserSpaceEnd = 0x7ffffffff000ULL;
// The kernel refuses program header tables larger than one page (ELF_MIN_ALIGN).
inline constexpr uint64_t kMaxPhdrTableBytes = 4096;
// PATH_MAX, the kernel's bound on PT_INTERP.
inline constexpr uint64_t kMaxInterpBytes = 4096;

uint64_t page_size();
inline uint64_t page_down(uint64_t v) { return v & ~(page_size() - 1); }
inline uint64_t page_offset(uint64_t v) { return v & (page_size() - 1); }
// Callers check for overflow before rounding values near 2^64.
inline uint64_t page_up(uint64_t v) { return page_down(v + page_size() - 1); }

// snprintf into a std::string (messages here are short).
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// "" when `bytes` start a valid x86-64 ELF executable header, else the problem.
std::string header_problem(const uint8_t* bytes, size_t size);

struct ParsedImage {
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  std::vector<size_t> loads;  // indices into phdrs of the PT_LOADs, in file order
  uint64_t file_size = 0;
  bool has_interp = false;
  std::string interp;  // PT_INTERP up to its first NUL
  bool executable_stack = false;
  uint64_t min_vaddr = 0;  // page_down of the first PT_LOAD's p_vaddr
  uint64_t max_vaddr = 0;  // page_up of the end of the last PT_LOAD
  uint64_t max_align = 0;  // largest power-of-two p_align, at least a page
};

// Reads and validates the headers of the open file `fd`.
Result<ParsedImage> parse_image(int fd);

// Maps `image` like binfmt_elf and fills every LoadedImage field but `path`.
// `brk_reserve` bytes after the image are left reserved PROT_NONE (as many as
// possible for ET_EXEC, where the space may be taken); `*reserved_end` gets
// the end of everything mapped, image and reservation.
Result<LoadedImage> map_image(int fd, const ParsedImage& image, uint64_t brk_reserve,
                              uint64_t* reserved_end);

}  // namespace qplug::loader::detail
