// Reader for DynamoRIO drcov coverage files, as written by examples/drcov.c,
// DynamoRIO's drcov and QEMU's drcov plugin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qplug_cov {

struct DrcovModule {
  std::string path;
  uint64_t base = 0;  // "base" (table v2) or "start" (v3+) column; 0 in table v1
  uint64_t end = 0;   // exclusive; base + size in table v1
  std::optional<uint64_t> entry;
  // File offset of the segment the module line describes (table v4+), so the
  // blocks of a multi-segment module can be placed in the ELF image.
  std::optional<uint64_t> offset;
};

struct DrcovBlock {
  uint32_t start;  // offset from the module's base
  uint16_t size;
  uint16_t module;
};

struct DrcovFile {
  int version = 0;
  int table_version = 0;
  std::vector<DrcovModule> modules;
  std::vector<DrcovBlock> blocks;
};

// Parses the file at path. On failure returns false and sets *error to a
// short description of the problem (no file name, no trailing newline).
bool ReadDrcov(const std::string& path, DrcovFile* out, std::string* error);

// Parses drcov data already in memory; same contract as ReadDrcov.
bool ParseDrcov(const std::string& data, DrcovFile* out, std::string* error);

}  // namespace qplug_cov
