#include "runtime/guest_symbols.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace {

struct Symbol {
  uint64_t start, end;
  const char* name;
};

class SymbolTable {
 public:
  void add_image(const std::string& path, uint64_t bias) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
      close(fd);
      return;
    }
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return;
    read_symbols(static_cast<const uint8_t*>(map), size, bias);
    munmap(map, size);
    std::sort(symbols_.begin(), symbols_.end(),
              [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  }

  const char* lookup(uint64_t addr) const {
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), addr,
                               [](uint64_t a, const Symbol& s) { return a < s.start; });
    if (it == symbols_.begin()) return nullptr;
    --it;
    return addr < it->end ? it->name : nullptr;
  }

 private:
  void read_symbols(const uint8_t* base, size_t size, uint64_t bias) {
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
    if (eh->e_shoff == 0 || eh->e_shoff + eh->e_shnum * sizeof(Elf64_Shdr) > size) return;
    const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (int pass = 0; pass < 2; ++pass) {  // .symtab if present, else .dynsym
      const uint32_t wanted = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
      bool found = false;
      for (unsigned i = 0; i < eh->e_shnum; ++i) {
        if (sh[i].sh_type != wanted || sh[i].sh_link >= eh->e_shnum) continue;
        const Elf64_Shdr& strtab = sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > size || strtab.sh_offset + strtab.sh_size > size)
          continue;
        found = true;
        const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
        const size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < n; ++k) {
          const Elf64_Sym& s = syms[k];
          if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0 ||
              s.st_name >= strtab.sh_size)
            continue;
          names_.emplace_back(reinterpret_cast<const char*>(base + strtab.sh_offset + s.st_name));
          symbols_.push_back({s.st_value + bias,
                              s.st_value + bias + std::max<uint64_t>(s.st_size, 1),
                              names_.back().c_str()});
        }
      }
      if (found) return;
    }
  }

  std::vector<Symbol> symbols_;
  std::deque<std::string> names_;  // stable storage: the API returns these pointers
};

const SymbolTable* table() {
  static const SymbolTable* loaded = [] {
    auto& R = qplug::runtime::rt();
    if (R.options.log_items.empty() && R.options.log_file.empty()) return (SymbolTable*)nullptr;
    auto* t = new SymbolTable;
    t->add_image(R.program.main.path, R.program.main.load_bias);
    if (R.program.interp) t->add_image(R.program.interp->path, R.program.interp->load_bias);
    return t;
  }();
  return loaded;
}

}  // namespace

namespace qplug::runtime {

const char* guest_symbol(uint64_t pc) {
  const SymbolTable* t = table();
  return t ? t->lookup(pc) : nullptr;
}

}  // namespace qplug::runtime
