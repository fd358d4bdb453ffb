// What qplug-cov needs from a module's ELF file and its DWARF: the loadable
// segments (to turn drcov module offsets into ELF addresses), the line table
// and the functions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qplug_cov {

struct Segment {
  uint64_t vaddr, memsz, offset;
  bool exec;
};

// One line-table row, with the address range it covers: up to the next row at
// a higher address or the end of its sequence.
struct LineRow {
  uint64_t addr, end;
  uint32_t file;  // index into DebugInfo::files
  uint32_t line;
  bool stmt;
};

struct FunctionInfo {
  std::string name;  // linkage (mangled) name when there is one, else DW_AT_name
  uint32_t file;
  int line;
  uint64_t entry;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [low, high)
};

class DebugInfo {
 public:
  enum class Status { kOk, kNoDebugInfo, kError };

  // Reads path's program headers and, when present (in the file or in a
  // separate debug file found by build id or debuglink), its DWARF.
  Status Load(const std::string& path, std::string* error);

  // The ELF address that a module offset 0 stands for: the page of the lowest
  // PT_LOAD segment, or of the segment mapped from file_offset when given.
  bool ImageBase(const uint64_t* file_offset, uint64_t* base) const;
  bool InExecutableSegment(uint64_t addr) const;

  int elf_type = 0;
  uint64_t elf_entry = 0;
  std::vector<Segment> segments;
  std::vector<std::string> files;
  std::vector<LineRow> rows;  // sorted by address
  std::vector<FunctionInfo> functions;
};

}  // namespace qplug_cov
