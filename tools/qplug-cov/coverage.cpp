#include "coverage.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "debuginfo.h"
#include "progress.h"

namespace qplug_cov {
namespace {

using Range = std::pair<uint64_t, uint64_t>;  // [start, end)

uint64_t LineKey(uint32_t file, uint32_t line) { return uint64_t{file} << 32 | line; }
uint32_t KeyFile(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
uint32_t KeyLine(uint64_t key) { return static_cast<uint32_t>(key); }

bool ContainsAny(const std::string& s, const std::vector<std::string>& parts) {
  return std::any_of(parts.begin(), parts.end(),
                     [&](const std::string& p) { return s.find(p) != std::string::npos; });
}

bool SourceWanted(const std::string& path, const Filters& filters) {
  if (filters.source_prefixes.empty()) return true;
  return std::any_of(filters.source_prefixes.begin(), filters.source_prefixes.end(),
                     [&](const std::string& p) { return path.compare(0, p.size(), p) == 0; });
}

// Index of the first row that may overlap addresses from start on.
size_t FirstRowFrom(const std::vector<LineRow>& rows, uint64_t start) {
  size_t i = std::lower_bound(rows.begin(), rows.end(), start,
                              [](const LineRow& r, uint64_t a) { return r.addr < a; }) -
             rows.begin();
  while (i > 0 && rows[i - 1].end > start) i--;
  return i;
}

// Lines, functions and per-line block counts of one module with debug info.
class LineMapper {
 public:
  LineMapper(const DebugInfo& info, const std::vector<Range>& blocks, const Filters& filters)
      : info_(info), blocks_(blocks) {
    for (const LineRow& r : info.rows) {
      if (r.stmt && SourceWanted(info.files[r.file], filters)) {
        counts_.try_emplace(LineKey(r.file, r.line), 0);
      }
    }
    for (const Range& b : blocks) CountBlock(b);
  }

  void Fill(ModuleResult* module, Report* report, const Filters& filters) const {
    for (const auto& [key, count] : counts_) {
      module->lines_instrumented++;
      module->lines_hit += count > 0;
      report->sources[info_.files[KeyFile(key)]].lines[KeyLine(key)] += count;
    }
    // Out-of-line copies of one function (a static inline in several units)
    // are reported together.
    std::map<std::tuple<uint32_t, int, std::string>, std::pair<FunctionResult, std::set<uint64_t>>>
        functions;
    for (const FunctionInfo& f : info_.functions) {
      if (!SourceWanted(info_.files[f.file], filters)) continue;
      auto& [result, lines] = functions[{f.file, f.line, f.name}];
      result.name = f.name;
      result.file = info_.files[f.file];
      result.line = f.line;
      AddFunction(f, &result, &lines);
    }
    for (auto& [key, value] : functions) {
      auto& [result, lines] = value;
      for (uint64_t line : lines) {
        result.lines_instrumented++;
        result.lines_hit += counts_.at(line) > 0;
      }
      result.hit = result.hit || result.lines_hit > 0;
      module->functions.push_back(result);
      // The same function may come from several modules (a static library).
      FunctionResult& merged = report->sources[result.file].functions[{result.line, result.name}];
      if (merged.name.empty()) {
        merged = result;
      } else {
        merged.blocks += result.blocks;
        merged.hit = merged.hit || result.hit;
      }
    }
  }

 private:
  void CountBlock(const Range& b) {
    std::vector<uint64_t> keys;
    for (size_t i = FirstRowFrom(info_.rows, b.first);
         i < info_.rows.size() && info_.rows[i].addr < b.second; i++) {
      const LineRow& r = info_.rows[i];
      if (r.end > b.first) keys.push_back(LineKey(r.file, r.line));
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (uint64_t key : keys) {
      auto it = counts_.find(key);
      if (it != counts_.end()) it->second++;
    }
  }

  void AddFunction(const FunctionInfo& f, FunctionResult* result, std::set<uint64_t>* lines) const {
    std::unordered_set<size_t> touching;
    for (const auto& [low, high] : f.ranges) {
      for (size_t i = FirstRowFrom(info_.rows, low);
           i < info_.rows.size() && info_.rows[i].addr < high; i++) {
        const LineRow& r = info_.rows[i];
        if (r.addr >= low && counts_.count(LineKey(r.file, r.line))) {
          lines->insert(LineKey(r.file, r.line));
        }
      }
      // Blocks are at most 64 KiB long: only those starting that far below
      // the range can reach into it.
      uint64_t from = low > 0xffff ? low - 0xffff : 0;
      for (auto it = std::lower_bound(blocks_.begin(), blocks_.end(), Range{from, 0});
           it != blocks_.end() && it->first < high; ++it) {
        if (it->second > low) touching.insert(it - blocks_.begin());
        if (it->first <= f.entry && f.entry < it->second) result->hit = true;
      }
    }
    result->blocks += static_cast<uint32_t>(touching.size());
  }

  const DebugInfo& info_;
  const std::vector<Range>& blocks_;
  std::unordered_map<uint64_t, uint32_t> counts_;  // instrumented lines only
};

}  // namespace

bool IsSystemModule(const std::string& path) {
  if (path.empty() || path[0] == '[') return true;  // [vdso], [vsyscall]: not files
  // Debian's multiarch and merged-/usr directories, and the other distributions'.
  for (const char* dir : {"/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/lib/", "/usr/lib32/",
                          "/usr/lib64/", "/usr/libx32/"}) {
    if (path.starts_with(dir)) return true;
  }
  return false;
}

void Collector::Add(const std::string& name, const DrcovFile& file) {
  files_++;
  std::vector<std::pair<Module*, uint32_t>> where;  // per drcov module id
  for (const DrcovModule& m : file.modules) {
    auto [it, added] = modules_.try_emplace(m.path);
    Module& module = it->second;
    if (added) module.first_file = name;
    Placement p{m.base, m.entry, m.offset};
    auto found = std::find_if(module.placements.begin(), module.placements.end(),
                              [&](const Placement& q) { return !(p < q) && !(q < p); });
    if (found == module.placements.end()) {
      module.placements.push_back(p);
      found = module.placements.end() - 1;
    }
    where.emplace_back(&module, static_cast<uint32_t>(found - module.placements.begin()));
  }
  for (const DrcovBlock& b : file.blocks) {
    auto [module, placement] = where[b.module];
    module->blocks.emplace_back(placement, b.start, b.size);
  }
}

Report Collector::Build(const Filters& filters, Progress* progress) const {
  Report report;
  report.drcov_files = files_;
  std::vector<const std::pair<const std::string, Module>*> selected;
  for (const auto& entry : modules_) {
    const std::string& path = entry.first;
    if (!filters.modules.empty()) {
      if (!ContainsAny(path, filters.modules)) continue;
    } else if (!filters.all_modules && IsSystemModule(path)) {
      report.system_modules_left_out++;
      continue;
    }
    if (ContainsAny(path, filters.exclude_modules)) continue;
    selected.push_back(&entry);
  }
  for (size_t i = 0; i < selected.size(); i++) {
    const auto& [path, module] = *selected[i];
    if (progress) progress->Step("reading debug info", i + 1, selected.size(), path);
    ModuleResult result;
    result.path = path;

    DebugInfo info;
    std::string problem;
    auto status = DebugInfo::Status::kError;
    // Modules without a readable file still count their blocks, as placed.
    auto add_unread = [&](std::string note) {
      std::set<std::tuple<uint32_t, uint32_t, uint16_t>> distinct(module.blocks.begin(),
                                                                  module.blocks.end());
      result.blocks = distinct.size();
      result.note = std::move(note);
      report.modules.push_back(std::move(result));
    };
    if (path.empty() || path[0] == '[') {
      add_unread("not a file");  // [vdso], [vsyscall]: nothing to read, nothing to warn about
      continue;
    }
    if (path[0] != '/') {
      problem = "not an absolute path";
    } else {
      status = info.Load(path, &problem);
    }
    // Where each placement's offset 0 lies in the ELF image; an entry point
    // that disagrees means the file was rebuilt since the run.
    std::vector<uint64_t> image_base(module.placements.size());
    for (size_t i = 0; i < module.placements.size() && status != DebugInfo::Status::kError; i++) {
      const Placement& p = module.placements[i];
      const uint64_t* offset = p.offset ? &*p.offset : nullptr;
      if (!info.ImageBase(offset, &image_base[i])) {
        problem = "no loadable segment at the file offset the drcov file gives";
        status = DebugInfo::Status::kError;
      } else if (p.entry && *p.entry != 0 && (!p.offset || *p.offset == 0)) {
        uint64_t expected = p.base - image_base[i] + info.elf_entry;
        // qplug's drcov adds the base to e_entry of every ET_DYN image.
        if (*p.entry != expected && *p.entry != p.base + info.elf_entry) {
          problem = "not the file that ran (its entry point differs)";
          status = DebugInfo::Status::kError;
        }
      }
    }
    if (status == DebugInfo::Status::kError) {
      if (progress) progress->Done();
      std::fprintf(stderr, "qplug-cov: %s: module %s: %s (skipped)\n", module.first_file.c_str(),
                   path.c_str(), problem.c_str());
      add_unread(problem);
      continue;
    }

    std::vector<Range> blocks;
    blocks.reserve(module.blocks.size());
    for (const auto& [placement, start, size] : module.blocks) {
      uint64_t addr = image_base[placement] + start;
      blocks.emplace_back(addr, addr + size);
    }
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
    result.blocks = blocks.size();
    if (status == DebugInfo::Status::kNoDebugInfo) {
      result.note = "no debug info";
    } else {
      result.has_lines = true;
      LineMapper(info, blocks, filters).Fill(&result, &report, filters);
      std::sort(result.functions.begin(), result.functions.end(),
                [](const FunctionResult& a, const FunctionResult& b) {
                  return std::tie(a.file, a.line, a.name) < std::tie(b.file, b.line, b.name);
                });
    }
    report.modules.push_back(std::move(result));
  }
  std::stable_sort(
      report.modules.begin(), report.modules.end(),
      [](const ModuleResult& a, const ModuleResult& b) { return a.blocks > b.blocks; });
  return report;
}

}  // namespace qplug_cov
