#include "os/linux/code_pages.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "runtime/dispatcher.h"
#include "runtime/runtime.h"

namespace qplug::os {
namespace {

constexpr uint64_t kPage = 4096;

struct Region {
  uint64_t end;
  int prot;
  bool shared = false;  // MAP_SHARED: other mappings of the file see its writes
  uint64_t dev = 0, ino = 0, file_offset = 0;
};

std::recursive_mutex mutex;          // also taken from the SIGSEGV handler of a faulting thread
std::map<uint64_t, Region> regions;  // start -> region, non-overlapping
// Pages qplug made read-only -> the code pages whose translations a write to
// them invalidates (the page itself for RWX code, the executable view for a
// writable alias of shared memory).
std::map<uint64_t, std::set<uint64_t>> protected_pages;

// Splits so that `at` starts a region (if a region covers it).
void split_at(uint64_t at) {
  auto it = regions.upper_bound(at);
  if (it == regions.begin()) return;
  --it;
  if (it->first < at && at < it->second.end) {
    Region tail = it->second;
    tail.file_offset += at - it->first;
    it->second.end = at;
    regions.emplace(at, tail);
  }
}

void erase_range(uint64_t begin, uint64_t end) {
  split_at(begin);
  split_at(end);
  regions.erase(regions.lower_bound(begin), regions.lower_bound(end));
  protected_pages.erase(protected_pages.lower_bound(begin), protected_pages.lower_bound(end));
}

const std::pair<const uint64_t, Region>* region_at(uint64_t addr) {
  auto it = regions.upper_bound(addr);
  if (it == regions.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &*it : nullptr;
}

int prot_at(uint64_t addr) {
  const auto* r = region_at(addr);
  return r ? r->second.prot : -1;
}

void protect_page(uint64_t page, uint64_t code_page) {
  auto [it, inserted] = protected_pages.try_emplace(page);
  it->second.insert(code_page);
  if (inserted) mprotect(reinterpret_cast<void*>(page), kPage, prot_at(page) & ~PROT_WRITE);
}

// Reads the real protection of the mapping holding `addr` from
// /proc/self/maps into `regions` (the tracking can lag behind: a moved
// mapping's protection is not known, nor pkey_mprotect's). False if `addr`
// is in no mapping.
bool refresh_region(uint64_t addr) {
  FILE* maps = std::fopen("/proc/self/maps", "r");
  if (!maps) return false;
  char line[512];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, maps)) {
    unsigned long begin, end;
    char perms[5];
    if (std::sscanf(line, "%lx-%lx %4s", &begin, &end, perms) != 3 || addr < begin || addr >= end)
      continue;
    const int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                     (perms[2] == 'x' ? PROT_EXEC : 0);
    // Only the protection is corrected: a shared mapping keeps what note_mmap knew.
    split_at(begin);
    split_at(end);
    for (auto it = regions.lower_bound(begin); it != regions.end() && it->first < end; ++it)
      it->second.prot = prot;
    found = true;
  }
  std::fclose(maps);
  return found;
}

}  // namespace

void code_pages_init() {
  FILE* maps = std::fopen("/proc/self/maps", "r");
  if (!maps) return;
  char line[512];
  std::lock_guard guard(mutex);
  while (std::fgets(line, sizeof line, maps)) {
    unsigned long begin, end, offset, ino;
    unsigned major, minor;
    char perms[5];
    if (std::sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &begin, &end, perms, &offset, &major, &minor,
                    &ino) != 7)
      continue;
    const int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                     (perms[2] == 'x' ? PROT_EXEC : 0);
    regions[begin] = Region{end, prot, perms[3] == 's', makedev(major, minor), ino, offset};
  }
  std::fclose(maps);
}

void note_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t offset) {
  Region r{(addr + len + kPage - 1) & ~(kPage - 1), prot};
  struct stat st;
  if ((flags & MAP_SHARED) && fd >= 0 && fstat(fd, &st) == 0) {
    r.shared = true;
    r.dev = st.st_dev;
    r.ino = st.st_ino;
    r.file_offset = offset;
  }
  std::lock_guard guard(mutex);
  erase_range(addr, r.end);
  regions[addr] = r;
}

void note_mprotect(uint64_t addr, uint64_t len, int prot) {
  std::lock_guard guard(mutex);
  const uint64_t end = (addr + len + kPage - 1) & ~(kPage - 1);
  split_at(addr);
  split_at(end);
  for (auto it = regions.lower_bound(addr); it != regions.end() && it->first < end; ++it)
    it->second.prot = prot;
  // The guest's new protection replaces ours: translations of these pages were
  // dropped by the caller, so nothing needs protecting until retranslated.
  protected_pages.erase(protected_pages.lower_bound(addr), protected_pages.lower_bound(end));
}

void note_munmap(uint64_t addr, uint64_t len) {
  std::lock_guard guard(mutex);
  erase_range(addr, (addr + len + kPage - 1) & ~(kPage - 1));
}

void release_protection(uint64_t addr, uint64_t len) {
  std::lock_guard guard(mutex);
  const uint64_t end = (addr + len + kPage - 1) & ~(kPage - 1);
  auto first = protected_pages.lower_bound(addr & ~(kPage - 1));
  auto last = protected_pages.lower_bound(end);
  for (auto it = first; it != last; ++it)
    mprotect(reinterpret_cast<void*>(it->first), kPage, prot_at(it->first));
  protected_pages.erase(first, last);
}

void note_mremap(uint64_t addr, uint64_t len, uint64_t new_addr, uint64_t new_len) {
  std::lock_guard guard(mutex);
  const uint64_t end = (addr + len + kPage - 1) & ~(kPage - 1);
  split_at(addr);
  split_at(end);
  std::vector<std::pair<uint64_t, Region>> moved;
  for (auto it = regions.lower_bound(addr); it != regions.end() && it->first < end; ++it)
    moved.emplace_back(it->first - addr, it->second);
  erase_range(addr, end);
  const uint64_t new_end = (new_addr + new_len + kPage - 1) & ~(kPage - 1);
  erase_range(new_addr, new_end);
  for (auto& [offset, r] : moved) {
    if (new_addr + offset >= new_end) break;
    r.end = std::min(new_addr + (r.end - addr), new_end);
    regions[new_addr + offset] = r;
  }
  // Growth extends the last part of the mapping, with its protection.
  if (!moved.empty() && new_len > len) {
    auto last = regions.upper_bound(new_end - 1);
    if (last != regions.begin()) std::prev(last)->second.end = new_end;
  }
}

void protect_translated(uint64_t begin, uint64_t end) {
  std::lock_guard guard(mutex);
  for (uint64_t page = begin & ~(kPage - 1); page < end; page += kPage) {
    const auto* code = region_at(page);
    if (!code) continue;
    const Region& r = code->second;
    if ((r.prot & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC)) protect_page(page, page);
    if (!r.shared || r.ino == 0) continue;
    // Shared memory: every writable view of the same file bytes is an alias
    // through which the code can change (double-mapped JIT code).
    const uint64_t file_offset = r.file_offset + (page - code->first);
    for (const auto& [start, other] : regions) {
      if (start == code->first || !other.shared || other.ino != r.ino || other.dev != r.dev ||
          !(other.prot & PROT_WRITE))
        continue;
      if (file_offset < other.file_offset || file_offset >= other.file_offset + (other.end - start))
        continue;
      protect_page(start + (file_offset - other.file_offset), page);
    }
  }
}

uint64_t executable_bytes(uint64_t addr, uint64_t len) {
  std::lock_guard guard(mutex);
  const uint64_t end = addr + len < addr ? UINT64_MAX : addr + len;
  uint64_t cur = addr;
  while (cur < end) {
    const auto* r = region_at(cur);
    if (!r) return len;  // not tracked: the read itself tells whether it is mapped
    if (!(r->second.prot & PROT_EXEC)) {
      // Only a page known not to be executable stops the fetch, after a check
      // against the kernel's view.
      if (!refresh_region(cur)) return len;
      r = region_at(cur);
      if (!r || !(r->second.prot & PROT_EXEC)) return cur - addr;
    }
    cur = r->second.end;
  }
  return len;
}

bool handle_code_write(uint64_t addr) {
  const uint64_t page = addr & ~(kPage - 1);
  // Lock order: the dispatcher's, then ours (translation holds the
  // dispatcher's when it calls protect_translated).
  std::lock_guard translation(runtime::rt().dispatcher->mutex());
  std::lock_guard guard(mutex);
  // Another thread's write to the same page may have faulted first and given
  // the permission back after this write faulted: then the write can simply
  // run again. Bounded, in case the page is read-only for a reason qplug
  // did not see, which must reach the guest.
  static thread_local uint64_t retried_page = 0, retries = 0;
  auto it = protected_pages.find(page);
  if (it == protected_pages.end()) {
    retries = page == retried_page ? retries + 1 : 0;
    retried_page = page;
    return (prot_at(page) & PROT_WRITE) && retries < 1000;
  }
  retries = 0;
  for (uint64_t code_page : it->second)
    runtime::rt().dispatcher->invalidate(code_page, code_page + kPage);
  protected_pages.erase(it);
  mprotect(reinterpret_cast<void*>(page), kPage, prot_at(page));
  return true;
}

}  // namespace qplug::os
