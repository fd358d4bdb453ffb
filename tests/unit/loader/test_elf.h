// Helpers for the loader tests: hand-made ELF images in a temporary
// directory, and a look at /proc/self/maps.
#pragma once

#include <elf.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "loader/elf_loader.h"

namespace qplug::loader::test {

// An ELF file described by its header, program headers and byte patches.
struct TestElf {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  std::map<uint64_t, std::vector<uint8_t>> data;  // file offset -> bytes
  uint64_t file_size = 0;                         // at least large enough for the above
  bool auto_phnum = true;                         // e_phnum = ph.size() when building

  TestElf() {
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
  }

  Elf64_Phdr& add(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz,
                  uint64_t memsz, uint64_t align = 0x1000) {
    Elf64_Phdr p{};
    p.p_type = type;
    p.p_flags = flags;
    p.p_offset = offset;
    p.p_vaddr = p.p_paddr = vaddr;
    p.p_filesz = filesz;
    p.p_memsz = memsz;
    p.p_align = align;
    ph.push_back(p);
    return ph.back();
  }

  void fill(uint64_t offset, uint64_t size, uint8_t byte) {
    data[offset] = std::vector<uint8_t>(size, byte);
  }
  void put_string(uint64_t offset, const std::string& s) {
    data[offset] = std::vector<uint8_t>(s.begin(), s.end());
    data[offset].push_back(0);
  }

  std::vector<uint8_t> build() const {
    Elf64_Ehdr h = eh;
    if (auto_phnum) h.e_phnum = static_cast<uint16_t>(ph.size());
    // Absurd e_phoff values (for corrupt-header tests) leave the table out.
    const bool place_phdrs = !ph.empty() && h.e_phoff < (uint64_t{1} << 24);
    uint64_t size = std::max<uint64_t>(file_size, sizeof h);
    if (place_phdrs) size = std::max<uint64_t>(size, h.e_phoff + ph.size() * sizeof(Elf64_Phdr));
    for (const auto& [off, bytes] : data) size = std::max<uint64_t>(size, off + bytes.size());
    std::vector<uint8_t> out(size, 0);
    // Patches first so that headers always win where they overlap.
    for (const auto& [off, bytes] : data) memcpy(out.data() + off, bytes.data(), bytes.size());
    memcpy(out.data(), &h, sizeof h);
    if (place_phdrs) memcpy(out.data() + h.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr));
    // A file_size smaller than the content truncates it.
    if (file_size != 0) out.resize(file_size);
    return out;
  }
};

// A static ET_EXEC at `base`: one RWX PT_LOAD with 0x200 file bytes (code at
// 0x100 filled with 0xf4) and bss up to 0x3000; the file continues with 0xaa
// bytes that must not show through in bss.
inline TestElf static_exec(uint64_t base = 0x10000000) {
  TestElf e;
  e.eh.e_entry = base + 0x100;
  e.add(PT_LOAD, PF_R | PF_W | PF_X, 0, base, 0x200, 0x3000);
  e.add(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
  e.fill(0x100, 0x100, 0xf4);
  e.fill(0x200, 0x80, 0xaa);
  return e;
}

// A PIE-like ET_DYN: R+X text at 0 (0x1200 bytes), RW data at 0x3200 with
// 0x100 file bytes and bss to 0x5200, a PT_PHDR, code at 0x1000.
inline TestElf dyn_image() {
  TestElf e;
  e.eh.e_type = ET_DYN;
  e.eh.e_entry = 0x1000;
  e.add(PT_PHDR, PF_R, 64, 64, 4 * sizeof(Elf64_Phdr), 4 * sizeof(Elf64_Phdr), 8);
  e.add(PT_LOAD, PF_R | PF_X, 0, 0, 0x1200, 0x1200);
  e.add(PT_LOAD, PF_R | PF_W, 0x1200, 0x3200, 0x100, 0x2000);
  e.add(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
  e.fill(0x1000, 0x200, 0xc3);
  e.fill(0x1200, 0x100, 0x55);
  e.fill(0x1300, 0x40, 0xaa);
  return e;
}

// A temporary directory removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qplug-loader-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  std::string write(const std::string& name, const std::vector<uint8_t>& bytes,
                    mode_t mode = 0755) const {
    std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    chmod(p.c_str(), mode);
    return p;
  }
  std::string write(const std::string& name, const TestElf& elf, mode_t mode = 0755) const {
    return write(name, elf.build(), mode);
  }

 private:
  std::string path_;
};

// The permission string ("r-xp") of the mapping holding `addr`, or "" if none.
inline std::string perms_at(uint64_t addr) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0;
    char perms[8] = {};
    if (sscanf(line.c_str(), "%llx-%llx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) {
      return perms;
    }
  }
  return "";
}

// The file name shown in /proc/self/maps for `addr` ("" if anonymous or none).
inline std::string file_at(uint64_t addr) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0;
    if (sscanf(line.c_str(), "%llx-%llx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
      std::istringstream in(line);
      std::string range, perms, off, dev, inode, name;
      in >> range >> perms >> off >> dev >> inode >> name;
      return name;
    }
  }
  return "";
}

inline bool all_bytes(uint64_t addr, uint64_t size, uint8_t value) {
  const auto* p = reinterpret_cast<const uint8_t*>(addr);
  for (uint64_t i = 0; i < size; ++i) {
    if (p[i] != value) return false;
  }
  return true;
}

// A 16 MiB brk reservation: enough for the tests, quick to map.
inline LoadOptions small_brk() {
  LoadOptions o;
  o.brk_reserve = uint64_t{16} << 20;
  return o;
}

// Loads `elf` from a fresh file and unmaps it again. The error, its message
// without the "qplug: <path>: " prefix; "loaded" with exit status 0 if it loaded.
inline Error outcome(const TestElf& elf, const LoadOptions& options = small_brk()) {
  TempDir dir;
  std::string path = dir.write("prog", elf);
  auto r = load_program(path, options);
  if (r) {
    unmap_program(*r);
    return Error{"loaded", 0};
  }
  Error e = r.error();
  std::string prefix = "qplug: " + path + ": ";
  if (e.message.rfind(prefix, 0) == 0) e.message = e.message.substr(prefix.size());
  return e;
}

inline bool range_is_free(uint64_t addr, uint64_t size) {
  void* p = mmap(reinterpret_cast<void*>(addr), size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return false;
  munmap(p, size);
  return p == reinterpret_cast<void*>(addr);
}

}  // namespace qplug::loader::test
