// Program header validation and mapping of one ELF image, following
// fs/binfmt_elf.c so that guests see the same layout as under the kernel.
#include "loader/elf_image.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

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

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

int prot_of(uint32_t flags) {
  int prot = 0;
  if (flags & PF_R) prot |= PROT_READ;
  if (flags & PF_W) prot |= PROT_WRITE;
  if (flags & PF_X) prot |= PROT_EXEC;
  // The translator reads guest code, and with protection keys the kernel
  // would make an X-only mapping unreadable. x86 has no write-only pages.
  if (prot != 0) prot |= PROT_READ;
  return prot;
}

Result<void> check_load(const ParsedImage& img, size_t i, const Elf64_Phdr* prev, size_t prev_i) {
  const Elf64_Phdr& ph = img.phdrs[i];
  if (ph.p_filesz > ph.p_memsz) {
    return corrupt(format("program header %zu: PT_LOAD p_filesz 0x%" PRIx64
                          " is larger than p_memsz 0x%" PRIx64,
                          i, ph.p_filesz, ph.p_memsz));
  }
  if (ph.p_vaddr > kUserSpaceEnd || ph.p_memsz > kUserSpaceEnd - ph.p_vaddr) {
    return corrupt(format("program header %zu: PT_LOAD at 0x%" PRIx64 " (0x%" PRIx64
                          " bytes) is outside the user address space",
                          i, ph.p_vaddr, ph.p_memsz));
  }
  // The file offset only matters when file data is mapped (as in the kernel).
  if (ph.p_filesz > 0) {
    if (ph.p_offset > img.file_size || ph.p_filesz > img.file_size - ph.p_offset) {
      return corrupt(format("program header %zu: PT_LOAD file data (offset 0x%" PRIx64
                            ", 0x%" PRIx64 " bytes) is beyond the end of the file (0x%" PRIx64
                            " bytes)",
                            i, ph.p_offset, ph.p_filesz, img.file_size));
    }
    if (page_offset(ph.p_offset) != page_offset(ph.p_vaddr)) {
      return corrupt(format("program header %zu: PT_LOAD p_offset 0x%" PRIx64
                            " and p_vaddr 0x%" PRIx64 " differ modulo the page size (0x%" PRIx64
                            ")",
                            i, ph.p_offset, ph.p_vaddr, page_size()));
    }
  }
  if (prev != nullptr) {
    if (ph.p_vaddr < prev->p_vaddr) {
      return corrupt(
          format("PT_LOAD segments are not sorted by address: program header %zu (0x%" PRIx64
                 ") follows program header %zu (0x%" PRIx64 ")",
                 i, ph.p_vaddr, prev_i, prev->p_vaddr));
    }
    if (ph.p_vaddr < prev->p_vaddr + prev->p_memsz) {
      return corrupt(format("PT_LOAD segments overlap: program header %zu (0x%" PRIx64 "-0x%" PRIx64
                            ") and program header %zu (0x%" PRIx64 "-0x%" PRIx64 ")",
                            prev_i, prev->p_vaddr, prev->p_vaddr + prev->p_memsz, i, ph.p_vaddr,
                            ph.p_vaddr + ph.p_memsz));
    }
  }
  return {};
}

Result<void> read_interp(int fd, ParsedImage& img, size_t i) {
  const Elf64_Phdr& ph = img.phdrs[i];
  if (ph.p_filesz < 2 || ph.p_filesz > kMaxInterpBytes) {
    return corrupt(
        format("program header %zu: PT_INTERP size %" PRIu64 " is invalid", i, ph.p_filesz));
  }
  if (ph.p_offset > img.file_size || ph.p_filesz > img.file_size - ph.p_offset) {
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

// Unmaps [start, end) if not empty, ignoring errors: used for cleanup only.
void release(uint64_t start, uint64_t end) {
  if (end > start) munmap(reinterpret_cast<void*>(start), end - start);
}

// Reserves the span of an ET_EXEC image at its link-time addresses.
Result<void> reserve_fixed(uint64_t lo, uint64_t hi) {
  void* want = reinterpret_cast<void*>(lo);
  void* got = mmap(want, hi - lo, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  int err = errno;
  if (got != MAP_FAILED && got != want) {
    // A kernel without MAP_FIXED_NOREPLACE took it as a hint.
    munmap(got, hi - lo);
    got = MAP_FAILED;
    err = EEXIST;
  }
  if (got == MAP_FAILED) {
    std::string why =
        err == EEXIST ? "the address range is already in use in this process" : strerror(err);
    return make_error(
        format("cannot map the image at 0x%" PRIx64 "-0x%" PRIx64 ": %s", lo, hi, why.c_str()));
  }
  return {};
}

// Best effort: the space after a fixed-address image may be partly taken.
uint64_t reserve_brk_after(uint64_t hi, uint64_t size) {
  size = page_down(std::min(size, kUserSpaceEnd - hi));
  while (size >= 16 * page_size()) {
    void* want = reinterpret_cast<void*>(hi);
    void* got = mmap(want, size, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == want) return hi + size;
    if (got != MAP_FAILED) munmap(got, size);
    size = page_down(size / 2);
  }
  return hi;
}

// Reserves span + brk bytes anywhere, with the image start congruent to `lo`
// modulo `align` so that segments keep their p_align (huge-page friendly).
Result<uint64_t> reserve_anywhere(uint64_t lo, uint64_t span, uint64_t brk, uint64_t align) {
  uint64_t slack = align - page_size();
  uint64_t total = span + brk + slack;
  void* raw = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    return make_error(
        format("cannot reserve 0x%" PRIx64 " bytes for the image: %s", total, strerror(errno)));
  }
  uint64_t start = reinterpret_cast<uint64_t>(raw);
  uint64_t base = start + ((lo - start) & (align - 1));
  release(start, base);
  release(base + span + brk, start + total);
  return base;
}

}  // namespace

Result<ParsedImage> parse_image(int fd) {
  ParsedImage img;
  struct stat st;
  if (fstat(fd, &st) != 0) return make_error(strerror(errno));
  img.file_size = static_cast<uint64_t>(st.st_size);

  uint8_t head[sizeof(Elf64_Ehdr)] = {};
  size_t head_size = static_cast<size_t>(std::min<uint64_t>(img.file_size, sizeof head));
  if (!read_at(fd, head, head_size, 0)) {
    return make_error(format("cannot read the ELF header: %s", strerror(errno)));
  }
  std::string problem = header_problem(head, head_size);
  if (!problem.empty()) return make_error(problem);
  memcpy(&img.ehdr, head, sizeof img.ehdr);

  const Elf64_Ehdr& eh = img.ehdr;
  uint64_t table = uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  if (eh.e_phoff > img.file_size || table > img.file_size - eh.e_phoff) {
    return corrupt(format("program header table (offset 0x%" PRIx64 ", %u entries) is outside "
                          "the file (0x%" PRIx64 " bytes)",
                          eh.e_phoff, eh.e_phnum, img.file_size));
  }
  img.phdrs.resize(eh.e_phnum);
  if (!read_at(fd, img.phdrs.data(), table, eh.e_phoff)) {
    return make_error(format("cannot read the program headers: %s", strerror(errno)));
  }

  img.max_align = page_size();
  const Elf64_Phdr* prev = nullptr;
  size_t prev_i = 0;
  for (size_t i = 0; i < img.phdrs.size(); ++i) {
    const Elf64_Phdr& ph = img.phdrs[i];
    switch (ph.p_type) {
      case PT_LOAD: {
        Result<void> r = check_load(img, i, prev, prev_i);
        if (!r) return r.error();
        if (is_power_of_two(ph.p_align) && ph.p_align > img.max_align) img.max_align = ph.p_align;
        img.loads.push_back(i);
        prev = &ph;
        prev_i = i;
        break;
      }
      case PT_INTERP:
        // The kernel follows the first PT_INTERP only.
        if (!img.has_interp) {
          Result<void> r = read_interp(fd, img, i);
          if (!r) return r.error();
        }
        break;
      case PT_GNU_STACK:
        // Last one wins, as in binfmt_elf. Without one, x86-64 stacks are not executable.
        img.executable_stack = (ph.p_flags & PF_X) != 0;
        break;
      default:
        break;
    }
  }
  if (img.loads.empty()) return corrupt("no PT_LOAD segment");
  const Elf64_Phdr& first = img.phdrs[img.loads.front()];
  const Elf64_Phdr& last = img.phdrs[img.loads.back()];
  img.min_vaddr = page_down(first.p_vaddr);
  img.max_vaddr = page_up(last.p_vaddr + last.p_memsz);
  if (img.max_vaddr == img.min_vaddr) return corrupt("all PT_LOAD segments are empty");
  return img;
}

Result<LoadedImage> map_image(int fd, const ParsedImage& img, uint64_t brk_reserve,
                              uint64_t* reserved_end) {
  const uint64_t lo = img.min_vaddr;
  const uint64_t hi = img.max_vaddr;
  const uint64_t span = hi - lo;
  brk_reserve = page_up(std::min(brk_reserve, kUserSpaceEnd / 4));
  uint64_t bias = 0;
  uint64_t end = hi;
  if (img.ehdr.e_type == ET_EXEC) {
    Result<void> r = reserve_fixed(lo, hi);
    if (!r) return r.error();
    if (brk_reserve != 0) end = reserve_brk_after(hi, brk_reserve);
  } else {
    Result<uint64_t> base = reserve_anywhere(lo, span, brk_reserve, img.max_align);
    if (!base && brk_reserve != 0) {
      brk_reserve = 0;
      base = reserve_anywhere(lo, span, 0, img.max_align);
    }
    if (!base) return base.error();
    bias = *base - lo;
    end = *base + span + brk_reserve;
  }

  for (size_t i : img.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    if (ph.p_memsz == 0) continue;
    const int prot = prot_of(ph.p_flags);
    const uint64_t seg_start = bias + page_down(ph.p_vaddr);
    const uint64_t file_end = bias + ph.p_vaddr + ph.p_filesz;
    const uint64_t mem_end = bias + ph.p_vaddr + ph.p_memsz;
    uint64_t anon_start = seg_start;
    const char* what = "file data";
    void* got = nullptr;
    if (ph.p_filesz > 0) {
      anon_start = page_up(file_end);
      got = mmap(reinterpret_cast<void*>(seg_start), anon_start - seg_start, prot,
                 MAP_PRIVATE | MAP_FIXED, fd,
                 static_cast<off_t>(ph.p_offset - page_offset(ph.p_vaddr)));
      if (got != MAP_FAILED && (prot & PROT_WRITE) && ph.p_memsz > ph.p_filesz) {
        // The file's bytes after p_filesz share the last page with the start of bss.
        memset(reinterpret_cast<void*>(file_end), 0, anon_start - file_end);
      }
    }
    const uint64_t anon_end = page_up(mem_end);
    if (got != MAP_FAILED && anon_end > anon_start) {
      what = "bss";
      got = mmap(reinterpret_cast<void*>(anon_start), anon_end - anon_start, prot,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    }
    if (got == MAP_FAILED) {
      int err = errno;
      release(bias + lo, end);
      return make_error(format("cannot map program header %zu (%s): %s", i, what, strerror(err)));
    }
  }

  LoadedImage out;
  const Elf64_Ehdr& eh = img.ehdr;
  out.load_bias = bias;
  out.entry = eh.e_entry + bias;
  out.phnum = eh.e_phnum;
  out.phentsize = eh.e_phentsize;
  out.lowest = lo + bias;
  out.highest = hi + bias;
  out.executable_stack = img.executable_stack;

  bool found_phdr = false;
  for (const Elf64_Phdr& ph : img.phdrs) {
    if (ph.p_type == PT_PHDR) {
      out.phdr_addr = ph.p_vaddr + bias;
      found_phdr = true;
      break;
    }
  }
  for (size_t i : img.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    if (found_phdr) break;
    if (ph.p_offset <= eh.e_phoff && eh.e_phoff - ph.p_offset < ph.p_filesz) {
      out.phdr_addr = eh.e_phoff - ph.p_offset + ph.p_vaddr + bias;
      found_phdr = true;
    }
  }
  if (!found_phdr) {
    // Kernels before 5.18 assumed the headers follow the first segment's file start.
    const Elf64_Phdr& first = img.phdrs[img.loads.front()];
    out.phdr_addr = first.p_vaddr - first.p_offset + eh.e_phoff + bias;
  }

  // QEMU's image_info conventions, which plugins may see through qemu_plugin_*.
  bool have_code = false, have_data = false;
  for (size_t i : img.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    const uint64_t vaddr = ph.p_vaddr + bias;
    if (ph.p_flags & PF_X) {
      if (!have_code || vaddr < out.start_code) out.start_code = vaddr;
      if (!have_code || vaddr + ph.p_filesz > out.end_code) out.end_code = vaddr + ph.p_filesz;
      have_code = true;
    }
    if (ph.p_flags & PF_W) {
      if (!have_data || vaddr < out.start_data) out.start_data = vaddr;
      if (!have_data || vaddr + ph.p_filesz > out.end_data) out.end_data = vaddr + ph.p_filesz;
      have_data = true;
    }
  }
  if (!have_code) out.start_code = out.end_code = out.lowest;
  if (!have_data) out.start_data = out.end_data = out.end_code;

  *reserved_end = end;
  return out;
}

}  // namespace qplug::loader::detail
