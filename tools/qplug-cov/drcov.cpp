#include "drcov.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace qplug_cov {
namespace {

// Larger counts than these cannot come from a real run (mod_id is 16 bits);
// refusing them keeps a corrupt header from asking for gigabytes.
constexpr uint64_t kMaxModules = 65536;
constexpr uint64_t kMaxFileSize = uint64_t{1} << 32;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// File text quoted in a message: short, printable, on one line.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (unsigned char c : text.substr(0, 60)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out + (text.size() > 60 ? "...'" : "'");
}

bool ParseUnsigned(std::string_view text, int base, uint64_t* value) {
  text = Trim(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value, base);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits "key: rest" style headers after a fixed prefix; false if absent.
bool StripPrefix(std::string_view line, std::string_view prefix, std::string_view* rest) {
  if (line.substr(0, prefix.size()) != prefix) return false;
  *rest = line.substr(prefix.size());
  return true;
}

class Cursor {
 public:
  explicit Cursor(const std::string& data) : data_(data) {}
  // Next text line without its newline; false at end of data.
  bool Line(std::string_view* line) {
    size_t nl = data_.find('\n', pos_);
    if (nl == std::string::npos) return false;
    *line = std::string_view(data_).substr(pos_, nl - pos_);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    pos_ = nl + 1;
    return true;
  }
  bool StartsWith(std::string_view s) const {
    return std::string_view(data_).substr(pos_, s.size()) == s;
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  void Skip(size_t n) { pos_ += n; }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

// Columns of module tables without a Columns line (v1) or to fall back on.
std::vector<std::string> DefaultColumns(int table_version) {
  if (table_version == 1) return {"id", "size", "path"};
  return {"id", "base", "end", "entry", "path"};
}

bool ParseModuleLine(std::string_view line, const std::vector<std::string>& columns, size_t index,
                     DrcovModule* module, std::string* error) {
  std::vector<std::string_view> fields;
  // The path is last and may itself contain commas.
  while (fields.size() + 1 < columns.size()) {
    size_t comma = line.find(',');
    if (comma == std::string_view::npos) break;
    fields.push_back(line.substr(0, comma));
    line.remove_prefix(comma + 1);
  }
  fields.push_back(line);
  if (fields.size() != columns.size()) {
    *error = "module line " + std::to_string(index) + " has " + std::to_string(fields.size()) +
             " fields, expected " + std::to_string(columns.size());
    return false;
  }
  uint64_t size = 0;
  bool has_base = false;
  for (size_t i = 0; i < columns.size(); i++) {
    const std::string& key = columns[i];
    if (key == "path") {
      module->path = std::string(Trim(fields[i]));
      continue;
    }
    uint64_t value;
    // drcovlib prints offset and preferred_base as bare hex.
    int base = key == "offset" || key == "preferred_base" ? 16 : 10;
    if (!ParseUnsigned(fields[i], base, &value)) {
      *error = "module line " + std::to_string(index) + ": bad " + key + " value " +
               Quote(Trim(fields[i]));
      return false;
    }
    if (key == "id" && value != index) {
      *error = "module line " + std::to_string(index) + " has id " + std::to_string(value);
      return false;
    }
    if (key == "base" || key == "start") {
      module->base = value;
      has_base = true;
    } else if (key == "end") {
      module->end = value;
    } else if (key == "size") {
      size = value;
    } else if (key == "entry") {
      module->entry = value;
    } else if (key == "offset") {
      module->offset = value;
    }
  }
  if (!has_base) module->end = size;  // table v1: offsets from 0 up to size
  if (module->path.empty()) {
    *error = "module line " + std::to_string(index) + " has no path";
    return false;
  }
  if (module->end < module->base) {
    *error = "module " + std::to_string(index) + " ends before its base";
    return false;
  }
  return true;
}

std::string Truncated(const Cursor& cursor, const char* where) {
  return std::string("truncated file: ends in the ") + where + " at byte " +
         std::to_string(cursor.pos() + cursor.remaining());
}

}  // namespace

bool ParseDrcov(const std::string& data, DrcovFile* out, std::string* error) {
  *out = DrcovFile();
  Cursor cur(data);
  std::string_view line, rest;
  if (data.empty()) {
    *error = "empty file, not a drcov file";
    return false;
  }
  uint64_t number;
  if (!cur.Line(&line) || !StripPrefix(line, "DRCOV VERSION: ", &rest) ||
      !ParseUnsigned(rest, 10, &number)) {
    *error = "not a drcov file (no 'DRCOV VERSION:' header)";
    return false;
  }
  if (number != 2 && number != 3) {
    *error = "unsupported DRCOV VERSION " + std::to_string(number);
    return false;
  }
  out->version = static_cast<int>(number);

  if (!cur.Line(&line)) {
    *error = Truncated(cur, "header");
    return false;
  }
  if (StripPrefix(line, "DRCOV FLAVOR:", &rest) && !cur.Line(&line)) {
    *error = Truncated(cur, "header");
    return false;
  }

  uint64_t count;
  if (StripPrefix(line, "Module Table: version ", &rest)) {
    size_t comma = rest.find(", count ");
    if (comma == std::string_view::npos || !ParseUnsigned(rest.substr(0, comma), 10, &number) ||
        !ParseUnsigned(rest.substr(comma + 8), 10, &count)) {
      *error = "bad module table header " + Quote(line);
      return false;
    }
    if (number < 2 || number > 5) {
      *error = "unsupported module table version " + std::to_string(number);
      return false;
    }
    out->table_version = static_cast<int>(number);
  } else if (StripPrefix(line, "Module Table: ", &rest) && ParseUnsigned(rest, 10, &count)) {
    out->table_version = 1;
  } else {
    *error = "bad module table header " + Quote(line);
    return false;
  }
  if (count > kMaxModules) {
    *error = "implausible module count " + std::to_string(count);
    return false;
  }

  std::vector<std::string> columns = DefaultColumns(out->table_version);
  if (out->table_version > 1) {
    if (!cur.Line(&line)) {
      *error = Truncated(cur, "module table");
      return false;
    }
    if (!StripPrefix(line, "Columns:", &rest)) {
      *error = "missing Columns line in the module table";
      return false;
    }
    columns.clear();
    while (true) {
      size_t comma = rest.find(',');
      columns.emplace_back(Trim(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (columns.front() != "id" || columns.back() != "path") {
      *error = "unexpected module table columns (first must be id, last path)";
      return false;
    }
  }

  for (uint64_t i = 0; i < count; i++) {
    if (!cur.Line(&line)) {
      *error = Truncated(cur, "module table");
      return false;
    }
    DrcovModule module;
    if (!ParseModuleLine(line, columns, i, &module, error)) return false;
    out->modules.push_back(std::move(module));
  }

  if (!cur.Line(&line)) {
    *error = Truncated(cur, "module table");
    return false;
  }
  uint64_t n_blocks;
  if (!StripPrefix(line, "BB Table: ", &rest) || rest.size() < 4 ||
      rest.substr(rest.size() - 4) != " bbs" ||
      !ParseUnsigned(rest.substr(0, rest.size() - 4), 10, &n_blocks)) {
    *error = "bad BB table header " + Quote(line);
    return false;
  }

  if (cur.StartsWith("module id")) {  // text table (drcov -dump_text)
    cur.Line(&line);
    for (uint64_t i = 0; i < n_blocks; i++) {
      if (!cur.Line(&line)) {
        *error = Truncated(cur, "BB table");
        return false;
      }
      // "module[ 12]: 0x0000000000001234,  16"
      uint64_t mod, start, size;
      size_t open = line.find('['), close = line.find("]:"), comma = line.find(',');
      if (open == std::string_view::npos || close == std::string_view::npos ||
          comma == std::string_view::npos || close < open || comma < close ||
          !ParseUnsigned(line.substr(open + 1, close - open - 1), 10, &mod) ||
          !ParseUnsigned(line.substr(close + 2, comma - close - 2), 16, &start) ||
          !ParseUnsigned(line.substr(comma + 1), 10, &size) || mod > 0xffff || start > 0xffffffff ||
          size > 0xffff) {
        *error = "bad text BB line " + std::to_string(i);
        return false;
      }
      out->blocks.push_back(
          {static_cast<uint32_t>(start), static_cast<uint16_t>(size), static_cast<uint16_t>(mod)});
    }
  } else {
    if (n_blocks > cur.remaining() / 8) {
      *error = "truncated file: BB table holds " + std::to_string(cur.remaining()) + " bytes for " +
               std::to_string(n_blocks) + " records of 8";
      return false;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + cur.pos());
    out->blocks.reserve(n_blocks);
    for (uint64_t i = 0; i < n_blocks; i++, p += 8) {
      // Little-endian {uint32 start; uint16 size; uint16 mod_id}, packed.
      uint32_t start = p[0] | p[1] << 8 | p[2] << 16 | uint32_t{p[3]} << 24;
      out->blocks.push_back({start, static_cast<uint16_t>(p[4] | p[5] << 8),
                             static_cast<uint16_t>(p[6] | p[7] << 8)});
    }
    cur.Skip(8 * n_blocks);
    if (cur.remaining() != 0) {
      *error = std::to_string(cur.remaining()) + " unexpected bytes after the BB table";
      return false;
    }
  }

  for (size_t i = 0; i < out->blocks.size(); i++) {
    const DrcovBlock& b = out->blocks[i];
    if (b.module >= out->modules.size()) {
      *error = "block " + std::to_string(i) + " names module " + std::to_string(b.module) + " of " +
               std::to_string(out->modules.size());
      return false;
    }
    const DrcovModule& m = out->modules[b.module];
    if (uint64_t{b.start} + b.size > m.end - m.base) {
      *error = "block " + std::to_string(i) + " lies outside module " + std::to_string(b.module);
      return false;
    }
  }
  return true;
}

bool ReadDrcov(const std::string& path, DrcovFile* out, std::string* error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *error = std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = fstat(fileno(f), &st) != 0 ? std::strerror(errno)
             : S_ISDIR(st.st_mode)      ? "is a directory"
                                        : "not a regular file";
    std::fclose(f);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileSize) {
    *error = "file too large for a drcov file";
    std::fclose(f);
    return false;
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = std::fread(data.data(), 1, data.size(), f);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed || got != data.size()) {
    *error =
        failed ? std::string("read error: ") + std::strerror(errno) : "file changed while read";
    return false;
  }
  return ParseDrcov(data, out, error);
}

}  // namespace qplug_cov
