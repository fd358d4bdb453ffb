// Merges drcov files and maps their blocks to source lines and functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "drcov.h"

namespace qplug_cov {

class Progress;

struct Filters {
  // Without these two, the program's own modules: not the system's libraries
  // and loader (under /lib*, /usr/lib*) and not [vdso]-like pseudo-files,
  // whose thousands of functions would bury the program's.
  std::vector<std::string> modules;          // keep modules whose path contains one
  bool all_modules = false;                  // keep every module
  std::vector<std::string> exclude_modules;  // then drop those containing one
  std::vector<std::string> source_prefixes;  // keep source files starting with one
};

// A library or the loader of the system, by its directory.
bool IsSystemModule(const std::string& path);

struct FunctionResult {
  std::string name;  // as in the DWARF: mangled for C++
  std::string file;
  int line = 0;
  uint32_t lines_instrumented = 0, lines_hit = 0;
  uint32_t blocks = 0;  // distinct covered blocks overlapping the function's code
  bool hit = false;     // entry block covered, or any of its lines hit
};

struct ModuleResult {
  std::string path;
  uint64_t blocks = 0;  // distinct covered blocks
  bool has_lines = false;
  std::string note;  // why there are no lines: no debug info, missing file, ...
  uint64_t lines_instrumented = 0, lines_hit = 0;
  std::vector<FunctionResult> functions;  // sorted by file, then line
};

struct SourceFile {
  std::map<uint32_t, uint32_t> lines;  // line -> covered blocks touching it (0: missed)
  std::map<std::pair<int, std::string>, FunctionResult> functions;  // (line, name)
};

struct Report {
  size_t drcov_files = 0;
  size_t system_modules_left_out = 0;         // by the default selection
  std::vector<ModuleResult> modules;          // by blocks, most first
  std::map<std::string, SourceFile> sources;  // by path
};

class Collector {
 public:
  // Adds the blocks of one drcov file; name is the file's name for messages.
  void Add(const std::string& name, const DrcovFile& file);
  // Reads every module and maps the blocks; warns on stderr about modules
  // that cannot be read. progress (may be null) sees each module.
  Report Build(const Filters& filters, Progress* progress) const;

 private:
  struct Placement {
    uint64_t base;                   // run-time base, for the entry point check
    std::optional<uint64_t> entry;   // run-time entry point
    std::optional<uint64_t> offset;  // file offset of the segment at base
    bool operator<(const Placement& o) const {
      return std::tie(base, entry, offset) < std::tie(o.base, o.entry, o.offset);
    }
  };
  struct Module {
    std::string first_file;  // the drcov file that named it first
    std::vector<Placement> placements;
    // (placement index, start, size) for every block of every file.
    std::vector<std::tuple<uint32_t, uint32_t, uint16_t>> blocks;
  };
  std::map<std::string, Module> modules_;
  size_t files_ = 0;
};

}  // namespace qplug_cov
