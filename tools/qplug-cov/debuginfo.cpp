#include "debuginfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <unordered_map>

namespace qplug_cov {
namespace {

// Mappings start on a page: a module's base is its first segment's page.
constexpr uint64_t kPageMask = ~uint64_t{0xfff};

struct DwflDeleter {
  void operator()(Dwfl* d) const { dwfl_end(d); }
};

char* debuginfo_path = nullptr;  // libdwfl's default search path

const Dwfl_Callbacks kOfflineCallbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

class Builder {
 public:
  explicit Builder(DebugInfo* info) : info_(info) {}

  void AddUnit(Dwarf_Die* cudie, Dwarf_Die* body) {
    comp_dir_.clear();
    Dwarf_Attribute attr;
    if (const char* dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr))) {
      comp_dir_ = dir;
    }
    AddLines(cudie);
    WalkFunctions(body);
  }

  // Functions without a decl_file take the file of the row at their entry.
  void Finish() {
    std::sort(info_->rows.begin(), info_->rows.end(),
              [](const LineRow& a, const LineRow& b) { return a.addr < b.addr; });
    for (FunctionInfo& f : info_->functions) {
      if (f.file != UINT32_MAX) continue;
      auto it = std::upper_bound(info_->rows.begin(), info_->rows.end(), f.entry,
                                 [](uint64_t a, const LineRow& r) { return a < r.addr; });
      if (it != info_->rows.begin() && std::prev(it)->end > f.entry) {
        f.file = std::prev(it)->file;
        if (f.line == 0) f.line = static_cast<int>(std::prev(it)->line);
      }
    }
    std::erase_if(info_->functions, [](const FunctionInfo& f) { return f.file == UINT32_MAX; });
  }

 private:
  uint32_t Intern(const char* name) {
    std::filesystem::path p(name);
    // libdw already put a relative comp_dir (reproducible builds map the
    // build directory to ".") in front of the files of directory entry 0.
    bool has_comp_dir = std::string_view(name).starts_with(comp_dir_ + "/");
    if (p.is_relative() && !comp_dir_.empty() && !has_comp_dir) {
      p = std::filesystem::path(comp_dir_) / p;
    }
    std::string normal = p.lexically_normal().string();
    auto [it, added] = file_ids_.try_emplace(normal, info_->files.size());
    if (added) info_->files.push_back(normal);
    return it->second;
  }

  void AddLines(Dwarf_Die* cudie) {
    Dwarf_Lines* lines;
    size_t n;
    if (dwarf_getsrclines(cudie, &lines, &n) != 0) return;
    // libdw returns the rows sorted by address; a row covers the addresses up
    // to the next higher one (the end_sequence row closes the last range).
    struct Raw {
      uint64_t addr;
      int line;
      bool stmt, end_sequence;
      const char* file;
    };
    std::vector<Raw> raw;
    raw.reserve(n);
    for (size_t i = 0; i < n; i++) {
      Dwarf_Line* l = dwarf_onesrcline(lines, i);
      Raw r{};
      if (!l || dwarf_lineaddr(l, &r.addr) != 0 || dwarf_lineno(l, &r.line) != 0 ||
          dwarf_linebeginstatement(l, &r.stmt) != 0 ||
          dwarf_lineendsequence(l, &r.end_sequence) != 0) {
        continue;
      }
      r.file = dwarf_linesrc(l, nullptr, nullptr);
      raw.push_back(r);
    }
    size_t next = 0;  // first row at an address above the current one
    for (size_t i = 0; i < raw.size(); i++) {
      const Raw& r = raw[i];
      while (next < raw.size() && raw[next].addr <= r.addr) next++;
      // Rows outside executable segments belong to code the linker dropped
      // (their sequences restart at 0): they never ran and never can.
      if (r.end_sequence || r.line <= 0 || !r.file || next == raw.size() ||
          !info_->InExecutableSegment(r.addr)) {
        continue;
      }
      info_->rows.push_back(
          {r.addr, raw[next].addr, Intern(r.file), static_cast<uint32_t>(r.line), r.stmt});
    }
  }

  void WalkFunctions(Dwarf_Die* parent) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return;
    do {
      int tag = dwarf_tag(&child);
      if (tag == DW_TAG_subprogram) AddFunction(&child);
      // Functions nest in namespaces, classes and (GNU C) other functions.
      if (dwarf_haschildren(&child) > 0 && tag != DW_TAG_inlined_subroutine) {
        WalkFunctions(&child);
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  void AddFunction(Dwarf_Die* die) {
    FunctionInfo f;
    Dwarf_Addr base, start, end;
    for (ptrdiff_t off = 0; (off = dwarf_ranges(die, off, &base, &start, &end)) > 0;) {
      if (end > start) f.ranges.emplace_back(start, end);
    }
    if (f.ranges.empty()) return;  // a declaration, or an abstract inline instance
    Dwarf_Addr entry;
    f.entry = dwarf_entrypc(die, &entry) == 0 ? entry : f.ranges.front().first;
    if (!info_->InExecutableSegment(f.entry)) return;  // dropped by the linker

    Dwarf_Attribute attr;
    const char* name = nullptr;
    for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name}) {
      if ((name = dwarf_formstring(dwarf_attr_integrate(die, at, &attr)))) break;
    }
    if (!name) return;
    f.name = name;
    const char* file = dwarf_decl_file(die);
    f.file = file ? Intern(file) : UINT32_MAX;
    if (dwarf_decl_line(die, &f.line) != 0) f.line = 0;
    info_->functions.push_back(std::move(f));
  }

  DebugInfo* info_;
  std::string comp_dir_;
  std::unordered_map<std::string, uint32_t> file_ids_;
};

}  // namespace

bool DebugInfo::InExecutableSegment(uint64_t addr) const {
  for (const Segment& s : segments) {
    if (s.exec && addr >= s.vaddr && addr - s.vaddr < s.memsz) return true;
  }
  return false;
}

bool DebugInfo::ImageBase(const uint64_t* file_offset, uint64_t* base) const {
  const Segment* pick = nullptr;
  for (const Segment& s : segments) {
    if (file_offset ? (s.offset & kPageMask) == *file_offset : !pick || s.vaddr < pick->vaddr) {
      pick = &s;
      if (file_offset) break;
    }
  }
  if (!pick) return false;
  *base = pick->vaddr & kPageMask;
  return true;
}

DebugInfo::Status DebugInfo::Load(const std::string& path, std::string* error) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = std::strerror(errno);
    return Status::kError;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "not a regular file";
    return Status::kError;
  }
  std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&kOfflineCallbacks));
  if (!dwfl) {
    *error = dwfl_errmsg(-1);
    return Status::kError;
  }
  std::string name = std::filesystem::path(path).filename().string();
  Dwfl_Module* mod = dwfl_report_offline(dwfl.get(), name.c_str(), path.c_str(), -1);
  dwfl_report_end(dwfl.get(), nullptr, nullptr);
  Dwarf_Addr bias;
  Elf* elf = mod ? dwfl_module_getelf(mod, &bias) : nullptr;
  GElf_Ehdr ehdr;
  if (!elf || !gelf_getehdr(elf, &ehdr)) {
    *error = mod ? dwfl_errmsg(-1) : "not an ELF file";
    return Status::kError;
  }
  elf_type = ehdr.e_type;
  elf_entry = ehdr.e_entry;
  size_t n_phdrs = 0;
  if (elf_getphdrnum(elf, &n_phdrs) != 0) n_phdrs = 0;
  for (size_t i = 0; i < n_phdrs; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD) {
      segments.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset, (ph.p_flags & PF_X) != 0});
    }
  }
  if (segments.empty()) {
    *error = "ELF file without loadable segments";
    return Status::kError;
  }

  // DWARF addresses are the file's own: the bias libdwfl adds is not wanted.
  Dwarf* dw = dwfl_module_getdwarf(mod, &bias);
  if (!dw) return Status::kNoDebugInfo;
  Builder builder(this);
  Dwarf_CU* cu = nullptr;
  Dwarf_Half version;
  uint8_t unit_type;
  Dwarf_Die cudie, subdie;
  while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
    if (unit_type == DW_UT_compile || unit_type == DW_UT_partial) {
      builder.AddUnit(&cudie, &cudie);
    } else if (unit_type == DW_UT_skeleton) {
      // The line table stays with the skeleton; the functions are in the
      // split unit when its .dwo was found.
      bool split = dwarf_tag(&subdie) == DW_TAG_compile_unit;
      builder.AddUnit(&cudie, split ? &subdie : &cudie);
    }
  }
  builder.Finish();
  return rows.empty() ? Status::kNoDebugInfo : Status::kOk;
}

}  // namespace qplug_cov
