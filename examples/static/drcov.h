// Drcov: the static C++ twin of examples/drcov.c, named "drcov": block
// coverage in DynamoRIO's drcov format (version 2, module table version 2),
// the same file libdrcov.so writes:
//   DRCOV VERSION: 2
//   DRCOV FLAVOR: drcov-64
//   Module Table: version 2, count <N>
//   Columns: id, base, end, entry, path
//   <id %3u>, 0x<base %016x>, 0x<end>, 0x<entry>, <path>      one per module
//   BB Table: <M> bbs
//   <M records {uint32 start, uint16 size, uint16 mod_id}, little-endian, packed>
//
// Arguments: filename=PATH (default "file.drcov.trace"; "%p" is the process
// id; without "%p" other processes of the run insert ".<pid>" before the
// extension: cov.<pid>.drcov for cov.drcov, as libdrcov.so does); unknown
// arguments are ignored. Semantics as drcov.c (see its header): modules from
// /proc/self/maps at exit, consecutive mappings of one file grouped, blocks
// outside named mappings left out, identical records written once.
//
// How execution is seen: each block known at translation gets an index, and
// a block that has not yet been seen running appends its index to a per-vCPU
// RecordBuffer at entry (a few flag-free stores, no call). The flush, when a
// buffer fills and at thread and program exit, marks the blocks executed.
#pragma once

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "qplug/qplug.h"

// From the QEMU plugin API the tool exports (qplug/qemu-plugin.h): drcov.c's
// fallback when /proc/self/maps cannot be read.
extern "C" const char* qemu_plugin_path_to_binary(void);
extern "C" uint64_t qemu_plugin_start_code(void);
extern "C" uint64_t qemu_plugin_end_code(void);

namespace qplug::examples {

class Drcov {
 public:
  static constexpr std::string_view name = "drcov";

  Result<void> install(const std::vector<std::string>& args) {
    std::string path = "file.drcov.trace";
    for (const std::string& arg : args)
      if (arg.starts_with("filename=")) path = arg.substr(std::strlen("filename="));
    // As g_canonicalize_filename: absolute, "." and ".." resolved, no symlinks.
    filename_ = std::filesystem::absolute(path).lexically_normal().string();
    install_pid_ = getpid();
    return {};
  }

  void tb_trans(Tb& tb) {
    uint64_t index;
    {
      std::lock_guard guard(lock_);
      auto [it, fresh] = index_.try_emplace({tb.vaddr(), tb.size()}, blocks_.size());
      if (fresh) blocks_.push_back({tb.vaddr(), tb.size(), false});
      index = it->second;
      // A re-translation of a block already known to run records nothing.
      if (blocks_[index].exec) return;
    }
    tb.record(executed_, index);
  }

  void at_exit() { write_file(); }

 private:
  struct Block {
    uint64_t vaddr;
    uint64_t size;
    bool exec;  // seen running (in a flushed record)
  };
  struct Mapping {
    uint64_t start, end, offset, inode;
    char perms[5];
    int group;  // -1 when anonymous
  };
  struct Group {
    uint64_t base, end, entry;
    std::string path;
    uint64_t inode, last_offset, first_offset;
    bool readable_first;
    int id;  // module id in the file, -1 while it has no block
  };
  struct BbRecord {
    uint32_t start;
    uint16_t size;
    uint16_t mod_id;
  };

  static void mark_executed(unsigned, const uint64_t* records, size_t count, void* self) {
    auto* d = static_cast<Drcov*>(self);
    std::lock_guard guard(d->lock_);
    for (size_t i = 0; i < count; ++i) d->blocks_[records[i]].exec = true;
  }

  // Parses /proc/self/maps into mappings, and groups the named ones.
  static bool read_maps(std::vector<Mapping>& maps, std::vector<Group>& groups) {
    FILE* f = std::fopen("/proc/self/maps", "r");
    if (!f) return false;
    char* line = nullptr;
    size_t cap = 0;
    int open_group = -1;  // group the next mapping of the same file may join
    while (getline(&line, &cap, f) > 0) {
      Mapping m{};
      unsigned dev_major, dev_minor;
      int path_pos = 0;
      line[std::strcspn(line, "\n")] = '\0';
      if (std::sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n",
                      &m.start, &m.end, m.perms, &m.offset, &dev_major, &dev_minor, &m.inode,
                      &path_pos) < 7)
        continue;
      const char* path = path_pos ? line + path_pos : "";
      m.group = -1;
      if (*path) {
        Group* g = open_group >= 0 ? &groups[open_group] : nullptr;
        if (g && g->inode == m.inode && g->path == path && m.offset >= g->last_offset) {
          g->end = m.end;
          g->last_offset = m.offset;
        } else {
          groups.push_back(
              {m.start, m.end, 0, path, m.inode, m.offset, m.offset, m.perms[0] == 'r', -1});
          open_group = static_cast<int>(groups.size()) - 1;
        }
        m.group = open_group;
      }
      maps.push_back(m);
    }
    std::free(line);
    std::fclose(f);
    return true;
  }

  // The ELF entry point of a module, relocated for ET_DYN images; 0 if unknown.
  static uint64_t module_entry(const Group& g) {
    Elf64_Ehdr eh;
    bool ok = false;
    if (g.first_offset != 0) return 0;
    if (g.path[0] == '/') {
      int fd = open(g.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        ok = pread(fd, &eh, sizeof eh, 0) == static_cast<ssize_t>(sizeof eh);
        close(fd);
      }
    } else if (g.path == "[vdso]" && g.readable_first) {
      std::memcpy(&eh, reinterpret_cast<const void*>(g.base), sizeof eh);  // same address space
      ok = true;
    }
    if (!ok || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
      return 0;
    return eh.e_type == ET_DYN ? g.base + eh.e_entry : eh.e_entry;
  }

  // The mapping containing addr (maps are sorted by address), or nullptr.
  static const Mapping* find_mapping(const std::vector<Mapping>& maps, uint64_t addr) {
    auto it = std::upper_bound(maps.begin(), maps.end(), addr,
                               [](uint64_t a, const Mapping& m) { return a < m.end; });
    return it != maps.end() && it->start <= addr ? &*it : nullptr;
  }

  std::string output_name() const {
    const std::string pid = std::to_string(getpid());
    const bool other_process = getpid() != install_pid_ || std::getenv("QPLUG_FOLLOWED");
    if (other_process && filename_.find("%p") == std::string::npos) {
      // Before the last component's extension (not a leading dot), so that
      // a glob on the extension finds every process's file.
      const size_t base = filename_.rfind('/') + 1;  // npos + 1 == 0
      const size_t dot = filename_.rfind('.');
      if (dot == std::string::npos || dot <= base) return filename_ + "." + pid;
      return filename_.substr(0, dot) + "." + pid + filename_.substr(dot);
    }
    std::string name;
    for (size_t i = 0; i < filename_.size(); ++i) {
      if (filename_.compare(i, 2, "%p") == 0) {
        name += pid;
        ++i;
      } else {
        name += filename_[i];
      }
    }
    return name;
  }

  void write_file() {
    std::vector<Mapping> maps;
    std::vector<Group> groups;
    if (!read_maps(maps, groups)) {
      // No maps: fall back to the main program as the QEMU API reports it.
      maps.push_back({qemu_plugin_start_code(), qemu_plugin_end_code(), 0, 0, {}, 0});
      groups.push_back(
          {maps[0].start, maps[0].end, 0, qemu_plugin_path_to_binary(), 0, 0, 0, false, -1});
    }

    std::vector<Block> executed;
    {
      std::lock_guard guard(lock_);
      for (const Block& b : blocks_)
        if (b.exec) executed.push_back(b);
    }
    std::sort(executed.begin(), executed.end(), [](const Block& a, const Block& b) {
      return std::pair(a.vaddr, a.size) < std::pair(b.vaddr, b.size);
    });

    // Attribute blocks to groups; number the groups that have blocks by address.
    std::vector<int> block_group(executed.size());
    for (size_t i = 0; i < executed.size(); ++i) {
      const Mapping* m = find_mapping(maps, executed[i].vaddr);
      block_group[i] = m ? m->group : -1;
      if (block_group[i] >= 0) groups[block_group[i]].id = 0;
    }
    int n_modules = 0;
    for (Group& g : groups) {
      if (g.id == 0) {
        g.id = n_modules++;
        g.entry = module_entry(g);
      }
    }

    std::vector<BbRecord> records;
    for (size_t i = 0; i < executed.size(); ++i) {
      if (block_group[i] < 0) continue;
      const Group& g = groups[block_group[i]];
      uint64_t size = executed[i].size;
      if (executed[i].vaddr + size > g.end) size = g.end - executed[i].vaddr;
      BbRecord r{static_cast<uint32_t>(executed[i].vaddr - g.base),
                 static_cast<uint16_t>(std::min<uint64_t>(size, 0xffff)),
                 static_cast<uint16_t>(g.id)};
      if (!records.empty() && records.back().start == r.start && records.back().size == r.size &&
          records.back().mod_id == r.mod_id)
        continue;  // sizes differing only beyond 0xffff
      records.push_back(r);
    }

    const std::string name = output_name();
    FILE* f = std::fopen(name.c_str(), "wb");
    if (!f) {
      std::fprintf(stderr, "drcov: cannot open %s: %s\n", name.c_str(), std::strerror(errno));
      return;
    }
    std::fprintf(f, "DRCOV VERSION: 2\nDRCOV FLAVOR: drcov-64\n");
    std::fprintf(f, "Module Table: version 2, count %d\n", n_modules);
    std::fprintf(f, "Columns: id, base, end, entry, path\n");
    for (const Group& g : groups) {
      if (g.id >= 0)
        std::fprintf(f, "%3d, 0x%016" PRIx64 ", 0x%016" PRIx64 ", 0x%016" PRIx64 ", %s\n", g.id,
                     g.base, g.end, g.entry, g.path.c_str());
    }
    std::fprintf(f, "BB Table: %zu bbs\n", records.size());
    for (const BbRecord& r : records) {
      // Explicit little-endian packing: {uint32 start; uint16 size; uint16 mod_id}.
      const uint8_t raw[8] = {
          static_cast<uint8_t>(r.start),       static_cast<uint8_t>(r.start >> 8),
          static_cast<uint8_t>(r.start >> 16), static_cast<uint8_t>(r.start >> 24),
          static_cast<uint8_t>(r.size),        static_cast<uint8_t>(r.size >> 8),
          static_cast<uint8_t>(r.mod_id),      static_cast<uint8_t>(r.mod_id >> 8)};
      std::fwrite(raw, sizeof raw, 1, f);
    }
    if (std::fclose(f) != 0)
      std::fprintf(stderr, "drcov: error writing %s: %s\n", name.c_str(), std::strerror(errno));
  }

  std::string filename_;
  pid_t install_pid_ = 0;
  std::mutex lock_;                                          // blocks_ and index_
  std::deque<Block> blocks_;                                 // by index
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> index_;  // (vaddr, size) -> index
  RecordBuffer executed_{512, &mark_executed, this};
};

}  // namespace qplug::examples
