// Mapping one ELF image by its plan, as elf_load() in fs/binfmt_elf.c maps
// each PT_LOAD, so that guests see the same memory as under the kernel.
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "loader/elf_image.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

namespace qplug::loader::detail {

namespace {

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

// Unmaps [start, end) if not empty, ignoring errors: used for cleanup only.
void release(uint64_t start, uint64_t end) {
  if (end > start) munmap(reinterpret_cast<void*>(start), end - start);
}

void release_all(const std::vector<Range>& ranges) {
  for (const Range& r : ranges) release(r.first, r.second);
}

// Reserves [lo, hi) PROT_NONE where nothing is mapped. A range qplug itself
// uses cannot be given to the guest (the kernel would have found it free):
// that is qplug's limit, an ordinary error. Any other failure (below
// mmap_min_addr, out of memory) is the kernel's too, after the point of no return.
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
  if (got != MAP_FAILED) return {};
  if (err == EEXIST) {
    return make_error(format("cannot map the image at 0x%" PRIx64 "-0x%" PRIx64
                             ": the address range is already in use in this process",
                             lo, hi));
  }
  return exec_failure(
      format("cannot map the image at 0x%" PRIx64 "-0x%" PRIx64 ": %s", lo, hi, strerror(err)));
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

// Beyond this, reserving the alignment's slack would take too much of the
// address space: aligned places are tried one by one, from the top.
constexpr uint64_t kMaxSlackAlign = uint64_t{1} << 30;

Result<uint64_t> reserve_aligned(uint64_t lo, uint64_t size, uint64_t align) {
  const uint64_t offset = lo & (align - 1);
  if (offset + size <= kUserSpaceEnd) {
    for (uint64_t a = (kUserSpaceEnd - offset - size) & ~(align - 1);; a -= align) {
      void* want = reinterpret_cast<void*>(a + offset);
      void* got = mmap(want, size, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
      if (got == want) return a + offset;
      if (got != MAP_FAILED) munmap(got, size);
      if (a == 0) break;
    }
  }
  return exec_failure(format(
      "cannot reserve 0x%" PRIx64 " bytes aligned to 0x%" PRIx64 " for the image", size, align));
}

// Reserves span + brk bytes anywhere, with the start congruent to `lo` modulo
// `align` so that segments keep their p_align (huge-page friendly).
Result<uint64_t> reserve_anywhere(uint64_t lo, uint64_t span, uint64_t brk, uint64_t align) {
  if (align > kMaxSlackAlign) return reserve_aligned(lo, span + brk, align);
  uint64_t slack = align - page_size();
  uint64_t total = span + brk + slack;
  void* raw = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    return exec_failure(
        format("cannot reserve 0x%" PRIx64 " bytes for the image: %s", total, strerror(errno)));
  }
  uint64_t start = reinterpret_cast<uint64_t>(raw);
  uint64_t base = start + ((lo - start) & (align - 1));
  release(start, base);
  release(base + span + brk, start + total);
  return base;
}

// AT_PHDR as load_elf_binary computes it (since Linux 5.18): from the last
// PT_LOAD whose file data holds e_phoff, else 0, plus the load bias. PT_PHDR
// is not looked at.
uint64_t phdr_address(const ParsedImage& img, const MapPlan& plan, uint64_t bias) {
  uint64_t addr = 0;
  const uint64_t phoff = img.ehdr.e_phoff;
  for (size_t i : plan.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    if (ph.p_offset <= phoff && phoff < ph.p_offset + ph.p_filesz) {
      addr = phoff - ph.p_offset + ph.p_vaddr;
    }
  }
  return addr + bias;
}

// QEMU's image_info conventions, which plugins may see through qemu_plugin_*.
void set_code_and_data(const ParsedImage& img, const MapPlan& plan, LoadedImage& out) {
  bool have_code = false, have_data = false;
  for (size_t i : plan.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    const uint64_t vaddr = ph.p_vaddr + out.load_bias;
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
}

// One PT_LOAD, as elf_load() does it: the file pages, the rest of the last
// file page cleared if writable, then anonymous pages for the rest of
// p_memsz. The bss pages are read-write whatever p_flags say (vm_brk_flags
// gives them the data default), and executable with PF_X.
Result<void> map_load(int fd, const Elf64_Phdr& ph, size_t i, uint64_t bias, uint64_t file_map) {
  const int prot = prot_of(ph.p_flags);
  const uint64_t addr = bias + ph.p_vaddr;
  const uint64_t start = page_down(addr);
  uint64_t zero_start = start;
  if (ph.p_filesz > 0) {
    const uint64_t size = page_up(ph.p_filesz + page_offset(ph.p_vaddr));
    const uint64_t len = std::max(size, file_map);
    void* got = mmap(reinterpret_cast<void*>(start), len, prot, MAP_PRIVATE | MAP_FIXED, fd,
                     static_cast<off_t>(ph.p_offset - page_offset(ph.p_vaddr)));
    if (got == MAP_FAILED) {
      return exec_failure(
          format("cannot map program header %zu (file data): %s", i, strerror(errno)));
    }
    if (len > size) {
      // The kernel unmaps the rest of its total-size mapping; it stays ours.
      mmap(reinterpret_cast<void*>(start + size), len - size, PROT_NONE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    }
    zero_start = addr + ph.p_filesz;
    // plan_image made sure this page is inside the file.
    if (ph.p_memsz > ph.p_filesz && (prot & PROT_WRITE) && page_offset(zero_start) != 0) {
      memset(reinterpret_cast<void*>(zero_start), 0, page_up(zero_start) - zero_start);
    }
  }
  if (ph.p_memsz > ph.p_filesz) {
    const uint64_t bss_start = page_up(zero_start);
    const uint64_t bss_end = page_up(addr + ph.p_memsz);
    if (bss_end > bss_start) {
      const int bss_prot = PROT_READ | PROT_WRITE | (prot & PROT_EXEC);
      void* got = mmap(reinterpret_cast<void*>(bss_start), bss_end - bss_start, bss_prot,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (got == MAP_FAILED) {
        return exec_failure(format("cannot map program header %zu (bss): %s", i, strerror(errno)));
      }
    }
  }
  return {};
}

}  // namespace

std::vector<Range> merge_ranges(std::vector<Range> ranges) {
  std::erase_if(ranges, [](const Range& r) { return r.second <= r.first; });
  std::sort(ranges.begin(), ranges.end());
  std::vector<Range> out;
  for (const Range& r : ranges) {
    if (!out.empty() && r.first <= out.back().second) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<Range> subtract_ranges(const std::vector<Range>& ranges,
                                   const std::vector<Range>& minus) {
  std::vector<Range> out = merge_ranges(ranges);
  for (const Range& m : merge_ranges(minus)) {
    std::vector<Range> next;
    for (const Range& r : out) {
      if (m.second <= r.first || r.second <= m.first) {
        next.push_back(r);
        continue;
      }
      if (r.first < m.first) next.emplace_back(r.first, m.first);
      if (m.second < r.second) next.emplace_back(m.second, r.second);
    }
    out = std::move(next);
  }
  return out;
}

Result<LoadedImage> map_plan(int fd, const ParsedImage& img, const MapPlan& plan,
                             const std::vector<Range>& replaceable, BrkReservation* brk) {
  const uint64_t page = page_size();
  uint64_t brk_size = page_up(std::min(brk->size, kUserSpaceEnd / 4));
  std::vector<Range> held;
  uint64_t bias = plan.bias;
  uint64_t end = 0;
  if (!plan.fixed) {
    // An image that maps nothing still needs an address nothing else takes.
    const uint64_t guard = plan.guard_below;
    const uint64_t span = std::max(plan.span, page);
    const uint64_t lo = plan.ref_page - plan.ref_offset - guard;
    const uint64_t gap = brk_size != 0 ? page : 0;
    Result<uint64_t> start = reserve_anywhere(lo, guard + span, gap + brk_size, plan.align);
    if (!start && brk_size != 0) {
      brk_size = 0;
      start = reserve_anywhere(lo, guard + span, 0, plan.align);
    }
    if (!start) return start.error();
    const uint64_t base = *start + guard;
    if (guard != 0) held.emplace_back(*start, base);
    held.emplace_back(base, base + span);
    bias = base + plan.ref_offset - plan.ref_page;
    end = base + span + (brk_size != 0 ? page + brk_size : 0);
  } else {
    for (const Range& r : subtract_ranges(plan.ranges, replaceable)) {
      Result<void> ok = reserve_fixed(r.first, r.second);
      if (!ok) {
        release_all(held);
        return ok.error();
      }
      held.push_back(r);
    }
  }

  bool first = true;
  for (size_t i : plan.loads) {
    const uint64_t file_map = first && !plan.fixed ? plan.first_map : 0;
    first = false;
    Result<void> r = map_load(fd, img.phdrs[i], i, bias, file_map);
    if (!r) {
      release_all(held);
      if (!plan.fixed) release(held.back().second, end);
      return r.error();
    }
  }

  LoadedImage out;
  const Elf64_Ehdr& eh = img.ehdr;
  out.load_bias = bias;
  out.entry = eh.e_entry + bias;
  out.phnum = eh.e_phnum;
  out.phentsize = eh.e_phentsize;
  out.phdr_addr = phdr_address(img, plan, bias);
  out.executable_stack = img.executable_stack;
  out.ranges = held;
  bool any = false;
  std::vector<Range> pages;
  for (size_t i : plan.loads) {
    const Elf64_Phdr& ph = img.phdrs[i];
    if (ph.p_memsz == 0) continue;
    const uint64_t lo = page_down(bias + ph.p_vaddr), hi = page_up(bias + ph.p_vaddr + ph.p_memsz);
    pages.emplace_back(lo, hi);
    out.lowest = any ? std::min(out.lowest, lo) : lo;
    out.highest = any ? std::max(out.highest, hi) : hi;
    any = true;
  }
  if (!plan.fixed) out.holes = subtract_ranges(held, pages);
  if (!any && !plan.fixed) out.lowest = out.highest = held.back().first;
  set_code_and_data(img, plan, out);

  brk->start = brk->end = 0;
  if (out.highest != 0 && brk->size != 0) {
    brk->start = out.highest + page;
    if (plan.fixed) {
      brk->end = reserve_brk_after(brk->start, brk_size);
    } else {
      // The gap page is a hole, as under the kernel (an mprotect running past
      // the image fails there); what the anywhere reservation held beyond the
      // brk goes back.
      brk->end = brk_size != 0 ? brk->start + brk_size : brk->start;
      release(out.highest, brk->start);
      release(brk->end, end);
    }
  } else if (!plan.fixed) {
    release(held.back().second, end);
  }
  return out;
}

}  // namespace qplug::loader::detail
