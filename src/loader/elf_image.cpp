// Reading one image's headers and planning its PT_LOADs, with the checks and
// the placement rules of load_elf_binary and load_elf_interp in fs/binfmt_elf.c.
#include "loader/elf_image.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>

namespace qplug::loader::detail {

namespace {

// Reads exactly `size` bytes at `offset`; false on I/O error or end of file.
bool read_at(int fd, void* buf, size_t size, uint64_t offset) {
  auto* p = static_cast<uint8_t*>(buf);
  while (size > 0) {
    ssize_t n = pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;  // the file shrank since fstat
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

Error corrupt(const std::string& what) { return make_error("corrupt ELF header: " + what); }

// Whether [offset, offset + size) lies in a file of `file_size` bytes; the
// kernel's reads fail otherwise (EIO, or EINVAL for offsets past 2^63).
bool in_file(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

Result<void> read_interp(int fd, ParsedImage& img, size_t i) {
  const Elf64_Phdr& ph = img.phdrs[i];
  if (ph.p_filesz < 2 || ph.p_filesz > kMaxInterpBytes) {
    return corrupt(
        format("program header %zu: PT_INTERP size %" PRIu64 " is invalid", i, ph.p_filesz));
  }
  if (!in_file(ph.p_offset, ph.p_filesz, img.file_size)) {
    return corrupt(format("program header %zu: PT_INTERP (offset 0x%" PRIx64 ", %" PRIu64
                          " bytes) is beyond the end of the file",
                          i, ph.p_offset, ph.p_filesz));
  }
  std::string s(ph.p_filesz, '\0');
  if (!read_at(fd, s.data(), s.size(), ph.p_offset)) {
    return make_error(format("cannot read PT_INTERP: %s", strerror(errno)));
  }
  if (s.back() != '\0') {
    return corrupt(format("program header %zu: PT_INTERP is not NUL-terminated", i));
  }
  img.has_interp = true;
  img.interp = s.c_str();
  return {};
}

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Signed arithmetic on addresses relative to the reference page: they may lie
// on either side of it, and sums of 64-bit values must not wrap.
using Wide = __int128;
constexpr uint64_t kHugeAlign = uint64_t{1} << 47;
constexpr uint64_t kGuardBelow = uint64_t{16} << 20;

// The guard is reserved, and an address-space limit (ulimit -v) counts it:
// under one it takes a small share.
uint64_t guard_below() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kGuardBelow;
  return std::min<uint64_t>(kGuardBelow, (limit.rlim_cur / 64) & ~uint64_t{0xfff});
}
Wide floor_page(Wide v) {
  return v - (((v % Wide(page_size())) + Wide(page_size())) % page_size());
}
Wide ceil_page(Wide v) { return floor_page(v + Wide(page_size()) - 1); }

std::string outside(size_t i, uint64_t vaddr, uint64_t memsz) {
  return format("program header %zu: PT_LOAD at 0x%" PRIx64 " (0x%" PRIx64
                " bytes) is outside the user address space",
                i, vaddr, memsz);
}

// The checks load_elf_binary (k unbiased) and load_elf_interp (k biased)
// make after mapping each PT_LOAD, and the one mmap makes of its offset.
Result<void> check_load(const ParsedImage& img, size_t i, bool check_address, uint64_t k) {
  const Elf64_Phdr& ph = img.phdrs[i];
  if (ph.p_filesz > ph.p_memsz) {
    return exec_failure(format("corrupt ELF header: program header %zu: PT_LOAD p_filesz 0x%" PRIx64
                               " is larger than p_memsz 0x%" PRIx64,
                               i, ph.p_filesz, ph.p_memsz));
  }
  if (ph.p_memsz > kUserSpaceEnd ||
      (check_address && (k >= kUserSpaceEnd || kUserSpaceEnd - ph.p_memsz < k))) {
    return exec_failure("corrupt ELF header: " + outside(i, ph.p_vaddr, ph.p_memsz));
  }
  if (ph.p_filesz > 0 && page_offset(ph.p_offset) != page_offset(ph.p_vaddr)) {
    return exec_failure(format("corrupt ELF header: program header %zu: PT_LOAD p_offset 0x%" PRIx64
                               " and p_vaddr 0x%" PRIx64 " differ modulo the page size (0x%" PRIx64
                               ")",
                               i, ph.p_offset, ph.p_vaddr, page_size()));
  }
  // The kernel clears the rest of the last file page of a segment with bss
  // (padzero); if that page is past the end of the file the write faults and
  // the exec fails.
  if (ph.p_filesz > 0 && ph.p_memsz > ph.p_filesz && (ph.p_flags & PF_W)) {
    const uint64_t in_page = page_offset(ph.p_vaddr) + ph.p_filesz;
    const uint64_t page_file_offset = ph.p_offset - page_offset(ph.p_vaddr) + page_down(in_page);
    if (page_offset(in_page) != 0 && page_file_offset >= img.file_size) {
      return exec_failure(format("program header %zu: PT_LOAD file data (offset 0x%" PRIx64
                                 ", 0x%" PRIx64 " bytes) ends past the end of the file (0x%" PRIx64
                                 " bytes) in a page shared with bss",
                                 i, ph.p_offset, ph.p_filesz, img.file_size));
    }
  }
  return {};
}

}  // namespace

Result<ParsedImage> parse_image(int fd, Role role) {
  ParsedImage img;
  struct stat st;
  if (fstat(fd, &st) != 0) return make_error(strerror(errno));
  img.file_size = static_cast<uint64_t>(st.st_size);

  uint8_t head[sizeof(Elf64_Ehdr)] = {};
  size_t head_size = static_cast<size_t>(std::min<uint64_t>(img.file_size, sizeof head));
  if (!read_at(fd, head, head_size, 0)) {
    return make_error(format("cannot read the ELF header: %s", strerror(errno)));
  }
  std::string problem = header_problem(head, head_size, img.file_size, role);
  if (!problem.empty()) return make_error(problem);
  // The program's header is read zero-padded, the interpreter's must be whole.
  if (role == Role::kInterpreter && head_size < sizeof head) {
    return corrupt(
        format("truncated to %zu bytes (the ELF header has %zu)", head_size, sizeof head));
  }
  memcpy(&img.ehdr, head, sizeof img.ehdr);

  const Elf64_Ehdr& eh = img.ehdr;
  uint64_t table = uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  if (!in_file(eh.e_phoff, table, img.file_size)) {
    return corrupt(format("program header table (offset 0x%" PRIx64 ", %u entries) is outside "
                          "the file (0x%" PRIx64 " bytes)",
                          eh.e_phoff, eh.e_phnum, img.file_size));
  }
  img.phdrs.resize(eh.e_phnum);
  if (!read_at(fd, img.phdrs.data(), table, eh.e_phoff)) {
    return make_error(format("cannot read the program headers: %s", strerror(errno)));
  }
  if (role == Role::kInterpreter) return img;  // its PT_INTERP and PT_GNU_STACK do not count

  for (size_t i = 0; i < img.phdrs.size(); ++i) {
    const Elf64_Phdr& ph = img.phdrs[i];
    if (ph.p_type == PT_INTERP && !img.has_interp) {  // the kernel follows the first only
      Result<void> r = read_interp(fd, img, i);
      if (!r) return r.error();
    } else if (ph.p_type == PT_GNU_STACK) {
      // Last one wins. Without one, x86-64 stacks are not executable (and, for
      // a 64-bit program, elf_read_implies_exec never sets READ_IMPLIES_EXEC).
      img.executable_stack = (ph.p_flags & PF_X) != 0;
    }
    // PT_GNU_PROPERTY is not parsed on x86 (no ARCH_USE_GNU_PROPERTY), nor
    // are PT_LOPROC..PT_HIPROC; PT_LOADs are checked once mapping starts.
  }
  return img;
}

Result<MapPlan> plan_image(const ParsedImage& img, const PlanContext& ctx) {
  const Elf64_Ehdr& eh = img.ehdr;
  const bool interp = ctx.role == Role::kInterpreter;
  MapPlan plan;
  if (interp && eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    return exec_failure(format("ELF type %u is not an executable (ET_EXEC or ET_DYN)", eh.e_type));
  }
  for (size_t i = 0; i < img.phdrs.size(); ++i) {
    if (img.phdrs[i].p_type == PT_LOAD) plan.loads.push_back(i);
  }
  plan.align = page_size();
  if (plan.loads.empty() && !interp) return plan;  // nothing mapped; the program faults
  uint64_t align = page_size();

  // total_mapping_size, in the kernel's wrapping arithmetic.
  uint64_t min_addr = UINT64_MAX, max_addr = 0;
  for (size_t i : plan.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    min_addr = std::min(min_addr, page_down(ph.p_vaddr));
    max_addr = std::max(max_addr, ph.p_vaddr + ph.p_memsz);
    if (is_power_of_two(ph.p_align)) align = std::max(align, ph.p_align);
  }
  const uint64_t total = plan.loads.empty() ? 0 : max_addr - min_addr;
  // load_elf_interp checks it for both types, load_elf_binary computes it for ET_DYN only.
  if ((interp || eh.e_type == ET_DYN) && total == 0) {
    return exec_failure("corrupt ELF header: the PT_LOAD segments span no memory");
  }

  const Elf64_Phdr& first = img.phdrs[plan.loads.front()];
  plan.ref_page = page_down(first.p_vaddr);
  // maximum_alignment() rounds the program's base down to the largest
  // p_align; from 2^47 up that leaves 0, the image's first page at address 0.
  // load_elf_interp does not align.
  if (!interp) plan.align = align;
  const bool aligned_to_zero = !interp && align >= kHugeAlign;
  if (eh.e_type == ET_EXEC) {
    plan.bias = 0;
  } else if (aligned_to_zero) {
    plan.bias = page_down(0 - first.p_vaddr);
  } else if (first.p_filesz == 0 && !(ctx.role == Role::kProgram && ctx.program_has_interp)) {
    // The first PT_LOAD is only bss: the kernel maps it where its hint points
    // (vm_brk) instead of letting mmap choose, which fixes the whole image.
    if (!interp) {
      plan.bias = page_down(0 - first.p_vaddr);  // load_bias 0, lowered by the first vaddr
    } else if (ctx.program_bias != 0) {
      plan.bias = 0 - plan.ref_page;  // hint 0
    } else {
      plan.bias = 0;  // hint p_vaddr
    }
  } else {
    plan.fixed = false;
    // A program with an interpreter goes to ELF_ET_DYN_BASE, two thirds of the
    // way up, with nothing below it for a long way: accesses a little below
    // its first page (a bad p_vaddr that ld.so follows) fault there.
    if (!interp && ctx.program_has_interp) plan.guard_below = guard_below();
    // The first file mapping covers the total size (then its tail is unmapped).
    if (first.p_filesz > 0) {
      plan.first_map = page_up(total);
      if (plan.first_map == 0 || plan.first_map > kUserSpaceEnd) {
        return exec_failure(format("corrupt ELF header: the PT_LOAD segments span 0x%" PRIx64
                                   " bytes, more than the user address space",
                                   total));
      }
    }
  }

  Wide lo = 0, hi = static_cast<Wide>(plan.first_map);
  for (size_t i : plan.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    // The kernel checks the program's unbiased p_vaddr and the interpreter's
    // biased one; an image placed anywhere fits by construction.
    const bool check_address = !interp || plan.fixed;
    Result<void> r =
        check_load(img, i, check_address, interp ? plan.bias + ph.p_vaddr : ph.p_vaddr);
    if (!r) return r.error();
    if (ph.p_memsz == 0) continue;  // maps nothing
    if (plan.fixed) {
      const Wide start = page_down(plan.bias + ph.p_vaddr);
      const Wide end = ceil_page(Wide(plan.bias + ph.p_vaddr) + ph.p_memsz);
      if (end > kUserSpaceEnd) {
        return exec_failure("corrupt ELF header: " + outside(i, ph.p_vaddr, ph.p_memsz));
      }
      plan.ranges.emplace_back(static_cast<uint64_t>(start), static_cast<uint64_t>(end));
    } else {
      const Wide rel = static_cast<int64_t>(ph.p_vaddr - plan.ref_page);
      lo = std::min(lo, floor_page(rel));
      hi = std::max(hi, ceil_page(rel + ph.p_memsz));
    }
  }
  if (plan.fixed) {
    plan.ranges = merge_ranges(std::move(plan.ranges));
  } else {
    if (hi - lo > kUserSpaceEnd) {
      return exec_failure(format("corrupt ELF header: the PT_LOAD segments span 0x%" PRIx64
                                 " bytes or more, more than the user address space",
                                 kUserSpaceEnd));
    }
    plan.span = static_cast<uint64_t>(hi - lo);
    plan.ref_offset = static_cast<uint64_t>(-lo);
  }
  return plan;
}

}  // namespace qplug::loader::detail
