#include "gdbstub/protocol.h"

#include <charconv>

namespace qplug::gdb {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits `text` at the first `sep`: the head, and the rest after it (empty
// if there is no `sep`).
std::string_view take(std::string_view& text, char sep) {
  const size_t at = text.find(sep);
  std::string_view head = text.substr(0, at);
  text = at == std::string_view::npos ? std::string_view{} : text.substr(at + 1);
  return head;
}

}  // namespace

uint8_t checksum(std::string_view payload) {
  unsigned sum = 0;
  for (char c : payload) sum += static_cast<unsigned char>(c);
  return static_cast<uint8_t>(sum);
}

std::string frame(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 4);
  out += '$';
  out += payload;
  out += '#';
  const uint8_t sum = checksum(payload);
  out += kDigits[sum >> 4];
  out += kDigits[sum & 15];
  return out;
}

void PacketReader::feed(const char* data, size_t len) { buffer_.append(data, len); }

std::optional<PacketReader::Event> PacketReader::next() {
  while (!buffer_.empty()) {
    const char c = buffer_[0];
    if (c == '+' || c == '-' || c == '\x03') {
      buffer_.erase(0, 1);
      return Event{c == '+' ? Kind::kAck : c == '-' ? Kind::kNack : Kind::kInterrupt, {}};
    }
    if (c != '$') {  // noise between packets (a stray newline, say)
      buffer_.erase(0, 1);
      continue;
    }
    const size_t hash = buffer_.find('#');
    if (hash == std::string::npos || buffer_.size() < hash + 3) return std::nullopt;
    std::string payload = buffer_.substr(1, hash - 1);
    const int hi = hex_value(buffer_[hash + 1]), lo = hex_value(buffer_[hash + 2]);
    buffer_.erase(0, hash + 3);
    if (hi < 0 || lo < 0 || checksum(payload) != hi * 16 + lo) return Event{Kind::kBadChecksum, {}};
    return Event{Kind::kPacket, std::move(payload)};
  }
  return std::nullopt;
}

std::string to_hex(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out(2 * len, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string to_hex(std::string_view bytes) { return to_hex(bytes.data(), bytes.size()); }

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::optional<uint64_t> parse_hex(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string hex_le(uint64_t value, size_t size) {
  uint8_t bytes[8];
  for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  return to_hex(bytes, size < 8 ? size : 8);
}

std::string escape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (char c : data) {
    if (c == '#' || c == '$' || c == '}' || c == '*') {
      out += '}';
      out += static_cast<char>(c ^ 0x20);
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '}' && i + 1 < data.size()) {
      out += static_cast<char>(data[++i] ^ 0x20);
    } else {
      out += data[i];
    }
  }
  return out;
}

std::optional<ThreadId> parse_thread_id(std::string_view text) {
  if (text == "-1") return ThreadId{-1};
  // A "pPID.TID" id (multiprocess syntax) names the thread by its TID.
  if (!text.empty() && text[0] == 'p') {
    const size_t dot = text.find('.');
    if (dot == std::string_view::npos) return ThreadId{-1};
    text = text.substr(dot + 1);
    if (text == "-1") return ThreadId{-1};
  }
  const auto v = parse_hex(text);
  if (!v) return std::nullopt;
  return ThreadId{static_cast<int64_t>(*v)};
}

std::optional<std::vector<ResumeAction>> parse_vcont(std::string_view args) {
  std::vector<ResumeAction> actions;
  if (args.empty() || args[0] != ';') return std::nullopt;
  args.remove_prefix(1);
  while (!args.empty()) {
    std::string_view item = take(args, ';');
    std::string_view what = take(item, ':');
    if (what.empty()) return std::nullopt;
    ResumeAction a;
    a.action = static_cast<char>(what[0] == 'C' ? 'c' : what[0] == 'S' ? 's' : what[0]);
    if (a.action != 'c' && a.action != 's' && a.action != 't') return std::nullopt;
    if (what[0] == 'C' || what[0] == 'S') {
      const auto sig = parse_hex(what.substr(1));
      if (!sig) return std::nullopt;
      a.signal = static_cast<int>(*sig);
    } else if (what.size() != 1) {
      return std::nullopt;
    }
    if (!item.empty()) {
      const auto t = parse_thread_id(item);
      if (!t) return std::nullopt;
      a.thread = *t;
    }
    actions.push_back(a);
  }
  return actions;
}

std::optional<BreakpointRequest> parse_breakpoint(std::string_view packet) {
  if (packet.size() < 2 || (packet[0] != 'Z' && packet[0] != 'z')) return std::nullopt;
  BreakpointRequest r;
  r.insert = packet[0] == 'Z';
  packet.remove_prefix(1);
  packet = take(packet, ';');  // conditions and commands: not supported, ignored
  const auto type = parse_hex(take(packet, ','));
  const auto addr = parse_hex(take(packet, ','));
  const auto kind = parse_hex(packet);
  if (!type || !addr || !kind || *type > 4) return std::nullopt;
  r.type = static_cast<int>(*type);
  r.addr = *addr;
  r.length = *kind;
  return r;
}

std::optional<XferRequest> parse_xfer_read(std::string_view packet) {
  if (!packet.starts_with("qXfer:")) return std::nullopt;
  packet.remove_prefix(6);
  XferRequest r;
  r.object = std::string(take(packet, ':'));
  if (take(packet, ':') != "read") return std::nullopt;
  r.annex = std::string(take(packet, ':'));
  const auto offset = parse_hex(take(packet, ','));
  const auto length = parse_hex(packet);
  if (r.object.empty() || !offset || !length) return std::nullopt;
  r.offset = *offset;
  r.length = *length;
  return r;
}

std::string xfer_reply(std::string_view data, uint64_t offset, uint64_t length) {
  if (offset >= data.size()) return "l";
  const std::string_view part = data.substr(offset, length);
  const bool last = offset + part.size() >= data.size();
  return (last ? "l" : "m") + escape_binary(part);
}

}  // namespace qplug::gdb
