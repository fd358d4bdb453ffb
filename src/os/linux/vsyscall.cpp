#include "os/linux/vsyscall.h"

#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace qplug::os {
namespace {

constexpr uint8_t kHlt = 0xF4;  // the rest of the page: SIGSEGV, as a bad vsyscall address

std::array<uint8_t, 4096> make_image() {
  std::array<uint8_t, 4096> page;
  page.fill(kHlt);
  const std::pair<size_t, uint32_t> entries[] = {
      {0x000, SYS_gettimeofday}, {0x400, SYS_time}, {0x800, SYS_getcpu}};
  for (auto [offset, nr] : entries) {
    const uint8_t stub[] = {0x48, 0xC7, 0xC0, 0, 0, 0, 0, 0x0F, 0x05, 0xC3};  // mov rax, nr ...
    std::memcpy(page.data() + offset, stub, sizeof stub);
    std::memcpy(page.data() + offset + 3, &nr, 4);
  }
  return page;
}

}  // namespace

bool has_vsyscall_page() {
  static const bool mapped = [] {
    FILE* maps = std::fopen("/proc/self/maps", "r");
    if (!maps) return false;
    char line[512];
    bool found = false;
    while (!found && std::fgets(line, sizeof line, maps)) found = std::strstr(line, "[vsyscall]");
    std::fclose(maps);
    return found;
  }();
  return mapped;
}

size_t vsyscall_code(uint64_t pc, uint8_t* out, size_t len) {
  static const std::array<uint8_t, 4096> image = make_image();
  if (!in_vsyscall_page(pc) || !has_vsyscall_page()) return 0;
  const size_t offset = pc - kVsyscallPage;
  const size_t n = std::min(len, image.size() - offset);
  std::memcpy(out, image.data() + offset, n);
  return n;
}

}  // namespace qplug::os
