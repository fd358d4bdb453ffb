#include "os/linux/code_pages.h"

#include <sys/mman.h>

#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

#include "runtime/dispatcher.h"
#include "runtime/runtime.h"

namespace qplug::os {
namespace {

constexpr uint64_t kPage = 4096;

struct Region {
  uint64_t end;
  int prot;
};

std::recursive_mutex mutex;          // also taken from the SIGSEGV handler of a faulting thread
std::map<uint64_t, Region> regions;  // start -> region, non-overlapping
std::set<uint64_t> protected_pages;  // pages qplug made read-only

// Splits so that `at` starts a region (if a region covers it).
void split_at(uint64_t at) {
  auto it = regions.upper_bound(at);
  if (it == regions.begin()) return;
  --it;
  if (it->first < at && at < it->second.end) {
    Region tail{it->second.end, it->second.prot};
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

int prot_at(uint64_t addr) {
  auto it = regions.upper_bound(addr);
  if (it == regions.begin()) return -1;
  --it;
  return addr < it->second.end ? it->second.prot : -1;
}

}  // namespace

void code_pages_init() {
  FILE* maps = std::fopen("/proc/self/maps", "r");
  if (!maps) return;
  char line[512];
  std::lock_guard guard(mutex);
  while (std::fgets(line, sizeof line, maps)) {
    unsigned long begin, end;
    char perms[5];
    if (std::sscanf(line, "%lx-%lx %4s", &begin, &end, perms) != 3) continue;
    const int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                     (perms[2] == 'x' ? PROT_EXEC : 0);
    regions[begin] = Region{end, prot};
  }
  std::fclose(maps);
}

void note_mmap(uint64_t addr, uint64_t len, int prot) {
  std::lock_guard guard(mutex);
  const uint64_t end = (addr + len + kPage - 1) & ~(kPage - 1);
  erase_range(addr, end);
  regions[addr] = Region{end, prot};
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

void protect_translated(uint64_t begin, uint64_t end) {
  std::lock_guard guard(mutex);
  for (uint64_t page = begin & ~(kPage - 1); page < end; page += kPage) {
    const int prot = prot_at(page);
    if (prot < 0 || (prot & (PROT_WRITE | PROT_EXEC)) != (PROT_WRITE | PROT_EXEC)) continue;
    if (!protected_pages.insert(page).second) continue;
    mprotect(reinterpret_cast<void*>(page), kPage, prot & ~PROT_WRITE);
  }
}

bool handle_code_write(uint64_t addr) {
  const uint64_t page = addr & ~(kPage - 1);
  // Lock order: the dispatcher's, then ours (translation holds the
  // dispatcher's when it calls protect_translated).
  std::lock_guard translation(runtime::rt().dispatcher->mutex());
  std::lock_guard guard(mutex);
  auto it = protected_pages.find(page);
  if (it == protected_pages.end()) return false;
  protected_pages.erase(it);
  runtime::rt().dispatcher->invalidate(page, page + kPage);
  mprotect(reinterpret_cast<void*>(page), kPage, prot_at(page));
  return true;
}

}  // namespace qplug::os
